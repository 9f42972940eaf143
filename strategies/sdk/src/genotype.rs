//! Operations on genotypes that most strategies need.

use crate::{random, Candidate, Genotype, Observation, Proposal, Space, Status};

/// Number of choices of each decision.
pub fn arities(space: &Space) -> Vec<u32> {
    space.decisions.iter().map(|d| d.choices.len() as u32).collect()
}

/// A uniformly random genotype.
pub fn sample(arities: &[u32]) -> Genotype {
    arities.iter().map(|&a| random::below(a as u64) as u32).collect()
}

/// `genotype` with one uniformly chosen decision changed to a different
/// choice (Real et al.'s mutation). Decisions with a single choice are never
/// picked; a genotype of such decisions only is returned unchanged.
pub fn mutate(genotype: &[u32], arities: &[u32]) -> Genotype {
    let mutable: Vec<usize> = (0..arities.len()).filter(|&i| arities[i] > 1).collect();
    let mut child = genotype.to_vec();
    if mutable.is_empty() {
        return child;
    }
    let d = mutable[random::index(mutable.len())];
    let shift = 1 + random::below(arities[d] as u64 - 1) as u32;
    child[d] = (child[d] + shift) % arities[d];
    child
}

/// Every genotype that differs from `genotype` in exactly one decision.
pub fn neighbours(genotype: &[u32], arities: &[u32]) -> Vec<Genotype> {
    let mut out = Vec::new();
    for (d, &a) in arities.iter().enumerate() {
        for c in 0..a {
            if c != genotype[d] {
                let mut n = genotype.to_vec();
                n[d] = c;
                out.push(n);
            }
        }
    }
    out
}

/// A discrete proposal at full fidelity.
pub fn propose(genotype: Genotype) -> Proposal {
    Proposal::Genotype(Candidate { genotype, fidelity: None })
}

/// The genotype and objective of a successful discrete observation; `None`
/// for failures, invalid architectures and relaxed proposals.
pub fn success(o: &Observation) -> Option<(&Genotype, f64)> {
    match (&o.status, &o.proposal) {
        (Status::Ok, Proposal::Genotype(c)) if o.objective.is_finite() => Some((&c.genotype, o.objective)),
        _ => None,
    }
}

/// The genotype of a discrete observation, whatever its status.
pub fn of(o: &Observation) -> Option<&Genotype> {
    match &o.proposal {
        Proposal::Genotype(c) => Some(&c.genotype),
        Proposal::Relaxed(_) => None,
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn mutate_changes_exactly_one_decision() {
        crate::random::seed(3);
        let arities = [2, 1, 5, 3];
        for _ in 0..200 {
            let g = sample(&arities);
            let c = mutate(&g, &arities);
            assert_eq!(g.iter().zip(&c).filter(|(a, b)| a != b).count(), 1);
            assert_eq!(c[1], 0, "single-choice decisions stay put");
            assert!(c.iter().zip(&arities).all(|(&x, &a)| x < a));
        }
        assert_eq!(mutate(&[0, 0], &[1, 1]), vec![0, 0]);
    }

    #[test]
    fn neighbours_are_all_one_decision_changes() {
        let n = neighbours(&[0, 1], &[2, 3]);
        assert_eq!(n, vec![vec![1, 1], vec![0, 0], vec![0, 2]]);
    }
}
