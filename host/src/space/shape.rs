//! What a decision is beyond its list of names: categorical or ordered
//! numbers, and when it is active. Strategies read it through the
//! contract's `shape` import (0.1.2); the host uses it to leave inactive
//! decisions out of what a training command receives and to count two
//! genotypes that differ only in inactive decisions as one architecture.

/// How a decision's choices relate.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Kind {
    /// Unordered names (an operation, an activation, a boolean).
    #[default]
    Categorical,
    /// Numbers with an order and a distance.
    Ordered(Numbers),
}

/// The numbers behind an ordered decision's choices.
#[derive(Debug, Clone, PartialEq)]
pub struct Numbers {
    /// The value of each choice, by choice index.
    pub values: Vec<f64>,
    /// Every value is a whole number.
    pub integer: bool,
    /// Distances are measured on the logarithm (every value positive).
    pub log: bool,
    /// The user wrote a continuous range; the choices are a fine grid of it.
    pub continuous: bool,
}

/// One requirement for a decision to be active: decision `decision` is
/// active and has one of `choices`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub decision: usize,
    pub choices: Vec<u32>,
}

impl Kind {
    /// Ordered numbers from `values`, linear or log, not continuous.
    pub fn ordered(values: Vec<f64>, log: bool) -> Kind {
        let integer = values.iter().all(|v| v.fract() == 0.0);
        Kind::Ordered(Numbers { values, integer, log, continuous: false })
    }

    /// Short text for listings: `categorical`, `ordered int log`,
    /// `continuous real log`, …
    pub fn describe(&self) -> String {
        match self {
            Kind::Categorical => "categorical".into(),
            Kind::Ordered(n) => {
                let mut words = vec![if n.continuous { "continuous" } else { "ordered" }, if n.integer { "int" } else { "real" }];
                if n.log {
                    words.push("log");
                }
                words.join(" ")
            }
        }
    }
}

/// Which decisions are active in `genotype`, given each decision's
/// conditions (acyclic, as loading checks).
pub fn active(conditions: &[&[Condition]], genotype: &[u32]) -> Vec<bool> {
    let n = conditions.len();
    // 0 unknown, 1 active, 2 inactive; conditions are acyclic, so resolving
    // each decision's requirements first terminates.
    let mut state = vec![0u8; n];
    fn resolve(d: usize, conditions: &[&[Condition]], genotype: &[u32], state: &mut [u8]) -> bool {
        if state[d] == 0 {
            let on = conditions[d].iter().all(|c| {
                c.decision < state.len()
                    && c.decision != d
                    && resolve(c.decision, conditions, genotype, state)
                    && genotype.get(c.decision).is_some_and(|g| c.choices.contains(g))
            });
            state[d] = if on { 1 } else { 2 };
        }
        state[d] == 1
    }
    (0..n).map(|d| resolve(d, conditions, genotype, &mut state)).collect()
}

/// The first cycle among the conditions, as decision indices in order
/// (the last one requires the first), or `None`.
pub fn cycle(conditions: &[&[Condition]]) -> Option<Vec<usize>> {
    let n = conditions.len();
    let mut state = vec![0u8; n]; // 0 new, 1 on the path, 2 done
    fn visit(d: usize, conditions: &[&[Condition]], state: &mut [u8], path: &mut Vec<usize>) -> Option<Vec<usize>> {
        state[d] = 1;
        path.push(d);
        for c in conditions[d] {
            let p = c.decision;
            if p >= state.len() {
                continue;
            }
            if state[p] == 1 {
                let start = path.iter().position(|&x| x == p).unwrap_or(0);
                return Some(path[start..].to_vec());
            }
            if state[p] == 0 {
                if let Some(c) = visit(p, conditions, state, path) {
                    return Some(c);
                }
            }
        }
        path.pop();
        state[d] = 2;
        None
    }
    (0..n).find_map(|d| if state[d] == 0 { visit(d, conditions, &mut state, &mut Vec::new()) } else { None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn when(decision: usize, choices: &[u32]) -> Vec<Condition> {
        vec![Condition { decision, choices: choices.to_vec() }]
    }

    #[test]
    fn activity_follows_chains_of_conditions() {
        let c = [vec![], when(0, &[0]), when(1, &[1, 2])];
        let refs: Vec<&[Condition]> = c.iter().map(Vec::as_slice).collect();
        assert_eq!(active(&refs, &[0, 1, 1]), [true, true, true]);
        assert_eq!(active(&refs, &[0, 0, 1]), [true, true, false]);
        assert_eq!(active(&refs, &[1, 2, 1]), [true, false, false]);
        assert_eq!(cycle(&refs), None);
    }

    #[test]
    fn cycles_are_found_with_their_members() {
        let c = [when(2, &[0]), when(0, &[0]), when(1, &[0])];
        let refs: Vec<&[Condition]> = c.iter().map(Vec::as_slice).collect();
        let found = cycle(&refs).unwrap();
        assert_eq!(found.len(), 3, "{found:?}");
        let own = [when(0, &[1])];
        let refs: Vec<&[Condition]> = own.iter().map(Vec::as_slice).collect();
        assert_eq!(cycle(&refs), Some(vec![0]));
    }

    #[test]
    fn kinds_describe_themselves() {
        assert_eq!(Kind::Categorical.describe(), "categorical");
        assert_eq!(Kind::ordered(vec![1.0, 2.0], false).describe(), "ordered int");
        assert_eq!(Kind::Ordered(Numbers { values: vec![0.1, 1.0], integer: false, log: true, continuous: true }).describe(), "continuous real log");
    }
}
