//! NPENAS: neural predictor guided evolutionary NAS (Wei, Niu, Tang, Wang,
//! Hu, Liang, IEEE TNNLS 2022), in its NPENAS-NP form as NASLib runs it.
//!
//! Evolution whose selection is done by a predictor: after `startup` uniform
//! samples, each `ask` trains one network on every result so far, mutates the
//! `parents` best architectures into `candidates` unproposed offspring (each
//! changing 1 to `edits` decisions), and proposes the offspring with the
//! highest predicted accuracy, greedily. Differences from BANANAS: one
//! predictor and no uncertainty, more parents and larger mutations. The
//! paper's predictor is a graph network on the cell's DAG; here it is the
//! kit's MLP on BANANAS' path encoding of the cell (one-hot on spaces that
//! are not cells), with `explore` × `candidates` uniform samples among the
//! offspring as in `bananas`.
//! The machinery lives in `nasbox_kit::guided`, shared with `bananas`.

use nasbox_kit::guided::{config_keys, Guided, Select, Settings};
use nasbox_sdk::{Config, Genotype, Observation, Proposal, RunContext, Space, Strategy, StrategyError, StrategyInfo};

pub struct Npenas(Guided);

impl Strategy for Npenas {
    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "npenas".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "NPENAS-NP: evolution whose offspring are chosen by a neural predictor of accuracy, greedily \
                          (Wei et al. 2022)."
                .into(),
            config: config_keys(["10", "1", "32", "2", "200", "100", "5", "2", "0.2", "auto"]),
            supports_snapshot: true,
        }
    }

    fn init(space: Space, config: Config, _context: RunContext) -> Result<Self, StrategyError> {
        Ok(Npenas(Guided::new(&space, Settings::from_config(&config, Select::Mean)?)?))
    }

    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        Ok(self.0.ask(n))
    }

    fn tell(&mut self, observations: Vec<Observation>) -> Result<(), StrategyError> {
        self.0.tell(&observations);
        Ok(())
    }

    fn recommend(&self) -> Result<Option<Genotype>, StrategyError> {
        Ok(self.0.recommend())
    }

    fn snapshot(&self) -> Result<Vec<u8>, StrategyError> {
        self.0.snapshot()
    }

    fn restore(&mut self, state: Vec<u8>) -> Result<(), StrategyError> {
        self.0.restore(&state)
    }
}

nasbox_sdk::export_strategy!(Npenas);
