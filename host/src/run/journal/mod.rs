//! The run journal: one SQLite database (WAL mode) per run folder holding
//! the manifest, every trial the strategy proposed and every result, and
//! the sequence of `ask` and `tell` calls. Each proposal is committed
//! before it is evaluated and each result before the strategy hears of it,
//! so a run killed at any moment (kill -9 included) loses at most the
//! trials that were in flight. Commits use `synchronous=NORMAL`: durable
//! against a crashed or killed process; a power cut may lose the last few.
//!
//! Resuming replays the recorded calls into a fresh strategy instance with
//! the same seed and checks that it proposes exactly what was recorded.

mod jobs;

use std::path::Path;

pub use jobs::JobRecord;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What went wrong with a journal.
#[derive(Debug, Error)]
pub enum JournalError {
    #[error("{path}: {source}")]
    Sqlite { path: String, source: rusqlite::Error },
    #[error("{path}: not a nasbox run journal ({detail})")]
    NotAJournal { path: String, detail: String },
    #[error("{path}: {detail}")]
    Corrupt { path: String, detail: String },
}

/// How a trial ended (or that it has not yet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", content = "reason", rename_all = "lowercase")]
pub enum TrialStatus {
    /// Proposed and recorded, not yet evaluated (in flight, or cut off).
    Pending,
    Ok,
    /// Evaluation failed (diverged, worker crashed, timed out); the reason.
    Failed(String),
    /// Not an architecture of the space; the reason.
    Invalid(String),
}

impl TrialStatus {
    fn code(&self) -> (&'static str, Option<&str>) {
        match self {
            TrialStatus::Pending => ("pending", None),
            TrialStatus::Ok => ("ok", None),
            TrialStatus::Failed(r) => ("failed", Some(r)),
            TrialStatus::Invalid(r) => ("invalid", Some(r)),
        }
    }

    fn from_code(code: &str, reason: Option<String>) -> Option<TrialStatus> {
        Some(match code {
            "pending" => TrialStatus::Pending,
            "ok" => TrialStatus::Ok,
            "failed" => TrialStatus::Failed(reason.unwrap_or_default()),
            "invalid" => TrialStatus::Invalid(reason.unwrap_or_default()),
            _ => return None,
        })
    }
}

/// One proposal and, once evaluated, its result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trial {
    /// Numbered from 0 in proposal order, as the contract numbers trials.
    pub id: u64,
    pub genotype: Vec<u32>,
    /// The architecture in the space's notation (empty if invalid).
    pub arch: String,
    /// `None`: the full budget.
    pub fidelity: Option<f64>,
    pub status: TrialStatus,
    /// Validation accuracy (0 unless ok).
    pub objective: f64,
    /// Seconds the evaluation took (simulated seconds for tables).
    pub cost: f64,
    /// Further measurements (params, flops, latency-ms, …).
    pub metrics: Vec<(String, f64)>,
    /// The trial whose result was reused for this repeated proposal.
    pub reused_from: Option<u64>,
    /// A relaxed proposal's weights (one vector per decision).
    pub relaxed: Option<Vec<Vec<f64>>>,
    /// For a relaxed proposal: the gradient of the validation loss with
    /// respect to its weights, as the strategy was told.
    pub gradient: Option<Vec<Vec<f64>>>,
}

/// A recorded strategy call, replayed on resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "lowercase")]
pub enum Call {
    /// `ask(n)` returned the trials `first .. first + count`.
    Ask { n: u32, first: u64, count: u64 },
    /// `tell` was given the results of these trials, in this order.
    Tell { trials: Vec<u64> },
}

/// An open run journal.
pub struct Journal {
    conn: Connection,
    path: String,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY,
    genotype TEXT NOT NULL,
    arch TEXT NOT NULL,
    fidelity REAL,
    status TEXT NOT NULL,
    reason TEXT,
    objective REAL NOT NULL DEFAULT 0,
    cost REAL NOT NULL DEFAULT 0,
    metrics TEXT NOT NULL DEFAULT '[]',
    reused_from INTEGER,
    finished_at REAL,
    relaxed TEXT,
    gradient TEXT
);
CREATE INDEX IF NOT EXISTS trials_by_genotype ON trials (genotype, fidelity);
CREATE TABLE IF NOT EXISTS calls (seq INTEGER PRIMARY KEY, call TEXT NOT NULL);
";

impl Journal {
    /// Creates a new journal; refuses a file that already exists, so one
    /// run never writes into another's.
    pub fn create(path: &Path) -> Result<Journal, JournalError> {
        Journal::create_with(path, &[])
    }

    /// Creates a new journal holding these manifest entries: schema and
    /// manifest in one commit, so a process killed while creating it
    /// leaves either a whole journal or one without tables, which
    /// [`Journal::unstarted`] recognises and this replaces.
    pub fn create_with(path: &Path, manifest: &[(&str, serde_json::Value)]) -> Result<Journal, JournalError> {
        if path.exists() {
            if !Journal::unstarted(path) {
                return Err(JournalError::Corrupt {
                    path: path.display().to_string(),
                    detail: "already exists: this folder holds a run (use `nasbox resume`, or another --out)".into(),
                });
            }
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        let mut j = Journal::open_raw(path)?;
        let p = j.path.clone();
        let e = |source| JournalError::Sqlite { path: p.clone(), source };
        let tx = j.conn.transaction().map_err(e)?;
        tx.execute_batch(SCHEMA).map_err(e)?;
        tx.execute_batch(jobs::SCHEMA).map_err(e)?;
        tx.execute("INSERT INTO manifest VALUES ('format', '1')", []).map_err(e)?;
        for (key, value) in manifest {
            tx.execute("INSERT OR REPLACE INTO manifest VALUES (?1, ?2)", params![key, value.to_string()]).map_err(e)?;
        }
        tx.commit().map_err(e)?;
        Ok(j)
    }

    /// Whether `path` is a journal whose creation never committed (the
    /// process was killed in its first moments): an SQLite file without
    /// tables, or an empty file.
    pub fn unstarted(path: &Path) -> bool {
        if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
            return true;
        }
        let Ok(conn) = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else { return false };
        conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).is_ok_and(|n| n == 0)
    }

    /// Opens an existing journal.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        if !path.exists() {
            return Err(JournalError::NotAJournal { path: path.display().to_string(), detail: "no such file".into() });
        }
        let j = Journal::open_raw(path)?;
        let format: Option<String> = j
            .conn
            .query_row("SELECT value FROM manifest WHERE key = 'format'", [], |r| r.get(0))
            .optional()
            .map_err(|e| JournalError::NotAJournal { path: j.path.clone(), detail: e.to_string() })?;
        if format.as_deref() != Some("1") {
            return Err(JournalError::NotAJournal { path: j.path.clone(), detail: format!("format {format:?}, expected 1") });
        }
        // Journals written before the Slurm executor have no jobs table,
        // and before the one-shot estimators no relaxed proposals.
        j.conn.execute_batch(jobs::SCHEMA).map_err(|e| j.err(e))?;
        let has_gradient: bool = j
            .conn
            .query_row("SELECT COUNT(*) FROM pragma_table_info('trials') WHERE name = 'gradient'", [], |r| r.get::<_, i64>(0))
            .map_err(|e| j.err(e))?
            > 0;
        if !has_gradient {
            j.conn.execute_batch("ALTER TABLE trials ADD COLUMN relaxed TEXT; ALTER TABLE trials ADD COLUMN gradient TEXT;").map_err(|e| j.err(e))?;
        }
        Ok(j)
    }

    fn open_raw(path: &Path) -> Result<Journal, JournalError> {
        let p = path.display().to_string();
        let conn = Connection::open(path).map_err(|source| JournalError::Sqlite { path: p.clone(), source })?;
        let j = Journal { conn, path: p };
        j.conn
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;")
            .map_err(|e| j.err(e))?;
        Ok(j)
    }

    fn err(&self, source: rusqlite::Error) -> JournalError {
        JournalError::Sqlite { path: self.path.clone(), source }
    }

    fn corrupt(&self, detail: String) -> JournalError {
        JournalError::Corrupt { path: self.path.clone(), detail }
    }

    /// Sets manifest entries (JSON values), all in one commit.
    pub fn set_manifest(&mut self, entries: &[(&str, serde_json::Value)]) -> Result<(), JournalError> {
        let tx = self.conn.transaction().map_err(|e| JournalError::Sqlite { path: self.path.clone(), source: e })?;
        for (k, v) in entries {
            tx.execute("INSERT OR REPLACE INTO manifest VALUES (?1, ?2)", params![k, v.to_string()])
                .map_err(|e| JournalError::Sqlite { path: self.path.clone(), source: e })?;
        }
        tx.commit().map_err(|e| JournalError::Sqlite { path: self.path.clone(), source: e })
    }

    /// A manifest entry.
    pub fn manifest(&self, key: &str) -> Result<Option<serde_json::Value>, JournalError> {
        let v: Option<String> =
            self.conn.query_row("SELECT value FROM manifest WHERE key = ?1", [key], |r| r.get(0)).optional().map_err(|e| self.err(e))?;
        v.map(|v| serde_json::from_str(&v).map_err(|e| self.corrupt(format!("manifest `{key}`: {e}")))).transpose()
    }

    /// Records an `ask` call and the trials it proposed, in one commit.
    /// A proposal is its genotype, its text, its fidelity and, for a
    /// relaxed one, its weights (with an empty genotype).
    pub fn record_ask(&mut self, n: u32, proposals: &[(Vec<u32>, String, Option<f64>, Option<Vec<Vec<f64>>>)]) -> Result<Vec<u64>, JournalError> {
        let first = self.trial_count()?;
        let path = self.path.clone();
        let e = |source| JournalError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(e)?;
        let mut ids = Vec::with_capacity(proposals.len());
        for (k, (genotype, arch, fidelity, relaxed)) in proposals.iter().enumerate() {
            let id = first + k as u64;
            let relaxed = relaxed.as_ref().map(|w| serde_json::to_string(w).expect("serialises"));
            tx.execute(
                "INSERT INTO trials (id, genotype, arch, fidelity, status, relaxed) VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
                params![id as i64, genotype_key(genotype), arch, fidelity, relaxed],
            )
            .map_err(e)?;
            ids.push(id);
        }
        let call = Call::Ask { n, first, count: proposals.len() as u64 };
        tx.execute("INSERT INTO calls (call) VALUES (?1)", [serde_json::to_string(&call).expect("serialises")]).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(ids)
    }

    /// Records finished trials and the `tell` that will report them, in
    /// one commit (before the strategy is told), with the run's elapsed
    /// seconds so far.
    pub fn record_results(&mut self, trials: &[Trial], elapsed: f64) -> Result<(), JournalError> {
        let path = self.path.clone();
        let e = |source| JournalError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(e)?;
        tx.execute("INSERT OR REPLACE INTO manifest VALUES ('elapsed', ?1)", [elapsed.to_string()]).map_err(e)?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        for t in trials {
            let (status, reason) = t.status.code();
            let metrics = serde_json::to_string(&t.metrics).expect("serialises");
            let gradient = t.gradient.as_ref().map(|g| serde_json::to_string(g).expect("serialises"));
            let changed = tx
                .execute(
                    "UPDATE trials SET status = ?2, reason = ?3, objective = ?4, cost = ?5, metrics = ?6, reused_from = ?7, finished_at = ?8, gradient = ?9 WHERE id = ?1 AND status = 'pending'",
                    params![t.id as i64, status, reason, t.objective, t.cost, metrics, t.reused_from.map(|r| r as i64), now, gradient],
                )
                .map_err(e)?;
            if changed != 1 {
                return Err(JournalError::Corrupt { path: path.clone(), detail: format!("trial {} is not pending", t.id) });
            }
        }
        let call = Call::Tell { trials: trials.iter().map(|t| t.id).collect() };
        tx.execute("INSERT INTO calls (call) VALUES (?1)", [serde_json::to_string(&call).expect("serialises")]).map_err(e)?;
        tx.commit().map_err(e)
    }

    /// Trials recorded so far. Ids run from 0 without gaps, so this is the
    /// largest id plus one: a lookup in the rowid index, where `COUNT(*)`
    /// would scan the table on every call of the search loop.
    pub fn trial_count(&self) -> Result<u64, JournalError> {
        self.conn.query_row("SELECT COALESCE(MAX(id) + 1, 0) FROM trials", [], |r| r.get::<_, i64>(0)).map(|n| n as u64).map_err(|e| self.err(e))
    }

    /// Every trial, in id order.
    pub fn trials(&self) -> Result<Vec<Trial>, JournalError> {
        self.select("ORDER BY id", [])
    }

    /// One trial.
    pub fn trial(&self, id: u64) -> Result<Trial, JournalError> {
        self.select("WHERE id = ?1", [id as i64])?.pop().ok_or_else(|| self.corrupt(format!("no trial {id}")))
    }

    fn select<P: rusqlite::Params>(&self, tail: &str, args: P) -> Result<Vec<Trial>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT id, genotype, arch, fidelity, status, reason, objective, cost, metrics, reused_from, relaxed, gradient FROM trials {tail}"))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(args, |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<f64>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, f64>(6)?,
                    r.get::<_, f64>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, Option<i64>>(9)?,
                    r.get::<_, Option<String>>(10)?,
                    r.get::<_, Option<String>>(11)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, genotype, arch, fidelity, status, reason, objective, cost, metrics, reused_from, relaxed, gradient) = row.map_err(|e| self.err(e))?;
            let genotype = parse_genotype_key(&genotype).ok_or_else(|| self.corrupt(format!("trial {id}: genotype `{genotype}`")))?;
            let status = TrialStatus::from_code(&status, reason).ok_or_else(|| self.corrupt(format!("trial {id}: status `{status}`")))?;
            let metrics = serde_json::from_str(&metrics).map_err(|e| self.corrupt(format!("trial {id}: metrics: {e}")))?;
            let vectors = |text: Option<String>, what: &str| {
                text.map(|t| serde_json::from_str::<Vec<Vec<f64>>>(&t).map_err(|e| self.corrupt(format!("trial {id}: {what}: {e}")))).transpose()
            };
            let relaxed = vectors(relaxed, "relaxed weights")?;
            let gradient = vectors(gradient, "gradient")?;
            out.push(Trial { id: id as u64, genotype, arch, fidelity, status, objective, cost, metrics, reused_from: reused_from.map(|r| r as u64), relaxed, gradient });
        }
        Ok(out)
    }

    /// The recorded calls, in order.
    pub fn calls(&self) -> Result<Vec<Call>, JournalError> {
        let mut stmt = self.conn.prepare("SELECT call FROM calls ORDER BY seq").map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let text = row.map_err(|e| self.err(e))?;
            out.push(serde_json::from_str(&text).map_err(|e| self.corrupt(format!("call `{text}`: {e}")))?);
        }
        Ok(out)
    }

    /// The earliest finished trial with this genotype and fidelity that
    /// completed, for answering repeated proposals without retraining.
    pub fn finished_like(&self, genotype: &[u32], fidelity: Option<f64>) -> Result<Option<u64>, JournalError> {
        self.conn
            .query_row(
                "SELECT id FROM trials WHERE genotype = ?1 AND fidelity IS ?2 AND status = 'ok' AND reused_from IS NULL ORDER BY id LIMIT 1",
                params![genotype_key(genotype), fidelity],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|o| o.map(|id| id as u64))
            .map_err(|e| self.err(e))
    }
}

/// Genotypes are stored as text (`3,1,0,4`), which also makes them
/// comparable in SQL.
fn genotype_key(genotype: &[u32]) -> String {
    genotype.iter().map(|g| g.to_string()).collect::<Vec<_>>().join(",")
}

fn parse_genotype_key(text: &str) -> Option<Vec<u32>> {
    if text.is_empty() {
        return Some(vec![]);
    }
    text.split(',').map(|g| g.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(id: u64, objective: f64) -> Trial {
        Trial {
            id,
            genotype: vec![id as u32, 1],
            arch: format!("a{id}"),
            fidelity: None,
            status: TrialStatus::Ok,
            objective,
            cost: 2.0,
            metrics: vec![("params".into(), 10.0)],
            reused_from: None,
            relaxed: None,
            gradient: (id == 1).then(|| vec![vec![0.5, -0.25], vec![1e-9]]),
        }
    }

    #[test]
    fn records_survive_reopening_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        {
            let mut j = Journal::create(&path).unwrap();
            j.set_manifest(&[("seed", serde_json::json!(7))]).unwrap();
            let ids = j.record_ask(2, &[(vec![0, 1], "a0".into(), None, None), (vec![1, 1], "a1".into(), Some(0.5), None)]).unwrap();
            assert_eq!(ids, vec![0, 1]);
            j.record_results(&[trial(1, 0.7)], 1.5).unwrap();
        }
        let j = Journal::open(&path).unwrap();
        assert_eq!(j.manifest("seed").unwrap(), Some(serde_json::json!(7)));
        assert_eq!(j.manifest("elapsed").unwrap(), Some(serde_json::json!(1.5)));
        assert_eq!(j.trial(1).unwrap().objective, 0.7);
        let trials = j.trials().unwrap();
        assert_eq!(trials[0].status, TrialStatus::Pending);
        assert_eq!(trials[1].objective, 0.7);
        assert_eq!(trials[1].metrics, vec![("params".to_string(), 10.0)]);
        assert_eq!(j.calls().unwrap(), vec![Call::Ask { n: 2, first: 0, count: 2 }, Call::Tell { trials: vec![1] }]);
        assert_eq!(j.finished_like(&[1, 1], Some(0.5)).unwrap(), Some(1));
        assert_eq!(j.finished_like(&[1, 1], None).unwrap(), None);
        assert_eq!(j.finished_like(&[0, 1], None).unwrap(), None);
        assert!(Journal::create(&path).unwrap_err().to_string().contains("already exists"));
    }

    #[test]
    fn a_result_for_a_finished_trial_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::create(&dir.path().join("j.sqlite")).unwrap();
        j.record_ask(1, &[(vec![0, 1], "a0".into(), None, None)]).unwrap();
        j.record_results(&[trial(0, 0.5)], 1.0).unwrap();
        assert!(j.record_results(&[trial(0, 0.6)], 2.0).unwrap_err().to_string().contains("not pending"));
        assert_eq!(j.trials().unwrap()[0].objective, 0.5);
    }

    #[test]
    fn other_files_are_not_journals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "hello").unwrap();
        let e = Journal::open(&path).err().unwrap().to_string();
        assert!(e.contains("notes.txt"), "{e}");
        assert!(Journal::open(&dir.path().join("absent")).err().unwrap().to_string().contains("no such file"));
    }
}
