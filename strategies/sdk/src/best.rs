//! The incumbent: the best successful discrete result so far, which is what
//! most strategies recommend.

use serde::{Deserialize, Serialize};

use crate::{genotype, Genotype, Observation};

/// Best (objective, trial, genotype) among successful discrete results;
/// ties go to the earlier trial, so the answer does not depend on the order
/// results arrive in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Best(Option<(f64, u64, Genotype)>);

impl Best {
    /// Considers one observation; ignores failures, invalid architectures and
    /// relaxed proposals. Returns true when it became the incumbent.
    pub fn offer(&mut self, o: &Observation) -> bool {
        let Some((g, v)) = genotype::success(o) else { return false };
        let better = match &self.0 {
            None => true,
            Some((b, t, _)) => v > *b || (v == *b && o.trial < *t),
        };
        if better {
            self.0 = Some((v, o.trial, g.clone()));
        }
        better
    }

    /// The incumbent's genotype: the answer to `recommend`.
    pub fn genotype(&self) -> Option<Genotype> {
        self.0.as_ref().map(|(_, _, g)| g.clone())
    }

    /// The incumbent's objective.
    pub fn objective(&self) -> Option<f64> {
        self.0.as_ref().map(|(v, _, _)| *v)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::{Candidate, Proposal, Status};

    fn obs(trial: u64, g: Vec<u32>, status: Status, objective: f64) -> Observation {
        Observation {
            trial,
            proposal: Proposal::Genotype(Candidate { genotype: g, fidelity: None }),
            status,
            objective,
            cost: 0.0,
            metrics: vec![],
            gradient: None,
        }
    }

    #[test]
    fn keeps_the_best_success_with_ties_to_the_earlier_trial() {
        let mut b = Best::default();
        assert!(b.offer(&obs(3, vec![3], Status::Ok, 0.5)));
        assert!(!b.offer(&obs(1, vec![1], Status::Failed("x".into()), 0.9)));
        assert!(!b.offer(&obs(2, vec![2], Status::Ok, f64::NAN)));
        assert!(b.offer(&obs(0, vec![0], Status::Ok, 0.5)), "same objective, earlier trial");
        assert!(!b.offer(&obs(4, vec![4], Status::Ok, 0.5)));
        assert_eq!(b.genotype(), Some(vec![0]));
        assert_eq!(b.objective(), Some(0.5));
    }
}
