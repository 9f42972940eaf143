//! End-to-end search throughput with the table estimator: trials per
//! second through the whole loop — strategy `ask` in the sandbox, the
//! journal's commits (proposal, then result, in SQLite WAL), the table
//! lookup, `tell` — for each strategy, 5,000 trials on nb201.
//!
//!     cargo bench -p nasbox --bench search     (after scripts/build-strategies)

#[path = "../../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use nasbox::estimate::table::Table;
use nasbox::run::executor::InProcess;
use nasbox::run::search::Search;
use nasbox::run::RunConfig;
use nasbox::space::SearchSpace;
use nasbox::strategy::{Limits, Plugin};

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let table_path = dir.path().join("nb201.jsonl");
    support::write_table(&table_path);
    let table = Table::load(&table_path, &SearchSpace::Nb201)?;
    let trials = 5000;
    println!("| strategy | trials | seconds | trials/s |");
    println!("|---|---|---|---|");
    for name in ["random", "evolution", "local_search", "tpe"] {
        let wasm = support::guest(name);
        let config = RunConfig {
            strategy: wasm.display().to_string(),
            estimator: format!("table:{}", table_path.display()),
            budget: format!("trials={trials}"),
            ..RunConfig::default()
        };
        let plugin = Plugin::load(support::engine(), &wasm, 0, Limits::default())?;
        let out = dir.path().join(name);
        let mut search = Search::start(&out, config, plugin, &wasm, "bench")?;
        let mut executor = InProcess::new(|g: &[u32], f: Option<f64>| table.evaluate(g, f));
        let started = Instant::now();
        search.run(&mut executor, vec![], &mut |_| {})?;
        let seconds = started.elapsed().as_secs_f64();
        let done = search.spent_now()?.trials;
        println!("| {name} | {done} | {seconds:.2} | {:.0} |", done as f64 / seconds);
    }
    Ok(())
}
