//! Tries to read a host file in `init`: it loads (stock toolchains import
//! wasi:filesystem), but the sandbox has no directories, so the read fails.

use nasbox_sdk::{Config, Genotype, Observation, Proposal, RunContext, Space, Strategy, StrategyError, StrategyInfo};

pub struct Escape;

impl Strategy for Escape {
    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "hostile_fs".into(),
            version: "0.0.0".into(),
            description: "Tries to leave the sandbox.".into(),
            config: vec![],
            supports_snapshot: false,
        }
    }
    fn init(_space: Space, _config: Config, _context: RunContext) -> Result<Self, StrategyError> {
        std::fs::read_to_string("/etc/passwd").map_err(|e| StrategyError::Other(e.to_string()))?;
        Ok(Escape)
    }
    fn ask(&mut self, _n: u32) -> Result<Vec<Proposal>, StrategyError> {
        Ok(vec![])
    }
    fn tell(&mut self, _observations: Vec<Observation>) -> Result<(), StrategyError> {
        Ok(())
    }
    fn recommend(&self) -> Result<Option<Genotype>, StrategyError> {
        Ok(None)
    }
}

nasbox_sdk::export_strategy!(Escape);
