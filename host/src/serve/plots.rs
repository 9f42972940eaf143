//! The run page's drawings, made with the report's plotting code (SVG
//! text): best so far, objective against params and FLOPs with the Pareto
//! front, learning curves, the best architecture; and the compare page's
//! curves. A run's drawings are kept until its journal changes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::view::{ranked, View};
use crate::report::compare::Band;
use crate::report::{cell, plot};
use crate::run::journal::Trial;

/// Learning curves drawn: the latest trials that recorded one.
const CURVES: usize = 8;

/// A run's drawings; `None` where there is nothing to draw yet.
#[derive(Debug, Serialize)]
pub struct Plots {
    pub version: u64,
    pub best: Option<String>,
    pub params: Option<String>,
    pub flops: Option<String>,
    pub curves: Option<String>,
    pub cells: Vec<String>,
}

/// How long a run's drawings are reused while its journal keeps changing:
/// however many pages watch a live run, it is drawn at most this often.
const REDRAW: Duration = Duration::from_secs(2);

/// Drawings by run folder, with when they were drawn.
#[derive(Default)]
pub struct Cache(Mutex<HashMap<PathBuf, (Instant, Arc<Plots>)>>);

impl Cache {
    /// The run's drawings: those of its current version, or ones drawn
    /// less than [`REDRAW`] ago (their `version` says which; a page asks
    /// again for newer ones).
    pub fn get(&self, dir: &Path, view: &View) -> Arc<Plots> {
        let mut cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, p)) = cache.get(dir).filter(|(at, p)| p.version == view.version || at.elapsed() < REDRAW) {
            return p.clone();
        }
        // Drawn under the lock: one drawing at a time, never the same twice.
        let plots = Arc::new(draw(view));
        cache.insert(dir.to_path_buf(), (Instant::now(), plots.clone()));
        plots
    }
}

fn metric(t: &Trial, name: &str) -> Option<f64> {
    t.metrics.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
}

/// Draws a run.
pub fn draw(view: &View) -> Plots {
    let board: Vec<&Trial> = view.trials.iter().filter(|t| ranked(t) && t.reused_from.is_none()).collect();
    let scatter = |name: &str, label: &str| {
        let points = thinned(board.iter().filter_map(|t| metric(t, name).map(|m| (m, t.objective))));
        plot::scatter_svg(&format!("Objective against {label}"), label, "objective", &points, true).ok()
    };
    let best = best_curve_svg("Best found so far", &[(view.summary.name.as_str(), view.best_so_far())]);
    let cells = match (&view.space, view.summary.best_trial) {
        (Some(space), Some(id)) => {
            view.trials.get(id as usize).map_or_else(Vec::new, |t| cell::graphs(space, &t.genotype).iter().filter_map(|g| cell::graph_svg(g).ok()).collect())
        }
        _ => vec![],
    };
    Plots {
        version: view.version,
        best,
        params: scatter("params", "trainable parameters"),
        flops: scatter("flops", "FLOPs (multiply–accumulates)"),
        curves: curves_svg(&view.trials),
        cells,
    }
}

/// Points that would be drawn on one another (one per 1/1000 of the x
/// range and 1/2000 of the y range) drawn once: a run of many thousand
/// trials stays a plot of a few hundred kilobytes.
fn thinned(points: impl Iterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    let points: Vec<(f64, f64)> = points.filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    let (x0, x1) = points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y0, y1) = points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let bin = |v: f64, lo: f64, hi: f64, n: f64| ((v - lo) / (hi - lo).max(f64::MIN_POSITIVE) * n).round() as i64;
    let mut seen = std::collections::HashSet::new();
    points.into_iter().filter(|&(x, y)| seen.insert((bin(x, x0, x1, 1000.0), bin(y, y0, y1, 2000.0)))).collect()
}

/// A best-so-far curve as the points where it steps (and its ends): the
/// same drawing from a few points instead of one per trial.
fn steps(curve: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
    let (mut x, mut y) = (vec![], vec![]);
    for (i, &v) in curve.iter().enumerate() {
        let changes = i == 0 || !same(v, curve[i - 1]);
        if changes && i > 0 && x.last() != Some(&(i as f64)) {
            x.push(i as f64);
            y.push(curve[i - 1]);
        }
        if changes || i + 1 == curve.len() {
            x.push(i as f64 + 1.0);
            y.push(v);
        }
    }
    (x, y)
}

/// Best-so-far curves of runs (name, curve) on one plot.
pub fn best_curve_svg(title: &str, runs: &[(&str, Vec<f64>)]) -> Option<String> {
    let bands: Vec<(String, Vec<f64>, Band)> = runs
        .iter()
        .filter(|(_, c)| c.iter().any(|v| v.is_finite()))
        .map(|(n, c)| {
            let (x, y) = steps(c);
            (n.to_string(), x, Band::of(&[y]))
        })
        .collect();
    let series: Vec<plot::Series<'_>> = bands.iter().map(|(n, x, b)| plot::Series { name: n, x, band: b }).collect();
    plot::anytime_svg(title, "trials", "objective", &series, false).ok()
}

/// Validation accuracy per epoch of the latest trials that recorded it
/// (`valid-accuracy-epoch-N` metrics, as the training estimators write).
fn curves_svg(trials: &[Trial]) -> Option<String> {
    let curves: Vec<(String, Vec<f64>, Band)> = trials
        .iter()
        .rev()
        .filter_map(|t| {
            let mut points: Vec<(usize, f64)> =
                t.metrics.iter().filter_map(|(k, v)| k.strip_prefix("valid-accuracy-epoch-").and_then(|e| e.parse().ok()).map(|e: usize| (e, *v))).collect();
            if points.is_empty() {
                return None;
            }
            points.sort_by_key(|p| p.0);
            let x = points.iter().map(|p| p.0 as f64).collect();
            let y: Vec<f64> = points.iter().map(|p| p.1).collect();
            Some((format!("trial {}", t.id), x, Band::of(&[y])))
        })
        .take(CURVES)
        .collect();
    let series: Vec<plot::Series<'_>> = curves.iter().map(|(n, x, b)| plot::Series { name: n, x, band: b }).collect();
    plot::anytime_svg("Learning curves (latest trials)", "epoch", "validation accuracy", &series, false).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_best_so_far_curve_keeps_its_steps() {
        let nan = f64::NAN;
        let (x, y) = steps(&[nan, 0.5, 0.5, 0.5, 0.7, 0.7]);
        assert_eq!(x, [1.0, 2.0, 4.0, 5.0, 6.0]);
        assert!(y[0].is_nan());
        assert_eq!(y[1..], [0.5, 0.5, 0.7, 0.7]);
        assert_eq!(steps(&[0.1]), (vec![1.0], vec![0.1]));
    }

    #[test]
    fn learning_curves_are_drawn_from_the_epoch_metrics_of_the_latest_trials() {
        let trial = |id: u64, epochs: usize| Trial {
            metrics: (1..=epochs).rev().map(|e| (format!("valid-accuracy-epoch-{e}"), 0.1 * e as f64)).chain([("params".to_string(), 5.0)]).collect(),
            ..Trial::example(id)
        };
        assert!(curves_svg(&[trial(0, 0)]).is_none(), "a table's trials have no curves");
        let trials: Vec<Trial> = (0..12).map(|id| trial(id, 3)).collect();
        let svg = curves_svg(&trials).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let labels: Vec<&str> = doc.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).map(str::trim).collect();
        assert!(labels.contains(&"trial 11") && labels.contains(&"trial 4") && !labels.contains(&"trial 3"), "the latest {CURVES}: {labels:?}");
    }

    #[test]
    fn points_on_one_another_are_drawn_once() {
        let many = (0..100_000).map(|i| (1000.0 + (i % 7) as f64, 0.5 + (i % 3) as f64 * 0.1));
        assert_eq!(thinned(many).len(), 21);
        assert_eq!(thinned([(1.0, 0.1), (2.0, 0.2), (f64::NAN, 0.3)].into_iter()).len(), 2);
    }
}
