//! Grid search: every architecture of the space, once, in a fixed order —
//! the first decision varies fastest (mixed-radix counting). Used to
//! tabulate a space into a benchmark table, and as the "no intelligence"
//! reference next to random search. With `start` and `stride`, several runs
//! split one space between them.

use nasbox_sdk::{genotype, state, Best, Config, ConfigKey, Genotype, Observation, Proposal, RunContext, Space, Strategy, StrategyError, StrategyInfo};
use serde::{Deserialize, Serialize};

pub struct Grid {
    arities: Vec<u32>,
    stride: u64,
    state: State,
}

#[derive(Serialize, Deserialize)]
struct State {
    /// The next genotype to propose, or `None` once the space is spent.
    next: Option<Genotype>,
    best: Best,
}

impl Grid {
    /// Advances `g` by `steps` in mixed radix; `None` past the last genotype.
    fn advance(&self, mut g: Genotype, mut steps: u64) -> Option<Genotype> {
        for (d, &a) in self.arities.iter().enumerate() {
            if steps == 0 {
                break;
            }
            let total = g[d] as u64 + steps;
            g[d] = (total % a as u64) as u32;
            steps = total / a as u64;
        }
        (steps == 0).then_some(g)
    }
}

impl Strategy for Grid {
    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "grid".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Exhaustive enumeration in mixed-radix order (first decision fastest); ask returns nothing \
                          once every architecture was proposed."
                .into(),
            config: vec![
                ConfigKey { name: "start".into(), default: "0".into(), description: "index of the first architecture".into() },
                ConfigKey { name: "stride".into(), default: "1".into(), description: "step between proposed indices (shard k of m: start=k, stride=m)".into() },
            ],
            supports_snapshot: true,
        }
    }

    fn init(space: Space, config: Config, _context: RunContext) -> Result<Self, StrategyError> {
        let start: u64 = config.get("start")?;
        let stride: u64 = config.get("stride")?;
        if stride == 0 {
            return Err(StrategyError::InvalidConfig("stride: must be at least 1".into()));
        }
        let arities = genotype::arities(&space);
        let mut grid = Grid { arities, stride, state: State { next: None, best: Best::default() } };
        grid.state.next = grid.advance(vec![0; grid.arities.len()], start);
        Ok(grid)
    }

    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        let mut out = Vec::new();
        while out.len() < n as usize {
            let Some(g) = self.state.next.take() else { break };
            self.state.next = self.advance(g.clone(), self.stride);
            out.push(genotype::propose(g));
        }
        Ok(out)
    }

    fn tell(&mut self, observations: Vec<Observation>) -> Result<(), StrategyError> {
        for o in &observations {
            self.state.best.offer(o);
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

nasbox_sdk::export_strategy!(Grid);

#[cfg(test)]
mod tests {
    use super::*;
    use nasbox_sdk::{native::Native, Candidate, Decision, Setting};

    fn space() -> Space {
        Space {
            name: "t".into(),
            decisions: [2, 3].iter().enumerate().map(|(i, &a)| Decision { name: format!("d{i}"), choices: (0..a).map(|c| c.to_string()).collect() }).collect(),
        }
    }

    fn all(settings: Vec<Setting>) -> Vec<Genotype> {
        let mut g = Native::<Grid>::init(0, space(), settings, RunContext { max_trials: None, parallelism: 1 }).unwrap();
        let mut out = vec![];
        loop {
            let p = g.ask(4).unwrap();
            if p.is_empty() {
                return out;
            }
            out.extend(p.into_iter().map(|p| match p {
                Proposal::Genotype(Candidate { genotype, .. }) => genotype,
                _ => unreachable!(),
            }));
        }
    }

    #[test]
    fn enumerates_in_mixed_radix_order_then_stops() {
        assert_eq!(all(vec![]), vec![vec![0, 0], vec![1, 0], vec![0, 1], vec![1, 1], vec![0, 2], vec![1, 2]]);
    }

    #[test]
    fn shards_partition_the_space() {
        let set = |k: &str, v: &str| Setting { key: k.into(), value: v.into() };
        let a = all(vec![set("start", "0"), set("stride", "2")]);
        let b = all(vec![set("start", "1"), set("stride", "2")]);
        assert_eq!(a, vec![vec![0, 0], vec![0, 1], vec![0, 2]]);
        assert_eq!(b, vec![vec![1, 0], vec![1, 1], vec![1, 2]]);
        assert!(all(vec![set("start", "6")]).is_empty());
    }
}
