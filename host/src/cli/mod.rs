//! Subcommands, one module each.

mod bench;
mod data;
pub(crate) mod parse;
mod report;
pub(crate) mod results;
mod search;
mod space;
mod strategy;
mod tabulate;
mod train;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nasbox::strategy::{CachePolicy, Engine};

/// Neural architecture search with sandboxed, pluggable search strategies.
#[derive(Parser, Debug)]
#[command(name = "nasbox", version, about, long_about = None)]
pub struct Args {
    /// Where compiled strategies are cached (default: $NASBOX_CACHE_DIR, else ~/.cache/nasbox/strategies).
    #[arg(long, global = true, value_name = "DIR", conflicts_with = "no_cache")]
    cache_dir: Option<PathBuf>,
    /// Compile strategies every time instead of caching the machine code.
    #[arg(long, global = true)]
    no_cache: bool,
    /// Show debug messages, strategies' included.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Inspect and check strategy components.
    #[command(subcommand)]
    Strategy(strategy::Command),
    /// The built-in search spaces.
    #[command(subcommand)]
    Space(space::Command),
    /// Train one architecture and report its validation accuracy, params, FLOPs and latency.
    Train(train::TrainArgs),
    /// Datasets: check that one loads and see what it holds.
    #[command(subcommand)]
    Data(data::Command),
    /// Search: the strategy proposes, the estimator scores, the journal records.
    Search(search::SearchArgs),
    /// Continue a search that was stopped or killed, from its journal.
    Resume(search::ResumeArgs),
    /// Train every architecture of a space (or a sample) into a benchmark table.
    Tabulate(tabulate::TabulateArgs),
    /// One search as an HTML page: Pareto fronts, best-so-far curve, the best cell drawn.
    Report(report::ReportArgs),
    /// Compare strategies over many seeds on a benchmark table: plots, tables, significance.
    Bench(bench::BenchArgs),
    /// A run's leaderboard; export its trials as CSV or JSON.
    Results(results::ResultsArgs),
    /// Train one architecture for a search (run by `nasbox search`).
    #[command(hide = true)]
    Worker(worker::WorkerArgs),
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cache = match (args.no_cache, args.cache_dir) {
        (true, _) => CachePolicy::Off,
        (false, Some(dir)) => CachePolicy::Dir(dir),
        (false, None) => CachePolicy::Default,
    };
    match args.command {
        Command::Strategy(c) => strategy::run(c, &Engine::new(cache)?),
        Command::Space(c) => space::run(c),
        Command::Data(c) => data::run(c),
        Command::Train(a) => train::run(a),
        Command::Search(a) => search::search(a, &Engine::new(cache)?),
        Command::Resume(a) => search::resume(a, &Engine::new(cache)?),
        Command::Results(a) => results::run(a),
        Command::Report(a) => report::run(a),
        Command::Tabulate(a) => tabulate::run(a, &Engine::new(cache)?),
        Command::Bench(a) => bench::run(a, &Engine::new(cache)?),
        Command::Worker(a) => worker::run(a),
    }
}
