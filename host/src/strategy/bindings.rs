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
pub use nasbox::strategy::log::Level;
pub use nasbox::strategy::types::{
    Candidate, ConfigKey, Decision, Metric, Observation, Proposal, RunContext, Setting, Space, Status, StrategyError as GuestError, StrategyInfo,
};

/// `relaxation.relaxed-kind`, the optional interface of 0.1.1. It is not in
/// the `nasbox-strategy` world the bindings above are generated from (that
/// world is what every strategy exports; `relaxation` is optional), so the
/// host looks the function up itself (`strategy::imports::relaxation`) and
/// lifts its answer into this type.
#[derive(
    wasmtime::component::ComponentType,
    wasmtime::component::Lift,
    wasmtime::component::Lower,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
)]
#[component(enum)]
#[repr(u8)]
pub enum RelaxedKind {
    /// Every option of every decision runs, weighted (DARTS). What a
    /// strategy without the interface gets.
    #[default]
    #[component(name = "mixture")]
    Mixture,
    /// A one-hot row is a sample: only its option runs (GDAS).
    #[component(name = "sample")]
    Sample,
}

impl std::fmt::Display for RelaxedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RelaxedKind::Mixture => "mixture",
            RelaxedKind::Sample => "sample",
        })
    }
}

/// The optional `shape` import of 0.1.2. Like `relaxation` it is outside
/// the `nasbox-strategy` world above; these bindings, of the world that
/// imports it, give its types and its `add_to_linker`, and only those are
/// used (the host serves it to every guest; one that does not import it
/// never sees it).
#[allow(dead_code)]
mod shaped {
    wasmtime::component::bindgen!({
        world: "nasbox-shaped-strategy",
        path: "../wit",
        additional_derives: [PartialEq],
    });
}

pub use shaped::nasbox::strategy::shape::{add_to_linker as add_shape_to_linker, Condition, DecisionShape, Host as ShapeHost, Kind, Numbers};

/// What a strategy of 0.1.2 reads through `shape.decisions`, per decision.
pub fn shapes(space: &crate::space::Space) -> Vec<DecisionShape> {
    use crate::space::shape;
    space
        .decisions
        .iter()
        .map(|d| DecisionShape {
            kind: match &d.kind {
                shape::Kind::Categorical => Kind::Categorical,
                shape::Kind::Ordered(n) => Kind::Ordered(Numbers { values: n.values.clone(), integer: n.integer, log: n.log, continuous: n.continuous }),
            },
            conditions: d.conditions.iter().map(|c| Condition { decision: c.decision as u32, choices: c.choices.clone() }).collect(),
        })
        .collect()
}

impl From<&crate::space::Space> for Space {
    fn from(s: &crate::space::Space) -> Self {
        Space { name: s.name.clone(), decisions: s.decisions.iter().map(|d| Decision { name: d.name.clone(), choices: d.choices.clone() }).collect() }
    }
}
