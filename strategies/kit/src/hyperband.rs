//! Hyperband: successive halving run in brackets that trade the number of
//! architectures against the fidelity each gets (Li, Jamieson, DeSalvo,
//! Rostamizadeh, Talwalkar, JMLR 2018).
//!
//! With `eta` and a smallest fidelity `min_fidelity` = 1/R, there are
//! s_max + 1 brackets, s_max = floor(log_eta R). Bracket s starts
//! n = ceil((s_max + 1) / (s + 1) · eta^s) architectures at fidelity
//! eta^-s; each rung keeps the best 1/eta for the next, at eta times the
//! fidelity, up to the full budget. Brackets run from s_max down to 0, then
//! the schedule repeats.
//!
//! The scheduler is asynchronous: a rung waits for all its results before
//! promoting, and while every open bracket waits, the next bracket opens, so
//! parallel workers stay busy. Only how new architectures are drawn differs
//! between Hyperband (uniformly) and BOHB (from a TPE model); that is the
//! `sample` callback.

use std::collections::BTreeMap;

use nasbox_sdk::{Candidate, Config, ConfigKey, Genotype, Observation, Proposal, Status, StrategyError};
use serde::{Deserialize, Serialize};

/// One rung of a bracket: how many architectures, at what fidelity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rung {
    pub size: usize,
    pub fidelity: f64,
}

/// The bracket layout implied by `eta` and the smallest fidelity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub eta: u32,
    pub s_max: u32,
}

impl Schedule {
    pub fn new(eta: u32, min_fidelity: f64) -> Result<Schedule, StrategyError> {
        if eta < 2 {
            return Err(StrategyError::InvalidConfig(format!("eta: {eta} must be at least 2")));
        }
        if !(min_fidelity > 0.0 && min_fidelity <= 1.0) {
            return Err(StrategyError::InvalidConfig(format!("min_fidelity: {min_fidelity} is not in (0, 1]")));
        }
        let s_max = ((1.0 / min_fidelity).ln() / (eta as f64).ln() + 1e-9).floor() as u32;
        Ok(Schedule { eta, s_max })
    }

    /// The rungs of bracket `s` (0 ≤ s ≤ s_max).
    pub fn bracket(&self, s: u32) -> Vec<Rung> {
        let eta = self.eta as f64;
        let n = (((self.s_max + 1) as f64 / (s + 1) as f64) * eta.powi(s as i32)).ceil();
        (0..=s)
            .map(|i| Rung { size: (n * eta.powi(-(i as i32)) + 1e-9).floor() as usize, fidelity: eta.powi(i as i32 - s as i32) })
            .take_while(|r| r.size >= 1)
            .collect()
    }

    /// Bracket indices in the order they run: s_max down to 0.
    pub fn order(&self) -> impl Iterator<Item = u32> + '_ {
        (0..=self.s_max).rev()
    }
}

/// A successful evaluation, as the samplers see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Result_ {
    pub genotype: Genotype,
    pub fidelity: f64,
    pub objective: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Bracket {
    id: u64,
    rungs: Vec<Rung>,
    rung: usize,
    /// Promoted architectures waiting to be proposed in the current rung.
    promoted: Vec<Genotype>,
    issued: usize,
    /// Results of the current rung; `None` for failures, which rank last.
    /// (Not -inf: JSON snapshots cannot hold non-finite numbers.)
    told: Vec<(Genotype, Option<f64>)>,
}

/// The whole scheduler state; serializable for snapshots.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hyperband {
    schedule: Schedule,
    /// Position in `schedule.order()` of the next bracket to open.
    next_bracket: u32,
    brackets: Vec<Bracket>,
    /// trial → (bracket id, rung index).
    pending: BTreeMap<u64, (u64, usize)>,
    next_trial: u64,
    next_id: u64,
    /// Every successful evaluation, in the order told.
    pub results: Vec<Result_>,
    /// How many proposals went out at each fidelity (bit pattern of the
    /// f64 → count), for accounting.
    pub spent: BTreeMap<u64, u64>,
}

impl Hyperband {
    pub fn new(schedule: Schedule) -> Hyperband {
        Hyperband { schedule, next_bracket: 0, brackets: vec![], pending: BTreeMap::new(), next_trial: 0, next_id: 0, results: vec![], spent: BTreeMap::new() }
    }

    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The next proposal. New architectures come from `sample`, which sees
    /// every successful result so far.
    pub fn next(&mut self, sample: &mut dyn FnMut(&[Result_]) -> Genotype) -> Proposal {
        let open = self.brackets.iter().position(|b| b.issued < b.rungs[b.rung].size);
        let index = match open {
            Some(i) => i,
            None => {
                let s = self.schedule.s_max - self.next_bracket;
                self.next_bracket = (self.next_bracket + 1) % (self.schedule.s_max + 1);
                self.brackets.push(Bracket { id: self.next_id, rungs: self.schedule.bracket(s), rung: 0, promoted: vec![], issued: 0, told: vec![] });
                self.next_id += 1;
                self.brackets.len() - 1
            }
        };
        let results = &self.results;
        let b = &mut self.brackets[index];
        let genotype = if b.rung == 0 { sample(results) } else { b.promoted.pop().expect("promoted fill the rung") };
        b.issued += 1;
        let fidelity = b.rungs[b.rung].fidelity;
        self.pending.insert(self.next_trial, (b.id, b.rung));
        self.next_trial += 1;
        *self.spent.entry(fidelity.to_bits()).or_default() += 1;
        Proposal::Genotype(Candidate { genotype, fidelity: (fidelity < 1.0).then_some(fidelity) })
    }

    /// Records results and promotes rungs that are complete.
    pub fn tell(&mut self, observations: &[Observation]) {
        for o in observations {
            let Some((id, rung)) = self.pending.remove(&o.trial) else { continue };
            let Proposal::Genotype(c) = &o.proposal else { continue };
            let objective = match o.status {
                Status::Ok if o.objective.is_finite() => Some(o.objective),
                _ => None,
            };
            if let Some(objective) = objective {
                self.results.push(Result_ { genotype: c.genotype.clone(), fidelity: c.fidelity.unwrap_or(1.0), objective });
            }
            let Some(bi) = self.brackets.iter().position(|b| b.id == id) else { continue };
            let b = &mut self.brackets[bi];
            if b.rung != rung {
                continue;
            }
            b.told.push((c.genotype.clone(), objective));
            if b.told.len() == b.rungs[b.rung].size {
                if b.rung + 1 == b.rungs.len() {
                    self.brackets.remove(bi);
                    continue;
                }
                // Keep the best 1/eta; ties go to the earlier result.
                let mut told = std::mem::take(&mut b.told);
                let key = |v: &Option<f64>| v.unwrap_or(f64::NEG_INFINITY);
                told.sort_by(|x, y| key(&y.1).total_cmp(&key(&x.1)));
                b.rung += 1;
                b.issued = 0;
                b.promoted = told.into_iter().take(b.rungs[b.rung].size).map(|(g, _)| g).rev().collect();
            }
        }
    }

    /// The best architecture at the highest fidelity evaluated so far.
    pub fn best(&self) -> Option<&Genotype> {
        let top = self.results.iter().map(|r| r.fidelity).fold(f64::NEG_INFINITY, f64::max);
        self.results
            .iter()
            .filter(|r| r.fidelity == top)
            .fold(None, |best: Option<&Result_>, r| match best {
                Some(b) if b.objective >= r.objective => Some(b),
                _ => Some(r),
            })
            .map(|r| &r.genotype)
    }
}

/// The config keys of a Hyperband schedule, shared by every strategy that
/// uses one.
pub fn config_keys() -> Vec<ConfigKey> {
    vec![
        ConfigKey { name: "eta".into(), default: "3".into(), description: "halving rate: each rung keeps the best 1/eta".into() },
        ConfigKey { name: "min_fidelity".into(), default: "1/27".into(), description: "smallest fraction of the training budget (e.g. 1/27 or 0.037)".into() },
    ]
}

impl Schedule {
    /// The schedule given by the keys of [`config_keys`].
    pub fn from_config(config: &Config) -> Result<Schedule, StrategyError> {
        Schedule::new(config.get("eta")?, parse_fraction("min_fidelity", config.raw("min_fidelity")?)?)
    }
}

/// Parses `0.037`, `1/27` or `1`.
pub fn parse_fraction(key: &str, raw: &str) -> Result<f64, StrategyError> {
    let bad = || StrategyError::InvalidConfig(format!("{key}: `{raw}` is not a number or fraction like 1/27"));
    match raw.trim().split_once('/') {
        Some((a, b)) => {
            let (a, b): (f64, f64) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
            if b == 0.0 {
                return Err(bad());
            }
            Ok(a / b)
        }
        None => raw.trim().parse().map_err(|_| bad()),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn brackets_match_the_paper_for_eta_3_and_r_27() {
        let s = Schedule::new(3, 1.0 / 27.0).unwrap();
        assert_eq!(s.s_max, 3);
        let sizes = |b: u32| s.bracket(b).iter().map(|r| r.size).collect::<Vec<_>>();
        assert_eq!(sizes(3), vec![27, 9, 3, 1]);
        assert_eq!(sizes(2), vec![12, 4, 1]);
        assert_eq!(sizes(1), vec![6, 2]);
        assert_eq!(sizes(0), vec![4]);
        let f: Vec<f64> = s.bracket(3).iter().map(|r| r.fidelity).collect();
        assert!((f[0] - 1.0 / 27.0).abs() < 1e-12 && f[3] == 1.0);
    }

    #[test]
    fn fractions_parse() {
        assert_eq!(parse_fraction("m", "1/4").unwrap(), 0.25);
        assert_eq!(parse_fraction("m", "0.5").unwrap(), 0.5);
        assert!(parse_fraction("m", "1/0").is_err());
        assert!(parse_fraction("m", "a").unwrap_err().to_string().contains("m:"));
    }
}
