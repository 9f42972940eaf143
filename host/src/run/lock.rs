//! One process per run folder.
//!
//! Two processes writing one journal (a second `resume` by a user who thinks
//! the search died, a restarted Slurm login node) would interleave trials and
//! calls that the replay can no longer make sense of. So whoever writes a run
//! holds an OS lock on `RUN/lock` (`flock`), which the kernel releases when
//! the holder exits or is killed: a `kill -9` never leaves a stale lock.
//! The file also says who holds it, for the refusal's message. Readers
//! (`results`, `report`) never take it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};

/// The lock file's name inside a run folder.
pub const LOCK: &str = "lock";

/// A held run lock; released when dropped.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Takes the lock of the run in `dir`, or fails naming the process that
    /// holds it.
    pub fn acquire(dir: &Path) -> anyhow::Result<RunLock> {
        let path = dir.join(LOCK);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("opening the run lock {}", path.display()))?;
        if !try_lock(&file).with_context(|| format!("locking {}", path.display()))? {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            bail!("{} is in use by {}: wait for it to end, or stop it first", dir.display(), describe(&holder));
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{} {now}", std::process::id())?;
        file.flush()?;
        Ok(RunLock { _file: file })
    }
}

#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a file descriptor we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// "process 1234 (since 2026-11-29 13:50:02 UTC)", from the lock file's text.
fn describe(holder: &str) -> String {
    let mut parts = holder.split_whitespace();
    match (parts.next().and_then(|p| p.parse::<u32>().ok()), parts.next().and_then(|t| t.parse::<u64>().ok())) {
        (Some(pid), Some(since)) => format!("process {pid} (since {})", utc(since)),
        (Some(pid), None) => format!("process {pid}"),
        _ => "another process".to_string(),
    }
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC` (civil-from-days,
/// after Howard Hinnant's algorithm).
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem / 60 % 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path()).unwrap();
        // flock locks belong to the open file description, so a second open
        // in this process is refused as another process would be.
        let e = RunLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(e.contains(&format!("is in use by process {}", std::process::id())), "{e}");
        assert!(e.contains(" UTC)"), "{e}");
        drop(first);
        RunLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn times_read_as_calendar_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_798_552_202), "2026-12-29 13:50:02 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
    }
}
