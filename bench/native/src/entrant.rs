//! An entrant: a built-in strategy by name, with its settings, searching
//! the table natively over many seeds.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use nasbox_sdk::native::Native;
use nasbox_sdk::{Genotype, Observation, Proposal, RunContext, Setting, Status, Strategy};

use crate::table::{space, Table};

/// One search of a strategy: the table, the seed, the trials, the settings.
type Search = fn(&Table, u64, u64, &[Setting]) -> Result<Answer, String>;

/// The strategies this links, by the names `nasbox bench` gives them.
const STRATEGIES: [(&str, Search); 7] = [
    ("random", search::<random::RandomSearch>),
    ("evolution", search::<evolution::Evolution>),
    ("local_search", search::<local_search::LocalSearch>),
    ("tpe", search::<tpe::TpeStrategy>),
    ("gp", search::<gp::Gp>),
    ("bananas", search::<bananas::Bananas>),
    ("npenas", search::<npenas::Npenas>),
];

/// One search's answer: its best trial by validation.
#[derive(Clone)]
pub struct Answer {
    pub valid: f64,
    pub test: f64,
    pub genotype: Genotype,
}

fn search<S: Strategy>(table: &Table, seed: u64, trials: u64, settings: &[Setting]) -> Result<Answer, String> {
    let context = RunContext { max_trials: Some(trials), parallelism: 1 };
    let mut strategy = Native::<S>::init(seed, space(), settings.to_vec(), context).map_err(|e| e.to_string())?;
    let mut best: Option<Answer> = None;
    for trial in 0..trials {
        let proposal = strategy.ask(1).map_err(|e| e.to_string())?.pop().ok_or("proposed nothing")?;
        let Proposal::Genotype(candidate) = &proposal else { return Err("proposed a relaxed architecture".into()) };
        let &(valid, test) = table.0.get(&candidate.genotype).ok_or("proposed a genotype outside the space")?;
        // Ties go to the earlier trial, as the host's incumbent does.
        if best.as_ref().is_none_or(|b| valid > b.valid) {
            best = Some(Answer { valid, test, genotype: candidate.genotype.clone() });
        }
        let observation = Observation { trial, proposal, status: Status::Ok, objective: valid, cost: 1.0, metrics: vec![], gradient: None };
        strategy.tell(vec![observation]).map_err(|e| e.to_string())?;
    }
    best.ok_or_else(|| "no trials".into())
}

/// A strategy by its name, with its settings.
#[derive(Debug)]
pub struct Entrant {
    pub label: String,
    /// Its index in [`STRATEGIES`].
    strategy: usize,
    settings: Vec<Setting>,
}

impl Entrant {
    pub fn parse(label: &str) -> Result<Entrant, String> {
        let (name, settings) = label.split_once(':').unwrap_or((label, ""));
        let Some(strategy) = STRATEGIES.iter().position(|(n, _)| *n == name) else {
            return Err(format!("`{name}`: this runs {}", STRATEGIES.map(|(n, _)| n).join(", ")));
        };
        let settings = settings
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|kv| kv.split_once('=').map(|(k, v)| Setting { key: k.into(), value: v.into() }).ok_or_else(|| format!("`{label}`: `{kv}` is not KEY=VALUE")))
            .collect::<Result<_, _>>()?;
        Ok(Entrant { label: label.into(), strategy, settings })
    }

    /// Every seed's answer, in seed order, `jobs` searches at a time.
    pub fn run(&self, table: &Table, seeds: &Range<u64>, trials: u64, jobs: usize) -> Result<Vec<Answer>, String> {
        let seeds: Vec<u64> = seeds.clone().collect();
        let answers = Mutex::new(vec![None; seeds.len()]);
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..jobs.min(seeds.len()) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&seed) = seeds.get(i) else { break };
                    let answer = STRATEGIES[self.strategy].1(table, seed, trials, &self.settings).map_err(|e| format!("{} seed {seed}: {e}", self.label));
                    answers.lock().unwrap()[i] = Some(answer);
                });
            }
        });
        answers.into_inner().unwrap().into_iter().map(|a| a.expect("every seed was searched")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entrants_name_a_linked_strategy_and_key_value_settings() {
        let e = Entrant::parse("npenas:design=uniform,recombine=0").unwrap();
        assert_eq!((STRATEGIES[e.strategy].0, e.settings.len()), ("npenas", 2));
        assert!(Entrant::parse("reinforce").unwrap_err().contains("this runs random"));
        assert!(Entrant::parse("tpe:startup").unwrap_err().contains("`startup` is not KEY=VALUE"));
    }
}
