//! Regularized evolution (Real et al., "Regularized Evolution for Image
//! Classifier Architecture Search", AAAI 2019).
//!
//! A population of `population` architectures, ordered by age. Each new
//! proposal is a mutation (one decision changed) of the best of `sample`
//! members drawn at random; when a child's result arrives it joins the
//! population and the *oldest* member dies, whatever its accuracy — the aging
//! that regularizes the search against lucky evaluations.
//!
//! Asynchronous by construction: tournaments use the population as it is
//! when asked, and results may arrive in any order.

use std::collections::{BTreeMap, VecDeque};

use nasbox_sdk::{genotype, random, state, Best, Config, ConfigKey, Genotype, Observation, Proposal, RunContext, Space, Strategy, StrategyError, StrategyInfo};
use serde::{Deserialize, Serialize};

pub struct Evolution {
    arities: Vec<u32>,
    population_size: usize,
    sample_size: usize,
    state: State,
}

#[derive(Serialize, Deserialize, Default)]
struct State {
    /// Living members, oldest first: (genotype, objective).
    population: VecDeque<(Genotype, f64)>,
    /// Trial ids proposed and not yet told, and whether each was a random
    /// member of the initial population.
    pending: BTreeMap<u64, bool>,
    next_trial: u64,
    /// The incumbent.
    best: Best,
}

impl Evolution {
    fn pending_random(&self) -> usize {
        self.state.pending.values().filter(|&&r| r).count()
    }

    fn next(&mut self) -> Genotype {
        let s = &self.state;
        let initialising = s.population.len() + self.pending_random() < self.population_size;
        if initialising || s.population.is_empty() {
            self.state.pending.insert(self.state.next_trial, true);
            return genotype::sample(&self.arities);
        }
        let mut parent: Option<&(Genotype, f64)> = None;
        for _ in 0..self.sample_size {
            let candidate = &s.population[random::index(s.population.len())];
            if parent.is_none_or(|p| candidate.1 > p.1) {
                parent = Some(candidate);
            }
        }
        let child = genotype::mutate(&parent.expect("sample_size >= 1").0, &self.arities);
        self.state.pending.insert(self.state.next_trial, false);
        child
    }
}

impl Strategy for Evolution {
    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "evolution".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Regularized (aging) evolution: tournament selection, one-decision mutation, the oldest \
                          member dies (Real et al. 2019)."
                .into(),
            config: vec![
                ConfigKey {
                    name: "population".into(),
                    default: "auto".into(),
                    description: "population size P; the first P proposals are uniform samples. auto: a fifth of the \
                                  trial budget, between 10 and 50 (50 without a trial budget), so that most of the \
                                  budget evolves"
                        .into(),
                },
                ConfigKey {
                    name: "sample".into(),
                    default: "auto".into(),
                    description: "tournament size S (1 ≤ S ≤ P): members compared to pick a parent. auto: P/5, at least 3 \
                                  (NATS-Bench's 10/3 at small budgets, the paper's 50/10 at large ones)"
                        .into(),
                },
            ],
            supports_snapshot: true,
        }
    }

    fn init(space: Space, config: Config, context: RunContext) -> Result<Self, StrategyError> {
        let population_size: usize = match config.raw("population")? {
            "auto" => auto_population(context.max_trials),
            _ => config.get("population")?,
        };
        let sample_size: usize = match config.raw("sample")? {
            "auto" => (population_size / 5).max(3).min(population_size),
            _ => config.get("sample")?,
        };
        if population_size < 1 {
            return Err(StrategyError::InvalidConfig("population: must be at least 1".into()));
        }
        if !(1..=population_size).contains(&sample_size) {
            return Err(StrategyError::InvalidConfig(format!("sample: {sample_size} is not in 1..={population_size}")));
        }
        Ok(Evolution { arities: genotype::arities(&space), population_size, sample_size, state: State::default() })
    }

    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        Ok((0..n)
            .map(|_| {
                let g = self.next();
                self.state.next_trial += 1;
                genotype::propose(g)
            })
            .collect())
    }

    fn tell(&mut self, observations: Vec<Observation>) -> Result<(), StrategyError> {
        for o in &observations {
            self.state.pending.remove(&o.trial);
            self.state.best.offer(o);
            let Some((g, objective)) = genotype::success(o) else { continue };
            self.state.population.push_back((g.clone(), objective));
            if self.state.population.len() > self.population_size {
                self.state.population.pop_front();
            }
        }
        Ok(())
    }

    fn recommend(&self) -> Result<Option<Genotype>, StrategyError> {
        Ok(self.state.best.genotype())
    }

    fn snapshot(&self) -> Result<Vec<u8>, StrategyError> {
        state::save(&self.state)
    }

    fn restore(&mut self, state: Vec<u8>) -> Result<(), StrategyError> {
        self.state = state::load(&state)?;
        Ok(())
    }
}

/// The population for a trial budget: with the paper's 50 at a 50-trial
/// budget, evolution never starts (the main job was 50 random samples).
fn auto_population(max_trials: Option<u64>) -> usize {
    match max_trials {
        Some(n) => ((n / 5) as usize).clamp(10, 50),
        None => 50,
    }
}

nasbox_sdk::export_strategy!(Evolution);

#[cfg(test)]
mod tests {
    use super::*;
    use nasbox_sdk::{native::Native, Decision, Setting, Status};

    fn space() -> Space {
        Space { name: "t".into(), decisions: (0..8).map(|i| Decision { name: format!("d{i}"), choices: (0..4).map(|c| c.to_string()).collect() }).collect() }
    }

    fn settings(p: &str, s: &str) -> Vec<Setting> {
        vec![Setting { key: "population".into(), value: p.into() }, Setting { key: "sample".into(), value: s.into() }]
    }

    fn ok(trial: u64, p: Proposal, objective: f64) -> Observation {
        Observation { trial, proposal: p, status: Status::Ok, objective, cost: 1.0, metrics: vec![], gradient: None }
    }

    fn ctx() -> RunContext {
        RunContext { max_trials: None, parallelism: 1 }
    }

    #[test]
    fn after_the_initial_population_children_are_one_mutation_from_a_member() {
        let mut e = Native::<Evolution>::init(1, space(), settings("5", "2"), ctx()).unwrap();
        let initial = e.ask(5).unwrap();
        let members: Vec<Genotype> = initial
            .iter()
            .map(|p| match p {
                Proposal::Genotype(c) => c.genotype.clone(),
                _ => unreachable!(),
            })
            .collect();
        e.tell(initial.into_iter().enumerate().map(|(i, p)| ok(i as u64, p, i as f64 / 10.0)).collect()).unwrap();
        for p in e.ask(10).unwrap() {
            let Proposal::Genotype(c) = p else { unreachable!() };
            let closest = members.iter().map(|m| m.iter().zip(&c.genotype).filter(|(a, b)| a != b).count()).min().unwrap();
            assert_eq!(closest, 1);
        }
    }

    #[test]
    fn auto_defaults_leave_most_of_a_small_budget_to_evolution() {
        let sizes = |max_trials: Option<u64>| {
            let e = Native::<Evolution>::init(1, space(), vec![], RunContext { max_trials, parallelism: 1 }).unwrap();
            (e.inner().population_size, e.inner().sample_size)
        };
        assert_eq!(sizes(Some(50)), (10, 3));
        assert_eq!(sizes(Some(100)), (20, 4));
        assert_eq!(sizes(Some(1000)), (50, 10));
        assert_eq!(sizes(None), (50, 10));
        assert_eq!(sizes(Some(20)), (10, 3));
        // Given values win.
        let e = Native::<Evolution>::init(1, space(), settings("7", "2"), RunContext { max_trials: Some(50), parallelism: 1 }).unwrap();
        assert_eq!((e.inner().population_size, e.inner().sample_size), (7, 2));
        let e = Native::<Evolution>::init(1, space(), vec![Setting { key: "population".into(), value: "30".into() }], ctx()).unwrap();
        assert_eq!((e.inner().population_size, e.inner().sample_size), (30, 6));
    }

    #[test]
    fn the_oldest_dies_not_the_worst() {
        let mut e = Native::<Evolution>::init(1, space(), settings("3", "1"), ctx()).unwrap();
        let p = e.ask(4).unwrap();
        // Trial 0 is the best but the oldest: when the fourth arrives, it dies.
        let objectives = [0.9, 0.1, 0.2, 0.3];
        e.tell(p.into_iter().enumerate().map(|(i, p)| ok(i as u64, p, objectives[i])).collect()).unwrap();
        let alive: Vec<f64> = e.inner().state.population.iter().map(|m| m.1).collect();
        assert_eq!(alive, vec![0.1, 0.2, 0.3]);
        // It is still the recommendation: the best ever seen.
        assert_eq!(e.inner().state.best.objective(), Some(0.9));
    }

    #[test]
    fn failed_initial_members_are_replaced_by_new_samples() {
        let mut e = Native::<Evolution>::init(1, space(), settings("2", "1"), ctx()).unwrap();
        let p = e.ask(2).unwrap();
        let failed = Observation { status: Status::Failed("oom".into()), ..ok(0, p[0].clone(), 0.0) };
        e.tell(vec![failed, ok(1, p[1].clone(), 0.5)]).unwrap();
        e.ask(1).unwrap();
        assert_eq!(e.inner().state.pending.get(&2), Some(&true), "the third proposal refills the population");
    }

    #[test]
    fn bad_config_is_named() {
        assert!(matches!(Native::<Evolution>::init(1, space(), settings("5", "9"), ctx()), Err(StrategyError::InvalidConfig(m)) if m.contains("sample")));
        assert!(matches!(Native::<Evolution>::init(1, space(), settings("0", "1"), ctx()), Err(StrategyError::InvalidConfig(m)) if m.contains("population")));
    }
}
