//! The run page's drawings, made with the report's plotting code (SVG
//! text): best so far, objective against params and FLOPs with the Pareto
//! front, learning curves, the best architecture; and the compare page's
//! curves. A run's drawings are kept until its journal changes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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

/// Drawings by run folder, for the version they were drawn from.
#[derive(Default)]
pub struct Cache(Mutex<HashMap<PathBuf, Arc<Plots>>>);

impl Cache {
    pub fn get(&self, dir: &Path, view: &View) -> Arc<Plots> {
        if let Some(p) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(dir).filter(|p| p.version == view.version) {
            return p.clone();
        }
        let plots = Arc::new(draw(view));
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(dir.to_path_buf(), plots.clone());
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
        let points: Vec<(f64, f64)> = board.iter().filter_map(|t| metric(t, name).map(|m| (m, t.objective))).collect();
        plot::scatter_svg(&format!("Objective against {label}"), label, "objective", &points, true).ok()
    };
    let best = best_curve_svg("Best found so far", &[(view.summary.name.as_str(), view.best_so_far())]);
    let cells = match (&view.space, view.summary.best_trial) {
        (Some(space), Some(id)) => view.trials.get(id as usize).map_or_else(Vec::new, |t| cell::graphs(space, &t.genotype).iter().filter_map(|g| cell::graph_svg(g).ok()).collect()),
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

/// Best-so-far curves of runs (name, curve) on one plot.
pub fn best_curve_svg(title: &str, runs: &[(&str, Vec<f64>)]) -> Option<String> {
    let bands: Vec<(String, Vec<f64>, Band)> = runs
        .iter()
        .filter(|(_, c)| c.iter().any(|v| v.is_finite()))
        .map(|(n, c)| (n.to_string(), (1..=c.len()).map(|i| i as f64).collect(), Band::of(std::slice::from_ref(c))))
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
