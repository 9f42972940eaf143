//! Subcommands, one module each.

mod bench;
mod data;
pub(crate) mod parse;
mod report;
pub(crate) mod results;
mod sandbox;
mod search;
mod serve;
mod space;
mod strategy;
mod tabulate;
mod train;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use nasbox::strategy::{CachePolicy, CompileLimits, CompileOptions, Compiler, Engine};

/// Neural architecture search with sandboxed, pluggable search strategies.
#[derive(Parser, Debug)]
#[command(name = "nasbox", version, about, long_about = None)]
pub struct Args {
    /// Where compiled strategies are cached (default: $NASBOX_CACHE_DIR, else ~/.cache/nasbox/strategies).
    #[arg(long, global = true, value_name = "DIR", conflicts_with = "no_cache", help_heading = "Global options")]
    cache_dir: Option<PathBuf>,
    /// Compile strategies every time instead of caching the machine code.
    #[arg(long, global = true, help_heading = "Global options")]
    no_cache: bool,
    /// Show debug messages, strategies' included.
    #[arg(long, short, global = true, help_heading = "Global options")]
    pub verbose: bool,
    #[command(flatten)]
    compile: CompileArgs,
    #[command(subcommand)]
    command: Command,
}

/// Bounds on compiling a strategy: untrusted code is compiled in a child
/// process under a time and memory limit, after cheap size checks.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Compiling strategies (global options)")]
struct CompileArgs {
    /// Wall-clock limit on compiling one strategy, e.g. 60s.
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse::duration)]
    compile_timeout: Option<std::time::Duration>,
    /// Memory limit on compiling one strategy, e.g. 4GiB.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse::size)]
    compile_memory: Option<usize>,
    /// Largest strategy file accepted, e.g. 128MiB.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse::size)]
    max_component_size: Option<usize>,
    /// Most bytes of code (all function bodies) accepted, e.g. 96MiB.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse::size)]
    max_code_size: Option<usize>,
    /// Largest single function body accepted, e.g. 4MiB.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse::size)]
    max_function_size: Option<usize>,
    /// Most functions accepted.
    #[arg(long, global = true, value_name = "N")]
    max_functions: Option<usize>,
    /// Compiler: auto (Winch above 2 MiB of code, else Cranelift), cranelift or winch.
    #[arg(long, global = true, value_name = "NAME", default_value = "auto")]
    compiler: String,
}

impl CompileArgs {
    fn options(&self) -> anyhow::Result<CompileOptions> {
        let mut limits = CompileLimits::default();
        let set = |slot: &mut usize, v: Option<usize>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        set(&mut limits.memory, self.compile_memory);
        set(&mut limits.max_file, self.max_component_size);
        set(&mut limits.max_code, self.max_code_size);
        set(&mut limits.max_function, self.max_function_size);
        set(&mut limits.max_functions, self.max_functions);
        if let Some(t) = self.compile_timeout {
            limits.timeout = t;
        }
        let compiler = match self.compiler.as_str() {
            "auto" => None,
            other => Some(other.parse::<Compiler>().map_err(anyhow::Error::msg).context("--compiler")?),
        };
        let exe = std::env::current_exe().context("finding the nasbox executable to compile strategies in")?;
        Ok(CompileOptions { limits, child: Some(exe), compiler })
    }
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant, reason = "parsed once per process")]
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
    /// A live, read-only web dashboard over run and bench folders.
    Serve(serve::ServeArgs),
    /// Train one architecture for a search (run by `nasbox search`).
    #[command(hide = true)]
    Worker(worker::WorkerArgs),
    /// Compile one strategy under limits, into a compile cache (run by nasbox itself).
    #[command(hide = true, name = "compile-strategy")]
    CompileStrategy {
        #[arg(long)]
        into: PathBuf,
        #[arg(long)]
        entry: String,
        #[arg(long = "compiler", value_parser = |s: &str| s.parse::<Compiler>())]
        with: Compiler,
        #[arg(long)]
        memory: usize,
        #[arg(long)]
        cpu_seconds: u64,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cache = match (args.no_cache, args.cache_dir) {
        (true, _) => CachePolicy::Off,
        (false, Some(dir)) => CachePolicy::Dir(dir),
        (false, None) => CachePolicy::Default,
    };
    let engine = || Engine::with_options(cache.clone(), args.compile.options()?);
    match args.command {
        Command::Strategy(c) => strategy::run(c, &engine()?),
        Command::Space(c) => space::run(c),
        Command::Data(c) => data::run(c),
        Command::Train(a) => train::run(a),
        Command::Search(a) => search::search(a, &engine()?),
        Command::Resume(a) => search::resume(a, &engine()?),
        Command::Results(a) => results::run(a),
        Command::Report(a) => report::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Tabulate(a) => tabulate::run(a, &engine()?),
        Command::Bench(a) => bench::run(a, &engine()?),
        Command::Worker(a) => worker::run(a),
        Command::CompileStrategy { into, entry, with, memory, cpu_seconds } => {
            nasbox::strategy::compile_child(&into, &entry, with, memory, cpu_seconds)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn undocumented(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set() && a.get_id() != "help" && a.get_id() != "version") {
            if arg.get_help().is_none() {
                out.push(format!("{path} --{}", arg.get_long().unwrap_or(arg.get_id().as_str())));
            }
        }
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            if sub.get_about().is_none() {
                out.push(format!("{path} {}", sub.get_name()));
            }
            undocumented(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    /// `--help` is the first manual: every option and subcommand says what it is for.
    #[test]
    fn every_option_and_subcommand_has_help() {
        let mut missing = vec![];
        undocumented(&Args::command(), "nasbox", &mut missing);
        assert!(missing.is_empty(), "without help text: {missing:#?}");
    }
}
