//! A valid `strategy` export and an optional `relaxation` whose `kind`
//! returns a string (from a copy of the contract's WIT changed in that one
//! place): the host must refuse it at load, naming `relaxation.kind` and the
//! signature the contract expects, not read it as a mixture or trap after
//! `init`.

wit_bindgen::generate!({ world: "nasbox-relaxing-strategy", path: "wit" });

use exports::nasbox::strategy::strategy::Guest;
use nasbox::strategy::types::{Genotype, Observation, Proposal, RunContext, Setting, Space, StrategyError, StrategyInfo};

struct Wrong;

impl Guest for Wrong {
    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "wrong-relaxation".into(),
            version: "0.0.0".into(),
            description: "relaxation.kind returns a string".into(),
            config: vec![],
            supports_snapshot: false,
        }
    }
    fn init(_space: Space, _config: Vec<Setting>, _context: RunContext) -> Result<(), StrategyError> {
        Ok(())
    }
    fn ask(_n: u32) -> Result<Vec<Proposal>, StrategyError> {
        Ok(vec![])
    }
    fn tell(_observations: Vec<Observation>) -> Result<(), StrategyError> {
        Ok(())
    }
    fn recommend() -> Result<Option<Genotype>, StrategyError> {
        Ok(None)
    }
    fn snapshot() -> Result<Vec<u8>, StrategyError> {
        Err(StrategyError::Unsupported("snapshot".into()))
    }
    fn restore(_state: Vec<u8>) -> Result<(), StrategyError> {
        Err(StrategyError::Unsupported("restore".into()))
    }
}

impl exports::nasbox::strategy::relaxation::Guest for Wrong {
    fn kind() -> String {
        "sample".into()
    }
}

export!(Wrong);
