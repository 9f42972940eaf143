//! The JSON the pages poll: the list of runs, a run's trials (only those
//! from `?since=N` on, so a page watching a long run fetches what is new),
//! and a run's drawings.

use serde_json::{json, Value};

use super::view::{Summary, View};
use crate::run::journal::{Trial, TrialStatus};

/// Every run's summary and the benches' names.
pub fn runs(summaries: &[Summary], benches: &[&str]) -> Value {
    json!({ "runs": summaries, "benches": benches })
}

/// A run's summary and its trials from `since` on. `next` is the first
/// trial the page has to ask for again: the first not finished yet.
pub fn run(view: &View, since: usize) -> Value {
    let since = since.min(view.trials.len());
    let next = view.trials[since..].iter().position(|t| t.status == TrialStatus::Pending).map_or(view.trials.len(), |k| since + k);
    json!({
        "summary": view.summary,
        "version": view.version,
        "since": since,
        "next": next,
        "trials": view.trials[since..].iter().map(row).collect::<Vec<_>>(),
    })
}

/// A trial as a row of the trials table.
fn row(t: &Trial) -> Value {
    let (status, reason) = t.status.code();
    let metric = |n: &str| t.metrics.iter().find(|(k, _)| k == n).map(|(_, v)| *v);
    json!({
        "id": t.id,
        "status": status,
        "reason": reason,
        "objective": (t.status == TrialStatus::Ok).then_some(t.objective),
        "cost": t.cost,
        "fidelity": t.fidelity,
        "arch": t.arch,
        "params": metric("params"),
        "flops": metric("flops"),
        "reused_from": t.reused_from,
        "relaxed": t.relaxed.is_some(),
    })
}

/// Bytes of a strategy's log the run page shows: its end.
const LOG_TAIL: u64 = 64 * 1024;

/// The end of the strategy's log in the run folder `dir` (whole lines),
/// empty if it has none.
pub fn log_tail(dir: &std::path::Path) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(dir.join(crate::run::strategy_log::FILE)) else { return String::new() };
    let len = f.metadata().map_or(0, |m| m.len());
    let start = len.saturating_sub(LOG_TAIL);
    let mut bytes = Vec::new();
    if f.seek(SeekFrom::Start(start)).is_err() || f.take(LOG_TAIL).read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    match (start > 0, text.find('\n')) {
        (true, Some(i)) => text[i + 1..].to_string(),
        _ => text.into_owned(),
    }
}
