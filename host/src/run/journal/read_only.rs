//! Reading a journal without touching its folder, for watchers (`nasbox
//! serve`) that look at runs another process may be writing.
//!
//! SQLite's read-only mode is not enough on its own: opening a WAL
//! database creates its `-wal` and `-shm` files when they are missing, and
//! a read-only connection never removes them again. A run whose writer
//! has closed has neither (the last writer checkpoints and deletes them),
//! so such a journal is opened `immutable`: read as a plain file, no
//! locks, no side files. A run being written has both, and is opened
//! read-only through them: a WAL reader never blocks the writer, and sees
//! each commit whole.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::{Journal, JournalError, Trial};

impl Journal {
    /// Opens a journal for reading only; nothing in its folder is created
    /// or changed. Only [`Journal::manifest`], [`Journal::trials`],
    /// [`Journal::trial_count`] and [`Journal::calls`] make sense on it.
    pub fn open_read_only(path: &Path) -> Result<Journal, JournalError> {
        let p = path.display().to_string();
        if !path.is_file() {
            return Err(JournalError::NotAJournal { path: p, detail: "no such file".into() });
        }
        let side = |suffix: &str| Path::new(&format!("{p}{suffix}")).exists();
        // Whether a writer may have commits in the log that the main file
        // lacks: then read through the log (its files exist, none is made).
        let live = side("-wal") && side("-shm");
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let uri = format!("file:{}{}", uri_path(path), if live { "" } else { "?immutable=1" });
        let conn = Connection::open_with_flags(&uri, flags).map_err(|source| JournalError::Sqlite { path: p.clone(), source })?;
        let j = Journal { conn, path: p };
        j.conn.busy_timeout(std::time::Duration::from_secs(2)).map_err(|e| j.err(e))?;
        let format: Option<String> = j
            .conn
            .query_row("SELECT value FROM manifest WHERE key = 'format'", [], |r| r.get(0))
            .optional()
            .map_err(|e| JournalError::NotAJournal { path: j.path.clone(), detail: e.to_string() })?;
        if format.as_deref() != Some("1") {
            return Err(JournalError::NotAJournal { path: j.path.clone(), detail: format!("format {format:?}, expected 1") });
        }
        Ok(j)
    }

    /// The trials from id `first` on, in id order: what a watcher reads
    /// again when it already holds the earlier ones.
    pub fn trials_from(&self, first: u64) -> Result<Vec<Trial>, JournalError> {
        let trials = self.select("WHERE id >= ?1 ORDER BY id", [first as i64])?;
        if let Some((i, t)) = trials.iter().enumerate().find(|(i, t)| t.id != first + *i as u64) {
            return Err(self.corrupt(format!("trial {} is missing (the next one recorded is {}): the journal is damaged", first + i as u64, t.id)));
        }
        Ok(trials)
    }
}

/// A file path as the path of an SQLite URI: `%`, `?` and `#` escaped.
fn uri_path(path: &Path) -> String {
    let text = path.display().to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::journal::Asked;

    fn record(j: &mut Journal, id: u64) {
        j.record_ask(1, &[Asked::genotype(vec![id as u32], format!("a{id}"), None)]).unwrap();
        j.record_results(&[Trial::example(id)], 1.0).unwrap();
    }

    fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
            .collect();
        files.sort();
        files
    }

    #[test]
    fn a_closed_journal_is_read_without_a_file_made_or_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("odd ?#% name.sqlite");
        let mut j = Journal::create(&path).unwrap();
        for id in 0..3 {
            record(&mut j, id);
        }
        drop(j);
        let before = listing(dir.path());
        assert_eq!(before.len(), 1, "the writer left only its journal");
        let r = Journal::open_read_only(&path).unwrap();
        assert_eq!(r.trials().unwrap().len(), 3);
        drop(r);
        assert_eq!(listing(dir.path()), before);
    }

    #[test]
    fn a_journal_being_written_is_read_up_to_its_last_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        let mut j = Journal::create(&path).unwrap();
        record(&mut j, 0);
        let r = Journal::open_read_only(&path).unwrap();
        assert_eq!(r.trial_count().unwrap(), 1);
        // The reader holds its connection while the writer goes on.
        record(&mut j, 1);
        assert_eq!(r.trial_count().unwrap(), 2);
        assert_eq!(Journal::open_read_only(&path).unwrap().trials().unwrap().len(), 2);
        assert_eq!(r.trials_from(1).unwrap().iter().map(|t| t.id).collect::<Vec<_>>(), [1]);
        assert!(r.trials_from(5).unwrap().is_empty());
        drop(r);
        drop(j);
        assert_eq!(listing(dir.path()).len(), 1, "the writer, last to close, removed its side files");
    }

    #[test]
    fn what_is_not_a_journal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Journal::open_read_only(&dir.path().join("none.sqlite")).is_err());
        let junk = dir.path().join("junk.sqlite");
        std::fs::write(&junk, b"hello").unwrap();
        assert!(Journal::open_read_only(&junk).is_err());
        assert_eq!(std::fs::read(&junk).unwrap(), b"hello");
    }
}
