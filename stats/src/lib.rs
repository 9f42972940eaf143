//! Statistics for comparing search strategies over many seeds.
//!
//! One seed proves nothing about a strategy; the lecture's "curious case of
//! random search" is exactly that differences vanish under honest
//! comparison. These functions are the honest comparison: the host's
//! `bench` reports and `native-bench` both use them, so their p-values agree.

/// Which difference a test looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternative {
    /// `a` tends to be larger than `b`.
    Greater,
    /// `a` tends to be smaller than `b`.
    Less,
    /// Either.
    TwoSided,
}

/// The result of a Mann–Whitney U test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U of the first sample: pairs (x in a, y in b) with x > y, ties half.
    pub u: f64,
    /// p-value from the normal approximation with tie and continuity
    /// correction (as `scipy.stats.mannwhitneyu(method="asymptotic")`).
    pub p: f64,
}

/// Mann–Whitney U test of `a` against `b`: a rank test, so it assumes
/// nothing about the distribution of best-found accuracies. Panics if either
/// sample is empty or holds a NaN.
pub fn mann_whitney_u(a: &[f64], b: &[f64], alternative: Alternative) -> MannWhitney {
    assert!(!a.is_empty() && !b.is_empty(), "Mann-Whitney U needs two non-empty samples");
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let mut all: Vec<(f64, usize)> = a.iter().map(|&x| (x, 0)).chain(b.iter().map(|&x| (x, 1))).collect();
    assert!(all.iter().all(|(x, _)| !x.is_nan()), "Mann-Whitney U: NaN in a sample");
    all.sort_by(|x, y| x.0.total_cmp(&y.0));

    // Mid-ranks for ties, and the tie term for the variance.
    let mut rank_sum_a = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        let t = (j - i + 1) as f64;
        tie_term += t * t * t - t;
        rank_sum_a += all[i..=j].iter().filter(|(_, g)| *g == 0).count() as f64 * rank;
        i = j + 1;
    }
    let u = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let n = n1 + n2;
    let mean = n1 * n2 / 2.0;
    let var = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if var <= 0.0 {
        return MannWhitney { u, p: 1.0 };
    }
    let sd = var.sqrt();
    let upper = |z: f64| 0.5 * erfc(z / std::f64::consts::SQRT_2);
    let p = match alternative {
        Alternative::Greater => upper((u - mean - 0.5) / sd),
        Alternative::Less => upper((mean - u - 0.5) / sd),
        Alternative::TwoSided => (2.0 * upper(((u - mean).abs() - 0.5) / sd)).min(1.0),
    };
    MannWhitney { u, p }
}

/// Holm–Bonferroni adjusted p-values, in the order given: many comparisons
/// find "significant" differences by chance, and Holm's step-down keeps the
/// chance of any false one at α while rejecting more than Bonferroni. Compare
/// each with α directly.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&x, &y| p[x].total_cmp(&p[y]));
    let mut adjusted = vec![f64::NAN; p.len()];
    let mut running = 0.0f64;
    for (k, &i) in order.iter().enumerate() {
        running = running.max(((p.len() - k) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// Mean and sample standard deviation.
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = if xs.len() > 1 { xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (mean, var.sqrt())
}

/// Spearman's rank correlation, with average ranks for ties (as
/// `scipy.stats.spearmanr`): how well one ranking of architectures (a
/// proxy's) predicts another (accuracy's), whatever their scales. NaN when
/// either sample is constant or holds a NaN; panics if the lengths differ.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "Spearman's correlation needs paired samples");
    if a.iter().chain(b).any(|x| x.is_nan()) {
        return f64::NAN;
    }
    let (ra, rb) = (mid_ranks(a), mid_ranks(b));
    let (ma, _) = mean_std(&ra);
    let (mb, _) = mean_std(&rb);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// 1-based ranks, tied values sharing the mean of their ranks.
fn mid_ranks(xs: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&i, &j| xs[i].total_cmp(&xs[j]));
    let mut ranks = vec![0.0; xs.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && xs[order[j + 1]] == xs[order[i]] {
            j += 1;
        }
        for &k in &order[i..=j] {
            ranks[k] = (i + j) as f64 / 2.0 + 1.0;
        }
        i = j + 1;
    }
    ranks
}

/// The complementary error function, to about 1e-15 relative accuracy
/// (continued fraction for large x, series for small; W. J. Cody's split).
pub fn erfc(x: f64) -> f64 {
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.0 {
        // erf series: 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
        let mut sum = 0.0f64;
        let mut term = x;
        let mut n = 0.0f64;
        while term.abs() > 1e-17 * sum.abs().max(1e-300) {
            sum += term / (2.0 * n + 1.0);
            n += 1.0;
            term *= -x * x / n;
        }
        1.0 - 2.0 / std::f64::consts::PI.sqrt() * sum
    } else {
        // Lentz's continued fraction for erfc.
        let mut f = x;
        let mut c = x;
        let mut d = 0.0;
        for k in 1..200 {
            let a = k as f64 / 2.0;
            d = x + a * d;
            d = 1.0 / d;
            c = x + a / c;
            let delta = c * d;
            f *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1e-12)
    }

    // Reference values from scipy 1.x: scipy.stats.mannwhitneyu(a, b,
    // alternative=..., method="asymptotic", use_continuity=True).
    #[test]
    fn matches_scipy_with_ties() {
        let a = [0.81, 0.85, 0.90, 0.88, 0.84, 0.86, 0.91, 0.83];
        let b = [0.80, 0.79, 0.84, 0.82, 0.78, 0.85, 0.81];
        let r = mann_whitney_u(&a, &b, Alternative::Greater);
        assert_eq!(r.u, 48.5);
        assert!(close(r.p, 0.01014949634017769), "{}", r.p);

        let r = mann_whitney_u(&[1., 2., 2., 3., 3., 3., 4.], &[2., 3., 4., 4., 5., 5., 6., 6.], Alternative::TwoSided);
        assert_eq!(r.u, 8.5);
        assert!(close(r.p, 0.025144761173357368), "{}", r.p);
    }

    #[test]
    fn matches_scipy_without_ties() {
        let r = mann_whitney_u(&[1., 2., 3., 4., 5.], &[6., 7., 8., 9., 10.], Alternative::Less);
        assert_eq!(r.u, 0.0);
        assert!(close(r.p, 0.006092890177672406), "{}", r.p);
    }

    #[test]
    fn identical_samples_are_not_significant() {
        let r = mann_whitney_u(&[0.5; 10], &[0.5; 10], Alternative::Greater);
        assert_eq!(r.p, 1.0);
    }

    #[test]
    fn erfc_matches_known_values() {
        assert!(close(erfc(0.0), 1.0));
        assert!(close(erfc(0.5), 0.4795001221869535));
        assert!(close(erfc(1.0), 0.15729920705028516));
        assert!(close(erfc(2.5), 0.00040695201744495886));
        assert!(close(erfc(-1.0), 1.8427007929497148));
    }

    // scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]).statistic
    #[test]
    fn spearman_matches_scipy_with_ties() {
        assert!(close(spearman(&[1., 2., 3., 4., 5.], &[5., 6., 7., 8., 7.]), 0.8207826816681233));
        assert!(close(spearman(&[3., 1., 2.], &[30., 10., 20.]), 1.0));
        assert!(close(spearman(&[3., 1., 2.], &[-30., -10., -20.]), -1.0));
        assert!(spearman(&[1., 1., 1.], &[1., 2., 3.]).is_nan());
        assert!(spearman(&[1., f64::NAN], &[1., 2.]).is_nan());
    }

    // statsmodels.stats.multitest.multipletests(p, method="holm")[1]
    #[test]
    fn holm_steps_down_and_stays_monotone() {
        let adjusted = holm(&[0.01, 0.04, 0.03, 0.005]);
        let expected = [0.03, 0.06, 0.06, 0.02];
        for (a, e) in adjusted.iter().zip(expected) {
            assert!(close(*a, e), "{adjusted:?}");
        }
        assert_eq!(holm(&[0.6, 0.9]), vec![1.0, 1.0]);
        assert!(holm(&[]).is_empty());
    }

    #[test]
    fn mean_and_std() {
        let (m, s) = mean_std(&[1.0, 2.0, 3.0, 4.0]);
        assert!(close(m, 2.5));
        assert!(close(s, 1.2909944487358056));
    }
}
