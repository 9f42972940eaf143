//! Policy-gradient search with a recurrent controller (Zoph & Le, "Neural
//! Architecture Search with Reinforcement Learning", ICLR 2017).
//!
//! An LSTM controller (the `controller` module) emits the space's decisions one after
//! another, each conditioned on the choices before it, and is trained with
//! REINFORCE (Williams 1992): every result of an architecture it sampled
//! nudges the parameters along `(R − b)·∇ log π(architecture)`, where the
//! baseline `b` is an exponential moving average of past rewards that cuts
//! the estimate's variance. An entropy bonus and ENAS's squashed logits
//! (Pham et al., "Efficient Neural Architecture Search via Parameter
//! Sharing", ICML 2018) keep the policy from collapsing early.
//!
//! Asynchronous by construction: each result updates the parameters as they
//! are when it arrives, replaying the controller over the architecture with
//! the current weights, so results may come back in any order and while
//! others are pending. The architecture was drawn from the policy as it was
//! at `ask`, so with several trials in flight the update is slightly
//! off-policy; like Zoph & Le's asynchronous replicas it is not corrected for.
//!
//! Rewards: a successful result's objective as is (Zoph & Le cubed the
//! accuracy to stretch differences near the top; the host's objective is
//! used unchanged here). An invalid architecture earns 0 — the worst possible
//! accuracy — because proposing it again will not help, so the policy should
//! learn to avoid it. A failed evaluation (a crash, a timeout) says nothing
//! about the architecture and is dropped.
//!
//! Conditions (contract 0.1.2): the controller still emits every decision,
//! but the proposal is the canonical genotype (a decision that the others
//! switch off at choice 0), which is the architecture the host evaluates
//! and the one recommended; the policy gradient is taken for what the
//! controller drew. Without conditions nothing changes.

mod adam;
mod controller;
mod exact;
mod lstm;

use std::collections::BTreeMap;

use nasbox_sdk::{genotype, log, Config, ConfigKey, Genotype, Observation, Proposal, RunContext, Shape, Space, Status, Strategy, StrategyError, StrategyInfo};
use serde::{Deserialize, Serialize};

use adam::Adam;
use controller::Controller;

/// Parameters start uniform in `[-INIT_RANGE, INIT_RANGE)`, as in ENAS: small
/// enough that the first policy is close to uniform.
const INIT_RANGE: f64 = 0.1;

/// The reward of an architecture the host reports invalid.
const INVALID_REWARD: f64 = 0.0;

/// Upper bound of `hidden`. The LSTM has `8·hidden²` weights and learning
/// from one result costs a forward and a backward pass over them per
/// decision: on a 30-decision space about 15 million fuel units at hidden 32
/// and 16 times that at 128, so that a `tell` of 8 results at 128 already
/// needs the sandbox's default budget of 2·10⁹ per call.
const MAX_HIDDEN: usize = 128;

pub struct Reinforce {
    controller: Controller,
    shape: Shape,
    lr: f64,
    baseline_decay: f64,
    entropy_weight: f64,
    clip: f64,
    state: State,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct State {
    /// The controller's parameters, laid out as [`Controller`] says.
    #[serde(with = "exact::vec")]
    params: Vec<f64>,
    adam: Adam,
    /// Moving average of rewards; `None` before the first.
    #[serde(with = "exact::option")]
    baseline: Option<f64>,
    /// Trials proposed and not yet told, with what the controller sampled
    /// (the proposal is its canonical form): the gradient is taken for it.
    pending: BTreeMap<u64, Genotype>,
    next_trial: u64,
    best: Option<Best>,
}

/// The best successful result so far.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Best {
    #[serde(with = "exact::scalar")]
    objective: f64,
    trial: u64,
    genotype: Genotype,
}

impl Reinforce {
    /// One REINFORCE step for `genotype` having earned `reward`.
    fn learn(&mut self, genotype: &[u32], reward: f64) {
        let baseline = self.state.baseline.unwrap_or(reward);
        let advantage = reward - baseline;
        let mut grad = vec![0.0; self.controller.len()];
        self.controller.loss_and_gradient(&self.state.params, genotype, advantage, self.entropy_weight, &mut grad);
        let norm = adam::clip_global_norm(&mut grad, self.clip);
        if !norm.is_finite() {
            // One absurd reward must not poison every parameter with NaN.
            log::warn(&format!("skipped an update with a non-finite gradient (reward {reward})"));
            return;
        }
        self.state.baseline = Some(self.baseline_decay * baseline + (1.0 - self.baseline_decay) * reward);
        self.state.adam.step(&mut self.state.params, &grad, self.lr);
    }

    fn record_best(&mut self, trial: u64, objective: f64, genotype: &Genotype) {
        let better = self.state.best.as_ref().is_none_or(|b| objective > b.objective || (objective == b.objective && trial < b.trial));
        if better {
            self.state.best = Some(Best { objective, trial, genotype: genotype.clone() });
        }
    }
}

/// Reads `key` as a finite float for which `ok` holds; `rule` says which
/// values those are.
fn float(config: &Config, key: &str, rule: &str, ok: impl Fn(f64) -> bool) -> Result<f64, StrategyError> {
    let v: f64 = config.get(key)?;
    if v.is_finite() && ok(v) {
        Ok(v)
    } else {
        Err(StrategyError::InvalidConfig(format!("{key}: must be {rule}, not {v}")))
    }
}

impl Strategy for Reinforce {
    fn info() -> StrategyInfo {
        let key = |name: &str, default: &str, description: &str| ConfigKey { name: name.into(), default: default.into(), description: description.into() };
        StrategyInfo {
            name: "reinforce".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "An LSTM controller samples architectures decision by decision and is trained with \
                          REINFORCE, a moving-average baseline and an entropy bonus (Zoph & Le 2017), with \
                          ENAS's tanh-squashed logits (Pham et al. 2018). Invalid architectures earn reward 0; \
                          failed evaluations are ignored."
                .into(),
            config: vec![
                key(
                    "hidden",
                    "32",
                    "LSTM hidden size, also the size of the choice embeddings (1 to 128); the cost of learning from a result grows with its square",
                ),
                key("lr", "0.0035", "Adam learning rate (> 0)"),
                key("baseline_decay", "0.95", "decay of the reward baseline's moving average, in [0, 1]; 0 uses the last reward"),
                key("entropy_weight", "0.0001", "weight of the policy-entropy bonus in the loss (≥ 0)"),
                key("temperature", "5.0", "the logits are divided by this before squashing (> 0); 1 disables"),
                key(
                    "tanh_constant",
                    "2.5",
                    "logits become tanh_constant·tanh(logits/temperature), bounding how sure the policy \
                     gets (≥ 0); 0 disables",
                ),
                key("clip", "5.0", "largest global norm of a gradient step (≥ 0); 0 disables"),
            ],
            supports_snapshot: true,
        }
    }

    fn init(space: Space, config: Config, _context: RunContext) -> Result<Self, StrategyError> {
        let hidden: usize = config.get("hidden")?;
        if !(1..=MAX_HIDDEN).contains(&hidden) {
            return Err(StrategyError::InvalidConfig(format!("hidden: must be in 1..={MAX_HIDDEN}, not {hidden}")));
        }
        let lr = float(&config, "lr", "positive", |v| v > 0.0)?;
        let baseline_decay = float(&config, "baseline_decay", "in [0, 1]", |v| (0.0..=1.0).contains(&v))?;
        let entropy_weight = float(&config, "entropy_weight", "at least 0", |v| v >= 0.0)?;
        let temperature = float(&config, "temperature", "positive", |v| v > 0.0)?;
        let tanh_constant = float(&config, "tanh_constant", "at least 0", |v| v >= 0.0)?;
        let clip = float(&config, "clip", "at least 0", |v| v >= 0.0)?;
        if let Some(d) = space.decisions.iter().find(|d| d.choices.is_empty()) {
            return Err(StrategyError::UnsupportedSpace(format!("decision `{}` has no choices", d.name)));
        }

        let controller = Controller::new(&genotype::arities(&space), hidden, temperature, tanh_constant);
        let params = controller.init(INIT_RANGE);
        let state = State { adam: Adam::new(params.len()), params, baseline: None, pending: BTreeMap::new(), next_trial: 0, best: None };
        Ok(Reinforce { controller, shape: Shape::of(&space), lr, baseline_decay, entropy_weight, clip, state })
    }

    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        Ok((0..n)
            .map(|_| {
                let g = self.controller.sample(&self.state.params);
                self.state.pending.insert(self.state.next_trial, g.clone());
                self.state.next_trial += 1;
                genotype::propose(self.shape.canonical(&g))
            })
            .collect())
    }

    fn tell(&mut self, observations: Vec<Observation>) -> Result<(), StrategyError> {
        for o in &observations {
            let Some(sampled) = self.state.pending.remove(&o.trial) else {
                log::warn(&format!("trial {} is not pending; its result is ignored", o.trial));
                continue;
            };
            let reward = match (genotype::success(o), &o.status) {
                (Some((_, objective)), _) => {
                    let canonical = self.shape.canonical(&sampled);
                    self.record_best(o.trial, objective, &canonical);
                    objective
                }
                (None, Status::Invalid(_)) => INVALID_REWARD,
                _ => continue,
            };
            self.learn(&sampled, reward);
        }
        Ok(())
    }

    fn recommend(&self) -> Result<Option<Genotype>, StrategyError> {
        Ok(self.state.best.as_ref().map(|b| b.genotype.clone()))
    }

    fn snapshot(&self) -> Result<Vec<u8>, StrategyError> {
        serde_json::to_vec(&self.state).map_err(|e| StrategyError::Other(e.to_string()))
    }

    fn restore(&mut self, state: Vec<u8>) -> Result<(), StrategyError> {
        let state: State = serde_json::from_slice(&state).map_err(|e| StrategyError::InvalidState(e.to_string()))?;
        // A state from another space or `hidden` would index out of bounds
        // later, so it is refused here.
        let len = self.controller.len();
        if state.params.len() != len || state.adam.len() != len || !state.adam.is_consistent() {
            return Err(StrategyError::InvalidState(format!(
                "the state holds {} parameters, this controller has {len} (a different space or hidden size?)",
                state.params.len()
            )));
        }
        let foreign = state.pending.values().chain(state.best.as_ref().map(|b| &b.genotype));
        if let Some(g) = foreign.into_iter().find(|g| !self.controller.fits(g)) {
            return Err(StrategyError::InvalidState(format!("genotype {g:?} is not in this space")));
        }
        self.state = state;
        Ok(())
    }
}

nasbox_sdk::export_strategy!(Reinforce);

#[cfg(test)]
mod tests {
    use super::*;
    use nasbox_sdk::{native::Native, random, Decision, Setting};

    pub(crate) fn space(decisions: usize, arity: usize) -> Space {
        Space {
            name: "t".into(),
            decisions: (0..decisions).map(|i| Decision { name: format!("d{i}"), choices: (0..arity).map(|c| c.to_string()).collect() }).collect(),
        }
    }

    pub(crate) fn ctx() -> RunContext {
        RunContext { max_trials: None, parallelism: 1 }
    }

    fn set(key: &str, value: &str) -> Setting {
        Setting { key: key.into(), value: value.into() }
    }

    fn observe(trial: u64, p: Proposal, status: Status, objective: f64) -> Observation {
        Observation { trial, proposal: p, status, objective, cost: 1.0, metrics: vec![], gradient: None }
    }

    fn genotype_of(p: &Proposal) -> Genotype {
        match p {
            Proposal::Genotype(c) => c.genotype.clone(),
            Proposal::Relaxed(_) => panic!("relaxed proposal"),
        }
    }

    const TARGET: [u32; 6] = [1, 0, 3, 2, 1, 0];

    fn fraction_on_target(g: &[u32]) -> f64 {
        g.iter().zip(TARGET).filter(|(a, b)| **a == *b).count() as f64 / TARGET.len() as f64
    }

    #[test]
    fn learns_to_prefer_the_rewarded_choices() {
        let mut s = Native::<Reinforce>::init(11, space(6, 4), vec![], ctx()).unwrap();
        let before = s.inner().controller.log_prob(&s.inner().state.params, &TARGET).exp();
        let mut rewards = Vec::new();
        for trial in 0..300 {
            let p = s.ask(1).unwrap().pop().unwrap();
            let r = fraction_on_target(&genotype_of(&p));
            rewards.push(r);
            s.tell(vec![observe(trial, p, Status::Ok, r)]).unwrap();
        }
        let after = s.inner().controller.log_prob(&s.inner().state.params, &TARGET).exp();
        let mean = |r: &[f64]| r.iter().sum::<f64>() / r.len() as f64;
        let (first, last) = (mean(&rewards[..50]), mean(&rewards[250..]));
        eprintln!("π(target) {before:.2e} → {after:.2e}; mean reward first 50 {first:.3}, last 50 {last:.3}");
        // Uniform: π(target) = 4⁻⁶ ≈ 2.4e-4 and a mean reward of 0.25.
        assert!(before < 1e-3, "the initial policy should be close to uniform, π(target) = {before}");
        assert!(after > 100.0 * before, "π(target) went from {before} to {after}");
        assert!(last > 0.5 && last > first + 0.2, "mean reward: first 50 {first}, last 50 {last}");
    }

    #[test]
    fn restored_state_continues_exactly() {
        let settings = || vec![set("hidden", "8")];
        let rounds = |s: &mut Native<Reinforce>, first_trial: u64| -> Vec<Genotype> {
            let mut proposed: Vec<Genotype> = Vec::new();
            let mut held: Option<(u64, Proposal)> = None;
            for _ in 0..4 {
                let mut batch: Vec<(u64, Proposal)> = Vec::new();
                for p in s.ask(3).unwrap() {
                    proposed.push(genotype_of(&p));
                    batch.push((first_trial + proposed.len() as u64 - 1, p));
                }
                // Hold the newest back until the next round; tell the rest newest first.
                let newest = batch.pop();
                batch.extend(held.take());
                held = newest;
                batch.reverse();
                let results = batch.into_iter().map(|(t, p)| {
                    let r = fraction_on_target(&genotype_of(&p));
                    observe(t, p, Status::Ok, r)
                });
                s.tell(results.collect()).unwrap();
            }
            proposed
        };
        let mut a = Native::<Reinforce>::init(3, space(6, 4), settings(), ctx()).unwrap();
        rounds(&mut a, 0);
        let snap = a.snapshot().unwrap();

        // A fresh instance on another seed starts elsewhere, so equality
        // after restore is the restore's doing.
        let mut b = Native::<Reinforce>::init(99, space(6, 4), settings(), ctx()).unwrap();
        assert_ne!(a.inner().state, b.inner().state);
        b.restore(snap.clone()).unwrap();
        assert_eq!(a.inner().state, b.inner().state);
        assert_eq!(b.snapshot().unwrap(), snap, "the snapshot round-trips byte for byte");
        assert!(a.inner().state.adam.steps() > 0 && !a.inner().state.pending.is_empty());

        // Same random stream from here on (the host restores its position in
        // the sandbox; natively, re-seeding through a throwaway init stands
        // in for it): the same proposals, and the same learning from them.
        let reseed = || drop(Native::<Reinforce>::init(42, space(1, 1), vec![], ctx()).unwrap());
        reseed();
        let pa = rounds(&mut a, 12);
        reseed();
        let pb = rounds(&mut b, 12);
        assert_eq!(pa, pb);
        assert_eq!(a.inner().state, b.inner().state);
    }

    #[test]
    fn same_seed_same_search() {
        let run = |seed: u64| -> Vec<Genotype> {
            let mut s = Native::<Reinforce>::init(seed, space(5, 3), vec![set("hidden", "6")], ctx()).unwrap();
            let mut all = Vec::new();
            for t in 0..20 {
                let p = s.ask(1).unwrap().pop().unwrap();
                s.tell(vec![observe(t, p.clone(), Status::Ok, genotype_of(&p).iter().sum::<u32>() as f64 / 10.0)]).unwrap();
                all.push(genotype_of(&p));
            }
            all
        };
        assert_eq!(run(4), run(4));
        assert_ne!(run(4), run(5));
    }

    #[test]
    fn shuffled_asynchronous_results_with_failures_are_taken() {
        let mut s = Native::<Reinforce>::init(8, space(4, 3), vec![set("hidden", "5")], ctx()).unwrap();
        let mut in_flight: Vec<(u64, Proposal)> = Vec::new();
        let mut next = 0;
        let (mut learned, mut best) = (0, (f64::NEG_INFINITY, Genotype::new()));
        let mut told = Vec::new();
        for round in 0..6 {
            for p in s.ask(4).unwrap() {
                in_flight.push((next, p));
                next += 1;
            }
            random::shuffle(&mut in_flight);
            // Tell all but two, in two calls, so that results interleave with asks.
            let keep = in_flight.split_off(in_flight.len() - 2);
            let mut obs: Vec<Observation> = in_flight
                .drain(..)
                .map(|(t, p)| match t % 5 {
                    1 => observe(t, p, Status::Failed("diverged".into()), 0.0),
                    3 => observe(t, p, Status::Invalid("no path".into()), 0.0),
                    4 => observe(t, p, Status::Ok, f64::NAN),
                    _ => {
                        let objective = (t as f64 * 0.37) % 1.0;
                        if objective > best.0 {
                            best = (objective, genotype_of(&p));
                        }
                        observe(t, p, Status::Ok, objective)
                    }
                })
                .collect();
            told.extend(obs.iter().map(|o| o.trial));
            learned += obs.iter().filter(|o| o.trial % 5 == 0 || o.trial % 5 == 2 || o.trial % 5 == 3).count();
            let rest = obs.split_off(obs.len() / 2);
            s.tell(obs).unwrap();
            s.tell(rest).unwrap();
            in_flight = keep;
            if round == 3 {
                // A trial that was never proposed, and one told twice: ignored.
                s.tell(vec![observe(1000, genotype::propose(vec![0; 4]), Status::Ok, 1.0)]).unwrap();
                s.tell(vec![observe(told[0], genotype::propose(vec![0; 4]), Status::Ok, 1.0)]).unwrap();
            }
        }
        let mut expected: Vec<u64> = in_flight.iter().map(|p| p.0).collect();
        expected.sort();
        assert_eq!(s.inner().state.pending.keys().copied().collect::<Vec<_>>(), expected);
        // Successes and invalid results train the controller; failures and a NaN objective do not.
        assert_eq!(s.inner().state.adam.steps() as usize, learned);
        assert!(s.inner().state.params.iter().all(|p| p.is_finite()));
        assert_eq!(s.recommend().unwrap(), Some(best.1));
        s.tell(in_flight.drain(..).map(|(t, p)| observe(t, p, Status::Ok, 0.5)).collect()).unwrap();
        assert!(s.inner().state.pending.is_empty());
    }

    #[test]
    fn recommends_the_best_and_the_earliest_of_equals() {
        let mut s = Native::<Reinforce>::init(1, space(3, 4), vec![], ctx()).unwrap();
        assert_eq!(s.recommend().unwrap(), None);
        let p = s.ask(4).unwrap();
        let g: Vec<Genotype> = p.iter().map(genotype_of).collect();
        s.tell(vec![
            observe(3, p[3].clone(), Status::Ok, 0.9),
            observe(0, p[0].clone(), Status::Invalid("x".into()), 0.0),
            observe(1, p[1].clone(), Status::Ok, 0.9),
            observe(2, p[2].clone(), Status::Ok, 0.5),
        ])
        .unwrap();
        assert_eq!(s.recommend().unwrap(), Some(g[1].clone()));
    }

    #[test]
    fn bad_config_is_named() {
        let bad = [
            ("hidden", "0"),
            ("hidden", "129"),
            ("hidden", "-3"),
            ("lr", "0"),
            ("lr", "NaN"),
            ("baseline_decay", "1.5"),
            ("baseline_decay", "-0.1"),
            ("entropy_weight", "-1e-4"),
            ("temperature", "0"),
            ("temperature", "inf"),
            ("tanh_constant", "-2.5"),
            ("clip", "-1"),
            ("clip", "lots"),
        ];
        for (key, value) in bad {
            match Native::<Reinforce>::init(1, space(3, 3), vec![set(key, value)], ctx()) {
                Err(StrategyError::InvalidConfig(m)) => assert!(m.contains(key), "{key}={value}: {m}"),
                Err(e) => panic!("{key}={value}: {e:?}"),
                Ok(_) => panic!("{key}={value} was accepted"),
            }
        }
        for (key, value) in [("tanh_constant", "0"), ("clip", "0"), ("baseline_decay", "0"), ("hidden", "128")] {
            assert!(Native::<Reinforce>::init(1, space(3, 3), vec![set(key, value)], ctx()).is_ok(), "{key}={value}");
        }
    }

    /// Under conditions proposals and the recommendation are canonical,
    /// while the controller learns from what it drew.
    #[test]
    fn under_conditions_proposals_are_canonical() {
        use nasbox_sdk::shape::{Condition, DecisionShape, Kind};
        let mut shapes: Vec<DecisionShape> = (0..4).map(|_| DecisionShape { kind: Kind::Categorical, conditions: vec![] }).collect();
        shapes[2].conditions = vec![Condition { decision: 0, choices: vec![0] }];
        shapes[3].conditions = vec![Condition { decision: 2, choices: vec![1] }];
        let shape = Shape::new(&space(4, 3), shapes.clone()).unwrap();
        let mut s = Native::<Reinforce>::init_shaped(6, space(4, 3), shapes, vec![set("hidden", "6")], ctx()).unwrap();
        let mut off = 0;
        for trial in 0..60 {
            let p = s.ask(1).unwrap().pop().unwrap();
            let g = genotype_of(&p);
            assert_eq!(shape.canonical(&g), g);
            off += usize::from(!shape.active(&g)[2]);
            s.tell(vec![observe(trial, p, Status::Ok, g.iter().sum::<u32>() as f64 / 8.0)]).unwrap();
        }
        assert!(off > 20, "{off}");
        let best = s.recommend().unwrap().unwrap();
        assert_eq!(shape.canonical(&best), best);
        assert_eq!(s.inner().state.adam.steps(), 60);
    }

    #[test]
    fn a_state_for_another_space_is_refused() {
        let a = Native::<Reinforce>::init(1, space(3, 3), vec![], ctx()).unwrap();
        let mut b = Native::<Reinforce>::init(1, space(4, 3), vec![], ctx()).unwrap();
        assert!(matches!(b.restore(a.snapshot().unwrap()), Err(StrategyError::InvalidState(_))));
        assert!(matches!(b.restore(b"{}".to_vec()), Err(StrategyError::InvalidState(_))));
    }
}
