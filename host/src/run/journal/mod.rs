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
mod read_only;

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
    /// The status's name (`pending`, `ok`, `failed`, `invalid`) and reason.
    pub fn code(&self) -> (&'static str, Option<&str>) {
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

#[cfg(test)]
impl Trial {
    /// A successful trial for unit tests (genotype `[id]`, architecture
    /// `a{id}`, objective 0.5, one second, no metrics): each test changes
    /// what it is about with `Trial { .., ..Trial::example(id) }`.
    pub fn example(id: u64) -> Trial {
        Trial {
            id,
            genotype: vec![id as u32],
            arch: format!("a{id}"),
            fidelity: None,
            status: TrialStatus::Ok,
            objective: 0.5,
            cost: 1.0,
            metrics: vec![],
            reused_from: None,
            relaxed: None,
            gradient: None,
        }
    }
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

/// One proposal of an `ask`, as the journal records it before it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Asked {
    /// The decisions; empty for a relaxed proposal.
    pub genotype: Vec<u32>,
    /// The architecture as text (a relaxed proposal's summary).
    pub arch: String,
    /// The fidelity asked for, if the strategy asked for one.
    pub fidelity: Option<f64>,
    /// A relaxed proposal's weights, kept so a resume can hand them back.
    pub relaxed: Option<Vec<Vec<f64>>>,
}

impl Asked {
    /// A discrete architecture.
    pub fn genotype(genotype: Vec<u32>, arch: impl Into<String>, fidelity: Option<f64>) -> Asked {
        Asked { genotype, arch: arch.into(), fidelity, relaxed: None }
    }
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
    /// process was killed in its first moments): an empty file, or an
    /// SQLite file of at most one page without tables. A journal that
    /// committed has a page per table, so a damaged one whose schema
    /// reads as empty is not taken for unstarted (and replaced).
    pub fn unstarted(path: &Path) -> bool {
        if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
            return true;
        }
        let Ok(conn) = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else { return false };
        let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).ok();
        count("SELECT COUNT(*) FROM sqlite_master") == Some(0) && count("PRAGMA page_count").is_some_and(|n| n <= 1)
    }

    /// Opens an existing journal. Everything is read and checked before
    /// anything is written, so a file that is not a journal, or a damaged
    /// one, is left exactly as it was.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        if !path.exists() {
            return Err(JournalError::NotAJournal { path: path.display().to_string(), detail: "no such file".into() });
        }
        let j = Journal::connect(path)?;
        let format: Option<String> =
            j.conn.query_row("SELECT value FROM manifest WHERE key = 'format'", [], |r| r.get(0)).optional().map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::DatabaseCorrupt) => j.damaged(e.to_string()),
                _ => JournalError::NotAJournal { path: j.path.clone(), detail: e.to_string() },
            })?;
        if format.as_deref() != Some("1") {
            return Err(JournalError::NotAJournal { path: j.path.clone(), detail: format!("format {format:?}, expected 1") });
        }
        j.check_intact()?;
        j.settings()?;
        // Journals written before the Slurm executor have no jobs table,
        // and before the one-shot estimators no relaxed proposals.
        j.conn.execute_batch(jobs::SCHEMA).map_err(|e| j.err(e))?;
        let has_gradient: bool =
            j.conn.query_row("SELECT COUNT(*) FROM pragma_table_info('trials') WHERE name = 'gradient'", [], |r| r.get::<_, i64>(0)).map_err(|e| j.err(e))? > 0;
        if !has_gradient {
            j.conn.execute_batch("ALTER TABLE trials ADD COLUMN relaxed TEXT; ALTER TABLE trials ADD COLUMN gradient TEXT;").map_err(|e| j.err(e))?;
        }
        Ok(j)
    }

    /// Refuses a journal whose tables are missing or whose pages SQLite
    /// finds damaged, before a resumed run writes into it.
    fn check_intact(&self) -> Result<(), JournalError> {
        let damaged = |what: String| self.damaged(what);
        for table in ["manifest", "trials", "calls"] {
            let n: i64 = self
                .conn
                .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", [table], |r| r.get(0))
                .map_err(|e| damaged(e.to_string()))?;
            if n == 0 {
                return Err(damaged(format!("its `{table}` table is missing")));
            }
        }
        let mut stmt = self.conn.prepare("PRAGMA quick_check(5)").map_err(|e| damaged(e.to_string()))?;
        let report = stmt.query_map([], |r| r.get::<_, String>(0)).and_then(|rows| rows.collect::<Result<Vec<_>, _>>()).map_err(|e| damaged(e.to_string()))?;
        if report != ["ok"] {
            return Err(damaged(format!("SQLite's check: {}", report.join("; ").replace('\n', " "))));
        }
        Ok(())
    }

    /// A connection that has written nothing yet.
    fn connect(path: &Path) -> Result<Journal, JournalError> {
        let p = path.display().to_string();
        let conn = Connection::open(path).map_err(|source| JournalError::Sqlite { path: p.clone(), source })?;
        let j = Journal { conn, path: p };
        j.conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(|e| j.err(e))?;
        Ok(j)
    }

    /// WAL mode (a write, for a file not yet in it) and its durability.
    fn settings(&self) -> Result<(), JournalError> {
        self.conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;").map_err(|e| self.err(e))
    }

    fn open_raw(path: &Path) -> Result<Journal, JournalError> {
        let j = Journal::connect(path)?;
        j.settings()?;
        Ok(j)
    }

    fn err(&self, source: rusqlite::Error) -> JournalError {
        JournalError::Sqlite { path: self.path.clone(), source }
    }

    /// A journal SQLite finds damaged, refused before anything is written.
    fn damaged(&self, what: String) -> JournalError {
        self.corrupt(format!("the journal is damaged ({what}); it was left as it is (`sqlite3 FILE .recover` may save its trials)"))
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
        let v: Option<String> = self.conn.query_row("SELECT value FROM manifest WHERE key = ?1", [key], |r| r.get(0)).optional().map_err(|e| self.err(e))?;
        let value: Option<serde_json::Value> = v.map(|v| serde_json::from_str(&v).map_err(|e| self.corrupt(format!("manifest `{key}`: {e}")))).transpose()?;
        // The journal writes `elapsed` itself: seconds a resumed run adds to.
        if key == "elapsed" {
            if let Some(v) = &value {
                if !v.as_f64().is_some_and(|s| (0.0..1e12).contains(&s)) {
                    return Err(self.corrupt(format!("manifest `elapsed`: {v} is not a number of seconds")));
                }
            }
        }
        Ok(value)
    }

    /// Records an `ask` call and the trials it proposed, in one commit.
    pub fn record_ask(&mut self, n: u32, proposals: &[Asked]) -> Result<Vec<u64>, JournalError> {
        let first = self.trial_count()?;
        let path = self.path.clone();
        let e = |source| JournalError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(e)?;
        let mut ids = Vec::with_capacity(proposals.len());
        for (k, Asked { genotype, arch, fidelity, relaxed }) in proposals.iter().enumerate() {
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

    /// Every trial, in id order; ids run from 0 without gaps (a trial's
    /// id is its index).
    pub fn trials(&self) -> Result<Vec<Trial>, JournalError> {
        let trials = self.select("ORDER BY id", [])?;
        if let Some((i, t)) = trials.iter().enumerate().find(|(i, t)| t.id != *i as u64) {
            return Err(self.corrupt(format!("trial {i} is missing (the next one recorded is {}): the journal is damaged", t.id as i64)));
        }
        Ok(trials)
    }

    /// One trial.
    pub fn trial(&self, id: u64) -> Result<Trial, JournalError> {
        self.select("WHERE id = ?1", [id as i64])?.pop().ok_or_else(|| self.corrupt(format!("no trial {id}")))
    }

    fn select<P: rusqlite::Params>(&self, tail: &str, args: P) -> Result<Vec<Trial>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, genotype, arch, fidelity, status, reason, objective, cost, metrics, reused_from, relaxed, gradient FROM trials {tail}"
            ))
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
            out.push(Trial {
                id: id as u64,
                genotype,
                arch,
                fidelity,
                status,
                objective,
                cost,
                metrics,
                reused_from: reused_from.map(|r| r as u64),
                relaxed,
                gradient,
            });
        }
        Ok(out)
    }

    /// The recorded calls, in order; each refers to recorded trials only.
    pub fn calls(&self) -> Result<Vec<Call>, JournalError> {
        let trials = self.trial_count()?;
        let mut stmt = self.conn.prepare("SELECT call FROM calls ORDER BY seq").map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let text = row.map_err(|e| self.err(e))?;
            let call: Call = serde_json::from_str(&text).map_err(|e| self.corrupt(format!("call `{text}`: {e}")))?;
            let beyond = match &call {
                Call::Ask { first, count, .. } => first.checked_add(*count).is_none_or(|end| end > trials),
                Call::Tell { trials: ids } => ids.iter().any(|&id| id >= trials),
            };
            if beyond {
                return Err(self.corrupt(format!("call `{text}` refers to trials the journal does not hold (it has {trials}): the journal is damaged")));
            }
            out.push(call);
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
            genotype: vec![id as u32, 1],
            objective,
            cost: 2.0,
            metrics: vec![("params".into(), 10.0)],
            gradient: (id == 1).then(|| vec![vec![0.5, -0.25], vec![1e-9]]),
            ..Trial::example(id)
        }
    }

    #[test]
    fn records_survive_reopening_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        {
            let mut j = Journal::create(&path).unwrap();
            j.set_manifest(&[("seed", serde_json::json!(7))]).unwrap();
            let ids = j.record_ask(2, &[Asked::genotype(vec![0, 1], "a0", None), Asked::genotype(vec![1, 1], "a1", Some(0.5))]).unwrap();
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
        j.record_ask(1, &[Asked::genotype(vec![0, 1], "a0", None)]).unwrap();
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

/// Damaged journals, fuzzed (issue 13): the file cut short, bytes and
/// whole pages overwritten, B-tree headers flipped, tables dropped, rows
/// deleted, and the write-ahead log of a killed run torn at its end.
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::fuzz::{apply, config, edits, Edit};
    use proptest::prelude::*;
    use std::path::PathBuf;
    use std::sync::OnceLock;

    /// Cases per run (docs/src/reference/bad-input.md).
    pub const DAMAGED: u32 = 192;
    pub const TORN_LOG: u32 = 48;

    const PAGE: usize = 4096;

    /// `n` trials, a few proposed two per `ask`, all finished but the last
    /// (which is in flight).
    fn record(j: &mut Journal, first: u64, n: u64) {
        for id in first..first + n {
            let g = vec![(id % 5) as u32, (id / 5 % 5) as u32, 3, 1];
            j.record_ask(1, &[Asked::genotype(g.clone(), format!("arch-{id}-{}", "x".repeat(40)), (id % 3 == 0).then_some(0.5))]).unwrap();
            if id + 1 < first + n {
                let t = Trial {
                    id,
                    genotype: g,
                    arch: String::new(),
                    fidelity: None,
                    status: if id % 7 == 3 { TrialStatus::Failed("diverged".into()) } else { TrialStatus::Ok },
                    objective: id as f64 / 100.0,
                    cost: 1.5,
                    metrics: vec![("params".into(), 1000.0 + id as f64), ("flops".into(), 2e6)],
                    reused_from: None,
                    relaxed: None,
                    gradient: None,
                };
                j.record_results(&[t], id as f64).unwrap();
            }
        }
    }

    fn create(path: &Path) -> Journal {
        Journal::create_with(path, &[("config", serde_json::json!({"space": "nb201", "seed": 3})), ("elapsed", serde_json::json!(0.0))]).unwrap()
    }

    /// A closed journal of 80 trials (several pages), as bytes, and its trials.
    fn template() -> &'static (Vec<u8>, Vec<Trial>) {
        static T: OnceLock<(Vec<u8>, Vec<Trial>)> = OnceLock::new();
        T.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("journal.sqlite");
            let mut j = create(&path);
            record(&mut j, 0, 80);
            let trials = j.trials().unwrap();
            drop(j);
            assert!(!path.with_extension("sqlite-wal").exists(), "closed: everything in the main file");
            (std::fs::read(&path).unwrap(), trials)
        })
    }

    /// Damage of the kinds disks, copies and people inflict.
    #[derive(Debug, Clone)]
    enum Damage {
        Bytes(Vec<Edit>),
        /// A page overwritten with zeros, or with garbage.
        Page(prop::sample::Index, Option<u8>),
        /// A page left out (the file shifts).
        DropPage(prop::sample::Index),
        /// Cut at a page boundary.
        CutAtPage(prop::sample::Index),
        /// A byte of the database header (the first 100 bytes) changed.
        FileHeader(u8, u8),
        /// A byte of a page's B-tree header changed.
        PageHeader(prop::sample::Index, u8, u8),
    }

    fn damage() -> impl Strategy<Value = Damage> {
        use prop::sample::Index;
        prop_oneof![
            3 => edits().prop_map(Damage::Bytes),
            1 => (any::<Index>(), any::<Option<u8>>()).prop_map(|(i, b)| Damage::Page(i, b)),
            1 => any::<Index>().prop_map(Damage::DropPage),
            1 => any::<Index>().prop_map(Damage::CutAtPage),
            1 => (0u8..100, 1u8..=255).prop_map(|(at, x)| Damage::FileHeader(at, x)),
            2 => (any::<Index>(), 0u8..12, 1u8..=255).prop_map(|(i, at, x)| Damage::PageHeader(i, at, x)),
        ]
    }

    fn inflict(bytes: &[u8], damage: &[Damage]) -> Vec<u8> {
        let mut b = bytes.to_vec();
        for d in damage {
            let pages = b.len().div_ceil(PAGE).max(1);
            let page = |i: &prop::sample::Index| i.index(pages) * PAGE;
            match d {
                Damage::Bytes(edits) => b = apply(b, edits),
                Damage::Page(i, fill) => {
                    let at = page(i).min(b.len());
                    let end = (at + PAGE).min(b.len());
                    for (k, x) in b[at..end].iter_mut().enumerate() {
                        *x = fill.map_or(0, |f| f.wrapping_mul(k as u8 | 1));
                    }
                }
                Damage::DropPage(i) => {
                    let at = page(i).min(b.len());
                    b.drain(at..(at + PAGE).min(b.len()));
                }
                Damage::CutAtPage(i) => b.truncate(page(i)),
                Damage::FileHeader(at, x) => {
                    if let Some(v) = b.get_mut(*at as usize) {
                        *v ^= x;
                    }
                }
                Damage::PageHeader(i, at, x) => {
                    // Page 1's B-tree header follows the 100-byte file header.
                    let base = page(i);
                    let at = base + if base == 0 { 100 } else { 0 } + *at as usize;
                    if let Some(v) = b.get_mut(at) {
                        *v ^= x;
                    }
                }
            }
        }
        b
    }

    /// What `resume`, `results` and `report` read of a journal.
    fn read_all(path: &Path) -> Result<(Vec<Trial>, Vec<Call>), JournalError> {
        let j = Journal::open(path)?;
        j.manifest("config")?;
        j.manifest("elapsed")?;
        Ok((j.trials()?, j.calls()?))
    }

    fn sidecars(path: &Path) -> Vec<PathBuf> {
        ["-wal", "-shm"].iter().map(|s| PathBuf::from(format!("{}{s}", path.display()))).filter(|p| p.exists()).collect()
    }

    proptest! {
        #![proptest_config(config(DAMAGED))]
        #[test]
        fn a_damaged_journal_is_refused_naming_it_and_left_as_it_was(damage in prop::collection::vec(damage(), 1..3)) {
            let (bytes, _) = template();
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("journal.sqlite");
            let damaged = inflict(bytes, &damage);
            std::fs::write(&path, &damaged).unwrap();
            match Journal::open(&path) {
                // Refused, naming the file, with the file untouched...
                Err(e) => {
                    prop_assert!(e.to_string().starts_with(&format!("{}: ", path.display())), "{}", e);
                    prop_assert!(std::fs::read(&path).unwrap() == damaged, "a refused journal was written to: {}", e);
                    prop_assert!(sidecars(&path).is_empty(), "left {:?}", sidecars(&path));
                }
                Ok(j) => match (|| Ok::<_, JournalError>((j.manifest("config")?, j.manifest("elapsed")?, j.trials()?, j.calls()?)))() {
                    // ...or read back consistently: ids are indices, calls refer to them...
                    Ok((_, _, trials, calls)) => {
                        prop_assert!(trials.iter().enumerate().all(|(i, t)| t.id == i as u64));
                        let within = |c: &Call| match c {
                            Call::Ask { first, count, .. } => first + count <= trials.len() as u64,
                            Call::Tell { trials: ids } => ids.iter().all(|&id| id < trials.len() as u64),
                        };
                        prop_assert!(calls.iter().all(within), "{:?}", calls);
                    }
                    // ...or what does not add up named, with the file.
                    Err(e) => prop_assert!(e.to_string().starts_with(&format!("{}: ", path.display())), "{}", e),
                },
            }
            // A new search never takes a journal with trials for an unstarted one (and replaces it).
            prop_assert!(!Journal::unstarted(&path) || damaged.len() <= PAGE, "{} bytes taken for unstarted", damaged.len());
        }
    }

    /// A run killed with trials in the write-ahead log, copied as it was.
    struct KilledRun {
        main: Vec<u8>,
        wal: Vec<u8>,
        /// Every trial, as the killed run had them.
        trials: Vec<Trial>,
        /// The trials the main file holds without the log.
        checkpointed: usize,
    }

    /// A run killed with trials in the write-ahead log: the main file and
    /// the log, copied as they were, then the log torn or scribbled at its end.
    fn killed_run() -> &'static KilledRun {
        static K: OnceLock<KilledRun> = OnceLock::new();
        K.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("journal.sqlite");
            let mut j = create(&path);
            record(&mut j, 0, 30);
            drop(j);
            let checkpointed = 29; // the last was in flight
            let mut j = Journal::open(&path).unwrap();
            j.conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
            // The in-flight trial finishes, then more: all only in the log.
            let mut t = j.trial(29).unwrap();
            t.status = TrialStatus::Ok;
            j.record_results(&[t], 30.0).unwrap();
            record(&mut j, 30, 12);
            let trials = j.trials().unwrap();
            let main = std::fs::read(&path).unwrap();
            let wal = std::fs::read(format!("{}-wal", path.display())).unwrap();
            assert!(wal.len() > 10 * PAGE, "the log holds the later trials ({} bytes)", wal.len());
            std::mem::forget(j); // killed: no checkpoint
            KilledRun { main, wal, trials, checkpointed }
        })
    }

    proptest! {
        #![proptest_config(config(TORN_LOG))]
        #[test]
        fn a_torn_log_loses_at_most_its_tail(cut in any::<prop::sample::Index>(), scribble in prop::option::of(edits())) {
            let KilledRun { main, wal, trials: all, checkpointed } = killed_run();
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("journal.sqlite");
            std::fs::write(&path, main).unwrap();
            // Torn at a random point in its second half, and maybe scribbled on there.
            let keep = wal.len() / 2 + cut.index(wal.len() / 2);
            let (head, tail) = wal.split_at(keep);
            let tail = scribble.map_or_else(Vec::new, |e| apply(tail[..tail.len().min(3 * PAGE)].to_vec(), &e));
            std::fs::write(format!("{}-wal", path.display()), [head, &tail[..]].concat()).unwrap();
            let (trials, _) = read_all(&path).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(trials.len() >= *checkpointed && trials.len() <= all.len(), "{} trials", trials.len());
            for (t, original) in trials.iter().zip(all) {
                // A trial is as it was, or as it was before its result was committed.
                let pending = Trial { status: TrialStatus::Pending, objective: 0.0, cost: 0.0, metrics: vec![], ..original.clone() };
                prop_assert!(t == original || *t == pending, "trial {}: {:?} vs {:?}", t.id, t, original);
            }
            for t in &all[..*checkpointed] {
                prop_assert_eq!(&trials[t.id as usize], t, "a checkpointed trial changed");
            }
        }
    }

    /// The template with `sql` run on it.
    fn altered(dir: &Path, sql: &str) -> PathBuf {
        let path = dir.join("journal.sqlite");
        std::fs::write(&path, &template().0).unwrap();
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(sql).unwrap();
        drop(conn);
        path
    }

    #[test]
    fn every_page_zeroed_is_refused_up_front_or_harmless() {
        // SQLite's check at open finds a damaged page before a resumed run
        // writes into the file; only damage that loses nothing opens.
        let (bytes, trials) = template();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        let mut refused = 0;
        for page in 0..bytes.len() / PAGE {
            let mut damaged = bytes.clone();
            damaged[page * PAGE..(page + 1) * PAGE].fill(0);
            std::fs::write(&path, &damaged).unwrap();
            match Journal::open(&path) {
                Err(e) => {
                    refused += 1;
                    assert!(e.to_string().starts_with(&format!("{}: ", path.display())), "page {page}: {e}");
                    assert!(std::fs::read(&path).unwrap() == damaged, "page {page}: written to");
                }
                Ok(j) => {
                    assert_eq!(&j.trials().unwrap(), trials, "page {page}");
                    assert_eq!(j.calls().unwrap().len(), 159, "page {page}");
                }
            }
        }
        assert!(refused >= bytes.len() / PAGE - 2, "{refused} of {} pages", bytes.len() / PAGE);
    }

    #[test]
    fn a_journal_cut_short_is_called_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        let cut = &template().0[..5 * PAGE + 1000];
        std::fs::write(&path, cut).unwrap();
        let e = Journal::open(&path).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}: the journal is damaged (", path.display())), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), cut);
    }

    #[test]
    fn a_dropped_table_is_named_and_the_file_left_as_it_was() {
        for table in ["manifest", "trials", "calls"] {
            let dir = tempfile::tempdir().unwrap();
            let path = altered(dir.path(), &format!("DROP TABLE {table}"));
            let before = std::fs::read(&path).unwrap();
            let e = Journal::open(&path).unwrap_err().to_string();
            assert!(e.starts_with(&path.display().to_string()), "{e}");
            let why =
                if table == "manifest" { "not a nasbox run journal (no such table: manifest)".to_string() } else { format!("its `{table}` table is missing") };
            assert!(e.contains(&why), "{e}");
            assert_eq!(std::fs::read(&path).unwrap(), before, "{table}");
        }
        // Journals from before the Slurm executor have no jobs table: not damage.
        let dir = tempfile::tempdir().unwrap();
        let path = altered(dir.path(), "DROP TABLE jobs");
        assert_eq!(Journal::open(&path).unwrap().trials().unwrap(), template().1);
    }

    #[test]
    fn rows_that_do_not_add_up_are_refused() {
        // Regressions: resume indexed the trials by the ids calls hold, and
        // turned the recorded elapsed seconds into a Duration: a missing
        // trial or a bad number was a panic there.
        let dir = tempfile::tempdir().unwrap();
        let e = read_all(&altered(dir.path(), "DELETE FROM trials WHERE id = 3")).unwrap_err().to_string();
        assert!(e.contains("journal.sqlite: trial 3 is missing (the next one recorded is 4)"), "{e}");
        let e = read_all(&altered(dir.path(), "UPDATE trials SET id = -1 WHERE id = 0")).unwrap_err().to_string();
        assert!(e.contains("trial 0 is missing (the next one recorded is -1)"), "{e}");
        let e = read_all(&altered(dir.path(), "DELETE FROM trials WHERE id >= 60")).unwrap_err().to_string();
        assert!(
            e.contains("journal.sqlite: call `{\"call\":\"ask\",\"n\":1,\"first\":60,\"count\":1}` refers to trials the journal does not hold (it has 60)"),
            "{e}"
        );
        let e = read_all(&altered(dir.path(), "INSERT INTO calls (call) VALUES ('{\"call\":\"tell\",\"trials\":[80]}')")).unwrap_err().to_string();
        assert!(e.contains("refers to trials the journal does not hold (it has 80)"), "{e}");
        for bad in ["-5", "1e300", "\"soon\""] {
            let e = read_all(&altered(dir.path(), &format!("UPDATE manifest SET value = '{bad}' WHERE key = 'elapsed'"))).unwrap_err().to_string();
            assert!(e.contains("journal.sqlite: manifest `elapsed`: ") && e.contains("is not a number of seconds"), "{e}");
        }
    }

    #[test]
    fn a_damaged_schema_page_is_not_taken_for_an_unstarted_run() {
        // Regression: with the cell count of page 1 (the schema) zeroed,
        // the schema read as empty, and a new search in the same folder
        // deleted the journal as one whose creation never committed.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        let mut bytes = template().0.clone();
        bytes[103] = 0;
        bytes[104] = 0;
        std::fs::write(&path, &bytes).unwrap();
        let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        assert_eq!(conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).unwrap(), 0, "the schema reads as empty");
        drop(conn);
        assert!(!Journal::unstarted(&path));
        let e = Journal::open(&path).unwrap_err().to_string();
        assert!(e.contains("journal.sqlite: not a nasbox run journal"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        // What a kill during creation leaves is still recognised.
        let fresh = dir.path().join("fresh.sqlite");
        let conn = Connection::open(&fresh).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL;").unwrap();
        drop(conn);
        assert!(Journal::unstarted(&fresh));
    }

    #[test]
    fn another_programs_database_is_refused_and_not_converted() {
        // Regression: opening switched the file to WAL mode (rewriting its
        // header) before finding that it is not a journal.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');").unwrap();
        drop(conn);
        let before = std::fs::read(&path).unwrap();
        let e = Journal::open(&path).unwrap_err().to_string();
        assert!(e.contains("notes.db: not a nasbox run journal (no such table: manifest)"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "the file was written to");
        assert!(sidecars(&path).is_empty());
    }
}
