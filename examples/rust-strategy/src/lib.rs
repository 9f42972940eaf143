// An example strategy: greedy one-decision mutation of the best
// architecture so far. It is the SDK's documentation example; copy this
// crate to start your own strategy.
//
// Build: `cargo build --release --target wasm32-wasip2 -p example-mutator`,
// then `nasbox strategy check target/wasm32-wasip2/release/mutator.wasm`.

use nasbox_sdk::{
    config::Config, random, Candidate, ConfigKey, Genotype, Observation, Proposal, RunContext, Space, Status, Strategy, StrategyError, StrategyInfo,
};

/// Mutates the best architecture seen so far in one decision, and with
/// probability `explore` samples a fresh one instead.
pub struct Mutator {
    arities: Vec<u32>,
    explore: f64,
    best: Option<(f64, Genotype)>,
}

impl Strategy for Mutator {
    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "mutator".into(),
            version: "0.1.0".into(),
            description: "Greedy one-decision mutation of the incumbent.".into(),
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
        let arities = space.decisions.iter().map(|d| d.choices.len() as u32).collect();
        Ok(Mutator { arities, explore, best: None })
    }

    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        let proposals = (0..n).map(|_| {
            let genotype = match &self.best {
                Some((_, best)) if random::f64() >= self.explore => {
                    let mut g = best.clone();
                    let d = random::below(g.len() as u64) as usize;
                    g[d] = random::below(self.arities[d] as u64) as u32;
                    g
                }
                _ => self.arities.iter().map(|&a| random::below(a as u64) as u32).collect(),
            };
            Proposal::Genotype(Candidate { genotype, fidelity: None })
        });
        Ok(proposals.collect())
    }

    fn tell(&mut self, observations: Vec<Observation>) -> Result<(), StrategyError> {
        for o in observations {
            if let (Status::Ok, Proposal::Genotype(c)) = (&o.status, &o.proposal) {
                if self.best.as_ref().is_none_or(|(b, _)| o.objective > *b) {
                    self.best = Some((o.objective, c.genotype.clone()));
                }
            }
        }
        Ok(())
    }

    fn recommend(&self) -> Result<Option<Genotype>, StrategyError> {
        Ok(self.best.as_ref().map(|(_, g)| g.clone()))
    }
}

nasbox_sdk::export_strategy!(Mutator);
