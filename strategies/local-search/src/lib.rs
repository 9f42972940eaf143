//! Local search: hill climbing over one-decision neighbours, restarting from
//! a random architecture at each local optimum (White, Nolen, Savani,
//! "Exploring the Loss Landscape in Neural Architecture Search", UAI 2021;
//! "Local Search is State of the Art for NAS Benchmarks", 2020).
//!
//! The incumbent's neighbours are proposed in random order. As soon as one
//! scores better than the incumbent it becomes the incumbent (first
//! improvement), so parallel workers keep busy. When every neighbour has
//! been evaluated without improvement, the incumbent is a local optimum and
//! the search restarts from a fresh random architecture. Nothing is proposed
//! twice.

use std::collections::{BTreeMap, BTreeSet};

use nasbox_sdk::{genotype, random, state, Best, Config, ConfigKey, Genotype, Observation, Proposal, RunContext, Space, Strategy, StrategyError, StrategyInfo};
use serde::{Deserialize, Serialize};

pub struct LocalSearch {
    arities: Vec<u32>,
    initial: usize,
    state: State,
}

#[derive(Serialize, Deserialize, Default)]
struct State {
    /// Every genotype proposed so far (told or pending).
    seen: BTreeSet<Genotype>,
    /// Pending proposals: trial → genotype.
    pending: BTreeMap<u64, Genotype>,
    next_trial: u64,
    phase: Phase,
    /// The current point of the climb and its objective.
    incumbent: Option<(Genotype, f64)>,
    /// Neighbours of the incumbent not yet proposed.
    queue: Vec<Genotype>,
    /// Local optima reached so far.
    optima: usize,
    /// Every genotype has been proposed.
    exhausted: bool,
    /// The incumbent.
    best: Best,
}

#[derive(Serialize, Deserialize)]
enum Phase {
    /// A (re)start: random samples issued and told so far, and the best of them.
    Sampling { issued: usize, told: usize, start: Option<(Genotype, f64)> },
    /// Climbing from `incumbent`.
    Climbing,
}

impl Default for Phase {
    fn default() -> Self {
        Phase::Sampling { issued: 0, told: 0, start: None }
    }
}

impl LocalSearch {
    /// A random genotype not proposed before, or `None` if the space is spent.
    fn fresh(&mut self) -> Option<Genotype> {
        let size = self.arities.iter().try_fold(1u128, |a, &b| a.checked_mul(b as u128));
        if size.is_some_and(|n| self.state.seen.len() as u128 >= n) {
            return None;
        }
        // Rejection sampling; when that keeps hitting seen genotypes the
        // space is nearly spent, so scan for the first unseen one.
        for _ in 0..64 {
            let g = genotype::sample(&self.arities);
            if !self.state.seen.contains(&g) {
                return Some(g);
            }
        }
        let mut g = vec![0u32; self.arities.len()];
        while self.state.seen.contains(&g) {
            let mut d = 0;
            loop {
                if d == g.len() {
                    return None;
                }
                g[d] += 1;
                if g[d] < self.arities[d] {
                    break;
                }
                g[d] = 0;
                d += 1;
            }
        }
        Some(g)
    }

    fn move_to(&mut self, g: Genotype, objective: f64) {
        let mut queue: Vec<Genotype> = genotype::neighbours(&g, &self.arities).into_iter().filter(|n| !self.state.seen.contains(n)).collect();
        random::shuffle(&mut queue);
        self.state.queue = queue;
        self.state.incumbent = Some((g, objective));
        self.state.phase = Phase::Climbing;
    }

    fn next(&mut self) -> Option<Genotype> {
        loop {
            match &mut self.state.phase {
                Phase::Sampling { issued, .. } if *issued < self.initial && !self.state.exhausted => {
                    *issued += 1;
                    let g = self.fresh();
                    if g.is_none() {
                        self.state.exhausted = true;
                        if let Phase::Sampling { issued, .. } = &mut self.state.phase {
                            *issued -= 1;
                        }
                    }
                    return g;
                }
                // Waiting for the samples' results.
                Phase::Sampling { .. } => return None,
                Phase::Climbing => {
                    while let Some(n) = self.state.queue.pop() {
                        if !self.state.seen.contains(&n) {
                            return Some(n);
                        }
                    }
                    if !self.state.pending.is_empty() {
                        return None; // neighbours still out: the climb may yet move
                    }
                    self.state.optima += 1;
                    self.state.incumbent = None;
                    self.state.phase = Phase::default();
                }
            }
        }
    }
}

impl Strategy for LocalSearch {
    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "local-search".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Hill climbing over one-decision neighbours (first improvement), restarting from random \
                          architectures at local optima (White et al. 2020)."
                .into(),
            config: vec![ConfigKey {
                name: "initial".into(),
                default: "10".into(),
                description: "random architectures evaluated at each (re)start; the climb starts from the best".into(),
            }],
            supports_snapshot: true,
        }
    }

    fn init(space: Space, config: Config, _context: RunContext) -> Result<Self, StrategyError> {
        let initial: usize = config.get("initial")?;
        if initial < 1 {
            return Err(StrategyError::InvalidConfig("initial: must be at least 1".into()));
        }
        Ok(LocalSearch { arities: genotype::arities(&space), initial, state: State::default() })
    }

    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        let mut out = Vec::new();
        for _ in 0..n {
            let Some(g) = self.next() else { break };
            self.state.seen.insert(g.clone());
            self.state.pending.insert(self.state.next_trial, g.clone());
            self.state.next_trial += 1;
            out.push(genotype::propose(g));
        }
        Ok(out)
    }

    fn tell(&mut self, observations: Vec<Observation>) -> Result<(), StrategyError> {
        for o in &observations {
            if self.state.pending.remove(&o.trial).is_none() {
                continue; // not ours, or told twice
            }
            self.state.best.offer(o);
            let result = genotype::success(o).map(|(g, v)| (g.clone(), v));
            match &mut self.state.phase {
                Phase::Sampling { issued, told, start } => {
                    *told += 1;
                    if let Some((g, v)) = result {
                        if start.as_ref().is_none_or(|s| v > s.1) {
                            *start = Some((g, v));
                        }
                    }
                    let complete = *told == *issued && (*issued == self.initial || self.state.exhausted);
                    if complete {
                        match start.take() {
                            Some((g, v)) => self.move_to(g, v),
                            None => self.state.phase = Phase::default(), // every sample failed: draw again
                        }
                    }
                }
                Phase::Climbing => {
                    if let Some((g, v)) = result {
                        if self.state.incumbent.as_ref().is_none_or(|(_, current)| v > *current) {
                            self.move_to(g, v);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn recommend(&self) -> Result<Option<Genotype>, StrategyError> {
        Ok(self.state.best.genotype())
    }

    fn snapshot(&self) -> Result<Vec<u8>, StrategyError> {
        state::save(&self.state)
    }

    fn restore(&mut self, state: Vec<u8>) -> Result<(), StrategyError> {
        self.state = state::load(&state)?;
        Ok(())
    }
}

nasbox_sdk::export_strategy!(LocalSearch);

#[cfg(test)]
mod tests {
    use super::*;
    use nasbox_sdk::{native::Native, Candidate, Decision, Setting, Status};
    use std::collections::HashSet;

    fn space(arities: &[usize]) -> Space {
        Space {
            name: "t".into(),
            decisions: arities.iter().enumerate().map(|(i, &a)| Decision { name: format!("d{i}"), choices: (0..a).map(|c| c.to_string()).collect() }).collect(),
        }
    }

    /// Objective: number of decisions equal to 1 (single optimum at all ones).
    fn objective(g: &[u32]) -> f64 {
        g.iter().filter(|&&c| c == 1).count() as f64
    }

    fn run(seed: u64, arities: &[usize], trials: usize, batch: u32) -> (Vec<Genotype>, Native<LocalSearch>) {
        let init = vec![Setting { key: "initial".into(), value: "3".into() }];
        let mut s = Native::<LocalSearch>::init(seed, space(arities), init, RunContext { max_trials: None, parallelism: batch }).unwrap();
        let mut all = vec![];
        let mut trial = 0u64;
        while all.len() < trials {
            let props = s.ask(batch).unwrap();
            if props.is_empty() {
                break;
            }
            let mut obs = vec![];
            for p in props {
                let Proposal::Genotype(Candidate { genotype: g, .. }) = &p else { unreachable!() };
                all.push(g.clone());
                obs.push(Observation { trial, proposal: p.clone(), status: Status::Ok, objective: objective(g), cost: 1.0, metrics: vec![], gradient: None });
                trial += 1;
            }
            obs.reverse();
            s.tell(obs).unwrap();
        }
        (all, s)
    }

    #[test]
    fn climbs_to_the_optimum_of_a_smooth_landscape() {
        let (_, s) = run(2, &[3; 8], 400, 1);
        assert_eq!(s.inner().state.best.objective(), Some(8.0));
    }

    #[test]
    fn never_repeats_and_exhausts_a_small_space() {
        let (all, s) = run(5, &[2, 3, 2], 1000, 2);
        assert_eq!(all.len(), 12);
        assert_eq!(all.iter().collect::<HashSet<_>>().len(), 12);
        assert!(s.inner().state.exhausted);
    }

    #[test]
    fn restarts_at_local_optima() {
        // With a flat landscape no neighbour improves: every neighbourhood
        // ends in a restart.
        let init = vec![Setting { key: "initial".into(), value: "1".into() }];
        let mut s = Native::<LocalSearch>::init(1, space(&[4; 6]), init, RunContext { max_trials: None, parallelism: 1 }).unwrap();
        for trial in 0..100 {
            let p = s.ask(1).unwrap().pop().unwrap();
            s.tell(vec![Observation { trial, proposal: p, status: Status::Ok, objective: 0.5, cost: 1.0, metrics: vec![], gradient: None }]).unwrap();
        }
        assert!(s.inner().state.optima >= 4, "{}", s.inner().state.optima);
    }
}
