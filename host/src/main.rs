//! The `nasbox` command line: thin glue over the library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`nasbox ... | head`) like other Unix
    // tools, instead of panicking inside println!.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of a signal, before any
    // other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = cli::Args::parse();
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let terminal = tracing_subscriber::EnvFilter::try_from_env("NASBOX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(if args.verbose { "debug" } else { "info" }));
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false).without_time().with_filter(terminal))
        // Every strategy message (debug included) also goes to its run folder, for `nasbox serve`.
        .with(nasbox::run::strategy_log::Layer.with_filter(tracing_subscriber::filter::Targets::new().with_target("strategy", tracing::Level::DEBUG)))
        .init();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
