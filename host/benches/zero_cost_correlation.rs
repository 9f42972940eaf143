//! How well each zero-cost proxy (and their rank vote) predicts trained
//! accuracy: Spearman's ρ between the proxy and the validation accuracy
//! `nasbox train` reached, over the successful trials of a search run that
//! used the training estimator. The proxies are computed on the run's own
//! data, skeleton and seed, as `--estimator zero-cost` would.
//!
//!     bench/zero-cost-correlation [TRIALS]      (runs the search, then this)
//!     NASBOX_RUN=runs/NAME cargo bench -p nasbox --bench zero_cost_correlation

use std::path::PathBuf;

use nasbox::estimate::proxies::ZeroCost;
use nasbox::estimate::zero_cost::Scores;
use nasbox::report::stats::spearman;
use nasbox::run::journal::{Journal, TrialStatus};
use nasbox::run::search::{Search, JOURNAL};

fn main() -> anyhow::Result<()> {
    let run = PathBuf::from(std::env::var("NASBOX_RUN").map_err(|_| anyhow::anyhow!("set NASBOX_RUN to a search run folder (training estimator)"))?);
    let (config, _, _) = Search::config_of(&run)?;
    let trials: Vec<_> = Journal::open(&run.join(JOURNAL))?.trials()?.into_iter().filter(|t| t.status == TrialStatus::Ok && t.reused_from.is_none()).collect();
    anyhow::ensure!(trials.len() >= 3, "{}: only {} successful trials", run.display(), trials.len());
    let space = nasbox::space::SearchSpace::resolve(&config.space)?;
    tch::set_num_threads(2);
    let scorer = ZeroCost::new(&space, &config.dataset, config.train.channels, config.train.cells, config.seed)?;
    let accuracy: Vec<f64> = trials.iter().map(|t| t.objective).collect();
    let mut columns: Vec<Vec<f64>> = vec![vec![]; 5];
    for t in &trials {
        let s = scorer.scores(&t.genotype)?;
        for (k, v) in s.as_array().into_iter().enumerate() {
            columns[k].push(v);
        }
        columns[4].push(scorer.evaluate(&t.genotype).objective);
    }
    println!(
        "Spearman ρ with validation accuracy after {} epochs (C={}, N={}, {}), {} architectures of {}:",
        config.train.epochs,
        config.train.channels.map_or("default".into(), |c| c.to_string()),
        config.train.cells.map_or("default".into(), |c| c.to_string()),
        config.dataset,
        trials.len(),
        run.display()
    );
    println!("| proxy | Spearman ρ |");
    println!("|---|---|");
    for (name, column) in Scores::NAMES.iter().chain(["vote"].iter()).zip(&columns) {
        println!("| {name} | {:.3} |", spearman(column, &accuracy));
    }
    Ok(())
}
