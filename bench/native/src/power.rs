//! The power of a comparison: how often a draw of N seeds shows what all
//! the seeds show.

use nasbox_sdk::random::SplitMix64;
use nasbox_stats::{mann_whitney_u, mean_std, Alternative};

/// An entrant tested against the reference: over all seeds, and over each
/// draw of seeds (indices into both, the same seeds for both).
pub struct Versus {
    pub difference: f64,
    pub p: f64,
    pub draws: usize,
    pub higher: usize,
    pub lower: usize,
}

pub fn versus(scores: &[f64], reference: &[f64], draws: &[Vec<usize>], alpha: f64) -> Versus {
    let (mut higher, mut lower) = (0, 0);
    for draw in draws {
        let a: Vec<f64> = draw.iter().map(|&i| scores[i]).collect();
        let b: Vec<f64> = draw.iter().map(|&i| reference[i]).collect();
        let t = mann_whitney_u(&a, &b, Alternative::TwoSided);
        // The direction the test found: U above half the pairs means the
        // entrant's answers tend to be the higher ones (its mean may still be
        // lower, if a few of its searches stall far below).
        if t.p < alpha {
            if t.u > (a.len() * b.len()) as f64 / 2.0 {
                higher += 1;
            } else {
                lower += 1;
            }
        }
    }
    let p = mann_whitney_u(scores, reference, Alternative::TwoSided).p;
    Versus { difference: mean_std(scores).0 - mean_std(reference).0, p, draws: draws.len(), higher, lower }
}

/// `resamples` = 0: the seeds cut into disjoint draws of `size` (a draw that
/// does not fill is left out), each seed used once, so the draws are
/// independent. Otherwise that many draws of `size` seeds with replacement
/// (a bootstrap: for sizes the seeds do not fill many times), from a fixed
/// stream, so a rerun prints the same counts.
pub fn draws(seeds: usize, size: usize, resamples: usize) -> Vec<Vec<usize>> {
    if resamples == 0 {
        return (0..seeds / size).map(|d| (d * size..(d + 1) * size).collect()).collect();
    }
    let mut stream = SplitMix64(0x6e61_7362_6f78);
    (0..resamples).map(|_| (0..size).map(|_| (stream.next_u64() % seeds as u64) as usize).collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_count_significant_differences_in_either_direction() {
        // Three draws of five: clearly higher, clearly lower, the same.
        let a = [0.9, 0.91, 0.92, 0.93, 0.94, 0.1, 0.11, 0.12, 0.13, 0.14, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99];
        let b = [0.1, 0.11, 0.12, 0.13, 0.14, 0.9, 0.91, 0.92, 0.93, 0.94, 0.5, 0.6, 0.7, 0.8, 0.9, 0.0];
        let disjoint = draws(a.len(), 5, 0);
        assert_eq!(disjoint.len(), 3, "the 16th seed fills no draw");
        let v = versus(&a, &b, &disjoint, 0.05);
        assert_eq!((v.draws, v.higher, v.lower), (3, 1, 1));
        assert!(v.p > 0.05 && v.difference > 0.0);
        let v = versus(&a, &b, &disjoint, 0.001);
        assert_eq!((v.higher, v.lower), (0, 0), "five against five cannot reach p < 0.001");
    }

    #[test]
    fn a_draw_counts_the_direction_of_the_ranks_not_of_the_means() {
        // Nineteen searches just above the reference's and one that stalls
        // far below: the rank test finds the entrant higher, its mean is lower.
        let b: Vec<f64> = (0..20).map(|i| 0.50 + i as f64 * 0.001).collect();
        let mut a: Vec<f64> = b.iter().map(|x| x + 0.03).collect();
        a[0] = -1.0;
        let v = versus(&a, &b, &draws(20, 20, 0), 0.05);
        assert!(v.difference < 0.0);
        assert_eq!((v.higher, v.lower), (1, 0));
    }

    #[test]
    fn resampled_draws_are_fixed_and_may_exceed_the_seeds() {
        let d = draws(10, 40, 7);
        assert_eq!(d.len(), 7);
        assert!(d.iter().all(|draw| draw.len() == 40 && draw.iter().all(|&i| i < 10)));
        assert_eq!(d, draws(10, 40, 7), "a rerun prints the same counts");
        // A lead that 5 seeds cannot show, 200 resampled seeds show every time.
        let a: Vec<f64> = (0..10).map(|i| 0.5 + i as f64 * 0.01).collect();
        let b: Vec<f64> = (0..10).map(|i| 0.49 + i as f64 * 0.01).collect();
        assert_eq!(versus(&a, &b, &draws(10, 5, 0), 0.05).higher, 0);
        assert_eq!(versus(&a, &b, &draws(10, 200, 20), 0.05).higher, 20);
    }
}
