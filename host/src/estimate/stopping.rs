//! Early-stopping rules for the `early-stop` estimator, chosen with
//! `early_stop_rule` in run.toml (`--early-stop-rule`):
//!
//! - `median` (the default): the median stopping rule (Golovin et al.
//!   2017), [`MedianRule`];
//! - `curve`: learning-curve extrapolation (in the spirit of Domhan,
//!   Springenberg, Hutter, IJCAI 2015), [`CurveRule`]: a trial is stopped
//!   when even an optimistic extrapolation of its curve to the last epoch
//!   stays below the best accuracy a finished trial reached.
//!
//! Both see the same things: the curves of finished (not stopped) trials,
//! and the running trial's curve so far.

pub use super::train::MedianRule;

/// Learning-curve extrapolation. The curve so far is fitted by least squares
/// with acc(t) = a + b·ln t (epochs t = 1, 2, …), and the fit plus twice the
/// residuals' standard deviation is read at the last epoch. Accuracy curves
/// flatten faster than a logarithm, so the extrapolation overestimates
/// where a curve will end: the rule stops only curves that cannot catch up
/// with the best finished trial even so, and never one that still rises
/// fast.
#[derive(Debug, Clone)]
pub struct CurveRule {
    /// The best accuracy of every finished trial.
    finished: Vec<f64>,
    /// Finished trials needed before anything is stopped.
    pub min_trials: usize,
    /// Epochs of a full trial: where a curve is extrapolated to.
    pub epochs: usize,
    /// Epochs a trial runs before its curve is judged (at least 2).
    pub min_epochs: usize,
}

impl CurveRule {
    pub fn new(min_trials: usize, epochs: usize) -> CurveRule {
        CurveRule { finished: vec![], min_trials, epochs, min_epochs: 2 }
    }

    /// Records a finished trial's curve.
    pub fn finished(&mut self, curve: Vec<f64>) {
        if let Some(best) = curve.iter().copied().filter(|v| v.is_finite()).reduce(f64::max) {
            self.finished.push(best);
        }
    }

    /// The optimistic value of `curve` at epoch `self.epochs`.
    pub fn extrapolate(&self, curve: &[f64]) -> f64 {
        let n = curve.len() as f64;
        let xs: Vec<f64> = (1..=curve.len()).map(|t| (t as f64).ln()).collect();
        let (mx, my) = (xs.iter().sum::<f64>() / n, curve.iter().sum::<f64>() / n);
        let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
        let b = if sxx > 0.0 { xs.iter().zip(curve).map(|(x, y)| (x - mx) * (y - my)).sum::<f64>() / sxx } else { 0.0 };
        let a = my - b * mx;
        let residual = (xs.iter().zip(curve).map(|(x, y)| (y - a - b * x).powi(2)).sum::<f64>() / n).sqrt();
        let end = (self.epochs.max(curve.len()) as f64).ln();
        (a + b * end + 2.0 * residual).max(curve.iter().copied().fold(f64::NEG_INFINITY, f64::max))
    }

    /// Whether a trial whose curve so far is `curve` should stop.
    pub fn should_stop(&self, curve: &[f64]) -> bool {
        if curve.len() < self.min_epochs.max(2) || curve.len() >= self.epochs || self.finished.len() < self.min_trials.max(1) {
            return false;
        }
        let best = self.finished.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        self.extrapolate(curve) < best
    }
}

/// The rule a run uses.
#[derive(Debug, Clone)]
pub enum StopRule {
    Median(MedianRule),
    Curve(CurveRule),
}

impl StopRule {
    /// `median` or `curve` (see the module); an error names the rule.
    pub fn of(name: &str, min_trials: usize, epochs: usize) -> Result<StopRule, String> {
        match name {
            "median" => Ok(StopRule::Median(MedianRule::new(min_trials))),
            "curve" => Ok(StopRule::Curve(CurveRule::new(min_trials, epochs))),
            other => Err(format!("early_stop_rule = {other:?}: `median` or `curve`")),
        }
    }

    pub fn finished(&mut self, curve: Vec<f64>) {
        match self {
            StopRule::Median(r) => r.finished(curve),
            StopRule::Curve(r) => r.finished(curve),
        }
    }

    pub fn should_stop(&self, curve: &[f64]) -> bool {
        match self {
            StopRule::Median(r) => r.should_stop(curve),
            StopRule::Curve(r) => r.should_stop(curve),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// acc(t) = top − gap·e^{−t/3}: a saturating curve, as training gives.
    fn curve(top: f64, epochs: usize) -> Vec<f64> {
        (1..=epochs).map(|t| top - 0.5 * (-(t as f64) / 3.0).exp()).collect()
    }

    #[test]
    fn the_extrapolation_is_optimistic_for_saturating_curves() {
        let rule = CurveRule::new(1, 12);
        for k in 2..12 {
            let seen = &curve(0.8, 12)[..k];
            let final_value = curve(0.8, 12)[11];
            assert!(rule.extrapolate(seen) >= final_value - 1e-9, "after {k} epochs: {} < {final_value}", rule.extrapolate(seen));
        }
        // An exact logarithm is extrapolated exactly.
        let log: Vec<f64> = (1..=4).map(|t| 0.2 + 0.1 * (t as f64).ln()).collect();
        assert!((rule.extrapolate(&log) - (0.2 + 0.1 * 12f64.ln())).abs() < 1e-9);
    }

    #[test]
    fn curves_that_cannot_catch_up_are_stopped_and_others_not() {
        let mut rule = CurveRule::new(2, 12);
        rule.finished(curve(0.8, 12));
        assert!(!rule.should_stop(&curve(0.3, 12)[..4]), "too few finished trials");
        rule.finished(curve(0.7, 12));
        assert!(rule.should_stop(&curve(0.3, 12)[..4]), "a curve heading for 0.3 cannot reach 0.8");
        assert!(!rule.should_stop(&curve(0.85, 12)[..4]), "one heading above the best goes on");
        assert!(!rule.should_stop(&curve(0.3, 12)[..1]), "one epoch is not a curve");
        // A slow starter that still rises steeply goes on: its logarithmic fit reaches the best.
        let steep: Vec<f64> = (1..=3).map(|t| 0.1 + 0.3 * (t as f64).ln()).collect();
        assert!(!rule.should_stop(&steep), "{}", rule.extrapolate(&steep));
    }

    #[test]
    fn rules_are_chosen_by_name() {
        assert!(matches!(StopRule::of("median", 4, 12), Ok(StopRule::Median(_))));
        assert!(matches!(StopRule::of("curve", 4, 12), Ok(StopRule::Curve(r)) if r.epochs == 12));
        assert!(StopRule::of("hyperband", 4, 12).unwrap_err().contains("\"hyperband\""));
    }
}
