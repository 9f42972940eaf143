//! `nasbox bench`: every strategy × seed searched on a benchmark table,
//! then anytime plots, a final table and pairwise tests, as files and on
//! the terminal. Each search is an ordinary run folder (resumable): a
//! comparison that was interrupted picks up where it stopped.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::Context;
use clap::Args;
use nasbox::estimate::table::Table;
use nasbox::report::compare::{pairwise, rows, Anytime, Band, Row};
use nasbox::report::{html, pareto, plot};
use nasbox::run::constraint::Constraints;
use nasbox::run::executor::InProcess;
use nasbox::run::journal::Journal;
use nasbox::run::search::{Search, JOURNAL};
use nasbox::run::{find_strategy, Budget, RunConfig};
use nasbox::space::SearchSpace;
use nasbox::strategy::{Engine, Plugin};

use super::sandbox::LimitArgs;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Strategy components (paths or built-in names), each optionally with settings that tell variants of one
    /// strategy apart: NAME:KEY=VALUE[,KEY=VALUE...], e.g. `bananas bananas:neighbours=1`.
    #[arg(long, num_args = 1.., required = true)]
    strategies: Vec<String>,
    /// Seeds per strategy: N for seeds 0..N, or A..B for seeds A to B−1, so a comparison can be split across
    /// machines (copy the run folders into one --out and run it with the whole range to get one report).
    #[arg(long, default_value = "20", value_parser = parse_seeds, value_name = "N|A..B")]
    seeds: std::ops::Range<u64>,
    /// The table's space: nb201, darts, chain, or FILE.toml.
    #[arg(long, default_value = "nb201")]
    space: String,
    /// A benchmark table: table:FILE.
    #[arg(long)]
    estimator: String,
    /// trials=N and/or sim=DURATION.
    #[arg(long, default_value = "trials=500")]
    budget: String,
    /// Bounds on the table's metrics, e.g. params<=1e6 (repeatable): infeasible trials are never an incumbent, and
    /// regret is to the best feasible architecture.
    #[arg(long = "constraint", value_name = "METRIC<=BOUND")]
    constraints: Vec<String>,
    /// Compare fronts over these objectives, e.g. accuracy,-params: each search is scored by the hypervolume of
    /// its trials' Pareto front (as a fraction of the table's own front's); strategies that take objectives
    /// (nsga2) are given them, the others search accuracy.
    #[arg(long, value_name = "LIST")]
    objectives: Option<String>,
    /// The hypervolume's reference point, one value per objective as measured, e.g. 0,2e6
    /// [default: the table's worst value of each objective].
    #[arg(long, value_name = "VALUES", requires = "objectives")]
    reference: Option<String>,
    /// Searches run at once [default: the cores].
    #[arg(long)]
    jobs: Option<usize>,
    /// Where the runs and the report go.
    #[arg(long)]
    out: PathBuf,
    // Every search's strategy runs under these, a search resumed by running the command again too.
    #[command(flatten)]
    limits: LimitArgs,
}

pub fn run(a: BenchArgs, engine: &Engine) -> anyhow::Result<ExitCode> {
    let space = SearchSpace::resolve(&a.space).context("--space")?;
    let table_path = a.estimator.strip_prefix("table:").context("--estimator: `nasbox bench` compares strategies on a benchmark table (table:FILE)")?;
    let table = Table::load(Path::new(table_path), &space)?;
    let budget = Budget::parse(&a.budget).map_err(anyhow::Error::msg).context("--budget")?;
    anyhow::ensure!(budget.time.is_none(), "--budget: wall time would make the comparison depend on the machine; use trials= or sim=");
    let constraints = Constraints::parse(&a.constraints).map_err(anyhow::Error::msg).context("--constraint")?;
    constraints.check_reported(&table.metric_names(), "table").map_err(anyhow::Error::msg).context("--constraint")?;
    let objectives = match &a.objectives {
        Some(list) => pareto::parse(list).map_err(anyhow::Error::msg).context("--objectives")?,
        None => vec![],
    };
    pareto::check_reported(&objectives, &table.metric_names(), "table").map_err(anyhow::Error::msg).context("--objectives")?;
    let volume = if objectives.is_empty() { None } else { Some(Volume::of(&table, &objectives, &constraints, a.reference.as_deref())?) };
    let strategies: Vec<Entrant> = a.strategies.iter().map(|s| Entrant::parse(s)).collect::<anyhow::Result<_>>()?;
    distinct_folders(&strategies)?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;

    let jobs: Vec<(usize, u64)> = (0..strategies.len()).flat_map(|s| a.seeds.clone().map(move |seed| (s, seed))).collect();
    let threads = a.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    println!(
        "{} strategies × {} on {} ({} architectures), budget {}, {threads} at a time → {}",
        strategies.len(),
        describe_seeds(&a.seeds),
        space.name(),
        table.len(),
        budget.describe(),
        a.out.display()
    );
    let next = Mutex::new(0usize);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let k = {
                    let mut n = next.lock().expect("not poisoned");
                    *n += 1;
                    *n - 1
                };
                let Some(&(s, seed)) = jobs.get(k) else { return };
                let entrant = &strategies[s];
                if let Err(e) = one_search(engine, &a, &table, entrant, seed, &objectives) {
                    failures.lock().expect("not poisoned").push(format!("{} seed {seed}: {e:#}", entrant.name));
                }
            });
        }
    });
    let failures = failures.into_inner().expect("not poisoned");
    if !failures.is_empty() {
        anyhow::bail!("{} searches failed (their run folders are kept; run the command again to resume):\n  {}", failures.len(), failures.join("\n  "));
    }

    // Curves per strategy, seeds in order.
    let names: Vec<String> = strategies.iter().map(|e| e.name.clone()).collect();
    let mut runs: Vec<Vec<Anytime>> = vec![];
    for name in &names {
        let mut per_seed = vec![];
        for seed in a.seeds.clone() {
            let trials = Journal::open(&run_dir(&a.out, name, seed).join(JOURNAL))?.trials()?;
            per_seed.push(match &volume {
                Some(v) => v.anytime(&trials, &table, &constraints),
                None => Anytime::of(&trials, &table),
            });
        }
        runs.push(per_seed);
    }
    let best = table.best_where(|e| constraints.violation(&e.metrics).is_none()).context("the table has no (feasible) entry at fidelity 1")?;
    let has_test = runs.iter().flatten().any(|r| r.test.iter().any(|t| t.is_finite()));
    let score = if volume.is_some() {
        "hypervolume"
    } else if has_test {
        "test accuracy"
    } else {
        "validation accuracy"
    };
    let oracle = if volume.is_some() {
        1.0
    } else if has_test {
        best.test_accuracy.unwrap_or(f64::NAN)
    } else {
        best.valid_accuracy
    };
    let y_label = if volume.is_some() { "hypervolume (fraction of the table front's)" } else { "validation accuracy of the incumbent" };
    let final_rows = rows(&names, &runs, oracle, volume.is_none().then_some(best.valid_accuracy));
    let pairs = pairwise(&names, &runs);

    // Anytime curves against trials and against simulated time.
    let bands_trials: Vec<Band> = runs.iter().map(|r| Band::of(&r.iter().map(|a| a.valid.clone()).collect::<Vec<_>>())).collect();
    let longest = bands_trials.iter().map(|b| b.mean.len()).max().unwrap_or(0);
    let x_trials: Vec<f64> = (1..=longest).map(|i| i as f64).collect();
    let t_max = runs.iter().flatten().filter_map(|a| a.time.last()).fold(0.0f64, |m, &t| m.max(t));
    let t_min = runs.iter().flatten().filter_map(|a| a.time.first()).fold(f64::INFINITY, |m, &t| m.min(t)).max(1e-3);
    let grid: Vec<f64> = (0..200).map(|i| t_min * (t_max / t_min).powf(i as f64 / 199.0)).collect();
    let bands_time: Vec<Band> = runs.iter().map(|r| Band::of(&r.iter().map(|a| a.valid_at(&grid)).collect::<Vec<_>>())).collect();
    let series =
        |bands: &[Band], x: &[f64]| -> Vec<(String, Vec<f64>, Band)> { names.iter().zip(bands).map(|(n, b)| (n.clone(), x.to_vec(), b.clone())).collect() };
    let plot_of = |title: &str, x_label: &str, s: &[(String, Vec<f64>, Band)], log_x: bool, y_label: &str| {
        let s: Vec<plot::Series<'_>> = s.iter().map(|(n, x, b)| plot::Series { name: n, x, band: b }).collect();
        plot::anytime_svg(title, x_label, y_label, &s, log_x)
    };
    let (title_trials, title_time) = match volume {
        Some(_) => ("Hypervolume of the front so far (mean, 95% band)", "Hypervolume of the front against simulated time"),
        None => ("Best found so far (mean, 95% band)", "Best found so far against simulated time"),
    };
    let by_trials = plot_of(title_trials, "trials", &series(&bands_trials, &x_trials), false, y_label)?;
    let by_time = plot_of(title_time, "simulated seconds", &series(&bands_time, &grid), true, y_label)?;
    std::fs::write(a.out.join("anytime-trials.svg"), &by_trials)?;
    std::fs::write(a.out.join("anytime-time.svg"), &by_time)?;
    let mut plots = vec![by_trials, by_time];
    if has_test {
        // The test accuracy of the architecture each search would hand over.
        let test_trials: Vec<Band> = runs.iter().map(|r| Band::of(&r.iter().map(|a| a.test.clone()).collect::<Vec<_>>())).collect();
        let test_time: Vec<Band> = runs.iter().map(|r| Band::of(&r.iter().map(|a| a.test_at(&grid)).collect::<Vec<_>>())).collect();
        let t1 = plot_of("Test accuracy of the incumbent", "trials", &series(&test_trials, &x_trials), false, "test accuracy")?;
        let t2 = plot_of("Test accuracy of the incumbent against simulated time", "simulated seconds", &series(&test_time, &grid), true, "test accuracy")?;
        std::fs::write(a.out.join("test-trials.svg"), &t1)?;
        std::fs::write(a.out.join("test-time.svg"), &t2)?;
        plots.extend([t1, t2]);
    }

    let mut setup = vec![
        ("space".to_string(), space.name()),
        (
            "table".into(),
            format!(
                "{table_path} ({} architectures; the best{} by validation: {:.4} validation, {} test)",
                table.len(),
                if constraints.is_empty() { "" } else { " feasible" },
                best.valid_accuracy,
                best.test_accuracy.map_or("no".into(), |t| format!("{t:.4}"))
            ),
        ),
        ("budget".into(), budget.describe()),
        ("constraints".into(), if constraints.is_empty() { "none".into() } else { constraints.0.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ") }),
        ("seeds".into(), describe_seeds(&a.seeds)),
        ("strategies".into(), strategies.iter().map(|e| format!("{} ({})", e.name, e.path.display())).collect::<Vec<_>>().join(", ")),
    ];
    if let Some(v) = &volume {
        setup.insert(
            4,
            ("objectives".into(), format!("{} (given to the strategies that take objectives; the others search accuracy)", pareto::list(&objectives))),
        );
        setup.insert(5, ("hypervolume".into(), v.describe(&objectives)));
    }
    std::fs::write(a.out.join("report.html"), html::comparison("nasbox bench", &setup, &plots, &final_rows, &pairs, score))?;
    std::fs::write(
        a.out.join("summary.json"),
        serde_json::to_string_pretty(
            &serde_json::json!({"score": score, "best_valid": best.valid_accuracy, "objectives": objectives.iter().map(|o| o.to_string()).collect::<Vec<_>>(), "reference": volume.as_ref().map(|v| v.reference_as_measured(&objectives)), "table_hypervolume": volume.as_ref().map(|v| v.table), "rows": final_rows, "pairs": pairs, "runs": names.iter().zip(&runs).map(|(n, r)| (n.clone(), r)).collect::<std::collections::BTreeMap<_, _>>()}),
        )?,
    )?;
    let mut csv = String::from("strategy,seed,trials,final_valid,final_test,simulated_seconds\n");
    for (name, r) in names.iter().zip(&runs) {
        for (seed, run) in a.seeds.clone().zip(r) {
            // A variant's name holds commas (`evolution:population=10,sample=3`).
            csv.push_str(&format!(
                "{},{seed},{},{},{},{}\n",
                super::results::csv(name),
                run.valid.len(),
                run.valid.last().unwrap_or(&f64::NAN),
                run.test.last().unwrap_or(&f64::NAN),
                run.time.last().unwrap_or(&0.0)
            ));
        }
    }
    std::fs::write(a.out.join("final.csv"), csv)?;

    if let Some(v) = &volume {
        println!("objectives {}; {}", pareto::list(&objectives), v.describe(&objectives));
    }
    let lines: Vec<[String; 8]> = std::iter::once(Row::header(score)).chain(final_rows.iter().map(Row::cells)).collect();
    print!("{}", aligned(&lines));
    for p in pairs.iter().filter(|p| p.p_holm < 0.05) {
        println!("  {} vs {}: p = {:.2e} (Holm)", p.a, p.b, p.p_holm);
    }
    println!("wrote {0}/report.html, {0}/summary.json, {0}/final.csv and the plots (*.svg)", a.out.display());
    Ok(ExitCode::SUCCESS)
}

/// `N` (seeds 0..N) or `A..B` (A to B − 1, as Rust writes ranges), never
/// empty.
fn parse_seeds(text: &str) -> Result<std::ops::Range<u64>, String> {
    let number = |t: &str| t.trim().parse::<u64>().map_err(|_| format!("`{text}`: expected a number of seeds N, or a range A..B such as 20..40"));
    let range = match text.split_once("..") {
        Some((a, b)) => number(a)?..number(b)?,
        None => 0..number(text)?,
    };
    if range.is_empty() {
        return Err(format!("`{text}` holds no seeds (N must be at least 1; in A..B, B is past the last seed and must be above A)"));
    }
    Ok(range)
}

/// "20 seeds" for 0..20, "20 seeds (20..40)" otherwise.
fn describe_seeds(seeds: &std::ops::Range<u64>) -> String {
    let n = seeds.end - seeds.start;
    let plural = if n == 1 { "seed" } else { "seeds" };
    if seeds.start == 0 {
        format!("{n} {plural}")
    } else {
        format!("{n} {plural} ({}..{})", seeds.start, seeds.end)
    }
}

fn run_dir(out: &Path, name: &str, seed: u64) -> PathBuf {
    out.join("runs").join(format!("{}-{seed}", folder(name)))
}

/// Two entrants in one folder would resume each other's searches.
fn distinct_folders(entrants: &[Entrant]) -> anyhow::Result<()> {
    for (i, e) in entrants.iter().enumerate() {
        if let Some(o) = entrants[..i].iter().find(|o| folder(&o.name) == folder(&e.name)) {
            if o.name == e.name {
                anyhow::bail!("--strategies: `{}` is given twice (give variants of one strategy different settings)", e.name);
            }
            anyhow::bail!("--strategies: `{}` and `{}` would share the run folders `{}-SEED`; rename one of the files", o.name, e.name, folder(&e.name));
        }
    }
    Ok(())
}

/// An entrant's run folders' name: a variant's name holds `:`, `=` and
/// `,`, the folder a plainer one.
fn folder(name: &str) -> String {
    name.chars().map(|c| if c == ':' || c == '=' || c == ',' { '_' } else { c }).collect()
}

/// One strategy of a comparison: a component and the settings it runs
/// with. Settings make variants of one strategy comparable side by side in
/// one bench (same seeds, same report, tested pairwise), which building a
/// copy of the component per setting would otherwise take.
#[derive(Debug, Clone, PartialEq)]
struct Entrant {
    /// As the report shows it: the component's file stem, then `:` and the
    /// settings as given.
    name: String,
    path: PathBuf,
    set: std::collections::BTreeMap<String, String>,
}

impl Entrant {
    /// `NAME` or `NAME:KEY=VALUE[,KEY=VALUE...]`; a file that exists is
    /// always a component, whatever its name holds.
    fn parse(spec: &str) -> anyhow::Result<Entrant> {
        let (component, settings) = match spec.split_once(':') {
            Some((c, rest)) if !Path::new(spec).exists() => (c, Some(rest)),
            _ => (spec, None),
        };
        let path = find_strategy(component).with_context(|| format!("--strategies `{spec}`"))?;
        let stem = path.file_stem().map_or(component.to_string(), |n| n.to_string_lossy().into_owned());
        let mut set = std::collections::BTreeMap::new();
        if let Some(rest) = settings {
            for pair in rest.split(',') {
                let (k, v) = pair
                    .split_once('=')
                    .filter(|(k, _)| !k.trim().is_empty())
                    .with_context(|| format!("--strategies `{spec}`: `{pair}` is not a setting; expected NAME:KEY=VALUE[,KEY=VALUE...]"))?;
                if set.insert(k.trim().to_string(), v.trim().to_string()).is_some() {
                    anyhow::bail!("--strategies `{spec}`: `{}` is set twice", k.trim());
                }
            }
        }
        let name = match settings {
            Some(rest) => format!("{stem}:{rest}"),
            None => stem,
        };
        Ok(Entrant { name, path, set })
    }
}

/// Columns padded to their widest cell, the first flush left (names), the
/// others flush right (numbers), so long variant names keep the table
/// straight.
fn aligned<const N: usize>(lines: &[[String; N]]) -> String {
    let width = |c: usize| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..N).map(width).collect();
    let mut out = String::new();
    for line in lines {
        let cells: Vec<String> =
            line.iter().zip(&widths).enumerate().map(|(c, (cell, &w))| if c == 0 { format!("{cell:<w$}") } else { format!("{cell:>w$}") }).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// One search of the comparison, resumed if its folder exists.
fn one_search(engine: &Engine, a: &BenchArgs, table: &Table, entrant: &Entrant, seed: u64, objectives: &[pareto::Objective]) -> anyhow::Result<()> {
    let (name, path) = (&entrant.name, &entrant.path);
    let dir = run_dir(&a.out, name, seed);
    let plugin = Plugin::load(engine, path, seed, a.limits.limits())?;
    // Objectives go to the strategies that take them.
    let takes_objectives = plugin.info().config.iter().any(|k| k.name == nasbox::run::objectives::KEY);
    let objectives: Vec<String> = if takes_objectives { objectives.iter().map(|o| o.to_string()).collect() } else { vec![] };
    let mut executor = InProcess::new(|g: &[u32], f: Option<f64>| table.evaluate(g, f));
    let (mut search, pending) = if dir.join(JOURNAL).exists() {
        // Resuming is for the same comparison: a folder searched with other
        // objectives, constraints, space or table would be scored wrongly.
        let (recorded, _, _) = Search::config_of(&dir)?;
        let now = (&a.space, &a.estimator, &a.constraints, &objectives, &entrant.set);
        let then = (&recorded.space, &recorded.estimator, &recorded.constraints, &recorded.objectives, &recorded.set);
        if now != then {
            anyhow::bail!(
                "{} holds a search of another comparison (space {}, estimator {}, constraints {:?}, objectives {:?}, settings {:?}; now {}, {}, {:?}, {:?}, {:?}): give another --out",
                dir.display(),
                then.0,
                then.1,
                then.2,
                then.3,
                then.4,
                now.0,
                now.1,
                now.2,
                now.3,
                now.4
            );
        }
        let amend = |c: &mut RunConfig| {
            c.budget = a.budget.clone();
            c.sandbox = a.limits.sandbox();
        };
        Search::resume(&dir, plugin, &amend, &mut |_| {})?
    } else {
        let config = RunConfig {
            strategy: path.display().to_string(),
            space: a.space.clone(),
            estimator: a.estimator.clone(),
            budget: a.budget.clone(),
            workers: 1,
            seed,
            constraints: a.constraints.clone(),
            objectives,
            set: entrant.set.clone(),
            sandbox: a.limits.sandbox(),
            ..RunConfig::default()
        };
        (Search::start(&dir, config, plugin, path, "nasbox bench")?, vec![])
    };
    search.run(&mut executor, pending, &mut |_| {})
}

/// Hypervolume scoring for a multi-objective bench: the reference point
/// (turned so that larger is better) and the hypervolume of the table's own
/// Pareto front over the feasible architectures at full fidelity, which a
/// search's front is measured against.
struct Volume {
    objectives: Vec<pareto::Objective>,
    reference: Vec<f64>,
    table: f64,
}

impl Volume {
    fn of(table: &Table, objectives: &[pareto::Objective], constraints: &Constraints, reference: Option<&str>) -> anyhow::Result<Volume> {
        let points: Vec<Vec<f64>> = table
            .full()
            .filter(|(_, e)| constraints.violation(&e.metrics).is_none())
            .filter_map(|(_, e)| pareto::values_of(e.valid_accuracy, &e.metrics, objectives))
            .collect();
        anyhow::ensure!(!points.is_empty(), "--objectives: no (feasible) table entry at fidelity 1 reports every objective");
        let reference: Vec<f64> = match reference {
            Some(text) => {
                let values: Vec<f64> = text
                    .split(',')
                    .map(|v| v.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
                    .collect::<Option<_>>()
                    .with_context(|| format!("--reference `{text}`: expected one number per objective, e.g. 0,2e6"))?;
                anyhow::ensure!(values.len() == objectives.len(), "--reference `{text}`: {} values for {} objectives", values.len(), objectives.len());
                values.iter().zip(objectives).map(|(v, o)| if o.maximize { *v } else { -v }).collect()
            }
            // The table's worst value of each objective.
            None => (0..objectives.len()).map(|k| points.iter().map(|p| p[k]).fold(f64::INFINITY, f64::min)).collect(),
        };
        let table = pareto::hypervolume(&pareto::non_dominated(&points), &reference);
        anyhow::ensure!(table > 0.0, "--reference: no table entry is better than the reference point in every objective");
        Ok(Volume { objectives: objectives.to_vec(), reference, table })
    }

    fn reference_as_measured(&self, objectives: &[pareto::Objective]) -> Vec<f64> {
        self.reference.iter().zip(objectives).map(|(v, o)| if o.maximize { *v } else { -v }).collect()
    }

    fn describe(&self, objectives: &[pareto::Objective]) -> String {
        let r: Vec<String> = self.reference_as_measured(objectives).iter().map(|v| format!("{v}")).collect();
        format!("hypervolume as a fraction of the table front's ({:.6e}), reference point ({})", self.table, r.join(", "))
    }

    /// After each trial of one search: the hypervolume of its front so far
    /// (feasible successes, valued at full fidelity from the table), as a
    /// fraction of the table front's; and the simulated seconds spent.
    fn anytime(&self, trials: &[nasbox::run::journal::Trial], table: &Table, constraints: &Constraints) -> Anytime {
        let mut front: Vec<Vec<f64>> = vec![];
        let (mut hv, mut time) = (0.0, 0.0);
        let mut a = Anytime { valid: vec![], test: vec![], time: vec![] };
        for t in trials {
            time += t.cost;
            let full = (t.status == nasbox::run::journal::TrialStatus::Ok && t.relaxed.is_none()).then(|| table.lookup(&t.genotype, None)).flatten();
            if let Some(e) = full.filter(|e| constraints.violation(&e.metrics).is_none()) {
                // The objectives in the table's terms, at full fidelity.
                if let Some(v) = pareto::values_of(e.valid_accuracy, &e.metrics, &self.objectives) {
                    if !front.iter().any(|f| f == &v || pareto::dominates(f, &v)) {
                        front.retain(|f| !pareto::dominates(&v, f));
                        front.push(v);
                        hv = pareto::hypervolume(&front, &self.reference) / self.table;
                    }
                }
            }
            a.valid.push(hv);
            a.test.push(f64::NAN);
            a.time.push(time);
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_a_count_or_a_range() {
        assert_eq!(parse_seeds("20"), Ok(0..20));
        assert_eq!(parse_seeds("20..40"), Ok(20..40));
        assert_eq!(parse_seeds(" 3 .. 4 "), Ok(3..4));
        for bad in ["0", "5..5", "6..2"] {
            assert!(parse_seeds(bad).unwrap_err().contains("holds no seeds"), "{bad}");
        }
        for bad in ["x", "1..", "..3", "1..=3", "-2"] {
            assert!(parse_seeds(bad).unwrap_err().contains("expected a number of seeds N, or a range A..B"), "{bad}");
        }
        assert_eq!(describe_seeds(&(0..20)), "20 seeds");
        assert_eq!(describe_seeds(&(20..21)), "1 seed (20..21)");
    }

    #[test]
    fn an_entrant_is_a_component_with_optional_settings() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = dir.path().join("mine.wasm");
        std::fs::write(&wasm, b"not read here").unwrap();
        let w = wasm.display().to_string();

        let plain = Entrant::parse(&w).unwrap();
        assert_eq!((plain.name.as_str(), plain.set.len()), ("mine", 0));

        let variant = Entrant::parse(&format!("{w}:population=10, sample=3")).unwrap();
        assert_eq!(variant.name, "mine:population=10, sample=3");
        assert_eq!(variant.path, wasm);
        assert_eq!(variant.set.get("population").map(String::as_str), Some("10"));
        assert_eq!(variant.set.get("sample").map(String::as_str), Some("3"));
        // Variants of one strategy get folders of their own.
        assert_ne!(run_dir(dir.path(), &plain.name, 0), run_dir(dir.path(), &variant.name, 0));

        for (bad, says) in [(":population", "is not a setting"), (":=3", "is not a setting"), (":a=1,a=2", "`a` is set twice")] {
            let e = format!("{:#}", Entrant::parse(&format!("{w}{bad}")).unwrap_err());
            assert!(e.contains(says) && e.contains(&w), "{bad}: {e}");
        }
        let e = format!("{:#}", Entrant::parse(&format!("{}:a=1", dir.path().join("missing.wasm").display())).unwrap_err());
        assert!(e.contains("missing.wasm"), "{e}");

        // Entrants whose run folders would coincide are refused.
        assert!(distinct_folders(&[plain.clone(), variant.clone()]).is_ok());
        let e = distinct_folders(&[plain.clone(), plain.clone()]).unwrap_err().to_string();
        assert!(e.contains("`mine` is given twice"), "{e}");
        let lookalike = dir.path().join("mine_population_10, sample_3.wasm");
        std::fs::write(&lookalike, b"").unwrap();
        let e = distinct_folders(&[variant, Entrant::parse(&lookalike.display().to_string()).unwrap()]).unwrap_err().to_string();
        assert!(e.contains("would share the run folders `mine_population_10_ sample_3-SEED`"), "{e}");
    }

    /// A variant's name longer than the others (`bananas:members=5`)
    /// widened its row only, shifting every number after it.
    #[test]
    fn the_final_table_stays_aligned_whatever_the_names() {
        let line = |name: &str, runs: &str, score: &str| [name.to_string(), runs.to_string(), score.to_string()];
        let table =
            aligned(&[line("strategy", "runs", "test accuracy"), line("npenas", "40", "0.3723 ± 0.0131"), line("bananas:members=5", "40", "0.3688 ± 0.0154")]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        let width = lines[0].chars().count();
        assert!(lines.iter().all(|l| l.chars().count() == width), "{table}");
        // Names flush left, numbers flush right, two spaces between.
        assert!(lines[1].starts_with("npenas ") && lines[2].starts_with("bananas:members=5  "), "{table}");
        assert_eq!(lines[1].find(" 40 "), lines[2].find(" 40 "), "{table}");
        assert_eq!(lines[0].find("runs").map(|at| at + 2), lines[1].find("40"), "{table}");
        assert!(lines[0].ends_with("  test accuracy") && lines[1].ends_with("  0.3723 ± 0.0131"), "{table}");
    }
}
