//! Built against `nasbox:strategy@0.1.0`, from a frozen copy of that
//! version's WIT (`wit/strategy.wit` here, never to be updated), without the
//! SDK: what every strategy compiled before 0.1.1 looks like. It proposes
//! one-hot relaxed weights, as a DARTS that has committed would, so a host
//! of a later 0.1.x must still load it and read them as mixtures: every
//! option runs and the gradient is dense.

wit_bindgen::generate!({ world: "nasbox-strategy", path: "wit" });

use std::cell::RefCell;

use exports::nasbox::strategy::strategy::Guest;
use nasbox::strategy::types::{Genotype, Observation, Proposal, RunContext, Setting, Space, StrategyError, StrategyInfo};

thread_local! {
    /// Each decision's number of choices, and the proposals so far.
    static STATE: RefCell<(Vec<u32>, u64)> = const { RefCell::new((Vec::new(), 0)) };
}

/// Option `1 + (trial + d) % (arity - 1)` of decision `d`: never option 0
/// (`none` in the cell spaces), so every edge's output reaches the loss and
/// the mixture's gradient is non-zero at every option that adds something.
fn choice(trial: u64, d: usize, arity: u32) -> u32 {
    if arity < 2 {
        return 0;
    }
    1 + ((trial + d as u64) % (arity as u64 - 1)) as u32
}

struct V010;

impl Guest for V010 {
    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "contract-v010".into(),
            version: "0.1.0".into(),
            description: "Built against contract 0.1.0; proposes one-hot relaxed weights.".into(),
            config: vec![],
            supports_snapshot: false,
        }
    }

    fn init(space: Space, _config: Vec<Setting>, _context: RunContext) -> Result<(), StrategyError> {
        STATE.with(|s| *s.borrow_mut() = (space.decisions.iter().map(|d| d.choices.len() as u32).collect(), 0));
        Ok(())
    }

    fn ask(n: u32) -> Result<Vec<Proposal>, StrategyError> {
        STATE.with(|s| {
            let (arities, trials) = &mut *s.borrow_mut();
            let mut proposals = vec![];
            for _ in 0..n.min(1) {
                let rows = arities.iter().enumerate().map(|(d, &a)| (0..a).map(|k| if k == choice(*trials, d, a) { 1.0 } else { 0.0 }).collect()).collect();
                proposals.push(Proposal::Relaxed(rows));
                *trials += 1;
            }
            Ok(proposals)
        })
    }

    fn tell(_observations: Vec<Observation>) -> Result<(), StrategyError> {
        Ok(())
    }

    fn recommend() -> Result<Option<Genotype>, StrategyError> {
        Ok(STATE
            .with(|s| {
                let (arities, _) = &*s.borrow();
                arities.iter().enumerate().map(|(d, &a)| choice(0, d, a)).collect::<Vec<_>>()
            })
            .into())
    }

    fn snapshot() -> Result<Vec<u8>, StrategyError> {
        Err(StrategyError::Unsupported("snapshot".into()))
    }

    fn restore(_state: Vec<u8>) -> Result<(), StrategyError> {
        Err(StrategyError::Unsupported("restore".into()))
    }
}

export!(V010);
