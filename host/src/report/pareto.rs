//! The Pareto front of a run over several objectives, e.g. "accuracy
//! against parameters": `nasbox results RUN --front accuracy,-params`.
//!
//! An objective is `accuracy` (the trial's objective, the validation
//! accuracy) or any metric the estimator reported, prefixed with `-` when
//! smaller is better. A trial is on the front when no other trial is at
//! least as good in every objective and better in one. Trials that lack a
//! metric of the list are left out (they cannot be compared), as are
//! failed, invalid (infeasible included) and repeated trials.

use crate::run::journal::{Trial, TrialStatus};

/// One objective: a name and whether larger is better.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    pub name: String,
    pub maximize: bool,
}

/// Parses `accuracy,-params`; an error names the part and the problem.
pub fn parse(text: &str) -> Result<Vec<Objective>, String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let mut out: Vec<Objective> = vec![];
    for part in parts {
        let (maximize, name) = match part.strip_prefix('-') {
            Some(rest) => (false, rest.trim()),
            None => (true, part.strip_prefix('+').unwrap_or(part).trim()),
        };
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("objectives `{text}`: `{part}` is not an objective (accuracy, or a metric such as -params)"));
        }
        if out.iter().any(|o| o.name == name) {
            return Err(format!("objectives `{text}`: `{name}` appears twice"));
        }
        out.push(Objective { name: name.to_string(), maximize });
    }
    if out.len() < 2 {
        return Err(format!("objectives `{text}`: a front needs at least two objectives, e.g. accuracy,-params"));
    }
    Ok(out)
}

/// A trial's values for `objectives`, each turned so that larger is better;
/// `None` when it lacks one.
pub fn values(t: &Trial, objectives: &[Objective]) -> Option<Vec<f64>> {
    objectives
        .iter()
        .map(|o| {
            let v = if o.name == "accuracy" { Some(t.objective) } else { t.metrics.iter().find(|(k, _)| *k == o.name).map(|(_, v)| *v) };
            v.filter(|v| !v.is_nan()).map(|v| if o.maximize { v } else { -v })
        })
        .collect()
}

/// `a` is at least as good as `b` everywhere and better somewhere.
fn dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x >= y) && a.iter().zip(b).any(|(x, y)| x > y)
}

/// The non-dominated trials, ordered by the first objective, best first
/// (ties by trial id). Of trials with equal values the earliest is kept.
pub fn front<'a>(trials: &'a [Trial], objectives: &[Objective]) -> Vec<&'a Trial> {
    let points: Vec<(&Trial, Vec<f64>)> = trials
        .iter()
        .filter(|t| t.status == TrialStatus::Ok && t.reused_from.is_none() && t.relaxed.is_none())
        .filter_map(|t| values(t, objectives).map(|v| (t, v)))
        .collect();
    let mut out: Vec<(&Trial, &Vec<f64>)> = points
        .iter()
        .enumerate()
        .filter(|(i, (_, v))| !points.iter().enumerate().any(|(j, (_, w))| dominates(w, v) || (j < *i && w == v)))
        .map(|(_, (t, v))| (*t, v))
        .collect();
    out.sort_by(|a, b| b.1[0].total_cmp(&a.1[0]).then(a.0.id.cmp(&b.0.id)));
    out.into_iter().map(|(t, _)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(id: u64, accuracy: f64, params: f64) -> Trial {
        Trial {
            id,
            genotype: vec![id as u32],
            arch: format!("a{id}"),
            fidelity: None,
            status: TrialStatus::Ok,
            objective: accuracy,
            cost: 1.0,
            metrics: vec![("params".into(), params)],
            reused_from: None,
            relaxed: None,
            gradient: None,
        }
    }

    #[test]
    fn the_front_keeps_exactly_the_non_dominated_trials() {
        let trials = vec![
            trial(0, 0.9, 1000.0), // the most accurate
            trial(1, 0.8, 1000.0), // dominated by 0
            trial(2, 0.7, 100.0),  // the smallest
            trial(3, 0.7, 200.0),  // dominated by 2
            trial(4, 0.85, 500.0), // a trade-off
            trial(5, 0.85, 500.0), // the same values as 4: one of them is kept
            Trial { status: TrialStatus::Invalid("infeasible: params".into()), ..trial(6, 0.99, 10.0) },
            Trial { metrics: vec![], ..trial(7, 0.95, 0.0) }, // no params: not comparable
        ];
        let objectives = parse("accuracy,-params").unwrap();
        let ids: Vec<u64> = front(&trials, &objectives).iter().map(|t| t.id).collect();
        assert_eq!(ids, vec![0, 4, 2]);
        // Larger params preferred: only the largest-and-most-accurate survives.
        let ids: Vec<u64> = front(&trials, &parse("accuracy,params").unwrap()).iter().map(|t| t.id).collect();
        assert_eq!(ids, vec![0]);
    }

    #[test]
    fn objectives_parse_with_directions_and_bad_ones_are_named() {
        let o = parse("accuracy, -latency-ms").unwrap();
        assert_eq!(o[1], Objective { name: "latency-ms".into(), maximize: false });
        assert!(o[0].maximize);
        for (text, problem) in [("accuracy", "at least two"), ("accuracy,", "not an objective"), ("accuracy,-accuracy", "twice")] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(problem), "{text}: {e}");
        }
    }
}
