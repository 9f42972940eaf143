//! NPENAS: neural predictor guided evolutionary NAS (Wei, Niu, Tang, Wang,
//! Hu, Liang, IEEE TNNLS 2022), in its NPENAS-NP form as NASLib runs it.
//!
//! Evolution whose selection is done by a predictor: after `startup` samples (a Latin
//! design: every choice of every decision tried), each `ask` trains one network on every result so far, mutates the
//! `parents` best architectures into `candidates` unproposed offspring (each
//! changing 1 to `edits` decisions), and proposes the offspring with the
//! highest predicted accuracy, greedily. Differences from BANANAS: one
//! predictor and no uncertainty, more parents and larger mutations. The
//! paper's predictor is a graph network on the cell's DAG; here it is the
//! kit's MLP on BANANAS' path encoding of the cell (one-hot on spaces that
//! are not cells), with the recombinations of the `recombine` best and
//! `explore` × `candidates` uniform samples among the offspring as in
//! `bananas`.
//! The machinery lives in `nasbox_kit::guided`, shared with `bananas`.

use nasbox_kit::guided::{config_keys, Guide, GuidedStrategy, Select};
use nasbox_sdk::{Config, StrategyError, StrategyInfo};

/// NPENAS' name, defaults and acquisition (the predicted mean).
pub struct NpenasGuide;

/// The strategy.
pub type Npenas = GuidedStrategy<NpenasGuide>;

impl Guide for NpenasGuide {
    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "npenas".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "NPENAS-NP: evolution whose offspring are chosen by a neural predictor of accuracy, greedily \
                          (Wei et al. 2022)."
                .into(),
            config: config_keys(["10", "latin", "1", "32", "2", "200", "100", "5", "2", "0.2", "0", "4", "auto", "0.9"]),
            supports_snapshot: true,
        }
    }

    fn select(_config: &Config) -> Result<Select, StrategyError> {
        Ok(Select::Mean)
    }
}

nasbox_sdk::export_strategy!(Npenas);
