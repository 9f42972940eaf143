//! The searches of `function-bench`: a built-in strategy, told what each
//! decision is (or not), searching a problem natively with k proposals
//! pending, over many seeds on many threads.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use nasbox_sdk::native::Native;
use nasbox_sdk::{Observation, Proposal, RunContext, Setting, Status, Strategy};

use crate::suite::Problem;

/// One search: the problem, the seed, the trials, the workers, the settings,
/// and whether the strategy is told the shape. Returns the best value found.
type Search = fn(&Problem, u64, u64, usize, &[Setting], bool) -> Result<f64, String>;

/// The strategies this links, by the names `nasbox bench` gives them.
const STRATEGIES: &[(&str, Search)] = &[
    ("random", search::<random::RandomSearch>),
    ("evolution", search::<evolution::Evolution>),
    ("local_search", search::<local_search::LocalSearch>),
    ("tpe", search::<tpe::TpeStrategy>),
    ("bananas", search::<bananas::Bananas>),
    ("npenas", search::<npenas::Npenas>),
    ("gp", search::<gp::Gp>),
];

/// The names of the strategies this links.
pub fn linked() -> Vec<&'static str> {
    STRATEGIES.iter().map(|(n, _)| *n).collect()
}

/// A search with `workers` proposals pending: ask until that many are
/// pending (never more than the trials left), then tell the oldest one's
/// result, and repeat, as the host drives a strategy with `--workers`. A
/// repeated genotype counts as a trial (the host answers it from its
/// journal).
fn search<S: Strategy>(problem: &Problem, seed: u64, trials: u64, workers: usize, settings: &[Setting], shaped: bool) -> Result<f64, String> {
    let context = RunContext { max_trials: Some(trials), parallelism: workers as u32 };
    let shapes = if shaped { problem.shapes() } else { vec![] };
    let mut strategy = Native::<S>::init_shaped(seed, problem.space(), shapes, settings.to_vec(), context).map_err(|e| e.to_string())?;
    let mut pending: VecDeque<(u64, Proposal, f64)> = VecDeque::new();
    let (mut asked, mut best) = (0u64, f64::NEG_INFINITY);
    loop {
        let mut idle = false;
        while pending.len() < workers && asked < trials && !idle {
            let n = (workers - pending.len()).min((trials - asked) as usize);
            let proposals = strategy.ask(n as u32).map_err(|e| e.to_string())?;
            idle = proposals.is_empty();
            for proposal in proposals.into_iter().take(n) {
                let Proposal::Genotype(candidate) = &proposal else { return Err("proposed a relaxed architecture".into()) };
                let value = problem.value(&candidate.genotype)?;
                pending.push_back((asked, proposal, value));
                asked += 1;
            }
        }
        // Nothing pending after asking: the strategy is done (or exhausted).
        let Some((trial, proposal, value)) = pending.pop_front() else { break };
        best = best.max(value);
        let observation = Observation { trial, proposal, status: Status::Ok, objective: value, cost: 1.0, metrics: vec![], gradient: None };
        strategy.tell(vec![observation]).map_err(|e| e.to_string())?;
    }
    if asked == 0 {
        return Err("proposed nothing".into());
    }
    Ok(best)
}

/// A strategy by its name, with its settings, shaped or all-categorical.
#[derive(Debug, Clone)]
pub struct Entrant {
    pub label: String,
    strategy: usize,
    settings: Vec<Setting>,
    shaped: bool,
}

impl Entrant {
    /// `NAME[:KEY=VALUE,...][/cat]`: `/cat` runs it without the shape (every
    /// decision categorical, as a strategy built before contract 0.1.2 sees it).
    pub fn parse(label: &str) -> Result<Entrant, String> {
        let (body, shaped) = match label.strip_suffix("/cat") {
            Some(body) => (body, false),
            None => (label, true),
        };
        let (name, settings) = body.split_once(':').unwrap_or((body, ""));
        let Some(strategy) = STRATEGIES.iter().position(|(n, _)| *n == name) else {
            return Err(format!("`{name}`: this runs {}", linked().join(", ")));
        };
        let settings = settings
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|kv| kv.split_once('=').map(|(k, v)| Setting { key: k.into(), value: v.into() }).ok_or_else(|| format!("`{label}`: `{kv}` is not KEY=VALUE")))
            .collect::<Result<_, _>>()?;
        Ok(Entrant { label: label.into(), strategy, settings, shaped })
    }

    /// The same strategy and settings without the shape.
    pub fn categorical(&self) -> Entrant {
        Entrant { label: format!("{}/cat", self.label), shaped: false, ..self.clone() }
    }
}

/// One search to run.
#[derive(Debug, Clone)]
pub struct Job {
    pub problem: usize,
    pub entrant: usize,
    pub trials: u64,
    pub workers: usize,
    pub seed: u64,
}

/// Every job's best value and seconds, in job order, `jobs` searches at a
/// time; progress goes to stderr.
pub fn run(problems: &[Problem], entrants: &[Entrant], work: &[Job], jobs: usize) -> Result<Vec<(f64, f64)>, String> {
    let results = Mutex::new(vec![None; work.len()]);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(work.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = work.get(i) else { break };
                let (entrant, problem) = (&entrants[job.entrant], &problems[job.problem]);
                let clock = Instant::now();
                let best = STRATEGIES[entrant.strategy].1(problem, job.seed, job.trials, job.workers, &entrant.settings, entrant.shaped)
                    .map_err(|e| format!("{} on {}, {} trials, {} workers, seed {}: {e}", entrant.label, problem.name, job.trials, job.workers, job.seed));
                let failed = best.is_err();
                results.lock().unwrap()[i] = Some(best.map(|b| (b, clock.elapsed().as_secs_f64())));
                if failed {
                    // The others stop at their next search: the run fails anyway.
                    next.store(work.len(), Ordering::Relaxed);
                }
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                if work.len() >= 200 && d * 10 / work.len() > (d - 1) * 10 / work.len() {
                    eprintln!("function-bench: {d}/{} searches, {:.0} s", work.len(), started.elapsed().as_secs_f64());
                }
            });
        }
    });
    let results = results.into_inner().unwrap();
    if let Some(Err(e)) = results.iter().flatten().find(|r| r.is_err()) {
        return Err(e.clone());
    }
    Ok(results.into_iter().map(|r| r.expect("every search ran").expect("no search failed")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entrants_take_settings_and_a_categorical_suffix() {
        let e = Entrant::parse("tpe:startup=5/cat").unwrap();
        assert_eq!((STRATEGIES[e.strategy].0, e.settings.len(), e.shaped), ("tpe", 1, false));
        assert_eq!(Entrant::parse("random").unwrap().categorical().label, "random/cat");
        assert!(Entrant::parse("reinforce").unwrap_err().contains("this runs random"));
    }

    #[test]
    fn workers_keep_that_many_pending_and_the_trials_are_exact() {
        let p = Problem::named("branin-grid").unwrap();
        for workers in [1, 3] {
            let best = search::<random::RandomSearch>(&p, 3, 17, workers, &[], true).unwrap();
            assert!(best <= p.grid_optimum && best > p.grid_optimum - 100.0);
        }
        // The same seed searches the same way.
        assert_eq!(search::<tpe::TpeStrategy>(&p, 4, 20, 2, &[], true), search::<tpe::TpeStrategy>(&p, 4, 20, 2, &[], true));
    }
}
