//! Repeats of an architecture that is still being evaluated. With several
//! workers a strategy may propose an architecture again before its first
//! result is in (a strategy of contract 0.1.1 does so often on a
//! conditional space, where proposals that differ only in inactive
//! decisions are one architecture). Running it twice would spend a worker
//! on a result the run is about to have, so the repeat waits for the first
//! and is answered with its result, as a repeat of a finished trial is
//! answered from the journal.

use std::collections::HashMap;

use super::journal::TrialStatus;
use crate::estimate::Evaluation;

/// What to do with a trial whose architecture may be in flight.
#[derive(Debug, PartialEq)]
pub enum Dispatch {
    /// Nothing like it is in flight: evaluate it.
    Run,
    /// The trial with this id evaluates the same architecture: wait for it.
    Wait(u64),
}

/// The architectures in flight and the trials waiting on them.
#[derive(Debug, Default)]
pub struct InFlight {
    /// (genotype, fidelity bits) → the trial evaluating it.
    running: HashMap<(Vec<u32>, Option<u64>), u64>,
    /// (waiting trial, the trial it waits for), in the order they came.
    waiting: Vec<(u64, u64)>,
}

impl InFlight {
    /// Records trial `id` for `genotype` at `fidelity`: it runs, or it
    /// waits for an earlier trial of the same architecture.
    pub fn dispatch(&mut self, id: u64, genotype: &[u32], fidelity: Option<f64>) -> Dispatch {
        let key = (genotype.to_vec(), fidelity.map(f64::to_bits));
        match self.running.get(&key) {
            Some(&first) => {
                self.waiting.push((id, first));
                Dispatch::Wait(first)
            }
            None => {
                self.running.insert(key, id);
                Dispatch::Run
            }
        }
    }

    /// Trial `id` finished with `e`. Returns the results of the trials that
    /// waited for it, when it succeeded (each marked as a repeat of `id`,
    /// at no cost), and the trials to evaluate themselves, when it did not:
    /// a failure may be the machine's and not the architecture's, and a
    /// repeat of a failed finished trial runs again too.
    pub fn finished(&mut self, id: u64, e: &Evaluation) -> (Vec<(u64, Evaluation)>, Vec<u64>) {
        self.running.retain(|_, &mut r| r != id);
        let (mine, rest): (Vec<_>, Vec<_>) = self.waiting.iter().partition(|&&(_, first)| first == id);
        self.waiting = rest;
        let ids = mine.into_iter().map(|(w, _)| w);
        if e.status == TrialStatus::Ok {
            let answered = ids
                .map(|w| {
                    let mut r = Evaluation::ok(e.objective, 0.0, e.metrics.clone());
                    r.metrics.push(("reused-from".into(), id as f64));
                    (w, r)
                })
                .collect();
            (answered, vec![])
        } else {
            (vec![], ids.collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_waits_for_the_first_and_takes_its_result() {
        let mut f = InFlight::default();
        assert_eq!(f.dispatch(0, &[1, 0], None), Dispatch::Run);
        assert_eq!(f.dispatch(1, &[1, 1], None), Dispatch::Run);
        assert_eq!(f.dispatch(2, &[1, 0], None), Dispatch::Wait(0));
        assert_eq!(f.dispatch(3, &[1, 0], Some(0.5)), Dispatch::Run, "another fidelity is another evaluation");
        let (answered, again) = f.finished(0, &Evaluation::ok(0.7, 12.0, vec![("acc".into(), 0.7)]));
        assert!(again.is_empty());
        assert_eq!(answered.len(), 1);
        let (w, r) = &answered[0];
        assert_eq!((*w, r.objective, r.cost), (2, 0.7, 0.0));
        assert!(r.metrics.contains(&("reused-from".into(), 0.0)) && r.metrics.contains(&("acc".into(), 0.7)));
        // Finished, it is no longer in flight: the journal answers from now on.
        assert_eq!(f.dispatch(4, &[1, 0], None), Dispatch::Run);
    }

    #[test]
    fn the_repeats_of_a_failed_trial_run_themselves() {
        let mut f = InFlight::default();
        f.dispatch(0, &[2], None);
        f.dispatch(1, &[2], None);
        f.dispatch(2, &[2], None);
        let (answered, again) = f.finished(0, &Evaluation::failed("worker killed"));
        assert!(answered.is_empty());
        assert_eq!(again, vec![1, 2]);
        // The first of them to be dispatched again runs, the next waits for it.
        assert_eq!(f.dispatch(1, &[2], None), Dispatch::Run);
        assert_eq!(f.dispatch(2, &[2], None), Dispatch::Wait(1));
    }
}
