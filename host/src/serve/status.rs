//! Whether a run is being written now, found without touching its lock:
//! taking even a shared `flock` on `RUN/lock` could make a `resume`
//! starting that moment refuse. The kernel's table of locks
//! (`/proc/locks`) says whether someone holds it; where that table is not
//! readable, the process named in the lock file is looked for.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::run::lock::LOCK;

/// Whether a process holds the run lock of `dir`.
pub fn running(dir: &Path) -> bool {
    let path = dir.join(LOCK);
    let Ok(meta) = std::fs::metadata(&path) else { return false };
    if let Ok(locks) = std::fs::read_to_string("/proc/locks") {
        if held(&locks, meta.ino()) {
            return true;
        }
    }
    // Overlay file systems may name another inode in /proc/locks.
    let holder = std::fs::read_to_string(&path).unwrap_or_default();
    holder.split_whitespace().next().and_then(|p| p.parse::<u32>().ok()).is_some_and(is_nasbox)
}

/// Whether `/proc/locks` lists an flock on inode `ino`. Lines read
/// `1: FLOCK  ADVISORY  WRITE 1234 00:2f:5678 0 EOF`.
fn held(locks: &str, ino: u64) -> bool {
    locks.lines().any(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        f.get(1) == Some(&"FLOCK") && f.get(5).and_then(|dev| dev.rsplit(':').next()).and_then(|i| i.parse::<u64>().ok()) == Some(ino)
    })
}

/// Whether process `pid` lives and is a nasbox.
fn is_nasbox(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains("nasbox"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_seen_and_a_released_one_not() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!running(dir.path()), "no lock file");
        let lock = crate::run::lock::RunLock::acquire(dir.path()).unwrap();
        assert!(running(dir.path()));
        drop(lock);
        // The lock file names this (test) process, which is no nasbox binary
        // when its name lacks the word; the kernel's table decides then.
        assert!(held("1: FLOCK  ADVISORY  WRITE 99 00:2f:5678 0 EOF\n", 5678));
        assert!(!held("1: POSIX  ADVISORY  WRITE 99 00:2f:5678 0 EOF\n", 5678));
        assert!(!held("1: FLOCK  ADVISORY  WRITE 99 00:2f:567 0 EOF\n", 5678));
    }
}
