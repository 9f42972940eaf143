//! Random search: every architecture of the space equally likely, none
//! proposed twice, until the space is exhausted.
//!
//! The lecture's "curious case of random search": with a good search space
//! and a fair budget, it is the baseline every other strategy must beat
//! (Li & Talwalkar 2019; Yang et al. 2020).
//!
//! Sampling without replacement uses a lazily materialised Fisher–Yates
//! shuffle of the space's index range, so each draw costs O(1) however much
//! of the space is already used, and memory grows with the number of draws,
//! not with the size of the space. Spaces too large to index in 128 bits are
//! sampled with rejection against the set already drawn.
//!
//! Conditions (contract 0.1.2): in a space where some decisions are active
//! only when others take given choices, two genotypes that differ only in
//! inactive decisions are one architecture. There every proposal is
//! canonical (inactive decisions at choice 0) and drawn as
//! `nasbox_sdk::Shape::sample` draws: each active decision uniformly, so a
//! branch of the space gets its share by the choices that lead to it, not
//! by how many architectures it holds (what hyperparameter optimisers call
//! random search on a conditional space). Repeats are rejected against the
//! canonical genotypes drawn; when 64 draws in a row are repeats the space
//! is nearly spent, and the proposal is the first unproposed architecture
//! of a fixed enumeration (`nasbox_kit::design::Enumeration`), found in at
//! most as many steps as there are proposals; none left, the space is
//! exhausted.

use std::collections::{BTreeMap, BTreeSet};

use nasbox_kit::design::Enumeration;
use nasbox_sdk::{random, state, Best, Candidate, Config, Genotype, Observation, Proposal, RunContext, Shape, Space, Strategy, StrategyError, StrategyInfo};
use serde::{Deserialize, Serialize};

/// Uniform random search without repeats.
pub struct RandomSearch {
    arities: Vec<u32>,
    /// Number of architectures, or `None` when it does not fit in 128 bits.
    size: Option<u128>,
    /// The space's shape and its canonical genotypes, when it has
    /// conditions (otherwise every genotype is an architecture).
    conditional: Option<(Shape, Enumeration)>,
    state: State,
}

/// Everything that changes during a search; what `snapshot` saves.
#[derive(Serialize, Deserialize, Default, Debug, PartialEq)]
struct State {
    /// How many architectures have been proposed.
    drawn: u128,
    /// The displaced entries of the lazy shuffle: position → index.
    swaps: BTreeMap<u128, u128>,
    /// Drawn genotypes, only for spaces too large to index or with
    /// conditions (canonical genotypes, then).
    seen: BTreeSet<Genotype>,
    /// The incumbent.
    best: Best,
}

impl RandomSearch {
    fn next(&mut self) -> Option<Genotype> {
        if self.conditional.is_some() {
            return self.next_canonical();
        }
        match self.size {
            Some(size) => self.next_indexed(size),
            None => Some(self.next_rejected()),
        }
    }

    /// A canonical genotype not drawn before, or `None` when every one was.
    fn next_canonical(&mut self) -> Option<Genotype> {
        let (shape, all) = self.conditional.as_ref().expect("a conditional space");
        let s = &mut self.state;
        let fresh = (0..DRAWS).map(|_| shape.sample()).find(|g| !s.seen.contains(g));
        let g = match fresh {
            Some(g) => g,
            None => {
                let mut g = all.first()?;
                while s.seen.contains(&g) {
                    g = all.next(&g)?;
                }
                g
            }
        };
        s.seen.insert(g.clone());
        s.drawn += 1;
        Some(g)
    }

    /// Step `drawn` of a Fisher–Yates shuffle of 0..size, storing only the
    /// positions that differ from the identity.
    fn next_indexed(&mut self, size: u128) -> Option<Genotype> {
        let s = &mut self.state;
        if s.drawn >= size {
            return None;
        }
        let j = s.drawn + below_u128(size - s.drawn);
        let at = |swaps: &BTreeMap<u128, u128>, p: u128| swaps.get(&p).copied().unwrap_or(p);
        let picked = at(&s.swaps, j);
        let displaced = at(&s.swaps, s.drawn);
        s.swaps.remove(&s.drawn);
        if j != s.drawn {
            s.swaps.insert(j, displaced);
        }
        s.drawn += 1;
        Some(decode(picked, &self.arities))
    }

    fn next_rejected(&mut self) -> Genotype {
        loop {
            let g: Genotype = self.arities.iter().map(|&a| random::below(a as u64) as u32).collect();
            if self.state.seen.insert(g.clone()) {
                self.state.drawn += 1;
                return g;
            }
        }
    }
}

/// Draws of a canonical genotype before falling back to the enumeration.
const DRAWS: usize = 64;

/// The genotype with mixed-radix index `index` (first decision least
/// significant). Switches to 64-bit arithmetic as soon as the rest fits:
/// 128-bit division is a slow library call in WebAssembly.
fn decode(index: u128, arities: &[u32]) -> Genotype {
    let mut out = Vec::with_capacity(arities.len());
    let mut wide = index;
    let mut digits = arities.iter();
    for &a in digits.by_ref() {
        if let Ok(mut narrow) = u64::try_from(wide) {
            out.push((narrow % a as u64) as u32);
            narrow /= a as u64;
            for &a in digits.by_ref() {
                out.push((narrow % a as u64) as u32);
                narrow /= a as u64;
            }
            break;
        }
        out.push((wide % a as u128) as u32);
        wide /= a as u128;
    }
    out
}

/// Uniform in [0, bound), bound > 0, from the host's 64-bit draws.
fn below_u128(bound: u128) -> u128 {
    if let Ok(small) = u64::try_from(bound) {
        return random::below(small) as u128;
    }
    let bits = 128 - (bound - 1).leading_zeros();
    let mask = if bits == 128 { u128::MAX } else { (1u128 << bits) - 1 };
    loop {
        let r = (((random::u64() as u128) << 64) | random::u64() as u128) & mask;
        if r < bound {
            return r;
        }
    }
}

impl Strategy for RandomSearch {
    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "random".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Random search: samples the space uniformly without repeats until it is \
                          exhausted (Bergstra & Bengio 2012; Li & Talwalkar 2019)."
                .into(),
            config: vec![],
            supports_snapshot: true,
        }
    }

    fn init(space: Space, _config: Config, _context: RunContext) -> Result<Self, StrategyError> {
        if let Some(d) = space.decisions.iter().find(|d| d.choices.is_empty()) {
            return Err(StrategyError::UnsupportedSpace(format!("decision `{}` has no choices", d.name)));
        }
        let arities: Vec<u32> = space.decisions.iter().map(|d| d.choices.len() as u32).collect();
        let size = arities.iter().try_fold(1u128, |acc, &a| acc.checked_mul(a as u128));
        let shape = Shape::of(&space);
        let conditional = shape.is_conditional().then(|| {
            let all = Enumeration::new(&shape);
            (shape, all)
        });
        Ok(RandomSearch { arities, size, conditional, state: State::default() })
    }

    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        Ok((0..n).map_while(|_| self.next()).map(|genotype| Proposal::Genotype(Candidate { genotype, fidelity: None })).collect())
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

nasbox_sdk::export_strategy!(RandomSearch);

#[cfg(test)]
mod tests {
    use super::*;
    use nasbox_sdk::shape::{Condition, DecisionShape, Kind};
    use nasbox_sdk::{native::Native, Status};
    use std::collections::HashSet;

    use nasbox_sdk::native::numbered_space as space;

    fn ctx() -> RunContext {
        RunContext { max_trials: None, parallelism: 1 }
    }

    fn genotypes(p: Vec<Proposal>) -> Vec<Genotype> {
        p.into_iter()
            .map(|p| match p {
                Proposal::Genotype(c) => c.genotype,
                Proposal::Relaxed(_) => panic!("random proposes genotypes only"),
            })
            .collect()
    }

    #[test]
    fn exhausts_a_small_space_without_repeats_then_returns_none() {
        let mut s = Native::<RandomSearch>::init(3, space(&[2, 3, 4]), vec![], ctx()).unwrap();
        let all = genotypes(s.ask(100).unwrap());
        assert_eq!(all.len(), 24);
        let unique: HashSet<_> = all.iter().cloned().collect();
        assert_eq!(unique.len(), 24);
        assert!(all.iter().all(|g| g[0] < 2 && g[1] < 3 && g[2] < 4));
        assert!(s.ask(5).unwrap().is_empty());
    }

    #[test]
    fn first_draws_are_roughly_uniform() {
        // Over many seeds the first proposal of a 6-architecture space should
        // hit each one about equally often.
        let mut counts = [0u32; 6];
        for seed in 0..6000 {
            let mut s = Native::<RandomSearch>::init(seed, space(&[2, 3]), vec![], ctx()).unwrap();
            let g = &genotypes(s.ask(1).unwrap())[0];
            counts[(g[0] + 2 * g[1]) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (850..1150).contains(&c)), "{counts:?}");
    }

    #[test]
    fn huge_spaces_use_rejection_and_still_never_repeat() {
        let mut s = Native::<RandomSearch>::init(1, space(&[2; 200]), vec![], ctx()).unwrap();
        assert!(s.inner().size.is_none());
        let g = genotypes(s.ask(50).unwrap());
        assert_eq!(g.iter().collect::<HashSet<_>>().len(), 50);
    }

    #[test]
    fn wide_spaces_beyond_u64_are_indexed() {
        let mut s = Native::<RandomSearch>::init(1, space(&[5; 30]), vec![], ctx()).unwrap();
        assert!(s.inner().size.unwrap() > u64::MAX as u128);
        assert_eq!(genotypes(s.ask(20).unwrap()).len(), 20);
    }

    #[test]
    fn decode_is_mixed_radix_across_the_64_bit_switch() {
        let arities = [5u32; 30];
        // Encode a known genotype and decode it back, for indices on both
        // sides of 2^64.
        for g in [vec![4u32; 30], (0..30).map(|i| i % 5).collect::<Vec<_>>(), vec![0; 30]] {
            let index = g.iter().rev().fold(0u128, |acc, &d| acc * 5 + d as u128);
            assert_eq!(decode(index, &arities), g);
        }
        assert_eq!(decode(7, &[2, 3, 4]), vec![1, 0, 1]);
    }

    #[test]
    fn snapshot_restore_continues_the_same_sequence() {
        let mut a = Native::<RandomSearch>::init(9, space(&[3, 3, 3]), vec![], ctx()).unwrap();
        a.ask(10).unwrap();
        let state = a.snapshot().unwrap();
        let mut b = Native::<RandomSearch>::init(0, space(&[3, 3, 3]), vec![], ctx()).unwrap();
        b.restore(state).unwrap();
        // Both continue without repeating what `a` already drew.
        let rest = genotypes(b.ask(100).unwrap());
        assert_eq!(rest.len(), 17);
        assert!(b.restore(b"garbage".to_vec()).is_err());
    }

    #[test]
    fn recommends_the_best_ok_observation() {
        let mut s = Native::<RandomSearch>::init(1, space(&[4, 4]), vec![], ctx()).unwrap();
        let p = s.ask(3).unwrap();
        let obs = |trial: u64, p: &Proposal, status: Status, objective: f64| Observation {
            trial,
            proposal: p.clone(),
            status,
            objective,
            cost: 1.0,
            metrics: vec![],
            gradient: None,
        };
        s.tell(vec![obs(2, &p[2], Status::Failed("oom".into()), 0.99), obs(0, &p[0], Status::Ok, 0.5), obs(1, &p[1], Status::Ok, 0.7)]).unwrap();
        assert_eq!(s.recommend().unwrap(), genotypes(vec![p[1].clone()]).pop());
    }

    /// d1 and d2 count only when d0 = 0, d3 only when d1 = 1.
    fn conditional() -> (Space, Vec<DecisionShape>) {
        let cat = |conditions: Vec<Condition>| DecisionShape { kind: Kind::Categorical, conditions };
        let on = |decision: u32, choices: &[u32]| vec![Condition { decision, choices: choices.to_vec() }];
        (space(&[3, 2, 4, 5]), vec![cat(vec![]), cat(on(0, &[0])), cat(on(0, &[0])), cat(on(1, &[1]))])
    }

    /// d0 = 0: d1 = 0 (d3 off) or 1 (d3 on, 5), times d2's 4: (1 + 5)·4 = 24;
    /// d0 = 1 or 2: one each.
    const ARCHITECTURES: usize = 26;

    /// Under conditions every proposal is canonical and none repeats: the
    /// space is exhausted after exactly its 26 architectures (of 120
    /// genotypes), also across a snapshot.
    #[test]
    fn under_conditions_proposals_are_canonical_and_exhaust_the_architectures() {
        let (space, shapes) = conditional();
        let shape = Shape::new(&space, shapes.clone()).unwrap();
        for seed in 0..5 {
            let mut s = Native::<RandomSearch>::init_shaped(seed, space.clone(), shapes.clone(), vec![], ctx()).unwrap();
            let mut all = genotypes(s.ask(10).unwrap());
            let mut t = Native::<RandomSearch>::init_shaped(seed + 100, space.clone(), shapes.clone(), vec![], ctx()).unwrap();
            t.restore(s.snapshot().unwrap()).unwrap();
            all.extend(genotypes(t.ask(1000).unwrap()));
            assert_eq!(all.len(), ARCHITECTURES, "seed {seed}");
            assert_eq!(all.iter().collect::<HashSet<_>>().len(), ARCHITECTURES);
            assert!(all.iter().all(|g| shape.canonical(g) == *g));
            assert!(t.ask(3).unwrap().is_empty());
        }
    }

    /// Draws follow the conditions' tree, not the count of architectures:
    /// the first proposal has d0 = 0 about a third of the time, although
    /// 24 of the 26 architectures have it.
    #[test]
    fn under_conditions_each_active_decision_is_drawn_uniformly() {
        let (space, shapes) = conditional();
        let zeros = (0..600)
            .filter(|&seed| {
                let mut s = Native::<RandomSearch>::init_shaped(seed, space.clone(), shapes.clone(), vec![], ctx()).unwrap();
                genotypes(s.ask(1).unwrap())[0][0] == 0
            })
            .count();
        assert!((150..250).contains(&zeros), "{zeros}");
    }
}
