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

impl std::fmt::Display for Objective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", if self.maximize { "" } else { "-" }, self.name)
    }
}

/// The objectives as the strategy's `objectives` setting and the flag take
/// them: `accuracy,-params`.
pub fn list(objectives: &[Objective]) -> String {
    objectives.iter().map(|o| o.to_string()).collect::<Vec<_>>().join(",")
}

/// A trial's values for `objectives`, each turned so that larger is better;
/// `None` when it lacks one.
pub fn values(t: &Trial, objectives: &[Objective]) -> Option<Vec<f64>> {
    values_of(t.objective, &t.metrics, objectives)
}

/// [`values`] of an accuracy and metrics (a trial's, or a table entry's).
pub fn values_of(accuracy: f64, metrics: &[(String, f64)], objectives: &[Objective]) -> Option<Vec<f64>> {
    objectives
        .iter()
        .map(|o| {
            let v = if o.name == "accuracy" { Some(accuracy) } else { metrics.iter().find(|(k, _)| *k == o.name).map(|(_, v)| *v) };
            v.filter(|v| !v.is_nan()).map(|v| if o.maximize { v } else { -v })
        })
        .collect()
}

/// Refuses an objective the estimator does not report (`reported`, with
/// `accuracy` always allowed), naming it and what there is.
pub fn check_reported(objectives: &[Objective], reported: &[String], estimator: &str) -> Result<(), String> {
    match objectives.iter().find(|o| o.name != "accuracy" && !reported.contains(&o.name)) {
        None => Ok(()),
        Some(o) => Err(format!(
            "`{}` is not a metric the {estimator} estimator reports (it reports accuracy{}{})",
            o.name,
            if reported.is_empty() { "" } else { ", " },
            reported.join(", ")
        )),
    }
}

/// The hypervolume of `points` (larger is better in every coordinate, as
/// [`values`] turns them) above `reference`: the volume of the region
/// between the reference point and the points, which no other point
/// bounds. Exact: a sweep in two dimensions, slices along the last
/// coordinate above that. Points that are not better than the reference in
/// every coordinate add nothing.
pub fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let inside: Vec<&[f64]> = points.iter().map(Vec::as_slice).filter(|p| p.len() == reference.len() && p.iter().zip(reference).all(|(x, r)| x > r)).collect();
    volume(&inside, reference)
}

fn volume(points: &[&[f64]], reference: &[f64]) -> f64 {
    let d = reference.len();
    if points.is_empty() || d == 0 {
        return 0.0;
    }
    if d == 1 {
        return points.iter().map(|p| p[0] - reference[0]).fold(0.0, f64::max);
    }
    let mut sorted: Vec<&[f64]> = points.to_vec();
    if d == 2 {
        sorted.sort_by(|a, b| b[0].total_cmp(&a[0]));
        let (mut hv, mut top) = (0.0, reference[1]);
        for p in sorted {
            if p[1] > top {
                hv += (p[0] - reference[0]) * (p[1] - top);
                top = p[1];
            }
        }
        return hv;
    }
    // Slices between consecutive values of the last coordinate, each the
    // (d-1)-dimensional volume of the points reaching above it.
    sorted.sort_by(|a, b| b[d - 1].total_cmp(&a[d - 1]));
    let mut hv = 0.0;
    for i in 0..sorted.len() {
        let below = sorted.get(i + 1).map_or(reference[d - 1], |p| p[d - 1]);
        let height = sorted[i][d - 1] - below;
        if height > 0.0 {
            let projected: Vec<&[f64]> = sorted[..=i].iter().map(|p| &p[..d - 1]).collect();
            hv += volume(&projected, &reference[..d - 1]) * height;
        }
    }
    hv
}

/// `a` is at least as good as `b` everywhere and better somewhere (larger
/// is better).
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x >= y) && a.iter().zip(b).any(|(x, y)| x > y)
}

/// The points no other dominates (one of equal points), in their order.
pub fn non_dominated(points: &[Vec<f64>]) -> Vec<Vec<f64>> {
    // By the first coordinate, best first: a point can only be dominated by
    // one before it (or an equal one).
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| {
        points[b].iter().zip(&points[a]).map(|(x, y)| x.total_cmp(y)).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal).then(a.cmp(&b))
    });
    let mut kept: Vec<usize> = vec![];
    for i in order {
        if !kept.iter().any(|&k| points[k] == points[i] || dominates(&points[k], &points[i])) {
            kept.push(i);
        }
    }
    kept.sort_unstable();
    kept.into_iter().map(|i| points[i].clone()).collect()
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
        Trial { objective: accuracy, metrics: vec![("params".into(), params)], ..Trial::example(id) }
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
    fn hypervolume_by_hand() {
        let hv = |pts: &[&[f64]], r: &[f64]| hypervolume(&pts.iter().map(|p| p.to_vec()).collect::<Vec<_>>(), r);
        // One point: its box. Two: their union, 2x3 + 3x1 - overlap 2x1 = 7.
        assert_eq!(hv(&[&[2.0, 3.0]], &[0.0, 0.0]), 6.0);
        assert_eq!(hv(&[&[2.0, 3.0], &[3.0, 1.0]], &[0.0, 0.0]), 7.0);
        // A dominated point and a repeat add nothing; order does not matter.
        assert_eq!(hv(&[&[3.0, 1.0], &[1.0, 1.0], &[2.0, 3.0], &[2.0, 3.0]], &[0.0, 0.0]), 7.0);
        // The reference moves the boxes: (2-1)x(3-0.5) + (3-2)x(1-0.5) = 3.
        assert_eq!(hv(&[&[2.0, 3.0], &[3.0, 1.0]], &[1.0, 0.5]), 3.0);
        // A point not above the reference in every coordinate adds nothing.
        assert_eq!(hv(&[&[5.0, -1.0], &[2.0, 3.0]], &[0.0, 0.0]), 6.0);
        assert_eq!(hv(&[], &[0.0, 0.0]), 0.0);
        // Three dimensions: unit cubes at (1,1,2) and (2,1,1) over the origin:
        // 2 + 2 - the overlap 1x1x1 = 3; with (1,2,1) too: 4 boxes of 2 minus
        // pairwise overlaps of 1 plus the triple overlap 1 = 6 - 3 + 1 = 4.
        assert_eq!(hv(&[&[1.0, 1.0, 2.0], &[2.0, 1.0, 1.0]], &[0.0, 0.0, 0.0]), 3.0);
        assert_eq!(hv(&[&[1.0, 1.0, 2.0], &[2.0, 1.0, 1.0], &[1.0, 2.0, 1.0]], &[0.0, 0.0, 0.0]), 4.0);
        // Minimised objectives come turned: accuracy 0.9 at 100 params, 0.8 at 50,
        // reference (0.5, 200 params): 0.4 x 100 + 0.3 x 50 = 55.
        let o = parse("accuracy,-params").unwrap();
        let pts: Vec<Vec<f64>> = [(0.9, 100.0), (0.8, 50.0)].iter().map(|&(a, p)| values_of(a, &[("params".into(), p)], &o).unwrap()).collect();
        let r = values_of(0.5, &[("params".into(), 200.0)], &o).unwrap();
        assert!((hypervolume(&pts, &r) - 55.0).abs() < 1e-9);
        assert_eq!(list(&o), "accuracy,-params");
        let pts = vec![vec![1.0, 1.0], vec![2.0, 3.0], vec![3.0, 1.0], vec![2.0, 3.0], vec![0.0, 4.0]];
        assert_eq!(non_dominated(&pts), vec![vec![2.0, 3.0], vec![3.0, 1.0], vec![0.0, 4.0]]);
    }

    /// On integer points the hypervolume is the number of unit cells some
    /// point covers: counted cell by cell in 2 to 4 dimensions.
    #[test]
    fn hypervolume_counts_covered_unit_cells() {
        let mut state = 12345u64;
        let mut next = |n: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        for d in 2..=4usize {
            for _ in 0..20 {
                let points: Vec<Vec<f64>> = (0..1 + next(12)).map(|_| (0..d).map(|_| 1.0 + next(5) as f64).collect()).collect();
                let mut covered = 0;
                for cell in 0..5usize.pow(d as u32) {
                    let corner: Vec<f64> = (0..d).map(|k| ((cell / 5usize.pow(k as u32)) % 5) as f64).collect();
                    covered += points.iter().any(|p| p.iter().zip(&corner).all(|(x, c)| *x >= c + 1.0)) as usize;
                }
                assert_eq!(hypervolume(&points, &vec![0.0; d]), covered as f64, "{points:?}");
            }
        }
    }

    #[test]
    fn objectives_the_estimator_does_not_report_are_named() {
        let o = parse("accuracy,-latency-ms").unwrap();
        let e = check_reported(&o, &["params".into()], "table").unwrap_err();
        assert!(e.contains("`latency-ms`") && e.contains("reports accuracy, params"), "{e}");
        assert_eq!(check_reported(&o, &["latency-ms".into()], "train"), Ok(()));
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
