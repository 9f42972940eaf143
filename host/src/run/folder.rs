//! A run folder: what `nasbox search --out` writes (its journal, its lock,
//! its trials). Commands that read or continue a run check the path first,
//! so a wrong one is answered with what is there (the runs under a bench
//! folder, say) and nothing is written into a folder that holds no run.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::lock::{RunLock, LOCK};
use super::search::JOURNAL;

/// Run folders listed when a path holds runs below it.
const LISTED: usize = 5;
/// How deep runs are looked for below a path (a bench keeps its runs in
/// `OUT/runs/NAME-SEED`).
const DEPTH: usize = 2;
/// Most directory entries looked at.
const ENTRIES: usize = 10_000;

/// `Ok` when `dir` holds a run's journal; otherwise an error naming `dir`,
/// what is wrong with it and, when there are runs below it, a few of them.
pub fn check(dir: &Path) -> anyhow::Result<()> {
    if dir.join(JOURNAL).is_file() {
        return Ok(());
    }
    let what = "give a run folder: the --out of a `nasbox search`";
    if !dir.exists() {
        bail!("{}: no such folder ({what})", dir.display());
    }
    if !dir.is_dir() {
        bail!("{}: not a folder ({what})", dir.display());
    }
    let mut runs = vec![];
    let mut budget = ENTRIES;
    runs_below(dir, 1, &mut runs, &mut budget);
    if runs.is_empty() {
        bail!("{}: not a run folder, it has no {JOURNAL} ({what})", dir.display());
    }
    runs.sort();
    let more = if runs.len() > LISTED { format!(" and {} more", runs.len() - LISTED) } else { String::new() };
    let listed: Vec<String> = runs.iter().take(LISTED).map(|p| p.display().to_string()).collect();
    let bench =
        if dir.join("summary.json").is_file() { format!(" (a bench folder: its comparison is {})", dir.join("report.html").display()) } else { String::new() };
    bail!("{}: not a run folder itself{bench}; the runs below it: {}{more}", dir.display(), listed.join(", "))
}

/// Removes what a search that never began wrote into `dir` (its journal,
/// strategy log and lock file), and `dir` itself when the search `made` it
/// and nothing else is left there. Taking the lock proves the caller holds
/// it: everything is removed while it is held, so a process that starts on
/// the folder meanwhile is refused and never finds its own files removed,
/// and the lock file goes last. (A lock file removed by a process that does
/// not hold it would let a second one lock a new file beside a live run.)
pub fn remove_unstarted(dir: &Path, lock: RunLock, made: bool) -> anyhow::Result<()> {
    let files = [JOURNAL.to_string(), format!("{JOURNAL}-wal"), format!("{JOURNAL}-shm"), super::strategy_log::FILE.to_string(), LOCK.to_string()];
    for file in files {
        match std::fs::remove_file(dir.join(&file)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e).with_context(|| format!("removing {}", dir.join(file).display())),
            _ => {}
        }
    }
    drop(lock);
    if made {
        let _ = std::fs::remove_dir(dir.join("trials"));
        let _ = std::fs::remove_dir(dir);
    }
    Ok(())
}

fn runs_below(dir: &Path, depth: usize, runs: &mut Vec<PathBuf>, budget: &mut usize) {
    let Ok(read) = std::fs::read_dir(dir) else { return };
    let mut children = vec![];
    for entry in read.flatten() {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            children.push(entry.path());
        }
    }
    children.sort();
    for child in children {
        if child.join(JOURNAL).is_file() {
            runs.push(child);
        } else if depth < DEPTH {
            runs_below(&child, depth + 1, runs, budget);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(JOURNAL), b"").unwrap();
    }

    #[test]
    fn a_wrong_path_is_named_with_what_is_there() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        run(&r.join("search"));
        assert!(check(&r.join("search")).is_ok());

        let e = check(&r.join("absent")).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}: no such folder", r.join("absent").display())), "{e}");
        std::fs::write(r.join("file"), b"x").unwrap();
        assert!(check(&r.join("file")).unwrap_err().to_string().contains(": not a folder"));
        std::fs::create_dir(r.join("empty")).unwrap();
        let e = check(&r.join("empty")).unwrap_err().to_string();
        assert!(e.contains("not a run folder, it has no journal.sqlite"), "{e}");

        // A bench folder: its runs two levels down, listed in order, a few of them.
        for seed in 0..7 {
            run(&r.join("bench/runs").join(format!("random-{seed}")));
        }
        let e = check(&r.join("bench")).unwrap_err().to_string();
        let first = r.join("bench/runs/random-0").display().to_string();
        assert!(e.contains(&format!("not a run folder itself; the runs below it: {first}, ")) && e.ends_with(" and 2 more"), "{e}");
        std::fs::write(r.join("bench/summary.json"), b"{}").unwrap();
        let e = check(&r.join("bench")).unwrap_err().to_string();
        assert!(e.contains(&format!("(a bench folder: its comparison is {}); the runs", r.join("bench/report.html").display())), "{e}");
        assert!(!e.contains("random-5"), "{e}");
        // Nothing was written into the folders looked at.
        assert!(!r.join("empty/lock").exists() && !r.join("bench/lock").exists());
    }
}
