//! {{name}}: mutation search. Each proposal changes one decision of the best
//! architecture so far; with probability `explore` it is a uniform sample
//! instead. Change `ask` and `tell` to make it your own search.
//!
//! Rules every nasbox strategy follows (the SDK keeps them for you):
//! randomness only from `random` (the host seeds it from the run's seed, so
//! one seed gives one search), failures as `StrategyError` values.

use nasbox_sdk::{
    genotype, log, random, Best, Config, ConfigKey, Genotype, Observation, Proposal, RunContext, Shape, Space, Strategy,
    StrategyError, StrategyInfo,
};

pub struct Search {
    /// What each decision is: numbers get local steps, conditions are kept.
    shape: Shape,
    explore: f64,
    best: Best,
}

impl Strategy for Search {
    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "{{name}}".into(),
            version: "0.1.0".into(),
            description: "Mutates the best architecture so far in one decision, or samples a new one.".into(),
            config: vec![ConfigKey {
                name: "explore".into(),
                default: "0.2".into(),
                description: "probability of a uniform sample instead of a mutation".into(),
            }],
            supports_snapshot: false,
        }
    }

    fn init(space: Space, config: Config, _context: RunContext) -> Result<Self, StrategyError> {
        let explore: f64 = config.get("explore")?;
        if !(0.0..=1.0).contains(&explore) {
            return Err(StrategyError::InvalidConfig(format!("explore: {explore} is not in [0, 1]")));
        }
        Ok(Search { shape: Shape::of(&space), explore, best: Best::default() })
    }

    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        let next = |best: Option<Genotype>| match best {
            Some(best) if random::f64() >= self.explore => self.shape.mutate(&best, 0.7),
            _ => self.shape.sample(),
        };
        Ok((0..n).map(|_| genotype::propose(next(self.best.genotype()))).collect())
    }

    fn tell(&mut self, observations: Vec<Observation>) -> Result<(), StrategyError> {
        for o in &observations {
            if self.best.offer(o) {
                log::info(&format!("new best {:.4} at trial {}", o.objective, o.trial));
            }
        }
        Ok(())
    }

    fn recommend(&self) -> Result<Option<Genotype>, StrategyError> {
        Ok(self.best.genotype())
    }
}

nasbox_sdk::export_strategy!(Search);
