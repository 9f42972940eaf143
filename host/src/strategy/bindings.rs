//! Host-side bindings generated from `wit/strategy.wit`.

wasmtime::component::bindgen!({
    world: "nasbox-strategy",
    path: "../wit",
    additional_derives: [PartialEq, serde::Serialize, serde::Deserialize],
    // `log` may trap: the host pays to copy every message, so a flood of
    // them ends the call (see `sandbox::LogFlood`).
    imports: { "nasbox:strategy/log.log": trappable },
});

pub use exports::nasbox::strategy::strategy::Guest;
pub use nasbox::strategy::types::{
    Candidate, ConfigKey, Decision, Metric, Observation, Proposal, RunContext, Setting, Space,
    Status, StrategyError as GuestError, StrategyInfo,
};
pub use nasbox::strategy::log::Level;

impl From<&crate::space::Space> for Space {
    fn from(s: &crate::space::Space) -> Self {
        Space {
            name: s.name.clone(),
            decisions: s
                .decisions
                .iter()
                .map(|d| Decision { name: d.name.clone(), choices: d.choices.clone() })
                .collect(),
        }
    }
}
