//! Designs over a space: which architectures a strategy evaluates before it
//! has a model, and in what order an exhaustive one visits them.
//!
//! Independent uniform draws leave gaps: with 10 draws over 5 choices, a
//! given choice of a given decision is missing with probability
//! (4/5)¹⁰ ≈ 11%, so over NAS-Bench-201's six edges 98% of startups never
//! try some operation on some edge (3 of the 30 on average). A predictor has
//! no data on that choice, rates it by what it shares with others, and the
//! search can settle far from cells that need it. A Latin design (McKay, Beckman,
//! Conover 1979, for categorical decisions) gives every choice of every
//! decision the same share of the startup, ±1, in random combinations
//! ([`latin`]); on an ordered decision with more choices than rows (a
//! continuous range) it is a Latin hypercube: one choice from each of `n`
//! equal slices of the values ([`latin_shaped`]).
//!
//! [`Enumeration`] lists every canonical genotype of a space with
//! conditions once (an inactive decision only at choice 0), the order grid
//! search proposes in and the scan that random and local search fall back
//! on when rejection sampling stops finding unproposed architectures.
//! [`neighbours`] is the one-decision neighbourhood of a genotype as the
//! shape sees it: any other choice of a categorical decision, the nearby
//! values of an ordered one.

use nasbox_sdk::{random, Genotype, Shape};

/// `n` genotypes in which each decision's choices appear equally often (the
/// first `n mod arity` choices of a random order once more), combined across
/// decisions at random: each decision's column is shuffled independently.
pub fn latin(arities: &[u32], n: usize) -> Vec<Genotype> {
    let columns: Vec<Vec<u32>> = arities
        .iter()
        .map(|&arity| {
            let mut order: Vec<u32> = (0..arity).collect();
            random::shuffle(&mut order);
            let mut column: Vec<u32> = (0..n).map(|i| order[i % arity as usize]).collect();
            random::shuffle(&mut column);
            column
        })
        .collect();
    (0..n).map(|i| columns.iter().map(|c| c[i]).collect()).collect()
}

/// [`latin`] on a shaped space: categorical decisions (and ordered ones
/// with at most `n` choices) as there, each choice equally often; an
/// ordered decision with more choices than rows takes one choice from each
/// of `n` equal slices of its choices in value order (a Latin hypercube:
/// the rows spread over the whole range). Rows are canonical (inactive
/// decisions at choice 0), so under conditions two rows may coincide. On an
/// all-categorical shape it draws exactly what [`latin`] draws.
pub fn latin_shaped(shape: &Shape, n: usize) -> Vec<Genotype> {
    let columns: Vec<Vec<u32>> = (0..shape.len())
        .map(|d| {
            let arity = shape.arities()[d];
            let mut column: Vec<u32> = if shape.is_ordered(d) && arity as usize > n {
                let (a, rows) = (arity as u64, n as u64);
                let by_value = shape.by_value(d);
                (0..rows)
                    .map(|i| {
                        let (lo, hi) = (i * a / rows, (i + 1) * a / rows);
                        by_value[(lo + random::below(hi - lo)) as usize]
                    })
                    .collect()
            } else {
                let mut order: Vec<u32> = (0..arity).collect();
                random::shuffle(&mut order);
                (0..n).map(|i| order[i % arity as usize]).collect()
            };
            random::shuffle(&mut column);
            column
        })
        .collect();
    (0..n).map(|i| shape.canonical(&columns.iter().map(|c| c[i]).collect::<Genotype>())).collect()
}

/// Every canonical genotype of a shaped space once (an inactive decision
/// only at choice 0, so no architecture twice), as an odometer: the
/// decisions are digits, the fastest one changes at every step, and a
/// digit only counts while its decision is active. A decision changes
/// faster than every decision its conditions are on, and otherwise the
/// lower index is faster, so without conditions the order is mixed-radix
/// counting with the first decision fastest.
///
/// Each decision runs over a list of its choices: all of them
/// ([`Enumeration::new`]) or a subset ([`Enumeration::with_choices`], grid
/// search's coarse grid over a continuous range).
#[derive(Debug, Clone)]
pub struct Enumeration {
    shape: Shape,
    /// Decisions from the slowest digit to the fastest.
    levels: Vec<usize>,
    /// Per decision, the choices it takes, in the order it takes them.
    choices: Vec<Vec<u32>>,
}

impl Enumeration {
    /// Every choice of every decision, in choice order.
    pub fn new(shape: &Shape) -> Enumeration {
        Enumeration::with_choices(shape, shape.arities().iter().map(|&a| (0..a).collect()).collect())
    }

    /// Decision `d` only at `choices[d]`, in that order (one list per
    /// decision).
    pub fn with_choices(shape: &Shape, choices: Vec<Vec<u32>>) -> Enumeration {
        assert_eq!(choices.len(), shape.len(), "one list of choices per decision");
        let n = shape.len();
        let mut placed = vec![false; n];
        let mut levels = Vec::with_capacity(n);
        while levels.len() < n {
            // The highest-numbered decision whose conditions' decisions are
            // all slower already: the shape refuses cycles, so one exists.
            let d = (0..n)
                .rev()
                .find(|&d| !placed[d] && shape.decision(d).conditions.iter().all(|c| placed[c.decision as usize]))
                .expect("a shape's conditions have no cycle");
            placed[d] = true;
            levels.push(d);
        }
        Enumeration { shape: shape.clone(), levels, choices }
    }

    /// How many genotypes there are, when the space has no conditions
    /// (and the count fits); `None` otherwise.
    pub fn count(&self) -> Option<u128> {
        if self.shape.is_conditional() {
            return None;
        }
        self.choices.iter().try_fold(1u128, |n, c| n.checked_mul(c.len() as u128))
    }

    /// The first genotype; `None` when an active decision has no choice to
    /// take.
    pub fn first(&self) -> Option<Genotype> {
        let mut g = vec![0; self.shape.len()];
        self.reset(&mut g, 0).then_some(g)
    }

    /// The genotype after `genotype` (one of this enumeration's), or `None`
    /// after the last.
    pub fn next(&self, genotype: &[u32]) -> Option<Genotype> {
        let mut g = genotype.to_vec();
        let active = self.shape.active(&g);
        for (i, &d) in self.levels.iter().enumerate().rev() {
            if !active[d] {
                continue;
            }
            let list = &self.choices[d];
            if let Some(&c) = list.iter().position(|&c| c == g[d]).and_then(|p| list.get(p + 1)) {
                g[d] = c;
                if self.reset(&mut g, i + 1) {
                    return Some(g);
                }
                return self.next(&g); // an active decision without choices: skip past it
            }
        }
        None
    }

    /// The genotype `steps` after `genotype`, or `None` past the last: in
    /// one pass without conditions, one step at a time with them.
    pub fn advance(&self, genotype: Genotype, steps: u64) -> Option<Genotype> {
        if self.shape.is_conditional() {
            let mut g = genotype;
            for _ in 0..steps {
                g = self.next(&g)?;
            }
            return Some(g);
        }
        let mut g = genotype;
        let mut steps = steps as u128;
        for &d in self.levels.iter().rev() {
            if steps == 0 {
                break;
            }
            let list = &self.choices[d];
            if list.is_empty() {
                return None;
            }
            let total = list.iter().position(|&c| c == g[d]).unwrap_or(0) as u128 + steps;
            g[d] = list[(total % list.len() as u128) as usize];
            steps = total / list.len() as u128;
        }
        (steps == 0).then_some(g)
    }

    /// Sets the decisions of `levels[from..]` to their first choice, or 0
    /// where inactive; false when an active one has no choice.
    fn reset(&self, g: &mut [u32], from: usize) -> bool {
        for &e in &self.levels[from..] {
            g[e] = self.choices[e].first().copied().unwrap_or(0);
        }
        // Whether a faster decision is active depends on slower ones only,
        // which are final, or just set to their first choice (if active:
        // what they keep) or inactive (and then so is every decision that
        // depends on them).
        let active = self.shape.active(g);
        let mut ok = true;
        for &e in &self.levels[from..] {
            if !active[e] {
                g[e] = 0;
            } else if self.choices[e].is_empty() {
                ok = false;
            }
        }
        ok
    }
}

/// Ordered decisions with more choices than this (a continuous range, a
/// long list of widths) move by [`SCALES`] rather than to the next value,
/// which is a tiny move there.
pub const FINE: u32 = 32;

/// Steps in position (fractions of the range) that a fine ordered decision
/// takes each way. On −Hartmann6 over 1001-value ranges (100 trials, 200
/// seeds, `nasbox-evolution`'s `hartmann` example of commit 86f56958e4, since replaced by `function-bench`) local search reached
/// 3.20 with these, 2.93 with the next value and 1%, 5%, 25% (an improving
/// step of 0.1% is taken as readily as a large one, and the budget went on
/// them), and 3.02 treating the 1001 values as categories.
pub const SCALES: [f64; 3] = [0.03, 0.1, 0.3];

/// The choices a one-decision move may give decision `d`, now at `c`, in
/// choice order: every other choice of a categorical decision; the values
/// next to `c` of an ordered one, or on a fine one ([`FINE`]) the values
/// nearest `c`'s position ± each of [`SCALES`] (clamped to the range).
pub fn moves(shape: &Shape, d: usize, c: u32) -> Vec<u32> {
    let arity = shape.arities()[d];
    if !shape.is_ordered(d) {
        return (0..arity).filter(|&x| x != c).collect();
    }
    let mut out: Vec<u32> = vec![];
    if arity <= FINE {
        let (below, above) = shape.neighbours(d, c);
        out.extend(below.into_iter().chain(above));
    } else {
        let p = shape.position(d, c);
        for s in SCALES {
            for q in [p - s, p + s] {
                let x = shape.nearest(d, q.clamp(0.0, 1.0));
                if x != c && !out.contains(&x) {
                    out.push(x);
                }
            }
        }
    }
    out.sort_unstable();
    out
}

/// Every one-decision move from `genotype` ([`moves`] on each active
/// decision), decision by decision, in canonical form; a decision a move
/// switches on gets a random choice. Without conditions nothing is drawn,
/// and on an all-categorical shape this is
/// `nasbox_sdk::genotype::neighbours`, in the same order.
pub fn neighbours(shape: &Shape, genotype: &[u32]) -> Vec<Genotype> {
    let active = shape.active(genotype);
    let mut out = Vec::new();
    for d in 0..shape.len() {
        if !active[d] {
            continue;
        }
        for c in moves(shape, d, genotype[d]) {
            let mut n = genotype.to_vec();
            n[d] = c;
            out.push(switch_on(shape, &active, n));
        }
    }
    out
}

/// `genotype`, just changed from one whose active decisions were `before`,
/// in canonical form, each decision the change switched on (directly or
/// through another one switched on) at a random choice rather than 0.
pub fn switch_on(shape: &Shape, before: &[bool], mut genotype: Genotype) -> Genotype {
    if !shape.is_conditional() {
        return genotype;
    }
    let mut on = before.to_vec();
    loop {
        let now = shape.active(&genotype);
        let fresh: Vec<usize> = (0..now.len()).filter(|&e| now[e] && !on[e]).collect();
        if fresh.is_empty() {
            return shape.canonical(&genotype);
        }
        for e in fresh {
            on[e] = true;
            genotype[e] = random::below(shape.arities()[e] as u64) as u32;
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use nasbox_sdk::native::seed_for_tests;
    use nasbox_sdk::shape::{Condition, DecisionShape, Kind, Numbers};
    use nasbox_sdk::{genotype, Decision, Space};
    use std::collections::BTreeSet;

    fn space(arities: &[u32]) -> Space {
        Space {
            name: "t".into(),
            decisions: arities.iter().enumerate().map(|(i, &a)| Decision { name: format!("d{i}"), choices: (0..a).map(|c| c.to_string()).collect() }).collect(),
        }
    }

    fn ordered(n: u32, continuous: bool) -> DecisionShape {
        let values = (0..n).map(|k| k as f64 / (n - 1) as f64).collect();
        DecisionShape { kind: Kind::Ordered(Numbers { values, integer: false, log: false, continuous }), conditions: vec![] }
    }

    fn cat() -> DecisionShape {
        DecisionShape { kind: Kind::Categorical, conditions: vec![] }
    }

    fn when(mut s: DecisionShape, decision: u32, choices: &[u32]) -> DecisionShape {
        s.conditions.push(Condition { decision, choices: choices.to_vec() });
        s
    }

    /// Every genotype of the space, canonicalised: the architectures.
    fn architectures(shape: &Shape) -> BTreeSet<Genotype> {
        let arities = shape.arities();
        let size: u32 = arities.iter().product();
        (0..size)
            .map(|mut k| {
                let g: Genotype = arities
                    .iter()
                    .map(|&a| {
                        let c = k % a;
                        k /= a;
                        c
                    })
                    .collect();
                shape.canonical(&g)
            })
            .collect()
    }

    /// A space where d1 and d3 count only when d0 = 0, d2 only when d1 is
    /// 1 or 2 (so also only when d0 = 0), and d4 only when d0 = 1 and d3
    /// (then inactive) is 0: never.
    fn conditional() -> Shape {
        let shapes = vec![cat(), when(ordered(3, false), 0, &[0]), when(cat(), 1, &[1, 2]), when(cat(), 0, &[0]), when(when(cat(), 0, &[1]), 3, &[0])];
        Shape::new(&space(&[3, 3, 2, 2, 2]), shapes).unwrap()
    }

    #[test]
    fn a_latin_design_on_a_categorical_shape_is_the_plain_one() {
        let arities = [5, 3, 7, 1];
        seed_for_tests(4);
        let plain = latin(&arities, 10);
        seed_for_tests(4);
        assert_eq!(latin_shaped(&Shape::categorical(&space(&arities)), 10), plain);
    }

    /// On a 1001-value range the ten rows fall one in each tenth; a short
    /// ordered decision gets each value equally often; rows are canonical.
    #[test]
    fn a_latin_design_spreads_over_a_continuous_range() {
        seed_for_tests(8);
        let shape = Shape::new(&space(&[1001, 5, 2]), vec![ordered(1001, true), ordered(5, false), when(cat(), 1, &[0])]).unwrap();
        let rows = latin_shaped(&shape, 10);
        let mut tenths: Vec<u32> = rows.iter().map(|g| g[0] / 101).collect();
        tenths.sort_unstable();
        assert_eq!(tenths, (0..10).collect::<Vec<_>>(), "{rows:?}");
        assert!((0..5).all(|c| rows.iter().filter(|g| g[1] == c).count() == 2));
        assert!(rows.iter().all(|g| shape.canonical(g) == *g));
    }

    #[test]
    fn without_conditions_the_enumeration_counts_in_mixed_radix() {
        let shape = Shape::categorical(&space(&[2, 3, 2]));
        let all = Enumeration::new(&shape);
        let mut order = vec![all.first().unwrap()];
        while let Some(g) = all.next(order.last().unwrap()) {
            order.push(g);
        }
        let expected: Vec<Genotype> = (0..12u32).map(|k| vec![k % 2, k / 2 % 3, k / 6]).collect();
        assert_eq!(order, expected);
        assert_eq!(all.count(), Some(12));
        assert_eq!(all.advance(vec![1, 2, 0], 3), Some(vec![0, 1, 1]));
        assert_eq!(all.advance(vec![1, 2, 0], 6), Some(vec![1, 2, 1]));
        assert_eq!(all.advance(vec![1, 2, 0], 7), None);
    }

    /// Under conditions the enumeration visits each architecture exactly
    /// once, in canonical form, and `advance` agrees with stepping.
    #[test]
    fn under_conditions_the_enumeration_visits_each_architecture_once() {
        let shape = conditional();
        let all = Enumeration::new(&shape);
        let mut order = vec![all.first().unwrap()];
        while let Some(g) = all.next(order.last().unwrap()) {
            order.push(g);
        }
        let expected = architectures(&shape);
        // d0 = 0: d1 × d3, d2 only for d1 ∈ {1, 2}: (1 + 2·2)·2 = 10; d0 = 1 or 2: one each.
        assert_eq!(expected.len(), 12);
        assert_eq!(order.len(), 12);
        assert_eq!(order.iter().cloned().collect::<BTreeSet<_>>(), expected);
        assert_eq!(all.count(), None);
        for start in 0..12 {
            assert_eq!(all.advance(order[0].clone(), start as u64).as_ref(), order.get(start));
        }
        assert_eq!(all.advance(order[0].clone(), 12), None);
        // A coarser list of choices on d1: only its ends.
        let coarse = Enumeration::with_choices(&shape, vec![vec![0, 1, 2], vec![0, 2], vec![0, 1], vec![0, 1], vec![0, 1]]);
        let mut n = 1;
        let mut g = coarse.first().unwrap();
        while let Some(h) = coarse.next(&g) {
            assert!(h[1] != 1 && shape.canonical(&h) == h);
            g = h;
            n += 1;
        }
        assert_eq!(n, (1 + 2) * 2 + 2);
    }

    #[test]
    fn neighbours_follow_the_shape() {
        // Categorical: every other choice, as the SDK's neighbours.
        let arities = [3, 2, 4];
        let plain = Shape::categorical(&space(&arities));
        assert_eq!(neighbours(&plain, &[1, 0, 3]), genotype::neighbours(&[1, 0, 3], &arities));
        // Ordered: the next values only; at an end, one.
        let shape = Shape::new(&space(&[11, 11, 3]), vec![ordered(11, false), ordered(11, false), cat()]).unwrap();
        assert_eq!(neighbours(&shape, &[5, 0, 1]), vec![vec![4, 0, 1], vec![6, 0, 1], vec![5, 1, 1], vec![5, 0, 0], vec![5, 0, 2]]);
        // A continuous range: 3%, 10% and 30% of it each way, clamped.
        let fine = Shape::new(&space(&[1001]), vec![ordered(1001, true)]).unwrap();
        assert_eq!(moves(&fine, 0, 500), vec![200, 400, 470, 530, 600, 800]);
        assert_eq!(moves(&fine, 0, 20), vec![0, 50, 120, 320]);
        // Conditions: only active decisions move, and every neighbour is canonical.
        seed_for_tests(3);
        let shape = conditional();
        let n = neighbours(&shape, &[1, 0, 0, 0, 0]);
        assert_eq!(n.len(), 2, "only d0 is active: {n:?}");
        assert!(n.contains(&vec![2, 0, 0, 0, 0]));
        let switched = n.iter().find(|g| g[0] == 0).unwrap();
        assert_eq!(shape.canonical(switched), *switched);
        for g in architectures(&shape) {
            for m in neighbours(&shape, &g) {
                assert_eq!(shape.canonical(&m), m);
                assert_ne!(m, g);
            }
        }
    }

    #[test]
    fn every_choice_of_every_decision_appears_equally_often() {
        seed_for_tests(1);
        let arities = [5, 5, 3, 1, 7];
        let design = latin(&arities, 10);
        assert_eq!(design.len(), 10);
        for (d, &arity) in arities.iter().enumerate() {
            let counts: Vec<usize> = (0..arity).map(|c| design.iter().filter(|g| g[d] == c).count()).collect();
            let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
            assert!(max - min <= 1 && counts.iter().sum::<usize>() == 10, "decision {d}: {counts:?}");
        }
    }

    #[test]
    fn the_combinations_vary_with_the_seed() {
        seed_for_tests(1);
        let a = latin(&[5; 6], 10);
        seed_for_tests(2);
        let b = latin(&[5; 6], 10);
        seed_for_tests(1);
        assert_eq!(latin(&[5; 6], 10), a);
        assert_ne!(a, b);
        // Columns are shuffled independently: rows are not choice k on every decision.
        assert!(a.iter().any(|g| g.iter().any(|&c| c != g[0])));
    }
}
