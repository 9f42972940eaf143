//! The conformance check a strategy author runs before publishing
//! (`nasbox strategy check`).
//!
//! It drives the strategy the way a search does — asks in batches, tells
//! results out of order while others are pending, mixes in failed and invalid
//! results — and checks what the contract promises: valid proposals, the same
//! search for the same seed, exact resume from a snapshot, a valid
//! recommendation. Every broken promise is listed as a violation; the check
//! goes on after a violation wherever the instance can still be called.

use std::collections::HashSet;

use serde_json::json;

use super::bindings::{Candidate, Metric, Observation, Proposal, RunContext, Status};
use super::engine::Loaded;
use super::error::StrategyError;
use super::plugin::{Plugin, Snapshot};
use super::sandbox::Limits;
use crate::space::Space;

/// What to check a strategy on.
#[derive(Debug, Clone)]
pub struct Options {
    pub space: Space,
    pub seed: u64,
    pub settings: Vec<(String, String)>,
    pub limits: Limits,
    /// Rounds of ask/tell; the snapshot is taken half way.
    pub rounds: usize,
    /// Proposals asked for per round.
    pub batch: u32,
}

impl Options {
    pub fn new(space: Space) -> Options {
        Options { space, seed: 0, settings: vec![], limits: Limits::default(), rounds: 8, batch: 3 }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// What was checked.
    pub check: String,
    /// `Ok(detail)` when it held, `Err(violation)` when not.
    pub result: Result<String, String>,
}

/// Everything the check found.
#[derive(Debug, Default)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
    /// Every call and answer of the main instance, as JSON lines; identical
    /// across processes for the same strategy, space, config and seed.
    pub transcript: Vec<serde_json::Value>,
}

impl Report {
    pub fn violations(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|o| o.result.is_err())
    }

    pub fn passed(&self) -> bool {
        self.violations().next().is_none()
    }

    fn pass(&mut self, check: &str, detail: impl Into<String>) {
        self.outcomes.push(Outcome { check: check.into(), result: Ok(detail.into()) });
    }

    fn fail(&mut self, check: &str, violation: impl Into<String>) {
        self.outcomes.push(Outcome { check: check.into(), result: Err(violation.into()) });
    }
}

/// Runs the whole check. Never panics on guest behaviour; every failure ends
/// up in the report.
pub fn run(loaded: &Loaded, opts: &Options) -> Report {
    let mut report = Report::default();
    let context = RunContext { max_trials: Some((opts.rounds as u64 + 1) * opts.batch as u64), parallelism: opts.batch };

    let fresh = || -> Result<Plugin, StrategyError> {
        let mut p = Plugin::instantiate(loaded, opts.seed, opts.limits.clone())?;
        p.init(&opts.space, &opts.settings, context)?;
        Ok(p)
    };

    let mut main = match fresh() {
        Ok(p) => p,
        Err(e) => {
            report.fail("load, info and init", e.to_string());
            return report;
        }
    };
    let info = main.info().clone();
    report.pass("load, info and init", format!("{} {}, {} config keys, space `{}`", info.name, info.version, info.config.len(), opts.space.name));

    match main.ask(0) {
        Ok(p) if p.is_empty() => report.pass("ask(0) proposes nothing", ""),
        Ok(p) => report.fail("ask(0) proposes nothing", format!("returned {} proposals", p.len())),
        Err(e) => report.fail("ask(0) proposes nothing", e.to_string()),
    }
    match main.tell(&[]) {
        Ok(()) => report.pass("tell([]) is accepted", ""),
        Err(e) => report.fail("tell([]) is accepted", e.to_string()),
    }

    // The main run: first half, snapshot, second half, drain.
    let half = opts.rounds / 2;
    let mut script = Script::new(&opts.space, opts.batch);
    let first = script.rounds(&mut main, 0..half);
    let snapshot = first.is_ok().then(|| (main.snapshot(), script.clone()));
    let second = first.and_then(|_| script.rounds(&mut main, half..opts.rounds)).and_then(|_| script.drain(&mut main));
    report.transcript = script.transcript.clone();
    let rounds_check = "ask/tell rounds with shuffled, failed and invalid results";
    match second {
        Ok(()) if script.proposed.is_empty() => report.fail(rounds_check, "proposed nothing on a fresh search"),
        Ok(()) => {
            let distinct = script.proposed.iter().map(|p| format!("{p:?}")).collect::<HashSet<_>>().len();
            report.pass(rounds_check, format!("{} rounds, {} valid proposals ({distinct} distinct)", opts.rounds, script.proposed.len()));
        }
        Err(e) => {
            report.fail(rounds_check, e.to_string());
            return report;
        }
    }

    let recommend_check = "recommend returns a valid architecture";
    let recommendation = main.recommend();
    report.transcript.push(json!({"call": "recommend", "result": recommendation.as_ref().ok()}));
    match recommendation {
        Ok(Some(g)) => report.pass(recommend_check, opts.space.describe(&g)),
        Ok(None) if script.ok_genotypes > 0 => report.fail(recommend_check, format!("returned nothing after {} successful results", script.ok_genotypes)),
        Ok(None) => report.pass(recommend_check, "nothing to recommend (no successful discrete results)"),
        Err(e) => report.fail(recommend_check, e.to_string()),
    }

    // Same seed, same observations: same proposals.
    let determinism = "same seed and results give the same proposals";
    match fresh() {
        Err(e) => report.fail(determinism, e.to_string()),
        Ok(mut twin) => {
            let mut twin_script = Script::new(&opts.space, opts.batch);
            match twin_script.rounds(&mut twin, 0..opts.rounds).and_then(|_| twin_script.drain(&mut twin)) {
                Ok(()) => match first_difference(&script.proposed, &twin_script.proposed) {
                    None => report.pass(determinism, ""),
                    Some(i) => report.fail(determinism, format!("proposal {i} differs between two runs with seed {}", opts.seed)),
                },
                Err(e) => report.fail(determinism, e.to_string()),
            }
        }
    }

    // Snapshot half way, restore into a fresh instance, compare the rest.
    let resume = "snapshot and restore resume exactly";
    match snapshot {
        Some((Ok(Some(snap)), script_at_half)) => {
            if !info.supports_snapshot {
                report.fail(resume, "snapshot works but info says supports-snapshot: false");
            }
            check_resume(&mut report, resume, fresh(), &snap, script_at_half, &script, half, opts);
        }
        Some((Ok(None), _)) if info.supports_snapshot => report.fail(resume, "info says supports-snapshot: true but snapshot returns unsupported"),
        Some((Ok(None), _)) => report.pass(resume, "not supported (the host resumes by replay)"),
        Some((Err(e), _)) => report.fail(resume, e.to_string()),
        None => {}
    }
    report
}

#[allow(clippy::too_many_arguments)]
fn check_resume(
    report: &mut Report,
    check: &str,
    restored: Result<Plugin, StrategyError>,
    snap: &Snapshot,
    mut script: Script,
    original: &Script,
    half: usize,
    opts: &Options,
) {
    let mut restored = match restored {
        Ok(p) => p,
        Err(e) => {
            report.fail(check, e.to_string());
            return;
        }
    };
    if let Err(e) = restored.restore(snap) {
        report.fail(check, e.to_string());
        return;
    }
    let before = script.proposed.len();
    match script.rounds(&mut restored, half..opts.rounds).and_then(|_| script.drain(&mut restored)) {
        Ok(()) => match first_difference(&original.proposed[before..], &script.proposed[before..]) {
            None => report.pass(check, format!("{} byte state", snap.state.len())),
            Some(i) => report.fail(check, format!("after restore, proposal {} differs from the uninterrupted run", before + i)),
        },
        Err(e) => report.fail(check, e.to_string()),
    }
}

fn first_difference(a: &[Proposal], b: &[Proposal]) -> Option<usize> {
    (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))
}

/// The check's side of a search: numbers trials, keeps some pending, and
/// answers with a synthetic objective so that results are deterministic.
#[derive(Clone)]
struct Script {
    space: Space,
    batch: u32,
    pending: Vec<(u64, Proposal)>,
    proposed: Vec<Proposal>,
    ok_genotypes: usize,
    transcript: Vec<serde_json::Value>,
}

impl Script {
    fn new(space: &Space, batch: u32) -> Script {
        Script { space: space.clone(), batch, pending: vec![], proposed: vec![], ok_genotypes: 0, transcript: vec![] }
    }

    fn rounds(&mut self, p: &mut Plugin, rounds: std::ops::Range<usize>) -> Result<(), StrategyError> {
        for r in rounds {
            let proposals = p.ask(self.batch)?;
            self.transcript.push(json!({"call": "ask", "n": self.batch, "proposals": proposals}));
            for prop in proposals {
                self.pending.push((self.proposed.len() as u64, prop.clone()));
                self.proposed.push(prop);
            }
            // Keep the newest proposal in flight into the next round, and
            // tell the rest in an order that is not the order asked.
            let keep = self.pending.pop();
            shuffle(&mut self.pending, r as u64);
            self.tell_pending(p)?;
            self.pending.extend(keep);
        }
        Ok(())
    }

    fn drain(&mut self, p: &mut Plugin) -> Result<(), StrategyError> {
        self.tell_pending(p)
    }

    fn tell_pending(&mut self, p: &mut Plugin) -> Result<(), StrategyError> {
        let kind = p.relaxed_kind();
        let observations: Vec<Observation> = self.pending.drain(..).map(|(t, prop)| observe(&self.space, t, prop, kind)).collect();
        self.ok_genotypes += observations.iter().filter(|o| matches!((&o.status, &o.proposal), (Status::Ok, Proposal::Genotype(_)))).count();
        self.transcript.push(json!({"call": "tell", "trials": observations.iter().map(|o| o.trial).collect::<Vec<_>>()}));
        p.tell(&observations)
    }
}

/// A deterministic stand-in for training: every decision has a preferred
/// choice, and accuracy rises with the number of decisions that take it.
/// Some trials fail or are invalid, as in a real search.
/// A strategy whose relaxed proposals are samples (`kind`) gets the
/// gradient of a sampled row at its option only, as from the supernet.
fn observe(space: &Space, trial: u64, proposal: Proposal, kind: super::RelaxedKind) -> Observation {
    let arities = space.arities();
    let preferred = |i: usize| (i * 7 + 3) % arities[i];
    let (status, objective, gradient) = match &proposal {
        _ if trial % 7 == 3 => (Status::Failed("synthetic failure: training diverged".into()), 0.0, None),
        Proposal::Genotype(Candidate { genotype, .. }) if trial % 11 == 5 => {
            (Status::Invalid(format!("synthetic: {} is not buildable", space.describe(genotype))), 0.0, None)
        }
        Proposal::Genotype(Candidate { genotype, fidelity }) => {
            let hits = genotype.iter().enumerate().filter(|&(i, &c)| c as usize == preferred(i)).count();
            let acc = 0.1 + 0.85 * hits as f64 / arities.len().max(1) as f64 * fidelity.unwrap_or(1.0).sqrt();
            (Status::Ok, acc, None)
        }
        Proposal::Relaxed(weights) => {
            // d(loss)/d(weight): pull each decision toward its preferred choice.
            let grad: Vec<Vec<f64>> = weights
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let sampled = if kind == super::RelaxedKind::Sample { crate::train::supernet::sampled(w) } else { None };
                    (0..w.len())
                        .map(|c| match sampled {
                            Some(k) if k as usize != c => 0.0,
                            _ if c == preferred(i) => -1.0,
                            _ => 0.1,
                        })
                        .collect()
                })
                .collect();
            (Status::Ok, 0.5, Some(grad))
        }
    };
    Observation {
        trial,
        proposal,
        status,
        objective,
        cost: 1.0 + (trial % 5) as f64,
        metrics: vec![Metric { name: "params".into(), value: 1e5 + trial as f64 }, Metric { name: "train-loss".into(), value: 1.0 - objective }],
        gradient,
    }
}

/// Fisher–Yates with SplitMix64, seeded by the round: independent of the
/// strategy's random stream, identical on every run.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xd1b5_4a32_d192_ed03;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in (1..items.len()).rev() {
        items.swap(i, (next() % (i as u64 + 1)) as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::builtin;
    use crate::strategy::RelaxedKind;

    #[test]
    fn synthetic_results_mix_statuses_and_reward_preferred_choices() {
        let s = builtin("toy").unwrap();
        let g = |genotype: Vec<u32>| Proposal::Genotype(Candidate { genotype, fidelity: None });
        assert!(matches!(observe(&s, 3, g(vec![0; 5]), RelaxedKind::Mixture).status, Status::Failed(_)));
        assert!(matches!(observe(&s, 5, g(vec![0; 5]), RelaxedKind::Mixture).status, Status::Invalid(_)));
        let preferred: Vec<u32> = (0..5).map(|i| ((i * 7 + 3) % s.arities()[i]) as u32).collect();
        let best = observe(&s, 0, g(preferred), RelaxedKind::Mixture).objective;
        let other = observe(&s, 0, g(vec![0, 0, 0, 0, 0]), RelaxedKind::Mixture).objective;
        assert!(best > other && best <= 1.0);
        // A sampled row's gradient is non-zero at its option only.
        let rows: Vec<Vec<f64>> = s.arities().iter().map(|&a| (0..a).map(|k| if k == 1 { 1.0 } else { 0.0 }).collect()).collect();
        let sampled = observe(&s, 0, Proposal::Relaxed(rows.clone()), RelaxedKind::Sample).gradient.unwrap();
        assert!(sampled.iter().all(|g| g.iter().enumerate().all(|(k, v)| (k == 1) == (*v != 0.0))), "{sampled:?}");
        let mixed = observe(&s, 0, Proposal::Relaxed(rows), RelaxedKind::Mixture).gradient.unwrap();
        assert!(mixed.iter().flatten().all(|v| *v != 0.0), "{mixed:?}");
    }

    #[test]
    fn shuffle_is_a_fixed_permutation() {
        let mut a: Vec<u32> = (0..10).collect();
        let mut b = a.clone();
        shuffle(&mut a, 4);
        shuffle(&mut b, 4);
        assert_eq!(a, b);
        assert_ne!(a, (0..10).collect::<Vec<_>>());
        a.sort();
        assert_eq!(a, (0..10).collect::<Vec<_>>());
    }
}
