//! Grid search: every architecture of the space, once, in a fixed order —
//! the first decision varies fastest (mixed-radix counting). Used to
//! tabulate a space into a benchmark table, and as the "no intelligence"
//! reference next to random search. With `start` and `stride`, several runs
//! split one space between them.
//!
//! Shapes (contract 0.1.2):
//!
//! - Conditions: a decision active only when others take given choices is
//!   enumerated only where it is active; where it is not it stays at choice
//!   0. So every proposal is canonical and no architecture is proposed
//!   twice (`nasbox_kit::design::Enumeration`). The order is still
//!   mixed-radix counting over the decisions that count, a decision always
//!   varying faster than those its conditions are on (and otherwise the
//!   first fastest); `start` and `stride` count canonical architectures.
//! - Continuous ranges: the host holds a continuous decision as a fine grid
//!   of about a thousand choices. `continuous` says how many of them grid
//!   search visits: `all` of them, or `n` values evenly spread over the
//!   range (in position: on the logarithm for a log range; ends included).
//!   The default, `auto`, is every choice while the whole grid stays small
//!   (at most 10,000 architectures, counted without conditions), and 11
//!   values per continuous decision otherwise. Ordered decisions the user
//!   listed value by value are never thinned.

use nasbox_kit::design::Enumeration;
use nasbox_sdk::{genotype, state, Best, Config, ConfigKey, Genotype, Observation, Proposal, RunContext, Shape, Space, Strategy, StrategyError, StrategyInfo};
use serde::{Deserialize, Serialize};

pub struct Grid {
    all: Enumeration,
    stride: u64,
    state: State,
}

/// The largest grid `continuous=auto` enumerates at every choice.
const AUTO_LIMIT: u128 = 10_000;

/// Values per continuous decision `continuous=auto` takes in a larger grid.
const AUTO_POINTS: usize = 11;

#[derive(Serialize, Deserialize)]
struct State {
    /// The next genotype to propose, or `None` once the space is spent.
    next: Option<Genotype>,
    best: Best,
}

/// The choices grid search visits on each decision: all of them, but on a
/// continuous decision `points` values evenly spread in position (`None`:
/// all of them).
fn choices(shape: &Shape, points: Option<usize>) -> Vec<Vec<u32>> {
    (0..shape.len())
        .map(|d| match points {
            Some(n) if shape.is_continuous(d) && n < shape.arities()[d] as usize => {
                let mut values: Vec<u32> = (0..n).map(|k| shape.nearest(d, k as f64 / (n - 1) as f64)).collect();
                values.dedup();
                values
            }
            _ => (0..shape.arities()[d]).collect(),
        })
        .collect()
}

/// Reads `continuous`: `all`, `auto` or a number of values (at least 2).
fn points(shape: &Shape, raw: &str) -> Result<Option<usize>, StrategyError> {
    match raw.trim() {
        "all" => Ok(None),
        "auto" => {
            let size = shape.arities().iter().try_fold(1u128, |n, &a| n.checked_mul(a as u128));
            Ok(if size.is_some_and(|n| n <= AUTO_LIMIT) { None } else { Some(AUTO_POINTS) })
        }
        n => match n.parse::<usize>() {
            Ok(n) if n >= 2 => Ok(Some(n)),
            _ => Err(StrategyError::InvalidConfig(format!("continuous: `{raw}` is not all, auto or a number of values of at least 2"))),
        },
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
                ConfigKey {
                    name: "continuous".into(),
                    default: "auto".into(),
                    description: "values visited on a continuous decision (a range the host holds as a fine grid of choices): \
                                  `all`, a number n ≥ 2 (n values evenly spread over the range, ends included, on the \
                                  logarithm for a log range), or `auto`: all while the whole grid has at most 10000 \
                                  architectures, 11 otherwise"
                        .into(),
                },
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
        let shape = Shape::of(&space);
        let all = Enumeration::with_choices(&shape, choices(&shape, points(&shape, config.raw("continuous")?)?));
        let next = all.first().and_then(|g| all.advance(g, start));
        Ok(Grid { all, stride, state: State { next, best: Best::default() } })
    }

    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        let mut out = Vec::new();
        while out.len() < n as usize {
            let Some(g) = self.state.next.take() else { break };
            self.state.next = self.all.advance(g.clone(), self.stride);
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
    use nasbox_sdk::shape::{Condition, DecisionShape, Kind, Numbers};
    use nasbox_sdk::{native::Native, Candidate, Decision, Setting};
    use std::collections::BTreeSet;

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

    fn space_of(arities: &[usize]) -> Space {
        Space {
            name: "t".into(),
            decisions: arities.iter().enumerate().map(|(i, &a)| Decision { name: format!("d{i}"), choices: (0..a).map(|c| c.to_string()).collect() }).collect(),
        }
    }

    fn shaped(space: Space, shapes: Vec<DecisionShape>, settings: Vec<Setting>) -> Result<Vec<Genotype>, StrategyError> {
        let mut g = Native::<Grid>::init_shaped(0, space, shapes, settings, RunContext { max_trials: None, parallelism: 1 })?;
        let mut out = vec![];
        loop {
            let p = g.ask(5).unwrap();
            if p.is_empty() {
                return Ok(out);
            }
            out.extend(p.into_iter().map(|p| match p {
                Proposal::Genotype(Candidate { genotype, .. }) => genotype,
                _ => unreachable!(),
            }));
        }
    }

    fn on(decision: u32, choices: &[u32]) -> Vec<Condition> {
        vec![Condition { decision, choices: choices.to_vec() }]
    }

    /// Under conditions every architecture is proposed once, in canonical
    /// form, and never twice; shards split them.
    #[test]
    fn under_conditions_each_architecture_is_proposed_once() {
        let cat = |conditions| DecisionShape { kind: Kind::Categorical, conditions };
        // d0 decides whether d1 (when 0) or d2 (when 1) counts; d3 counts when d1 = 2.
        let space = space_of(&[3, 3, 4, 2]);
        let shapes = vec![cat(vec![]), cat(on(0, &[0])), cat(on(0, &[1])), cat(on(1, &[2]))];
        let shape = Shape::new(&space, shapes.clone()).unwrap();
        let every = shaped(space.clone(), shapes.clone(), vec![]).unwrap();
        let architectures: BTreeSet<Genotype> = (0..72u32).map(|k| shape.canonical(&[k % 3, k / 3 % 3, k / 9 % 4, k / 36])).collect();
        // d0 = 0: 2 + 2 (d1 = 2 with d3); d0 = 1: 4; d0 = 2: 1.
        assert_eq!(architectures.len(), 9);
        assert_eq!(every.len(), 9);
        assert_eq!(every.iter().cloned().collect::<BTreeSet<_>>(), architectures);
        let set = |k: &str, v: &str| Setting { key: k.into(), value: v.into() };
        let a = shaped(space.clone(), shapes.clone(), vec![set("start", "0"), set("stride", "2")]).unwrap();
        let b = shaped(space.clone(), shapes.clone(), vec![set("start", "1"), set("stride", "2")]).unwrap();
        assert_eq!(a.len() + b.len(), 9);
        let mut both: Vec<Genotype> = a.into_iter().chain(b).collect();
        both.sort();
        assert_eq!(both, architectures.into_iter().collect::<Vec<_>>());
    }

    /// A continuous decision is enumerated at every choice while the grid
    /// is small, at 11 values (ends included) when it is not, or at the
    /// number of values `continuous` names; values listed one by one are
    /// never thinned.
    #[test]
    fn continuous_ranges_are_thinned_when_the_grid_is_large() {
        let range = |n: usize, continuous: bool| DecisionShape {
            kind: Kind::Ordered(Numbers { values: (0..n).map(|k| k as f64 / (n - 1) as f64).collect(), integer: false, log: false, continuous }),
            conditions: vec![],
        };
        let set = |v: &str| vec![Setting { key: "continuous".into(), value: v.into() }];
        let one = shaped(space_of(&[1001]), vec![range(1001, true)], vec![]).unwrap();
        assert_eq!(one.len(), 1001);
        let two = shaped(space_of(&[1001, 1001, 3]), vec![range(1001, true), range(1001, true), range(3, false)], vec![]).unwrap();
        assert_eq!(two.len(), 11 * 11 * 3);
        assert_eq!(two.iter().map(|g| g[0]).collect::<BTreeSet<_>>(), (0..=1000).step_by(100).collect());
        let five = shaped(space_of(&[1001, 201]), vec![range(1001, true), range(201, false)], set("5")).unwrap();
        assert_eq!(five.len(), 5 * 201);
        assert_eq!(five.iter().map(|g| g[0]).collect::<BTreeSet<_>>(), [0, 250, 500, 750, 1000].into());
        assert_eq!(shaped(space_of(&[101, 101]), vec![range(101, true), range(101, true)], set("all")).unwrap().len(), 101 * 101);
        for bad in ["1", "some", "-3"] {
            let r = shaped(space_of(&[11]), vec![range(11, true)], set(bad));
            assert!(matches!(&r, Err(StrategyError::InvalidConfig(m)) if m.contains("continuous")), "{bad}: {r:?}");
        }
    }
}
