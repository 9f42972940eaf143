//! The cluster jobs that ran each trial, so that a coordinator killed and
//! resumed re-attaches to jobs still queued or running instead of
//! submitting them again, and so that retries are counted across sessions.

use rusqlite::params;

use super::{Journal, JournalError};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    trial INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    job TEXT NOT NULL,
    submitted_at REAL NOT NULL,
    cancelled INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (trial, attempt)
);
";

/// One submission of a trial.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub trial: u64,
    /// 0 for the first submission, then one more per retry.
    pub attempt: u32,
    /// The scheduler's job id.
    pub job: String,
    /// Unix time of the submission.
    pub submitted_at: f64,
    /// nasbox cancelled it (Ctrl-C, the end of the budget): on resume the
    /// trial is submitted again rather than counted as lost.
    pub cancelled: bool,
}

impl Journal {
    /// Records a submission; committed before the caller goes on, so a
    /// coordinator killed right after still knows the job.
    pub fn record_job(&mut self, record: &JobRecord) -> Result<(), JournalError> {
        self.conn
            .execute(
                "INSERT INTO jobs (trial, attempt, job, submitted_at, cancelled) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![record.trial as i64, record.attempt, record.job, record.submitted_at, record.cancelled],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Marks the jobs nasbox cancelled.
    pub fn mark_jobs_cancelled(&mut self, jobs: &[String]) -> Result<(), JournalError> {
        let tx = self.conn.transaction().map_err(|e| JournalError::Sqlite { path: self.path.clone(), source: e })?;
        for job in jobs {
            tx.execute("UPDATE jobs SET cancelled = 1 WHERE job = ?1", params![job])
                .map_err(|e| JournalError::Sqlite { path: self.path.clone(), source: e })?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// A trial's submissions, the first first.
    pub fn jobs_of(&self, trial: u64) -> Result<Vec<JobRecord>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT trial, attempt, job, submitted_at, cancelled FROM jobs WHERE trial = ?1 ORDER BY attempt")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![trial as i64], |r| {
                Ok(JobRecord { trial: r.get::<_, i64>(0)? as u64, attempt: r.get(1)?, job: r.get(2)?, submitted_at: r.get(3)?, cancelled: r.get(4)? })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_survive_reopening_and_cancellation_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        let mut j = Journal::create(&path).unwrap();
        let first = JobRecord { trial: 3, attempt: 0, job: "41".into(), submitted_at: 1.5, cancelled: false };
        j.record_job(&first).unwrap();
        j.record_job(&JobRecord { attempt: 1, job: "42".into(), ..first.clone() }).unwrap();
        assert!(j.record_job(&first).is_err(), "an attempt is recorded once");
        j.mark_jobs_cancelled(&["42".into()]).unwrap();
        drop(j);
        let j = Journal::open(&path).unwrap();
        let jobs = j.jobs_of(3).unwrap();
        assert_eq!(jobs.iter().map(|r| (r.attempt, r.job.as_str(), r.cancelled)).collect::<Vec<_>>(), vec![(0, "41", false), (1, "42", true)]);
        assert!(j.jobs_of(4).unwrap().is_empty());
    }
}
