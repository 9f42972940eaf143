//! BANANAS: Bayesian optimisation with neural architectures for NAS
//! (White, Neiswanger, Savani, AAAI 2021), as NASLib runs it.
//!
//! After `startup` uniform samples (or a Latin design, `design`=latin: on
//! 600 seeds per table it was level with uniform samples for BANANAS, where
//! it helps NPENAS), each `ask` trains an ensemble of
//! `members` small networks on every result so far (the paper's path
//! encoding on cell spaces such as nb201, one-hot elsewhere; see
//! `nasbox_kit::encode`), mutates the `parents` best architectures into
//! `candidates` unproposed ones (plus the recombinations of the `recombine`
//! best and `explore` × `candidates` uniform samples, two ways out of a
//! misleading neighbourhood that the paper does not have), and proposes
//! those with the largest acquisition: independent
//! Thompson sampling (a draw from N(mean, std²) of the ensemble per
//! candidate, the paper's ITS) or an upper confidence bound.
//! The machinery lives in `nasbox_kit::guided`, shared with `npenas`.
//!
//! Fuel: training dominates and costs `members × steps × 32` forward and
//! backward passes per `ask`, whatever the number of results (see the README
//! for the measured fuel per call).

use nasbox_kit::guided::{config_keys, Guide, GuidedStrategy, Select};
use nasbox_sdk::{Config, ConfigKey, StrategyError, StrategyInfo};

/// BANANAS' name, defaults and acquisition.
pub struct BananasGuide;

/// The strategy.
pub type Bananas = GuidedStrategy<BananasGuide>;

impl Guide for BananasGuide {
    fn info() -> StrategyInfo {
        let mut config = config_keys(["10", "uniform", "3", "32", "2", "100", "100", "2", "1", "0.2", "0", "4", "auto", "0.9"]);
        config.push(ConfigKey {
            name: "acquisition".into(),
            default: "its".into(),
            description: "`its` (independent Thompson sampling) or `ucb` (mean + kappa × std of the ensemble)".into(),
        });
        config.push(ConfigKey { name: "kappa".into(), default: "0.5".into(), description: "UCB's weight on the ensemble's std (≥ 0)".into() });
        StrategyInfo {
            name: "bananas".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "BANANAS: an ensemble of small networks predicts accuracy; Thompson sampling (or UCB) over \
                          mutations of the best architectures picks the next (White et al. 2021)."
                .into(),
            config,
            supports_snapshot: true,
        }
    }

    fn select(config: &Config) -> Result<Select, StrategyError> {
        let kappa: f64 = config.get("kappa")?;
        if !(kappa >= 0.0 && kappa.is_finite()) {
            return Err(StrategyError::InvalidConfig(format!("kappa: {kappa} is not a finite number ≥ 0")));
        }
        match config.raw("acquisition")? {
            "its" => Ok(Select::Thompson),
            "ucb" => Ok(Select::Ucb(kappa)),
            other => Err(StrategyError::InvalidConfig(format!("acquisition: `{other}` is neither `its` nor `ucb`"))),
        }
    }
}

nasbox_sdk::export_strategy!(Bananas);

#[cfg(test)]
mod tests {
    use super::*;
    use nasbox_sdk::{native::Native, Decision, RunContext, Setting, Space};

    fn space() -> Space {
        Space { name: "t".into(), decisions: (0..4).map(|i| Decision { name: format!("d{i}"), choices: vec!["a".into(), "b".into()] }).collect() }
    }

    fn ctx() -> RunContext {
        RunContext { max_trials: None, parallelism: 1 }
    }

    #[test]
    fn bad_config_is_named() {
        let set = |k: &str, v: &str| vec![Setting { key: k.into(), value: v.into() }];
        for (key, value) in [
            ("acquisition", "ei"),
            ("kappa", "-1"),
            ("members", "0"),
            ("startup", "1"),
            ("width", "0"),
            ("candidates", "0"),
            ("neighbours", "17"),
            ("recombine", "1"),
            ("recombine", "17"),
            ("design", "sobol"),
            ("local", "1.5"),
            ("local", "-0.5"),
        ] {
            let r = Native::<Bananas>::init(1, space(), set(key, value), ctx());
            assert!(matches!(&r, Err(StrategyError::InvalidConfig(m)) if m.contains(key)), "{key}={value}: {:?}", r.err());
        }
        assert!(Native::<Bananas>::init(1, space(), set("acquisition", "ucb"), ctx()).is_ok());
        assert!(Native::<Bananas>::init(1, space(), set("design", "uniform"), ctx()).is_ok());
    }
}
