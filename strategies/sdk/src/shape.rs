//! What each decision is (contract 0.1.2, `shape`): categorical or ordered
//! numbers, continuous or not, and when it is active.
//!
//! A strategy that models numbers as numbers searches a learning rate, a
//! width or a depth far better than one that sees `"0.001"`, `"0.003"`,
//! `"0.01"` as unrelated names: it can put a kernel on the (log) value and
//! step to a neighbouring value. [`Shape::of`] asks the host once, in
//! `init`; every accessor then works on choice indices, so the genotype
//! stays what it always was.
//!
//! Positions: an ordered decision's choice has a [`Shape::position`] in
//! [0, 1], its value rescaled (on the logarithm for a log decision), so one
//! kernel width means the same on every decision. A categorical decision has
//! no position.

use crate::{random, Genotype, Space};

pub use crate::bindings::nasbox::strategy::shape::{Condition, DecisionShape, Kind, Numbers};

/// Every decision's kind and conditions, with what strategies derive from
/// them (value order, positions, an evaluation order for conditions).
#[derive(Debug, Clone)]
pub struct Shape {
    decisions: Vec<DecisionShape>,
    arities: Vec<u32>,
    /// Per decision: positions by choice index (empty when categorical).
    positions: Vec<Vec<f64>>,
    /// Per decision: choice indices sorted by value (identity when categorical).
    by_value: Vec<Vec<u32>>,
    /// Decisions in an order where every condition's decision comes first.
    order: Vec<usize>,
}

impl Shape {
    /// The shape of `space` as the host describes it: call this in
    /// [`crate::Strategy::init`]. Natively it is what
    /// [`crate::native::Native::init_shaped`] was given, and all-categorical
    /// otherwise. A description that does not fit the space (which a host
    /// never sends) falls back to all-categorical.
    pub fn of(space: &Space) -> Shape {
        let described = imp::decisions();
        Shape::new(space, described).unwrap_or_else(|_| Shape::categorical(space))
    }

    /// Every decision categorical and always active: what a strategy built
    /// before 0.1.2 assumed.
    pub fn categorical(space: &Space) -> Shape {
        let decisions = space.decisions.iter().map(|_| DecisionShape { kind: Kind::Categorical, conditions: vec![] }).collect();
        Shape::new(space, decisions).expect("a categorical shape fits any space")
    }

    /// A shape from its parts, checked against `space`: one shape per
    /// decision, a value per choice, conditions on existing decisions and
    /// choices, without cycles.
    pub fn new(space: &Space, decisions: Vec<DecisionShape>) -> Result<Shape, String> {
        if decisions.len() != space.decisions.len() {
            return Err(format!("{} shapes for {} decisions", decisions.len(), space.decisions.len()));
        }
        let arities: Vec<u32> = space.decisions.iter().map(|d| d.choices.len() as u32).collect();
        let mut positions = Vec::with_capacity(decisions.len());
        let mut by_value = Vec::with_capacity(decisions.len());
        for (d, shape) in decisions.iter().enumerate() {
            let name = &space.decisions[d].name;
            match &shape.kind {
                Kind::Categorical => {
                    positions.push(vec![]);
                    by_value.push((0..arities[d]).collect());
                }
                Kind::Ordered(n) => {
                    if n.values.len() != arities[d] as usize || n.values.iter().any(|v| !v.is_finite() || (n.log && *v <= 0.0)) {
                        return Err(format!("decision `{name}`: its values do not fit its choices"));
                    }
                    let scaled: Vec<f64> = n.values.iter().map(|&v| if n.log { v.ln() } else { v }).collect();
                    let (lo, hi) = scaled.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
                    let span = hi - lo;
                    positions.push(scaled.iter().map(|v| if span > 0.0 { (v - lo) / span } else { 0.5 }).collect());
                    let mut order: Vec<u32> = (0..arities[d]).collect();
                    order.sort_by(|&a, &b| n.values[a as usize].total_cmp(&n.values[b as usize]));
                    by_value.push(order);
                }
            }
            for c in &shape.conditions {
                let parent = c.decision as usize;
                if parent >= arities.len() || c.choices.is_empty() || c.choices.iter().any(|&k| k >= arities[parent]) {
                    return Err(format!("decision `{name}`: a condition names a decision or choice that does not exist"));
                }
            }
        }
        let order = topological(&decisions).ok_or("the conditions form a cycle")?;
        Ok(Shape { decisions, arities, positions, by_value, order })
    }

    /// Number of decisions.
    pub fn len(&self) -> usize {
        self.decisions.len()
    }

    /// Whether the space has no decisions.
    pub fn is_empty(&self) -> bool {
        self.decisions.is_empty()
    }

    /// Number of choices of each decision.
    pub fn arities(&self) -> &[u32] {
        &self.arities
    }

    /// The host's description of decision `d`.
    pub fn decision(&self, d: usize) -> &DecisionShape {
        &self.decisions[d]
    }

    /// The numbers of decision `d`, when it is ordered.
    pub fn numbers(&self, d: usize) -> Option<&Numbers> {
        match &self.decisions[d].kind {
            Kind::Ordered(n) => Some(n),
            Kind::Categorical => None,
        }
    }

    /// Whether decision `d` is ordered (numbers) rather than categorical.
    pub fn is_ordered(&self, d: usize) -> bool {
        self.numbers(d).is_some()
    }

    /// Whether decision `d` is a continuous range.
    pub fn is_continuous(&self, d: usize) -> bool {
        self.numbers(d).is_some_and(|n| n.continuous)
    }

    /// The value of choice `c` of decision `d`, when it is ordered.
    pub fn value(&self, d: usize, c: u32) -> Option<f64> {
        self.numbers(d).map(|n| n.values[c as usize])
    }

    /// The position of choice `c` of ordered decision `d` in [0, 1]: its
    /// value rescaled, on the logarithm for a log decision. 0 for a
    /// categorical decision.
    pub fn position(&self, d: usize, c: u32) -> f64 {
        self.positions[d].get(c as usize).copied().unwrap_or(0.0)
    }

    /// The choice of ordered decision `d` whose position is nearest `p`
    /// (ties to the lower value); for a categorical decision, choice 0.
    pub fn nearest(&self, d: usize, p: f64) -> u32 {
        let positions = &self.positions[d];
        let mut best = (f64::INFINITY, 0u32);
        for &c in &self.by_value[d] {
            if let Some(&q) = positions.get(c as usize) {
                let dist = (q - p).abs();
                if dist < best.0 {
                    best = (dist, c);
                }
            }
        }
        best.1
    }

    /// The choices of decision `d` in value order (choice order when
    /// categorical).
    pub fn by_value(&self, d: usize) -> &[u32] {
        &self.by_value[d]
    }

    /// The choices next to `c` in value order (below, above); `None` at
    /// either end. Both `None` for a categorical decision.
    pub fn neighbours(&self, d: usize, c: u32) -> (Option<u32>, Option<u32>) {
        if !self.is_ordered(d) {
            return (None, None);
        }
        let order = &self.by_value[d];
        let Some(r) = order.iter().position(|&x| x == c) else { return (None, None) };
        (r.checked_sub(1).map(|r| order[r]), order.get(r + 1).copied())
    }

    /// Whether `genotype` has one in-range choice per decision (what a
    /// state read back from bytes, or a result from elsewhere, must have to
    /// be used).
    pub fn fits(&self, genotype: &[u32]) -> bool {
        genotype.len() == self.arities.len() && genotype.iter().zip(&self.arities).all(|(c, a)| c < a)
    }

    /// Whether any decision has conditions.
    pub fn is_conditional(&self) -> bool {
        self.decisions.iter().any(|d| !d.conditions.is_empty())
    }

    /// Which decisions of `genotype` are active: those whose every
    /// condition's decision is active and has one of its choices.
    pub fn active(&self, genotype: &[u32]) -> Vec<bool> {
        let mut active = vec![true; self.decisions.len()];
        for &d in &self.order {
            active[d] = self.decisions[d]
                .conditions
                .iter()
                .all(|c| active[c.decision as usize] && genotype.get(c.decision as usize).is_some_and(|g| c.choices.contains(g)));
        }
        active
    }

    /// `genotype` with every inactive decision set to choice 0: the form in
    /// which two genotypes are the same architecture exactly when they are
    /// equal (what the host counts as a repeat).
    pub fn canonical(&self, genotype: &[u32]) -> Genotype {
        let active = self.active(genotype);
        genotype.iter().zip(&active).map(|(&g, &a)| if a { g } else { 0 }).collect()
    }

    /// A uniformly random genotype, in canonical form.
    pub fn sample(&self) -> Genotype {
        let g: Genotype = self.arities.iter().map(|&a| random::below(a as u64) as u32).collect();
        self.canonical(&g)
    }

    /// A new choice for decision `d` near `c`: for an ordered decision, with
    /// probability `local` a step to a nearby value (a Gaussian step of a
    /// fifth of the range in position, at least to a neighbour), otherwise
    /// any other choice uniformly; for a categorical one, any other choice.
    /// Returns `c` only when the decision has a single choice.
    pub fn step(&self, d: usize, c: u32, local: f64) -> u32 {
        let a = self.arities[d];
        if a <= 1 {
            return c;
        }
        if self.is_ordered(d) && random::f64() < local {
            let p = self.position(d, c) + 0.2 * normal();
            let near = self.nearest(d, p.clamp(0.0, 1.0));
            if near != c {
                return near;
            }
            let (below, above) = self.neighbours(d, c);
            return match (below, above) {
                (Some(x), Some(y)) => {
                    if random::below(2) == 0 {
                        x
                    } else {
                        y
                    }
                }
                (Some(x), None) | (None, Some(x)) => x,
                (None, None) => c,
            };
        }
        (c + 1 + random::below(a as u64 - 1) as u32) % a
    }

    /// `genotype` with one decision changed (see [`Shape::step`]), chosen
    /// uniformly among the active decisions with more than one choice, and
    /// returned in canonical form. Decisions the change switches on (also
    /// further down a chain of conditions) get uniformly random choices.
    pub fn mutate(&self, genotype: &[u32], local: f64) -> Genotype {
        let active = self.active(genotype);
        let mutable: Vec<usize> = (0..self.len()).filter(|&d| active[d] && self.arities[d] > 1).collect();
        let mut child = genotype.to_vec();
        if mutable.is_empty() {
            return self.canonical(&child);
        }
        let d = mutable[random::index(mutable.len())];
        child[d] = self.step(d, child[d], local);
        // Decisions the change switched on get a random choice, not 0; a
        // choice drawn there may switch on more, down a chain of conditions.
        let mut on = active;
        loop {
            let now = self.active(&child);
            let switched: Vec<usize> = (0..self.len()).filter(|&e| now[e] && !on[e]).collect();
            if switched.is_empty() {
                break;
            }
            for &e in &switched {
                child[e] = random::below(self.arities[e] as u64) as u32;
            }
            on = now;
        }
        self.canonical(&child)
    }
}

/// A standard normal draw (Box–Muller), from the host's random stream.
pub fn normal() -> f64 {
    let u = random::f64().max(f64::MIN_POSITIVE);
    let v = random::f64();
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// Decisions ordered so that every condition's decision comes before the
/// decision it conditions; `None` on a cycle.
fn topological(decisions: &[DecisionShape]) -> Option<Vec<usize>> {
    let n = decisions.len();
    let mut state = vec![0u8; n]; // 0 new, 1 on the stack, 2 done
    let mut order = Vec::with_capacity(n);
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        // Iterative depth-first search: (decision, next condition to visit).
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some(&mut (d, ref mut next)) = stack.last_mut() {
            if let Some(c) = decisions[d].conditions.get(*next) {
                *next += 1;
                let p = c.decision as usize;
                match state.get(p) {
                    Some(0) => {
                        state[p] = 1;
                        stack.push((p, 0));
                    }
                    Some(1) => return None,
                    _ => {}
                }
            } else {
                state[d] = 2;
                order.push(d);
                stack.pop();
            }
        }
    }
    Some(order)
}

#[cfg(target_arch = "wasm32")]
mod imp {
    pub fn decisions() -> Vec<super::DecisionShape> {
        crate::bindings::nasbox::strategy::shape::decisions()
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use std::cell::RefCell;

    thread_local! {
        static SHAPE: RefCell<Vec<super::DecisionShape>> = const { RefCell::new(Vec::new()) };
    }

    pub fn decisions() -> Vec<super::DecisionShape> {
        SHAPE.with(|s| s.borrow().clone())
    }

    pub fn set(decisions: Vec<super::DecisionShape>) {
        SHAPE.with(|s| *s.borrow_mut() = decisions);
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use imp::set as set_native;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    use crate::native::numbered_space as space;

    fn ordered(values: &[f64], log: bool) -> DecisionShape {
        DecisionShape { kind: Kind::Ordered(Numbers { values: values.to_vec(), integer: false, log, continuous: false }), conditions: vec![] }
    }

    fn when(mut s: DecisionShape, decision: u32, choices: &[u32]) -> DecisionShape {
        s.conditions.push(Condition { decision, choices: choices.to_vec() });
        s
    }

    const CAT: DecisionShape = DecisionShape { kind: Kind::Categorical, conditions: vec![] };

    #[test]
    fn positions_are_rescaled_values_on_the_log_when_asked() {
        let s = Shape::new(&space(&[3, 3]), vec![ordered(&[1e-3, 1e-2, 1e-1], true), ordered(&[10.0, 0.0, 5.0], false)]).unwrap();
        assert!((s.position(0, 1) - 0.5).abs() < 1e-12);
        assert_eq!(s.position(1, 0), 1.0);
        assert_eq!(s.position(1, 2), 0.5);
        assert_eq!(s.by_value(1), [1, 2, 0]);
        assert_eq!(s.neighbours(1, 2), (Some(1), Some(0)));
        assert_eq!(s.nearest(1, 0.9), 0);
        assert_eq!(s.value(0, 2), Some(1e-1));
    }

    #[test]
    fn conditions_switch_decisions_off_in_chains() {
        // d1 only when d0 = 0; d2 only when d1 is 1 or 2 (so also only when d0 = 0).
        let s = Shape::new(&space(&[2, 3, 2]), vec![CAT, when(CAT, 0, &[0]), when(CAT, 1, &[1, 2])]).unwrap();
        assert_eq!(s.active(&[0, 1, 1]), [true, true, true]);
        assert_eq!(s.active(&[0, 0, 1]), [true, true, false]);
        assert_eq!(s.active(&[1, 2, 1]), [true, false, false]);
        assert_eq!(s.canonical(&[1, 2, 1]), [1, 0, 0]);
        assert!(s.is_conditional());
    }

    #[test]
    fn genotypes_fit_when_every_choice_is_in_range() {
        let s = Shape::categorical(&space(&[2, 3]));
        assert!(s.fits(&[1, 2]));
        assert!(!s.fits(&[1, 3]) && !s.fits(&[1]) && !s.fits(&[0, 0, 0]));
    }

    #[test]
    fn cycles_and_bad_conditions_are_refused() {
        assert!(Shape::new(&space(&[2, 2]), vec![when(CAT, 1, &[0]), when(CAT, 0, &[0])]).unwrap_err().contains("cycle"));
        assert!(Shape::new(&space(&[2]), vec![when(CAT, 0, &[1])]).unwrap_err().contains("cycle"));
        assert!(Shape::new(&space(&[2, 2]), vec![CAT, when(CAT, 0, &[2])]).is_err());
        assert!(Shape::new(&space(&[2]), vec![ordered(&[1.0], false)]).is_err());
    }

    #[test]
    fn ordered_steps_are_mostly_local() {
        crate::random::seed(5);
        let values: Vec<f64> = (0..21).map(f64::from).collect();
        let s = Shape::new(&space(&[21]), vec![ordered(&values, false)]).unwrap();
        let far = (0..1000).filter(|_| (s.step(0, 10, 1.0) as i64 - 10).abs() > 8).count();
        // A step of a fifth of the range is more than 8 of 20 choices
        // away about 5% of the time; a uniform jump 20% of the time.
        assert!(far < 100, "{far}");
        assert!((0..1000).all(|_| s.step(0, 10, 1.0) != 10));
        let jumps = (0..1000).filter(|_| (s.step(0, 10, 0.0) as i64 - 10).abs() > 8).count();
        assert!(jumps > 150, "{jumps}");
    }

    #[test]
    fn mutation_keeps_genotypes_canonical() {
        crate::random::seed(2);
        let s = Shape::new(&space(&[2, 5]), vec![CAT, when(CAT, 0, &[0])]).unwrap();
        for _ in 0..200 {
            let g = s.sample();
            assert_eq!(s.canonical(&g), g);
            let m = s.mutate(&g, 0.5);
            assert_eq!(s.canonical(&m), m);
            assert_ne!(m, g);
        }
    }

    #[test]
    fn a_mutation_that_switches_on_a_chain_draws_every_decision_it_activates() {
        // d1 needs d0 = 1, d2 needs d1 = 0 (of 1 choice: always on with d1).
        crate::random::seed(8);
        let s = Shape::new(&space(&[2, 1, 6]), vec![CAT, when(CAT, 0, &[1]), when(CAT, 1, &[0])]).unwrap();
        let drawn: std::collections::BTreeSet<u32> = (0..200).map(|_| s.mutate(&[0, 0, 0], 0.0)).map(|g| g[2]).collect();
        assert!(drawn.len() > 3, "the decision two links down gets random choices: {drawn:?}");
    }

    #[test]
    fn without_a_description_everything_is_categorical() {
        set_native(vec![]);
        let s = Shape::of(&space(&[3, 2]));
        assert!(!s.is_ordered(0) && !s.is_conditional());
    }
}
