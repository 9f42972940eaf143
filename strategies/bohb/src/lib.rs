//! BOHB (Falkner, Klein, Hutter, "BOHB: Robust and Efficient Hyperparameter
//! Optimization at Scale", ICML 2018): Hyperband's brackets, with new
//! architectures proposed by a TPE model fitted on the results of the
//! highest fidelity that has enough of them; a fraction stays uniform to
//! keep Hyperband's guarantees.

use nasbox_kit::hyperband::{config_keys, Hyperband, Result_, Schedule};
use nasbox_kit::tpe::Tpe;
use nasbox_sdk::{genotype, random, state, Config, ConfigKey, Genotype, Observation, Proposal, RunContext, Space, Strategy, StrategyError, StrategyInfo};

pub struct Bohb {
    arities: Vec<u32>,
    model: Tpe,
    random_fraction: f64,
    min_points: usize,
    scheduler: Hyperband,
}

impl Bohb {
    /// TPE on the highest fidelity with at least `min_points` results, else uniform.
    fn sample(arities: &[u32], model: &Tpe, random_fraction: f64, min_points: usize, results: &[Result_]) -> Genotype {
        if random::f64() < random_fraction {
            return genotype::sample(arities);
        }
        let mut fidelities: Vec<f64> = results.iter().map(|r| r.fidelity).collect();
        fidelities.sort_by(|a, b| b.total_cmp(a));
        fidelities.dedup();
        for f in fidelities {
            let at: Vec<(Genotype, f64)> = results.iter().filter(|r| r.fidelity == f).map(|r| (r.genotype.clone(), r.objective)).collect();
            if at.len() >= min_points {
                return model.suggest(arities, &at, |_| false);
            }
        }
        genotype::sample(arities)
    }
}

impl Strategy for Bohb {
    fn info() -> StrategyInfo {
        let mut config = config_keys();
        config.extend([
            ConfigKey { name: "random_fraction".into(), default: "0.333".into(), description: "fraction of new architectures drawn uniformly".into() },
            ConfigKey {
                name: "min_points".into(),
                default: "0".into(),
                description: "results a fidelity needs before TPE models it (0: number of decisions + 1)".into(),
            },
            ConfigKey { name: "gamma".into(), default: "0.15".into(), description: "TPE: fraction of results counted as good".into() },
            ConfigKey { name: "candidates".into(), default: "64".into(), description: "TPE: candidates per proposal".into() },
        ]);
        StrategyInfo {
            name: "bohb".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "BOHB: Hyperband brackets with new architectures proposed by TPE, fitted on the highest \
                          fidelity with enough results (Falkner et al. 2018)."
                .into(),
            config,
            supports_snapshot: true,
        }
    }

    fn init(space: Space, config: Config, _context: RunContext) -> Result<Self, StrategyError> {
        let model = Tpe { gamma: config.get("gamma")?, prior_weight: 1.0, candidates: config.get("candidates")? };
        model.validate()?;
        let random_fraction: f64 = config.get("random_fraction")?;
        if !(0.0..=1.0).contains(&random_fraction) {
            return Err(StrategyError::InvalidConfig(format!("random_fraction: {random_fraction} is not in [0, 1]")));
        }
        let arities = genotype::arities(&space);
        let min_points = match config.get::<usize>("min_points")? {
            0 => arities.len() + 1,
            n => n.max(2),
        };
        Ok(Bohb { model, random_fraction, min_points, scheduler: Hyperband::new(Schedule::from_config(&config)?), arities })
    }

    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        let (arities, model, rf, mp) = (&self.arities, &self.model, self.random_fraction, self.min_points);
        Ok((0..n).map(|_| self.scheduler.next(&mut |results| Bohb::sample(arities, model, rf, mp, results))).collect())
    }

    fn tell(&mut self, observations: Vec<Observation>) -> Result<(), StrategyError> {
        self.scheduler.tell(&observations);
        Ok(())
    }

    fn recommend(&self) -> Result<Option<Genotype>, StrategyError> {
        Ok(self.scheduler.best().cloned())
    }

    fn snapshot(&self) -> Result<Vec<u8>, StrategyError> {
        state::save(&self.scheduler)
    }

    fn restore(&mut self, state: Vec<u8>) -> Result<(), StrategyError> {
        self.scheduler = state::load(&state)?;
        Ok(())
    }
}

nasbox_sdk::export_strategy!(Bohb);
