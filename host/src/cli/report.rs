//! `nasbox report`: one search as a self-contained HTML page: accuracy
//! against parameters and FLOPs with the Pareto front, the best-so-far
//! curve, the best architecture drawn as a graph, and the leaderboard; for
//! a multi-objective run (`--objectives`), its front over its objectives,
//! drawn and listed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use nasbox::report::compare::Band;
use nasbox::report::{cell, html, pareto, plot};
use nasbox::run::journal::{Journal, TrialStatus};
use nasbox::run::search::{Search, JOURNAL};
use nasbox::space::SearchSpace;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The run folder.
    dir: PathBuf,
    /// Where to write the page [default: DIR/report.html].
    #[arg(long, short)]
    out: Option<PathBuf>,
}

pub fn run(a: ReportArgs) -> anyhow::Result<ExitCode> {
    let (config, strategy, _) = Search::config_of(&a.dir)?;
    let trials = Journal::open(&a.dir.join(JOURNAL))?.trials()?;
    let space = SearchSpace::resolve(&config.space)?;
    let board = crate::cli::results::leaderboard(&trials);
    let best = board.first().copied().ok_or_else(|| {
        if trials.iter().any(|t| t.relaxed.is_some()) {
            anyhow::anyhow!(
                "{}: a differentiable search has no ranked architectures to report; `nasbox results` shows the one it derived, `nasbox train --from {}` retrains it",
                a.dir.display(),
                a.dir.display()
            )
        } else {
            anyhow::anyhow!("{}: no trial succeeded, there is nothing to report", a.dir.display())
        }
    })?;

    let mut plots = vec![];
    let metric = |t: &nasbox::run::journal::Trial, name: &str| t.metrics.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    for (name, label) in [("params", "trainable parameters"), ("flops", "FLOPs (multiply–accumulates)")] {
        let points: Vec<(f64, f64)> = board.iter().filter_map(|t| metric(t, name).map(|m| (m, t.objective))).collect();
        if !points.is_empty() {
            plots.push(plot::scatter_svg(&format!("Objective against {label}"), label, "objective", &points, true)?);
        }
    }
    // A multi-objective run: its front in its first two objectives (all of
    // them decide who is on it).
    let objectives = crate::cli::results::run_objectives(&Journal::open(&a.dir.join(JOURNAL))?)?;
    let front = objectives.as_ref().map(|objectives| {
        let shown = |v: Vec<f64>| v.iter().zip(objectives).map(|(x, o)| if o.maximize { *x } else { -x }).collect::<Vec<f64>>();
        let rows: Vec<(u64, Vec<f64>, String)> =
            pareto::front(&trials, objectives).iter().filter_map(|t| pareto::values(t, objectives).map(|v| (t.id, shown(v), t.arch.clone()))).collect();
        html::Front { objectives: objectives.iter().map(|o| o.to_string()).collect(), rows }
    });
    if let (Some(objectives), Some(front)) = (&objectives, &front) {
        let all: Vec<(f64, f64)> = board
            .iter()
            .filter_map(|t| pareto::values(t, objectives))
            .map(|v| {
                let m = |k: usize| if objectives[k].maximize { v[k] } else { -v[k] };
                (m(1), m(0))
            })
            .collect();
        let marked: Vec<(f64, f64)> = front.rows.iter().map(|(_, v, _)| (v[1], v[0])).collect();
        let title = format!("Pareto front over {}", pareto::list(objectives).replace(',', ", "));
        let steps = (objectives.len() == 2).then_some(objectives[1].maximize);
        let label = |o: &pareto::Objective| format!("{} ({} is better)", o.name, if o.maximize { "larger" } else { "smaller" });
        plots.insert(0, plot::front_svg(&title, &label(&objectives[1]), &label(&objectives[0]), &all, &marked, steps, true)?);
    }
    let mut best_so_far = f64::NEG_INFINITY;
    let curve: Vec<f64> = trials
        .iter()
        .map(|t| {
            if t.status == TrialStatus::Ok {
                best_so_far = best_so_far.max(t.objective);
            }
            if best_so_far.is_finite() {
                best_so_far
            } else {
                f64::NAN
            }
        })
        .collect();
    let x: Vec<f64> = (1..=curve.len()).map(|i| i as f64).collect();
    let band = Band::of(&[curve]);
    plots.push(plot::anytime_svg("Best found so far", "trials", "objective", &[plot::Series { name: "best so far", x: &x, band: &band }], false)?);
    let cells = cell::graphs(&space, &best.genotype).iter().map(cell::graph_svg).collect::<anyhow::Result<Vec<_>>>()?;
    let count = |f: fn(&TrialStatus) -> bool| trials.iter().filter(|t| f(&t.status)).count();
    let setup = vec![
        ("run".to_string(), a.dir.display().to_string()),
        ("strategy".into(), strategy.display().to_string()),
        ("space".into(), space.name()),
        ("estimator".into(), config.estimator.clone()),
        ("dataset".into(), config.dataset.clone()),
        (
            "trials".into(),
            format!(
                "{} ({} ok, {} failed, {} invalid)",
                trials.len(),
                count(|s| *s == TrialStatus::Ok),
                count(|s| matches!(s, TrialStatus::Failed(_))),
                count(|s| matches!(s, TrialStatus::Invalid(_)))
            ),
        ),
        ("best".into(), format!("trial {}: {:.4}  {}", best.id, best.objective, best.arch)),
    ];
    let top: Vec<(u64, f64, String)> = board.iter().take(20).map(|t| (t.id, t.objective, t.arch.clone())).collect();
    let page = html::search_with_front(&format!("nasbox search — {}", a.dir.display()), &setup, &plots, &cells, &top, front.as_ref());
    let out = a.out.unwrap_or_else(|| a.dir.join("report.html"));
    std::fs::write(&out, page).map_err(|e| anyhow::anyhow!("writing {}: {e}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
}
