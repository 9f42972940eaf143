//! `nasbox results`: a run's leaderboard, and its trials as CSV or JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use nasbox::report::pareto;
use nasbox::run::journal::{Journal, Trial, TrialStatus};
use nasbox::run::search::JOURNAL;

#[derive(Args, Debug)]
pub struct ResultsArgs {
    /// The run folder.
    dir: PathBuf,
    /// Rows of the leaderboard.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Write every trial as CSV here.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Write every trial as JSON here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also list the Pareto front over these objectives: `accuracy` and metrics, `-` for smaller is better,
    /// e.g. accuracy,-params [default: the run's --objectives, if it has them].
    #[arg(long, value_name = "OBJECTIVES")]
    front: Option<String>,
}

/// The run's distinct architectures that finished, best first (a repeated
/// proposal is not a second entry).
pub fn leaderboard(trials: &[Trial]) -> Vec<&Trial> {
    let mut ok: Vec<&Trial> = trials.iter().filter(|t| t.status == TrialStatus::Ok && t.reused_from.is_none() && t.relaxed.is_none()).collect();
    ok.sort_by(|a, b| b.objective.total_cmp(&a.objective).then(a.id.cmp(&b.id)));
    ok
}

pub fn run(a: ResultsArgs) -> anyhow::Result<ExitCode> {
    let mut objectives = a.front.as_deref().map(pareto::parse).transpose().map_err(anyhow::Error::msg).context("--front")?;
    nasbox::run::folder::check(&a.dir)?;
    let journal = Journal::open(&a.dir.join(JOURNAL))?;
    if objectives.is_none() {
        objectives = run_objectives(&journal)?;
    }
    let trials = journal.trials()?;
    let count = |f: fn(&TrialStatus) -> bool| trials.iter().filter(|t| f(&t.status)).count();
    println!(
        "{}: {} trials — {} ok, {} failed, {} invalid, {} pending",
        a.dir.display(),
        trials.len(),
        count(|s| matches!(s, TrialStatus::Ok)),
        count(|s| matches!(s, TrialStatus::Failed(_))),
        count(|s| matches!(s, TrialStatus::Invalid(_))),
        count(|s| matches!(s, TrialStatus::Pending)),
    );
    let relaxed = trials.iter().filter(|t| t.relaxed.is_some()).count();
    if relaxed > 0 {
        // Relaxed steps score a mixture, not an architecture: not ranked.
        println!("{relaxed} of them differentiable steps (relaxed proposals, not ranked)");
    }
    if let Some(derived) = journal.manifest("recommendation")?.and_then(|v| v.as_str().map(String::from)) {
        println!("the strategy's architecture: {derived}");
    }
    println!("{:>4}  {:>6}  {:>9}  {:>8}  architecture", "rank", "trial", "objective", "cost s");
    for (rank, t) in leaderboard(&trials).iter().take(a.top).enumerate() {
        println!("{:>4}  {:>6}  {:>9.4}  {:>8.1}  {}", rank + 1, t.id, t.objective, t.cost, t.arch);
    }
    if let Some(objectives) = &objectives {
        let front = pareto::front(&trials, objectives);
        let names: Vec<String> = objectives.iter().map(|o| format!("{}{}", if o.maximize { "" } else { "-" }, o.name)).collect();
        println!("Pareto front over {} ({} trials):", names.join(", "), front.len());
        println!("{:>6}  {}  architecture", "trial", objectives.iter().map(|o| format!("{:>12}", o.name)).collect::<Vec<_>>().join("  "));
        for t in front {
            // Shown as measured, not turned: values() negates minimised ones.
            let shown: Vec<String> = pareto::values(t, objectives)
                .unwrap_or_default()
                .iter()
                .zip(objectives)
                .map(|(v, o)| format!("{:>12.6}", if o.maximize { *v } else { -v }))
                .collect();
            println!("{:>6}  {}  {}", t.id, shown.join("  "), t.arch);
        }
    }
    if let Some(path) = &a.json {
        // Each trial's decisions as an object too (`{"lr": 0.01, …}`), where
        // the run's space can still be read.
        let space = journal
            .manifest("config")?
            .and_then(|c| c.get("space").and_then(|s| s.as_str().map(String::from)))
            .and_then(|s| nasbox::space::SearchSpace::resolve(&s).ok());
        let rows: Vec<serde_json::Value> = trials
            .iter()
            .map(|t| {
                let mut row = serde_json::to_value(t).expect("trials serialise");
                if let Some(s) = space.as_ref().filter(|s| s.space().validate(&t.genotype).is_ok()) {
                    row["decisions"] = s.to_json(&t.genotype);
                }
                row
            })
            .collect();
        std::fs::write(path, serde_json::to_string_pretty(&rows)?).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {} trials to {}", trials.len(), path.display());
    }
    if let Some(path) = &a.csv {
        let mut names: Vec<&str> = trials.iter().flat_map(|t| t.metrics.iter().map(|(k, _)| k.as_str())).collect();
        names.sort();
        names.dedup();
        let mut out = format!("trial,status,reason,objective,cost,fidelity,reused_from,genotype,arch,{}\n", names.join(","));
        for t in &trials {
            let (status, reason) = match &t.status {
                TrialStatus::Ok => ("ok", ""),
                TrialStatus::Pending => ("pending", ""),
                TrialStatus::Failed(r) => ("failed", r.as_str()),
                TrialStatus::Invalid(r) => ("invalid", r.as_str()),
            };
            let metric = |n: &str| t.metrics.iter().find(|(k, _)| k == n).map_or(String::new(), |(_, v)| v.to_string());
            let genotype = t.genotype.iter().map(|g| g.to_string()).collect::<Vec<_>>().join(" ");
            out.push_str(&format!(
                "{},{status},{},{},{},{},{},{genotype},{},{}\n",
                t.id,
                csv(reason),
                t.objective,
                t.cost,
                t.fidelity.map_or(String::new(), |f| f.to_string()),
                t.reused_from.map_or(String::new(), |r| r.to_string()),
                csv(&t.arch),
                names.iter().map(|n| metric(n)).collect::<Vec<_>>().join(",")
            ));
        }
        std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {} trials to {}", trials.len(), path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The objectives a multi-objective run was searched with (none for a
/// single-objective run).
pub fn run_objectives(journal: &Journal) -> anyhow::Result<Option<Vec<pareto::Objective>>> {
    let list: Vec<String> =
        journal.manifest("config")?.and_then(|c| c.get("objectives").cloned()).and_then(|o| serde_json::from_value(o).ok()).unwrap_or_default();
    let objectives = nasbox::run::objectives::of(&list).map_err(anyhow::Error::msg).context("the run's objectives")?;
    Ok((!objectives.is_empty()).then_some(objectives))
}

/// A CSV field, quoted when it needs to be.
pub(super) fn csv(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
