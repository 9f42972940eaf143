//! DARTS (Liu et al. 2019), first order: the space relaxed into a mixture
//! of every option of every decision, weighted by softmax(α). Each
//! proposal is the current mixture; the host takes a training step of the
//! shared network weights through it and returns the validation loss's
//! gradient with respect to the mixing weights, from which the strategy
//! updates α with Adam. The architecture is derived from α: the strongest
//! option per decision, or DARTS' two-strongest-inputs rule in the DARTS
//! cell space.
//!
//! Second-order DARTS needs the host to differentiate through a virtual
//! weight step, which the contract's gradient does not carry; this is the
//! first-order variant, which the DARTS paper reports as nearly as good.

use nasbox_kit::relax::{self, Adam};
use nasbox_sdk::{state, Config, ConfigKey, Genotype, Observation, Proposal, RunContext, Space, Strategy, StrategyError, StrategyInfo};
use serde::{Deserialize, Serialize};

/// First-order DARTS.
pub struct Darts {
    space: Space,
    state: State,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct State {
    alphas: Vec<Vec<f64>>,
    adam: Adam,
    /// The mixing weights of the proposal in flight.
    pending: Option<(u64, Vec<Vec<f64>>)>,
    proposed: u64,
    steps: u64,
}

impl Strategy for Darts {
    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "darts".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "DARTS, first order (Liu et al. 2019): proposes the continuous relaxation softmax(alpha) \
                          of the space, updates alpha with Adam from the validation-loss gradient the supernet \
                          estimator returns, recommends the derived architecture. Needs --estimator supernet."
                .into(),
            config: vec![
                ConfigKey { name: "lr".into(), default: "3e-4".into(), description: "Adam learning rate for alpha (DARTS: 3e-4)".into() },
                ConfigKey { name: "beta1".into(), default: "0.5".into(), description: "Adam beta1 (DARTS: 0.5)".into() },
                ConfigKey { name: "weight_decay".into(), default: "1e-3".into(), description: "L2 decay of alpha (DARTS: 1e-3)".into() },
                ConfigKey { name: "init_scale".into(), default: "1e-3".into(), description: "alpha starts as this times a standard normal draw".into() },
            ],
            supports_snapshot: true,
        }
    }

    fn init(space: Space, config: Config, _context: RunContext) -> Result<Self, StrategyError> {
        if let Some(d) = space.decisions.iter().find(|d| d.choices.is_empty()) {
            return Err(StrategyError::UnsupportedSpace(format!("decision `{}` has no choices", d.name)));
        }
        let shape: Vec<usize> = space.decisions.iter().map(|d| d.choices.len()).collect();
        let scale: f64 = config.get("init_scale")?;
        let alphas = shape.iter().map(|&n| (0..n).map(|_| scale * relax::normal()).collect()).collect();
        let adam = Adam::new(&shape, config.get("lr")?, config.get("beta1")?, 0.999, config.get("weight_decay")?);
        Ok(Darts { space, state: State { alphas, adam, pending: None, proposed: 0, steps: 0 } })
    }

    /// One mixture at a time: the next depends on the gradient of this one.
    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        if n == 0 || self.state.pending.is_some() {
            return Ok(vec![]);
        }
        let weights: Vec<Vec<f64>> = self.state.alphas.iter().map(|a| relax::softmax(a, 1.0)).collect();
        self.state.pending = Some((self.state.proposed, weights.clone()));
        self.state.proposed += 1;
        Ok(vec![Proposal::Relaxed(weights)])
    }

    fn tell(&mut self, observations: Vec<Observation>) -> Result<(), StrategyError> {
        for o in observations {
            let Some((_, weights)) = self.state.pending.take() else {
                return Err(StrategyError::Other(format!("darts: a result for trial {} it did not wait for", o.trial)));
            };
            if relax::learn("darts", &o, &weights, 1.0, &mut self.state.adam, &mut self.state.alphas)? {
                self.state.steps += 1;
                relax::log_progress("darts", self.state.steps, &self.space, &self.state.alphas);
            }
        }
        Ok(())
    }

    fn recommend(&self) -> Result<Option<Genotype>, StrategyError> {
        Ok((self.state.steps > 0).then(|| relax::derive(&self.space, &self.state.alphas)))
    }

    fn snapshot(&self) -> Result<Vec<u8>, StrategyError> {
        state::save(&self.state)
    }

    fn restore(&mut self, state: Vec<u8>) -> Result<(), StrategyError> {
        self.state = state::load(&state)?;
        Ok(())
    }
}

nasbox_sdk::export_strategy!(Darts);

#[cfg(test)]
mod tests {
    use super::*;
    use nasbox_sdk::{native::Native, Decision, Setting, Status};

    /// A toy problem: the validation loss is Σ_d w_d · cost_d, lowest for
    /// the option of each decision whose cost is lowest.
    fn cost(d: usize, k: usize) -> f64 {
        ((d * 7 + k * 3) % 5) as f64
    }

    #[test]
    fn alpha_moves_towards_the_options_the_gradient_favours() {
        let space = Space {
            name: "toy".into(),
            decisions: (0..4).map(|d| Decision { name: format!("d{d}"), choices: (0..5).map(|c| c.to_string()).collect() }).collect(),
        };
        let settings = vec![Setting { key: "lr".into(), value: "0.05".into() }];
        let mut s = Native::<Darts>::init(3, space.clone(), settings, RunContext { max_trials: Some(200), parallelism: 1 }).unwrap();
        for trial in 0..200 {
            let p = s.ask(1).unwrap();
            let Proposal::Relaxed(w) = &p[0] else { panic!("darts proposes mixtures") };
            assert!(w.iter().all(|v| (v.iter().sum::<f64>() - 1.0).abs() < 1e-9), "softmax weights");
            assert!(s.ask(1).unwrap().is_empty(), "one step in flight at a time");
            let gradient: Vec<Vec<f64>> = w.iter().enumerate().map(|(d, v)| (0..v.len()).map(|k| cost(d, k)).collect()).collect();
            s.tell(vec![Observation {
                trial,
                proposal: p[0].clone(),
                status: Status::Ok,
                objective: 0.5,
                cost: 0.1,
                metrics: vec![],
                gradient: Some(gradient),
            }])
            .unwrap();
        }
        let g = s.recommend().unwrap().unwrap();
        let best: Vec<u32> = (0..4).map(|d| (0..5).min_by(|&a, &b| cost(d, a).total_cmp(&cost(d, b))).unwrap() as u32).collect();
        assert_eq!(g, best);
    }
}
