//! GDAS (Dong & Yang 2019): differentiable search that samples one option
//! per decision instead of mixing all of them. Each proposal is a hard
//! one-hot choice drawn with the Gumbel-max trick from softmax(α), declared
//! a sample (`relaxation.kind` = `sample`, contract 0.1.1): the host runs
//! only the sampled operation of each decision, trains the shared weights
//! along it and returns the validation loss's gradient with respect to the
//! one-hot weights, non-zero only at the sampled options, which the
//! straight-through estimator passes to the soft Gumbel-softmax sample
//! softmax((α + g) / τ) and on to α (Adam). The temperature τ decays
//! linearly from `tau_max` to `tau_min` over the run's trial budget, as in
//! the paper (10 → 0.1). The architecture is the strongest option per
//! decision (DARTS' rule in the DARTS cell space).

use nasbox_kit::relax::{self, Adam};
use nasbox_sdk::{state, Config, ConfigKey, Genotype, Observation, Proposal, RelaxedKind, RunContext, Space, Strategy, StrategyError, StrategyInfo};
use serde::{Deserialize, Serialize};

/// Gumbel-softmax differentiable search.
pub struct Gdas {
    space: Space,
    tau_max: f64,
    tau_min: f64,
    /// Steps over which τ decays.
    horizon: u64,
    /// What the proposals are to the host (config `relaxation`).
    kind: RelaxedKind,
    state: State,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct State {
    alphas: Vec<Vec<f64>>,
    adam: Adam,
    /// The soft sample behind the proposal in flight, and its τ.
    pending: Option<(Vec<Vec<f64>>, f64)>,
    steps: u64,
}

impl Gdas {
    fn tau(&self) -> f64 {
        let progress = (self.state.steps as f64 / self.horizon.max(1) as f64).min(1.0);
        self.tau_max - (self.tau_max - self.tau_min) * progress
    }
}

impl Strategy for Gdas {
    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "gdas".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "GDAS (Dong & Yang 2019): samples one option per decision with the Gumbel-max trick, \
                          declares the samples as such so the supernet runs only the sampled operations, \
                          updates alpha through the straight-through Gumbel-softmax gradient the supernet \
                          estimator returns (Adam), tau decaying 10 -> 0.1. Needs --estimator supernet."
                .into(),
            config: vec![
                ConfigKey { name: "lr".into(), default: "3e-4".into(), description: "Adam learning rate for alpha (GDAS: 3e-4)".into() },
                ConfigKey { name: "beta1".into(), default: "0.5".into(), description: "Adam beta1".into() },
                ConfigKey { name: "weight_decay".into(), default: "1e-3".into(), description: "L2 decay of alpha".into() },
                ConfigKey { name: "tau_max".into(), default: "10".into(), description: "Gumbel-softmax temperature at the start".into() },
                ConfigKey { name: "tau_min".into(), default: "0.1".into(), description: "temperature at the end of the budget".into() },
                ConfigKey {
                    name: "horizon".into(),
                    default: "0".into(),
                    description: "steps over which tau decays; 0: the run's trial budget (1000 without one)".into(),
                },
                ConfigKey {
                    name: "relaxation".into(),
                    default: "sample".into(),
                    description: "sample: the host runs only the sampled operation per decision and returns the \
                                  straight-through gradient (GDAS, about one architecture's cost per step); \
                                  mixture: every operation runs, weighted by the one-hot sample, and the gradient \
                                  is the mixture's (what hosts before contract 0.1.1 do)"
                        .into(),
                },
            ],
            supports_snapshot: true,
        }
    }

    fn init(space: Space, config: Config, context: RunContext) -> Result<Self, StrategyError> {
        if let Some(d) = space.decisions.iter().find(|d| d.choices.is_empty()) {
            return Err(StrategyError::UnsupportedSpace(format!("decision `{}` has no choices", d.name)));
        }
        let (tau_max, tau_min): (f64, f64) = (config.get("tau_max")?, config.get("tau_min")?);
        if !(tau_min > 0.0 && tau_max >= tau_min) {
            return Err(StrategyError::InvalidConfig(format!("tau_max ({tau_max}) must be at least tau_min ({tau_min}), which must be positive")));
        }
        let kind = match config.get::<String>("relaxation")?.as_str() {
            "sample" => RelaxedKind::Sample,
            "mixture" => RelaxedKind::Mixture,
            other => return Err(StrategyError::InvalidConfig(format!("relaxation: `{other}` is neither `sample` nor `mixture`"))),
        };
        let horizon: u64 = config.get("horizon")?;
        let horizon = if horizon > 0 { horizon } else { context.max_trials.unwrap_or(1000) };
        let shape: Vec<usize> = space.decisions.iter().map(|d| d.choices.len()).collect();
        let alphas = shape.iter().map(|&n| (0..n).map(|_| 1e-3 * relax::normal()).collect()).collect();
        let adam = Adam::new(&shape, config.get("lr")?, config.get("beta1")?, 0.999, config.get("weight_decay")?);
        Ok(Gdas { space, tau_max, tau_min, horizon, kind, state: State { alphas, adam, pending: None, steps: 0 } })
    }

    fn relaxed_kind(&self) -> RelaxedKind {
        self.kind
    }

    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        if n == 0 || self.state.pending.is_some() {
            return Ok(vec![]);
        }
        let tau = self.tau();
        let soft: Vec<Vec<f64>> = self.state.alphas.iter().map(|a| relax::softmax(&a.iter().map(|x| x + relax::gumbel()).collect::<Vec<_>>(), tau)).collect();
        let hard: Vec<Vec<f64>> = soft
            .iter()
            .map(|p| {
                let k = relax::argmax(p);
                (0..p.len()).map(|i| if i == k { 1.0 } else { 0.0 }).collect()
            })
            .collect();
        self.state.pending = Some((soft, tau));
        Ok(vec![Proposal::Relaxed(hard)])
    }

    fn tell(&mut self, observations: Vec<Observation>) -> Result<(), StrategyError> {
        for o in observations {
            let Some((soft, tau)) = self.state.pending.take() else {
                return Err(StrategyError::Other(format!("gdas: a result for trial {} it did not wait for", o.trial)));
            };
            if relax::learn("gdas", &o, &soft, tau, &mut self.state.adam, &mut self.state.alphas)? {
                self.state.steps += 1;
                relax::log_progress("gdas", self.state.steps, &self.space, &self.state.alphas);
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

nasbox_sdk::export_strategy!(Gdas);

#[cfg(test)]
mod tests {
    use super::*;
    use nasbox_sdk::{native::Native, Decision, Setting, Status};

    fn cost(d: usize, k: usize) -> f64 {
        ((d * 7 + k * 3) % 5) as f64
    }

    #[test]
    fn samples_are_one_hot_and_alpha_learns_the_cheapest_options() {
        let space = Space {
            name: "toy".into(),
            decisions: (0..4).map(|d| Decision { name: format!("d{d}"), choices: (0..5).map(|c| c.to_string()).collect() }).collect(),
        };
        let settings = vec![Setting { key: "lr".into(), value: "0.05".into() }];
        let mut s = Native::<Gdas>::init(5, space, settings, RunContext { max_trials: Some(400), parallelism: 1 }).unwrap();
        assert_eq!(s.relaxed_kind(), RelaxedKind::Sample, "GDAS declares its proposals samples");
        let mut distinct = std::collections::HashSet::new();
        for trial in 0..400 {
            let p = s.ask(1).unwrap();
            let Proposal::Relaxed(w) = &p[0] else { panic!("gdas proposes one-hot weights") };
            assert!(w.iter().all(|v| v.iter().filter(|&&x| x == 1.0).count() == 1 && v.iter().sum::<f64>() == 1.0), "one-hot: {w:?}");
            distinct.insert(format!("{w:?}"));
            // The loss of a one-hot choice is the chosen options' cost; its
            // gradient with respect to each weight is that option's cost.
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
        assert!(distinct.len() > 10, "it explores: {} distinct samples", distinct.len());
        let g = s.recommend().unwrap().unwrap();
        let best: Vec<u32> = (0..4).map(|d| (0..5).min_by(|&a, &b| cost(d, a).total_cmp(&cost(d, b))).unwrap() as u32).collect();
        assert_eq!(g, best);
    }
}
