//! The strategy's log messages, kept in its run folder (`RUN/strategy.log`)
//! as well as shown on the terminal, so that whoever watches the run
//! (`nasbox serve`) can read them. The file is made at the first message:
//! a strategy that says nothing leaves none. At most [`MAX_BYTES`] are
//! kept per process; the sandbox already caps each call's messages.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;

/// The file's name inside a run folder.
pub const FILE: &str = "strategy.log";
/// Most bytes one process appends.
pub const MAX_BYTES: u64 = 16 << 20;

struct Sink {
    path: PathBuf,
    file: Option<File>,
    written: u64,
}

static SINK: Mutex<Option<Sink>> = Mutex::new(None);

/// From now on, the strategy's messages also go to `dir/strategy.log`.
pub fn record_into(dir: &Path) {
    *SINK.lock().unwrap_or_else(|e| e.into_inner()) = Some(Sink { path: dir.join(FILE), file: None, written: 0 });
}

/// A `tracing` layer writing the events of target `strategy` to the run's
/// file (give it a filter on that target).
pub struct Layer;

#[derive(Default)]
struct Fields {
    strategy: String,
    message: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "strategy" => self.strategy = format!("{value:?}"),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_debug(field, &format_args!("{value}"));
    }
}

impl<S: Subscriber> tracing_subscriber::Layer<S> for Layer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != "strategy" {
            return;
        }
        let mut sink = SINK.lock().unwrap_or_else(|e| e.into_inner());
        let Some(sink) = sink.as_mut() else { return };
        if sink.written >= MAX_BYTES {
            return;
        }
        if sink.file.is_none() {
            sink.file = std::fs::OpenOptions::new().create(true).append(true).open(&sink.path).ok();
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let line = format!("{:<5} {}: {}\n", event.metadata().level(), fields.strategy, fields.message);
        if let Some(f) = sink.file.as_mut() {
            if f.write_all(line.as_bytes()).is_ok() {
                sink.written += line.len() as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[test]
    fn strategy_messages_go_to_the_run_folder_and_others_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let subscriber = tracing_subscriber::registry().with(Layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "strategy", strategy = "evo", "before any run");
            assert!(!dir.path().join(FILE).exists());
            record_into(dir.path());
            tracing::warn!("not the strategy's");
            assert!(!dir.path().join(FILE).exists(), "made at the first message");
            let strategy = "evo";
            tracing::info!(target: "strategy", %strategy, "generation {} done", 3);
            tracing::debug!(target: "strategy", %strategy, "details");
        });
        assert_eq!(std::fs::read_to_string(dir.path().join(FILE)).unwrap(), "INFO  evo: generation 3 done\nDEBUG evo: details\n");
    }
}
