//! `nasbox strategy`: what a strategy author runs before publishing.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Subcommand;
use nasbox::author::{self, Language};
use nasbox::run::{find_strategy, own_strategy_dirs, strategy_dirs};
use nasbox::space;
use nasbox::strategy::{builtin, check, served, Engine, Limits, Plugin, CONTRACT};

use super::parse;
use super::sandbox::LimitArgs;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the built-in strategies, with a line on each, and the components
    /// in the folders of NASBOX_STRATEGIES.
    List,
    /// Print a strategy's name, version, description, config keys and contract.
    Inspect {
        /// The strategy component (FILE.wasm) or a built-in name.
        file: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Run the conformance check and list every violation (exit status 1 if any).
    Check {
        /// The strategy component (FILE.wasm) or a built-in name.
        file: String,
        /// Space to check on (see `nasbox space list`).
        #[arg(long, default_value = "toy")]
        space: String,
        /// Seed of the strategy's random stream.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// A strategy config value, KEY=VALUE (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse::setting)]
        settings: Vec<(String, String)>,
        /// Rounds of ask/tell (the snapshot is taken half way).
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(2..=10_000))]
        rounds: u64,
        /// Write every call and answer as JSON lines to this file.
        #[arg(long, value_name = "FILE")]
        transcript: Option<PathBuf>,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Start a strategy project: a working mutation search, a kit of helpers,
    /// a build script with pinned toolchain versions, and a README.
    New {
        /// The strategy's name (lowercase letters, digits, dashes).
        name: String,
        /// The language to write it in.
        #[arg(long, value_enum)]
        lang: Language,
        /// The project folder [default: ./NAME].
        dir: Option<PathBuf>,
    },
    /// Build a project made by `strategy new` (installing its toolchain into a
    /// cache the first time), then check the component.
    Build {
        /// The project folder.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Space to check on.
        #[arg(long, default_value = "toy")]
        space: String,
        /// Build only; do not run `strategy check`.
        #[arg(long)]
        no_check: bool,
    },
}

pub fn run(command: Command, engine: &Engine) -> anyhow::Result<ExitCode> {
    match command {
        Command::List => list(),
        Command::Inspect { file, json, limits } => inspect(engine, find_strategy(&file)?, json, limits.limits()),
        Command::Check { file, space, seed, settings, rounds, transcript, limits } => {
            let mut opts = check::Options::new(resolve_space(&space)?);
            opts.seed = seed;
            opts.settings = settings;
            opts.rounds = rounds as usize;
            opts.limits = limits.limits();
            check(engine, find_strategy(&file)?, opts, transcript)
        }
        Command::New { name, lang, dir } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
            let files = author::new_project(&name, lang, &dir)?;
            println!("created {} ({} files):", dir.display(), files.len());
            for f in files.iter().filter(|f| !f.components().any(|c| c.as_os_str() == "sdk")) {
                println!("  {}", f.strip_prefix(&dir).unwrap_or(f).display());
            }
            println!("next: nasbox strategy build {}", dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Build { dir, space, no_check } => {
            let (manifest, output) = author::build(&dir)?;
            println!("built {} ({} bytes)", output.display(), std::fs::metadata(&output).map(|m| m.len()).unwrap_or(0));
            if no_check {
                return Ok(ExitCode::SUCCESS);
            }
            let space = resolve_space(&space)?;
            tracing::debug!(strategy = %manifest.name, "checking the built component");
            check(engine, output, check::Options::new(space), None)
        }
    }
}

fn resolve_space(space: &str) -> anyhow::Result<space::Space> {
    Ok(match space::builtin(space) {
        Some(s) => s,
        None if space.ends_with(".toml") || space.ends_with(".toml+hp") => space::SearchSpace::resolve(space)?.space(),
        None => bail!("unknown space `{space}` (available: {}, or a chain space's FILE.toml)", space::builtin_names().join(", ")),
    })
}

fn inspect(engine: &Engine, file: PathBuf, json: bool, limits: Limits) -> anyhow::Result<ExitCode> {
    let loaded = engine.load(&file)?;
    let plugin = Plugin::instantiate(&loaded, 0, limits)?;
    let info = plugin.info();
    let compiled = match (loaded.from_cache, loaded.compile_memory) {
        (true, _) => "loaded from cache".to_string(),
        (false, Some(peak)) => format!("compiled by {} in a child process (peak memory {} MiB)", loaded.compiler.name(), peak >> 20),
        (false, None) => format!("compiled by {}", loaded.compiler.name()),
    };
    if json {
        let v = serde_json::json!({
            "file": file,
            "sha256": loaded.sha256,
            "contract": CONTRACT,
            "info": info,
            "imports": loaded.imports.iter().map(|name| serde_json::json!({
                "name": name,
                "served": served(name),
            })).collect::<Vec<_>>(),
            "exports_relaxation": plugin.declares_relaxation(),
            "from_cache": loaded.from_cache,
            "load_ms": loaded.load_time.as_secs_f64() * 1e3,
            "compile_peak_memory": loaded.compile_memory,
            "compiler": loaded.compiler.name(),
            "code": {
                "file_bytes": loaded.code.file,
                "code_bytes": loaded.code.code,
                "largest_function_bytes": loaded.code.largest_function,
                "functions": loaded.code.functions,
                "modules": loaded.code.modules,
            },
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} {}", info.name, info.version);
    println!("  {}", info.description);
    println!("  contract:  {CONTRACT}");
    println!("  file:      {} (sha256 {})", file.display(), &loaded.sha256[..16]);
    println!("  code:      {compiled} in {:.1} ms", loaded.load_time.as_secs_f64() * 1e3);
    println!(
        "  size:      {} bytes of code in {} functions of {} modules (largest {} bytes)",
        loaded.code.code, loaded.code.functions, loaded.code.modules, loaded.code.largest_function
    );
    println!("  snapshot:  {}", if info.supports_snapshot { "supported" } else { "not supported (resume replays)" });
    println!(
        "  relaxed:   {}",
        if plugin.declares_relaxation() {
            "says after init whether its relaxed proposals are samples or mixtures (relaxation, 0.1.1)"
        } else {
            "read as mixtures (no relaxation export)"
        }
    );
    // Whether it can tell numbers and conditions from names (contract 0.1.2).
    let shaped = loaded.imports.iter().any(|i| i.starts_with("nasbox:strategy/shape@"));
    println!(
        "  shape:     {}",
        if shaped {
            "reads what each decision is: ordered numbers, continuous ranges, conditions (shape, 0.1.2)"
        } else {
            "sees every decision as categorical (no shape import)"
        }
    );
    if info.config.is_empty() {
        println!("  config:    none");
    } else {
        println!("  config:");
        let setting = |k: &nasbox::strategy::ConfigKey| format!("{} = {}", k.name, k.default);
        let width = info.config.iter().map(|k| setting(k).chars().count()).max().unwrap_or(0);
        for k in &info.config {
            println!("    {:<width$}  {}", setting(k), k.description);
        }
    }
    println!("  imports:");
    let width = loaded.imports.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    for name in &loaded.imports {
        println!("    {name:<width$}  {}", served(name).unwrap_or("not served"));
    }
    Ok(ExitCode::SUCCESS)
}

fn check(engine: &Engine, file: PathBuf, opts: check::Options, transcript: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let loaded = engine.load(&file)?;
    // A key the strategy does not take is the user's mistake, not a violation.
    let info = Plugin::instantiate(&loaded, opts.seed, opts.limits.clone())?.info().clone();
    if let Some((key, _)) = opts.settings.iter().find(|(k, _)| !info.config.iter().any(|c| &c.name == k)) {
        let known: Vec<&str> = info.config.iter().map(|c| c.name.as_str()).collect();
        bail!("strategy `{}` has no config key `{key}` (its keys: {})", info.name, if known.is_empty() { "none".to_string() } else { known.join(", ") });
    }
    println!("checking {} on space `{}` ({} decisions), seed {}, contract {CONTRACT}", file.display(), opts.space.name, opts.space.decisions.len(), opts.seed);
    let report = check::run(&loaded, &opts);
    for o in &report.outcomes {
        match &o.result {
            Ok(detail) if detail.is_empty() => println!("  ok    {}", o.check),
            Ok(detail) => println!("  ok    {} — {detail}", o.check),
            Err(violation) => println!("  FAIL  {} — {violation}", o.check),
        }
    }
    if let Some(path) = transcript {
        let mut f = std::fs::File::create(&path).with_context(|| format!("creating transcript {}", path.display()))?;
        for line in &report.transcript {
            writeln!(f, "{line}").with_context(|| format!("writing transcript {}", path.display()))?;
        }
    }
    let violations = report.violations().count();
    println!(
        "{}: {} checks, {violations} violation{}",
        if violations == 0 { "passed" } else { "failed" },
        report.outcomes.len(),
        if violations == 1 { "" } else { "s" }
    );
    Ok(if violations == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// `strategy list`: the built-in names (each usable as `--strategy NAME`),
/// marking any this binary can find nowhere, then what the user's own
/// strategy folders hold.
fn list() -> anyhow::Result<ExitCode> {
    let dirs = strategy_dirs();
    let found = |name: &str| builtin::is_embedded(name) || dirs.iter().any(|d| d.join(format!("{name}.wasm")).is_file());
    let width = builtin::BUILTINS.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    writeln!(out, "built-in strategies (`--strategy NAME`; `nasbox strategy inspect NAME` shows the settings):")?;
    for (name, line) in builtin::BUILTINS {
        let missing = if found(name) { "" } else { "  [not built: run scripts/build-strategies]" };
        writeln!(out, "  {name:<width$}  {line}{missing}")?;
    }
    for dir in own_strategy_dirs() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "wasm")).collect())
            .unwrap_or_default();
        files.sort();
        writeln!(out, "in {} (NASBOX_STRATEGIES): {}", dir.display(), if files.is_empty() { "no .wasm files" } else { "" })?;
        for f in files {
            writeln!(out, "  {}", f.file_stem().unwrap_or_default().to_string_lossy())?;
        }
    }
    writeln!(out, "any other component loads by path: --strategy FILE.wasm")?;
    Ok(ExitCode::SUCCESS)
}
