//! BOHB (Falkner, Klein, Hutter, "BOHB: Robust and Efficient Hyperparameter
//! Optimization at Scale", ICML 2018): Hyperband's brackets, with new
//! architectures proposed by a TPE model fitted on the results of the
//! highest fidelity that has enough of them; a fraction stays uniform to
//! keep Hyperband's guarantees. The TPE model reads the space's shape (see
//! `nasbox_kit::tpe`): kernels on the values of ordered decisions, and only
//! active decisions count.

use nasbox_kit::hyperband::{config_keys, Hyperband, Result_, Schedule};
use nasbox_kit::tpe::{has_numbers, Gamma, Tpe};
use nasbox_sdk::{random, state, Config, ConfigKey, Genotype, Observation, Proposal, RunContext, Shape, Space, Strategy, StrategyError, StrategyInfo};

pub struct Bohb {
    shape: Shape,
    model: Tpe,
    random_fraction: f64,
    min_points: usize,
    scheduler: Hyperband,
}

impl Bohb {
    /// TPE on the highest fidelity with at least `min_points` results, else uniform.
    fn sample(shape: &Shape, model: &Tpe, random_fraction: f64, min_points: usize, results: &[Result_]) -> Genotype {
        if random::f64() < random_fraction {
            return shape.sample();
        }
        let mut fidelities: Vec<f64> = results.iter().map(|r| r.fidelity).collect();
        fidelities.sort_by(|a, b| b.total_cmp(a));
        fidelities.dedup();
        for f in fidelities {
            let at: Vec<(Genotype, f64)> = results.iter().filter(|r| r.fidelity == f).map(|r| (r.genotype.clone(), r.objective)).collect();
            if at.len() >= min_points {
                return model.suggest(shape, &at, &[], |_| false);
            }
        }
        shape.sample()
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
            ConfigKey {
                name: "gamma".into(),
                default: "0.15".into(),
                description:
                    "TPE: fraction of results counted as good (or optuna: min(ceil(0.1 n), 25) of n; auto: optuna where some decision is a number, else 0.25)"
                        .into(),
            },
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
        let shape = Shape::of(&space);
        // BOHB's model is multivariate (Falkner et al. use a product
        // kernel density), but, as TPE's `auto`, only where decisions are
        // numbers; see `nasbox_kit::tpe::parse_multivariate`.
        let model = Tpe {
            gamma: Gamma::parse("gamma", config.raw("gamma")?, &shape)?,
            candidates: config.get("candidates")?,
            multivariate: has_numbers(&shape),
            ..Tpe::default()
        };
        model.validate()?;
        let random_fraction: f64 = config.get("random_fraction")?;
        if !(0.0..=1.0).contains(&random_fraction) {
            return Err(StrategyError::InvalidConfig(format!("random_fraction: {random_fraction} is not in [0, 1]")));
        }
        let min_points = match config.get::<usize>("min_points")? {
            0 => shape.len() + 1,
            n => n.max(2),
        };
        Ok(Bohb { model, random_fraction, min_points, scheduler: Hyperband::new(Schedule::from_config(&config)?), shape })
    }

    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        let (shape, model, rf, mp) = (&self.shape, &self.model, self.random_fraction, self.min_points);
        Ok((0..n).map(|_| self.scheduler.next(&mut |results| Bohb::sample(shape, model, rf, mp, results))).collect())
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

#[cfg(test)]
mod tests {
    use super::*;
    use nasbox_sdk::native::Native;
    use nasbox_sdk::shape::{Condition, DecisionShape, Kind};
    use nasbox_sdk::{Candidate, Setting, Status};

    use nasbox_sdk::native::numbered_space as space;

    use nasbox_sdk::native::unit_grid as grid;

    /// BOHB on a shaped space (two ordered grids, one of them conditional):
    /// its TPE proposals are canonical, and with full-fidelity results near
    /// (0.7, 0.7) it proposes there more than uniformly.
    #[test]
    fn the_model_sees_the_shape() {
        let cat = DecisionShape { kind: Kind::Categorical, conditions: vec![] };
        let conditional = DecisionShape { conditions: vec![Condition { decision: 0, choices: vec![1] }], ..grid(11) };
        let shapes = vec![cat, grid(11), conditional];
        let shape = Shape::new(&space(&[2, 11, 11]), shapes.clone()).unwrap();
        let settings = vec![Setting { key: "random_fraction".into(), value: "0".into() }, Setting { key: "min_fidelity".into(), value: "1".into() }];
        let mut s = Native::<Bohb>::init_shaped(3, space(&[2, 11, 11]), shapes, settings, RunContext { max_trials: None, parallelism: 1 }).unwrap();
        let objective = |g: &[u32]| if g[0] == 1 { 2.0 - (g[1].abs_diff(7) + g[2].abs_diff(7)) as f64 / 10.0 } else { 0.5 };
        let mut late_near = 0;
        for trial in 0..80u64 {
            let p = s.ask(1).unwrap().pop().unwrap();
            let Proposal::Genotype(Candidate { genotype, .. }) = &p else { unreachable!() };
            assert_eq!(&shape.canonical(genotype), genotype);
            if trial >= 50 && genotype[0] == 1 && genotype[1].abs_diff(7) <= 1 && genotype[2].abs_diff(7) <= 1 {
                late_near += 1;
            }
            let y = objective(genotype);
            s.tell(vec![Observation { trial, proposal: p, status: Status::Ok, objective: y, cost: 1.0, metrics: vec![], gradient: None }]).unwrap();
        }
        eprintln!("{late_near} of the last 30 near the optimum");
        // Uniform: 1/2 · 3/11 · 3/11 ≈ 4% of 30.
        assert!(late_near >= 8, "{late_near} of the last 30 near the optimum");
    }

    #[test]
    fn gamma_is_checked_and_named() {
        let bad =
            Native::<Bohb>::init(1, space(&[3]), vec![Setting { key: "gamma".into(), value: "2".into() }], RunContext { max_trials: None, parallelism: 1 });
        assert!(matches!(bad, Err(StrategyError::InvalidConfig(m)) if m.starts_with("gamma")));
    }
}
