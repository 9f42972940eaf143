//! Constraints on what an estimate reports: "the best network under 1 M
//! parameters and 5 ms" is `--constraint params<=1e6,latency-ms<=5`.
//!
//! A constraint bounds one metric the estimator reports (`params`, `flops`,
//! `latency-ms`, any other name a table or estimator gives), from above
//! (`<=`) or below (`>=`). A trial that breaks one, or does not report the
//! metric at all, is **infeasible**: the journal records it as `invalid`
//! with a reason that starts with `infeasible:` and keeps its metrics (and
//! the objective it reached, as the metric `objective`), and the strategy is
//! told exactly that. Every strategy already treats an invalid trial as no
//! result, so the incumbent, the best of the run and the recommendation are
//! feasible ones without any change to the contract; a strategy that wants
//! to learn from infeasible trials reads the reason and the metrics. A
//! metric the estimator is known never to report is refused before the run
//! starts ([`Constraints::check_reported`]).

use std::fmt;

/// One bound on one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    pub metric: String,
    /// `true` for `metric <= bound`, `false` for `metric >= bound`.
    pub at_most: bool,
    pub bound: f64,
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.metric, if self.at_most { "<=" } else { ">=" }, self.bound)
    }
}

/// The constraints of a run, all of which a feasible trial meets.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Constraints(pub Vec<Constraint>);

impl Constraints {
    /// Parses `params<=1e6,latency-ms<=5` (several strings are joined);
    /// errors name the part and the problem.
    pub fn parse<S: AsRef<str>>(texts: &[S]) -> Result<Constraints, String> {
        let mut out = vec![];
        for part in texts.iter().flat_map(|t| t.as_ref().split(',')).map(str::trim).filter(|p| !p.is_empty()) {
            let (metric, at_most, bound) = if let Some((m, b)) = part.split_once("<=") {
                (m, true, b)
            } else if let Some((m, b)) = part.split_once(">=") {
                (m, false, b)
            } else {
                return Err(format!("constraint `{part}`: expected METRIC<=BOUND or METRIC>=BOUND, e.g. params<=1e6"));
            };
            let metric = metric.trim();
            if metric.is_empty() || metric.chars().any(|c| c.is_whitespace() || c.is_control() || c == '=' || c == '<' || c == '>') {
                return Err(format!("constraint `{part}`: `{metric}` is not a metric name"));
            }
            let bound: f64 = bound.trim().parse().map_err(|_| format!("constraint `{part}`: `{}` is not a number", bound.trim()))?;
            if !bound.is_finite() {
                return Err(format!("constraint `{part}`: the bound must be a finite number"));
            }
            out.push(Constraint { metric: metric.to_string(), at_most, bound });
        }
        Ok(Constraints(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Refuses, before a search starts, a constraint on a metric the
    /// estimator never reports (`reported`): every trial would be infeasible.
    pub fn check_reported(&self, reported: &[String], estimator: &str) -> Result<(), String> {
        match self.0.iter().find(|c| !reported.contains(&c.metric)) {
            None => Ok(()),
            Some(c) => Err(format!(
                "constraint `{c}`: `{}` is not a metric the {estimator} estimator reports, so every trial would be infeasible (it reports: {})",
                c.metric,
                if reported.is_empty() { "none".to_string() } else { reported.join(", ") }
            )),
        }
    }

    /// `None` when `metrics` meet every constraint; otherwise why not, as
    /// the journal and the strategy get it (`infeasible: params = 1.2e6 > 1e6`).
    pub fn violation(&self, metrics: &[(String, f64)]) -> Option<String> {
        let broken: Vec<String> = self
            .0
            .iter()
            .filter_map(|c| match metrics.iter().find(|(name, _)| *name == c.metric) {
                None => Some(format!("{} not reported (constraint {c})", c.metric)),
                Some((_, v)) if v.is_nan() => Some(format!("{} is NaN (constraint {c})", c.metric)),
                Some((_, v)) if c.at_most && *v > c.bound => Some(format!("{} = {v} > {}", c.metric, c.bound)),
                Some((_, v)) if !c.at_most && *v < c.bound => Some(format!("{} = {v} < {}", c.metric, c.bound)),
                _ => None,
            })
            .collect();
        (!broken.is_empty()).then(|| format!("infeasible: {}", broken.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bounds_from_above_and_below() {
        let c = Constraints::parse(&["params<=1e6, latency-ms<=5", "accuracy>=0.5"]).unwrap();
        assert_eq!(c.0.len(), 3);
        assert_eq!(c.0[1], Constraint { metric: "latency-ms".into(), at_most: true, bound: 5.0 });
        assert!(!c.0[2].at_most);
        assert_eq!(c.0[0].to_string(), "params<=1000000");
        assert!(Constraints::parse::<&str>(&[]).unwrap().is_empty());
    }

    #[test]
    fn a_metric_the_estimator_never_reports_is_refused_up_front() {
        let c = Constraints::parse(&["params<=1e6,flops<=3e8"]).unwrap();
        let reported = vec!["params".to_string()];
        let e = c.check_reported(&reported, "table").unwrap_err();
        assert_eq!(
            e,
            "constraint `flops<=300000000`: `flops` is not a metric the table estimator reports, so every trial would be infeasible (it reports: params)"
        );
        assert!(Constraints::parse(&["params<=1e6"]).unwrap().check_reported(&reported, "table").is_ok());
        assert!(c.check_reported(&[], "zero-cost").unwrap_err().ends_with("(it reports: none)"));
    }

    #[test]
    fn bad_constraints_name_the_part_and_the_problem() {
        for (text, problem) in
            [("params<1e6", "expected METRIC<=BOUND"), ("<=3", "not a metric name"), ("params<=lots", "not a number"), ("params<=inf", "finite")]
        {
            let e = Constraints::parse(&[text]).unwrap_err();
            assert!(e.contains(text) && e.contains(problem), "{text}: {e}");
        }
    }

    #[test]
    fn a_trial_is_infeasible_over_a_bound_or_without_the_metric() {
        let c = Constraints::parse(&["params<=1e6,latency-ms<=5"]).unwrap();
        let m = |p: f64, l: f64| vec![("params".to_string(), p), ("latency-ms".to_string(), l)];
        assert_eq!(c.violation(&m(1e6, 5.0)), None, "bounds are inclusive");
        assert_eq!(c.violation(&m(2e6, 4.0)).unwrap(), "infeasible: params = 2000000 > 1000000");
        let both = c.violation(&m(2e6, 6.0)).unwrap();
        assert!(both.contains("params") && both.contains("latency-ms = 6 > 5"), "{both}");
        let missing = c.violation(&[("params".to_string(), 1.0)]).unwrap();
        assert!(missing.contains("latency-ms not reported"), "{missing}");
        assert_eq!(Constraints::default().violation(&[]), None);
    }
}
