//! What [`crate::export_strategy!`] expands to calls into this module, so the
//! macro stays small and the logic stays type-checked in one place.

use std::cell::RefCell;

use crate::{Config, RunContext, Setting, Space, Strategy, StrategyError};

/// The one strategy value of a component instance, created by `init`.
pub struct Slot<S>(RefCell<Option<S>>);

impl<S: Strategy> Slot<S> {
    pub const fn new() -> Self {
        Slot(RefCell::new(None))
    }

    pub fn init(&self, space: Space, settings: Vec<Setting>, context: RunContext) -> Result<(), StrategyError> {
        if self.0.borrow().is_some() {
            return Err(StrategyError::Other("init called twice".into()));
        }
        let config = Config::new(&S::info(), settings)?;
        let strategy = S::init(space, config, context)?;
        *self.0.borrow_mut() = Some(strategy);
        Ok(())
    }

    /// The strategy's [`Strategy::relaxed_kind`]; `mixture` before `init`
    /// (the host only asks after it).
    pub fn relaxed_kind(&self) -> crate::RelaxedKind {
        self.0.borrow().as_ref().map_or(crate::RelaxedKind::Mixture, S::relaxed_kind)
    }

    pub fn with_mut<R>(&self, f: impl FnOnce(&mut S) -> Result<R, StrategyError>) -> Result<R, StrategyError> {
        match self.0.borrow_mut().as_mut() {
            Some(strategy) => f(strategy),
            None => Err(StrategyError::Other("called before init".into())),
        }
    }
}

impl<S: Strategy> Default for Slot<S> {
    fn default() -> Self {
        Self::new()
    }
}
