//! Ctrl-C (and SIGTERM) during a search: the first one asks the loop to
//! stop at the next step, cancel the trials in flight (they stay pending
//! in the journal, so `nasbox resume` runs them again) and exit; a second
//! one exits at once. Without this, Ctrl-C would kill the coordinator and
//! leave its Slurm jobs running for nobody.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once per process).
pub fn install() -> anyhow::Result<()> {
    ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            eprintln!("interrupted again: exiting now");
            std::process::exit(130);
        }
        eprintln!("interrupted: cancelling the trials in flight (Ctrl-C again to exit at once)");
    })
    .map_err(|e| anyhow::anyhow!("installing the Ctrl-C handler: {e}"))
}

/// Whether the user asked the search to stop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
