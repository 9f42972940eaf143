//! Initial designs: which architectures a model-based strategy evaluates
//! before it has a model.
//!
//! Independent uniform draws leave gaps: with 10 draws over 5 choices, a
//! given choice of a given decision is missing with probability
//! (4/5)¹⁰ ≈ 11%, so over NAS-Bench-201's six edges 98% of startups never
//! try some operation on some edge (3 of the 30 on average). A predictor has
//! no data on that choice, rates it by what it shares with others, and the
//! search can settle far from cells that need it. A Latin design (McKay, Beckman,
//! Conover 1979, for categorical decisions) gives every choice of every
//! decision the same share of the startup, ±1, in random combinations.

use nasbox_sdk::{random, Genotype};

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

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use nasbox_sdk::native::seed_for_tests;

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
