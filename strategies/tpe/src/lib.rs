//! TPE: Bayesian optimisation with a tree-structured Parzen estimator
//! (Bergstra, Bardenet, Bengio, Kégl, "Algorithms for Hyper-Parameter
//! Optimization", NeurIPS 2011), for categorical architecture decisions.
//!
//! The first `startup` proposals are uniform; after that each proposal
//! maximises l(x)/g(x) among candidates drawn from l (see
//! `nasbox_kit::tpe`). Pending proposals are not re-proposed, so parallel
//! workers get distinct architectures.

use std::collections::{BTreeMap, BTreeSet};

use nasbox_kit::tpe::Tpe;
use nasbox_sdk::{genotype, state, Best, Config, ConfigKey, Genotype, Observation, Proposal, RunContext, Space, Strategy, StrategyError, StrategyInfo};
use serde::{Deserialize, Serialize};

pub struct TpeStrategy {
    arities: Vec<u32>,
    model: Tpe,
    startup: usize,
    state: State,
}

#[derive(Serialize, Deserialize, Default)]
struct State {
    results: Vec<(Genotype, f64)>,
    proposed: BTreeSet<Genotype>,
    pending: BTreeMap<u64, Genotype>,
    next_trial: u64,
    best: Best,
}

impl Strategy for TpeStrategy {
    fn info() -> StrategyInfo {
        let key = |name: &str, default: &str, description: &str| ConfigKey { name: name.into(), default: default.into(), description: description.into() };
        StrategyInfo {
            name: "tpe".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Tree-structured Parzen estimator: proposes the candidate maximising l(x)/g(x), the ratio of \
                          per-decision densities of good and bad results (Bergstra et al. 2011)."
                .into(),
            config: vec![
                key("startup", "10", "uniform proposals before the model is used (at least 2)"),
                key("gamma", "0.25", "fraction of results counted as good, in (0, 1)"),
                key("candidates", "24", "candidates drawn from l(x) per proposal"),
                key("prior_weight", "1.0", "weight of the uniform prior, in pseudo-observations"),
            ],
            supports_snapshot: true,
        }
    }

    fn init(space: Space, config: Config, _context: RunContext) -> Result<Self, StrategyError> {
        let model = Tpe { gamma: config.get("gamma")?, prior_weight: config.get("prior_weight")?, candidates: config.get("candidates")? };
        model.validate()?;
        let startup: usize = config.get("startup")?;
        if startup < 2 {
            return Err(StrategyError::InvalidConfig("startup: must be at least 2".into()));
        }
        Ok(TpeStrategy { arities: genotype::arities(&space), model, startup, state: State::default() })
    }

    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        let mut out = Vec::new();
        for _ in 0..n {
            let s = &self.state;
            let g = if s.results.len() < self.startup.max(2) {
                (0..64).map(|_| genotype::sample(&self.arities)).find(|g| !s.proposed.contains(g)).unwrap_or_else(|| genotype::sample(&self.arities))
            } else {
                self.model.suggest(&self.arities, &s.results, |g| s.proposed.contains(g))
            };
            self.state.proposed.insert(g.clone());
            self.state.pending.insert(self.state.next_trial, g.clone());
            self.state.next_trial += 1;
            out.push(genotype::propose(g));
        }
        Ok(out)
    }

    fn tell(&mut self, observations: Vec<Observation>) -> Result<(), StrategyError> {
        for o in &observations {
            self.state.pending.remove(&o.trial);
            self.state.best.offer(o);
            let Some((g, v)) = genotype::success(o) else { continue };
            self.state.results.push((g.clone(), v));
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

nasbox_sdk::export_strategy!(TpeStrategy);

#[cfg(test)]
mod tests {
    use super::*;
    use nasbox_sdk::{native::Native, Candidate, Decision, Status};

    #[test]
    fn finds_the_preferred_choices_of_a_separable_objective() {
        let space = Space {
            name: "t".into(),
            decisions: (0..6).map(|i| Decision { name: format!("d{i}"), choices: (0..5).map(|c| c.to_string()).collect() }).collect(),
        };
        let mut s = Native::<TpeStrategy>::init(4, space, vec![], RunContext { max_trials: None, parallelism: 1 }).unwrap();
        let objective = |g: &[u32]| g.iter().filter(|&&c| c == 3).count() as f64 / 6.0;
        for trial in 0..120u64 {
            let p = s.ask(1).unwrap().pop().unwrap();
            let Proposal::Genotype(Candidate { genotype, .. }) = &p else { unreachable!() };
            let y = objective(genotype);
            s.tell(vec![Observation { trial, proposal: p.clone(), status: Status::Ok, objective: y, cost: 1.0, metrics: vec![], gradient: None }]).unwrap();
        }
        let best = s.recommend().unwrap().unwrap();
        // Uniform sampling hits ≥ 5 of 6 with probability ~0.002 per draw.
        assert!(objective(&best) >= 5.0 / 6.0, "{best:?}");
    }
}
