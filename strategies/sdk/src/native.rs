//! Running a strategy natively, without the sandbox: for unit tests of a
//! strategy's logic and for measuring what the sandbox costs.

use std::marker::PhantomData;

use crate::{Config, Genotype, Observation, Proposal, RunContext, Setting, Space, Strategy, StrategyError};

/// A strategy driven directly, with the SDK's native random generator standing
/// in for the host's. Mirrors the calls the host makes on a component.
pub struct Native<S: Strategy> {
    strategy: S,
    _not_send: PhantomData<*const ()>,
}

impl<S: Strategy> Native<S> {
    /// Seeds this thread's generator with `seed` and initialises the strategy,
    /// checking `settings` against the strategy's declared config keys exactly
    /// as a component would.
    pub fn init(seed: u64, space: Space, settings: Vec<Setting>, context: RunContext) -> Result<Self, StrategyError> {
        Native::init_shaped(seed, space, vec![], settings, context)
    }

    /// [`Native::init`] for a space whose decisions have shapes (contract
    /// 0.1.2): what [`crate::shape::Shape::of`] returns in this thread until
    /// the next `init`, as the host's `shape` import would. An empty list
    /// means every decision is categorical.
    pub fn init_shaped(
        seed: u64,
        space: Space,
        shapes: Vec<crate::shape::DecisionShape>,
        settings: Vec<Setting>,
        context: RunContext,
    ) -> Result<Self, StrategyError> {
        crate::random::seed(seed);
        crate::shape::set_native(shapes);
        let config = Config::new(&S::info(), settings)?;
        Ok(Native { strategy: S::init(space, config, context)?, _not_send: PhantomData })
    }

    /// See [`Strategy::relaxed_kind`].
    pub fn relaxed_kind(&self) -> crate::RelaxedKind {
        self.strategy.relaxed_kind()
    }

    /// See [`Strategy::ask`].
    pub fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        self.strategy.ask(n)
    }

    /// See [`Strategy::tell`].
    pub fn tell(&mut self, observations: Vec<Observation>) -> Result<(), StrategyError> {
        self.strategy.tell(observations)
    }

    /// See [`Strategy::recommend`].
    pub fn recommend(&self) -> Result<Option<Genotype>, StrategyError> {
        self.strategy.recommend()
    }

    /// See [`Strategy::snapshot`].
    pub fn snapshot(&self) -> Result<Vec<u8>, StrategyError> {
        self.strategy.snapshot()
    }

    /// See [`Strategy::restore`].
    pub fn restore(&mut self, state: Vec<u8>) -> Result<(), StrategyError> {
        self.strategy.restore(state)
    }

    /// The strategy itself, for assertions on its state.
    pub fn inner(&self) -> &S {
        &self.strategy
    }
}

/// A space of decisions `d0`, `d1`, … with `arities[i]` choices named `0`,
/// `1`, …: what most tests and benchmarks of a strategy search.
pub fn numbered_space(arities: &[usize]) -> Space {
    Space {
        name: "numbered".into(),
        decisions: arities
            .iter()
            .enumerate()
            .map(|(i, &a)| crate::Decision { name: format!("d{i}"), choices: (0..a).map(|c| c.to_string()).collect() })
            .collect(),
    }
}

/// An ordered, always active decision of `n` (at least 2) real values 0,
/// 1/(n − 1), …, 1: the shape most tests of a model over numbers use.
pub fn unit_grid(n: usize) -> crate::shape::DecisionShape {
    let values = (0..n).map(|i| i as f64 / (n - 1) as f64).collect();
    crate::shape::DecisionShape {
        kind: crate::shape::Kind::Ordered(crate::shape::Numbers { values, integer: false, log: false, continuous: false }),
        conditions: vec![],
    }
}

/// Seeds this thread's stand-in generator without creating a strategy, for
/// unit tests of building blocks that draw random numbers.
pub fn seed_for_tests(seed: u64) {
    crate::random::seed(seed);
}
