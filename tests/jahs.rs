//! Joint architecture and hyperparameter search end to end: a short
//! `nb201+hp` search trains each trial with its genotype's recipe, the
//! journal and `results` show the recipes, and `train --from` retrains the
//! best trial with its recipe (reproducing its accuracy) and exports a
//! model.py with its activation.

mod support;

use std::path::Path;

use nasbox::space::SearchSpace;
use support::{command, guest, text, trials};

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

#[test]
fn a_short_nb201_hp_search_and_its_best_trial_retrained_with_its_recipe() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("jahs.toml");
    std::fs::write(
        &config,
        "space = \"nb201+hp\"\nestimator = \"train\"\nbudget = \"trials=5\"\nseed = 6\n\n[train]\nepochs = 1\ndata_fraction = 0.05\nchannels = 2\ncells = 1\nthreads = 1\n",
    )
    .unwrap();
    let run = dir.path().join("run");
    let run_arg = run.to_str().unwrap();
    let o = command(&["search", "--strategy", guest("random").to_str().unwrap(), "--config", config.to_str().unwrap(), "--out", run_arg]).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));

    // Every trial's architecture ends with its recipe, which decodes to the
    // hp part of its genotype.
    let space = SearchSpace::resolve("nb201+hp").unwrap();
    let all = trials(&run);
    assert_eq!(all.len(), 5);
    for t in &all {
        assert!(t.arch.contains(" ; lr="), "{}", t.arch);
        assert_eq!(space.parse(&t.arch).unwrap(), t.genotype);
    }
    let recipes: std::collections::BTreeSet<String> = all.iter().map(|t| t.arch.split(" ; ").nth(1).unwrap().to_string()).collect();
    assert!(recipes.len() > 1, "random search should try several recipes: {recipes:?}");
    let best = all
        .iter()
        .filter(|t| t.status == nasbox::run::journal::TrialStatus::Ok)
        .max_by(|a, b| a.objective.total_cmp(&b.objective).then(b.id.cmp(&a.id)))
        .expect("a trial succeeded")
        .clone();
    let o = command(&["results", run_arg]).output().unwrap();
    assert!(o.status.success() && text(&o).contains(best.arch.split(" ; ").nth(1).unwrap()), "{}", text(&o));

    // Retraining with the run's data settings and seed reproduces the
    // trial: same recipe, same network, same accuracy (one thread on CPU).
    let o =
        command(&["train", "--from", run_arg, "--epochs", "1", "--data-fraction", "0.05", "--channels", "2", "--cells", "1", "--threads", "1", "--seed", "6"])
            .output()
            .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains(&best.arch), "{}", text(&o));
    let recipe = space.recipe(&best.genotype).unwrap();
    let metrics = json(&run.join("final/metrics.json"));
    assert_eq!(metrics["arch"], best.arch.as_str());
    assert_eq!(metrics["recipe"], recipe.to_json());
    let accuracy = metrics["valid_accuracy"].as_f64().unwrap();
    assert!((accuracy - best.objective).abs() < 1e-9, "retrained {accuracy}, the trial had {}", best.objective);
    let params = best.metrics.iter().find(|(k, _)| k == "params").unwrap().1;
    assert_eq!(metrics["params"].as_f64().unwrap(), params);

    // The exported module builds the network with the recipe's activation.
    let module = std::fs::read_to_string(run.join("final/model.py")).unwrap();
    assert!(module.contains(&format!("\"activation\": \"{}\"", recipe.activation.name())), "{module}");
    assert!(module.contains(&recipe.to_text()));

    // Flags that contradict the recipe are refused, naming the flag.
    let o = command(&["train", "--from", run_arg, "--lr", "0.5", "--out", dir.path().join("other").to_str().unwrap()]).output().unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("--lr: the nb201+hp architecture's recipe sets it"), "{}", text(&o));
}

#[test]
fn estimators_that_cannot_honour_a_recipe_refuse_hp_spaces() {
    let dir = tempfile::tempdir().unwrap();
    for estimator in ["zero-cost", "supernet"] {
        let out = dir.path().join(estimator);
        let o = command(&[
            "search",
            "--strategy",
            guest("random").to_str().unwrap(),
            "--space",
            "nb201+hp",
            "--estimator",
            estimator,
            "--budget",
            "trials=2",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
        assert!(!o.status.success(), "{}", text(&o));
        assert!(text(&o).contains(&format!("{estimator} does not apply to nb201+hp")), "{}", text(&o));
    }
}
