//! Hyperband (Li et al., "Hyperband: A Novel Bandit-Based Approach to
//! Hyperparameter Optimization", JMLR 2018): successive halving in brackets
//! over the proposal's fidelity, with new architectures drawn uniformly.
//! The schedule is in `nasbox_kit::hyperband`.
//!
//! In a space with conditions (contract 0.1.2) the draws are
//! `nasbox_sdk::Shape::sample`'s: each active decision uniformly, inactive
//! ones at choice 0, so every proposal is canonical. Without conditions
//! they are the same draws as before shapes existed.

use nasbox_kit::hyperband::{config_keys, Hyperband, Schedule};
use nasbox_sdk::{state, Config, Genotype, Observation, Proposal, RunContext, Shape, Space, Strategy, StrategyError, StrategyInfo};

pub struct HyperbandStrategy {
    shape: Shape,
    scheduler: Hyperband,
}

impl Strategy for HyperbandStrategy {
    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "hyperband".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Hyperband: successive halving in brackets trading the number of architectures against \
                          their fidelity; new architectures are uniform (Li et al. 2017)."
                .into(),
            config: config_keys(),
            supports_snapshot: true,
        }
    }

    fn init(space: Space, config: Config, _context: RunContext) -> Result<Self, StrategyError> {
        Ok(HyperbandStrategy { shape: Shape::of(&space), scheduler: Hyperband::new(Schedule::from_config(&config)?) })
    }

    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        let shape = &self.shape;
        Ok((0..n).map(|_| self.scheduler.next(&mut |_| shape.sample())).collect())
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

nasbox_sdk::export_strategy!(HyperbandStrategy);

#[cfg(test)]
mod tests {
    use super::*;
    use nasbox_sdk::shape::{Condition, DecisionShape, Kind};
    use nasbox_sdk::{native::Native, Candidate, Decision, Setting, Status};
    use std::collections::BTreeMap;

    fn space() -> Space {
        Space { name: "t".into(), decisions: (0..8).map(|i| Decision { name: format!("d{i}"), choices: (0..4).map(|c| c.to_string()).collect() }).collect() }
    }

    /// Runs one whole Hyperband iteration sequentially and counts proposals
    /// per fidelity and how each rung's survivors were chosen.
    #[test]
    fn one_iteration_spends_exactly_what_the_brackets_say() {
        let settings = vec![Setting { key: "eta".into(), value: "3".into() }, Setting { key: "min_fidelity".into(), value: "1/27".into() }];
        let mut s = Native::<HyperbandStrategy>::init(2, space(), settings, RunContext { max_trials: None, parallelism: 1 }).unwrap();
        // 27+9+3+1 + 12+4+1 + 6+2 + 4 = 69 trials in one iteration.
        let mut per_fidelity: BTreeMap<String, usize> = BTreeMap::new();
        let objective = |g: &[u32]| g.iter().map(|&c| c as f64).sum::<f64>();
        for trial in 0..69u64 {
            let p = s.ask(1).unwrap().pop().unwrap();
            let Proposal::Genotype(Candidate { genotype, fidelity }) = &p else { unreachable!() };
            *per_fidelity.entry(format!("{:.4}", fidelity.unwrap_or(1.0))).or_default() += 1;
            let y = objective(genotype) * fidelity.unwrap_or(1.0);
            s.tell(vec![Observation { trial, proposal: p.clone(), status: Status::Ok, objective: y, cost: 1.0, metrics: vec![], gradient: None }]).unwrap();
        }
        let expected: BTreeMap<String, usize> =
            [("0.0370", 27), ("0.1111", 9 + 12), ("0.3333", 3 + 4 + 6), ("1.0000", 1 + 1 + 2 + 4)].into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        assert_eq!(per_fidelity, expected);
        // The next proposal starts the schedule again at the lowest fidelity.
        let Proposal::Genotype(c) = s.ask(1).unwrap().pop().unwrap() else { unreachable!() };
        assert!((c.fidelity.unwrap() - 1.0 / 27.0).abs() < 1e-12);
    }

    #[test]
    fn promotions_keep_the_best_of_each_rung() {
        let settings = vec![Setting { key: "min_fidelity".into(), value: "1/9".into() }];
        let mut s = Native::<HyperbandStrategy>::init(5, space(), settings, RunContext { max_trials: None, parallelism: 9 }).unwrap();
        // Bracket s=2: 9 at 1/9, then 3 at 1/3. Ask all 9, tell shuffled.
        let first = s.ask(9).unwrap();
        let score = |p: &Proposal| match p {
            Proposal::Genotype(c) => c.genotype.iter().map(|&x| x as f64).sum::<f64>(),
            _ => 0.0,
        };
        let mut ranked: Vec<(f64, Genotype)> = first
            .iter()
            .map(|p| {
                (
                    score(p),
                    match p {
                        Proposal::Genotype(c) => c.genotype.clone(),
                        _ => unreachable!(),
                    },
                )
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut obs: Vec<Observation> = first
            .iter()
            .enumerate()
            .map(|(i, p)| Observation {
                trial: i as u64,
                proposal: p.clone(),
                status: Status::Ok,
                objective: score(p),
                cost: 1.0,
                metrics: vec![],
                gradient: None,
            })
            .collect();
        obs.reverse();
        s.tell(obs).unwrap();
        let promoted: Vec<Genotype> = s
            .ask(3)
            .unwrap()
            .into_iter()
            .map(|p| match p {
                Proposal::Genotype(c) => c.genotype,
                _ => unreachable!(),
            })
            .collect();
        let mut want: Vec<Genotype> = ranked.iter().take(3).map(|r| r.1.clone()).collect();
        let mut got = promoted.clone();
        want.sort();
        got.sort();
        assert_eq!(got, want);
    }

    /// Under conditions every new architecture is canonical.
    #[test]
    fn under_conditions_proposals_are_canonical() {
        let on = |decision: u32, choices: &[u32]| vec![Condition { decision, choices: choices.to_vec() }];
        let mut shapes: Vec<DecisionShape> = (0..8).map(|_| DecisionShape { kind: Kind::Categorical, conditions: vec![] }).collect();
        shapes[1].conditions = on(0, &[0]);
        shapes[2].conditions = on(1, &[1, 2]);
        shapes[5].conditions = on(4, &[3]);
        let shape = Shape::new(&space(), shapes.clone()).unwrap();
        let mut s = Native::<HyperbandStrategy>::init_shaped(4, space(), shapes, vec![], RunContext { max_trials: None, parallelism: 1 }).unwrap();
        let mut off = 0;
        for trial in 0..100u64 {
            let p = s.ask(1).unwrap().pop().unwrap();
            let Proposal::Genotype(c) = &p else { unreachable!() };
            assert_eq!(shape.canonical(&c.genotype), c.genotype);
            off += usize::from(!shape.active(&c.genotype)[1]);
            let y = c.genotype.iter().map(|&x| x as f64).sum::<f64>();
            s.tell(vec![Observation { trial, proposal: p.clone(), status: Status::Ok, objective: y, cost: 1.0, metrics: vec![], gradient: None }]).unwrap();
        }
        assert!(off > 30, "{off}");
    }

    #[test]
    fn snapshots_survive_failed_trials() {
        // Regression: failures were kept as -inf, which JSON writes as null
        // and cannot read back.
        let mut s = Native::<HyperbandStrategy>::init(1, space(), vec![], RunContext { max_trials: None, parallelism: 2 }).unwrap();
        let p = s.ask(2).unwrap();
        s.tell(vec![Observation {
            trial: 0,
            proposal: p[0].clone(),
            status: Status::Failed("diverged".into()),
            objective: 0.0,
            cost: 1.0,
            metrics: vec![],
            gradient: None,
        }])
        .unwrap();
        let state = s.snapshot().unwrap();
        let mut t = Native::<HyperbandStrategy>::init(1, space(), vec![], RunContext { max_trials: None, parallelism: 2 }).unwrap();
        t.restore(state.clone()).unwrap();
        assert_eq!(t.snapshot().unwrap(), state);
    }
}
