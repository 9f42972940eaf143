//! What can go wrong with a strategy, as types callers can match on.

use std::fmt;
use std::time::Duration;

use thiserror::Error;

use super::bindings::GuestError;
use super::text::cap_in_place;

/// The call a failure happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Load,
    Info,
    Init,
    Ask,
    Tell,
    Recommend,
    Snapshot,
    Restore,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Call::Load => "load",
            Call::Info => "info",
            Call::Init => "init",
            Call::Ask => "ask",
            Call::Tell => "tell",
            Call::Recommend => "recommend",
            Call::Snapshot => "snapshot",
            Call::Restore => "restore",
        })
    }
}

/// A strategy failure: which strategy, in which call, and what.
#[derive(Debug, Error)]
#[error("strategy `{strategy}`: {call}: {kind}")]
pub struct StrategyError {
    /// The strategy's name from its `info`, or its file name before that is known.
    pub strategy: String,
    pub call: Call,
    pub kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug, Error)]
pub enum ErrorKind {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("not a valid WebAssembly component: {0}")]
    Compile(String),
    /// Refused before or while compiling: too big, or compiling took too long
    /// or too much memory. The message names the limit and its flag.
    #[error("{0}")]
    CompileLimit(String),
    #[error("does not export the strategy contract (nasbox:strategy/strategy); it exports: {exports}")]
    ContractMissing { exports: String },
    #[error("implements contract {found}, but this host supports {supported}")]
    IncompatibleVersion { found: String, supported: String },
    /// `import` lists every refused import (`a`, `b`), the most telling first.
    #[error("imports `{import}`, which the sandbox does not provide: {why}")]
    ForbiddenImport { import: String, why: String },
    /// An export of the contract interface has the wrong type.
    #[error("exports `{function}` with the wrong signature: the contract has `{function}: {expected}` ({detail})")]
    ContractSignature { function: String, expected: String, detail: String },
    #[error("instantiation failed: {0}")]
    Instantiate(String),
    #[error("ran out of fuel (budget {budget} units per call); raise it with --fuel if the strategy is legitimately slow")]
    OutOfFuel { budget: u64 },
    #[error("exceeded the wall-clock limit of {limit:?} per call")]
    Timeout { limit: Duration },
    /// `requested` is the total of all the instance's memories and tables
    /// the failed growth would have made.
    #[error("exceeded the memory limit of {limit} bytes for all its memories and tables together (tried to grow to {requested} bytes in total); raise it with --memory")]
    MemoryLimit { limit: usize, requested: usize },
    /// Too many core instances, memories or tables for one strategy.
    #[error("creates more than {limit} {what}, the most one strategy may have")]
    TooMany { what: &'static str, limit: usize },
    #[error("overflowed its stack (unbounded recursion?)")]
    StackOverflow,
    #[error("panicked: {message}")]
    Panic { message: String },
    #[error("trapped: {message}")]
    Trap { message: String },
    #[error("called exit({code})")]
    Exit { code: i32 },
    /// The guest called an import that is linked only so that stock
    /// toolchains' output loads (`wasi:http`): the call stops the strategy.
    #[error("called `{call}`: {why}")]
    Denied { call: String, why: &'static str },
    #[error("returned an error: {}", describe(.0))]
    Guest(GuestError),
    #[error("returned invalid output: {0}")]
    InvalidOutput(InvalidOutput),
    #[error("{0}")]
    Config(String),
    #[error("called before init")]
    NotInitialised,
    #[error("is not called again after an earlier failure ({reason})")]
    Poisoned { reason: String },
}

/// A guest's answer that breaks the contract.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InvalidOutput {
    #[error("{returned} proposals for ask({asked})")]
    TooManyProposals { returned: usize, asked: u32 },
    #[error("proposal {proposal}: genotype {detail}")]
    Genotype { proposal: usize, detail: String },
    #[error("proposal {proposal}: fidelity {value} is not in (0, 1]")]
    Fidelity { proposal: usize, value: f64 },
    #[error("proposal {proposal}: relaxed weights {detail}")]
    Relaxed { proposal: usize, detail: String },
    #[error("recommended genotype {0}")]
    Recommendation(String),
    #[error("{what} is {size} bytes, over the cap of {cap} bytes")]
    TooLarge { what: &'static str, size: usize, cap: usize },
    /// More data crossed into the host in one call than the copy budget.
    #[error("returned more than {limit} bytes in one call, over the per-call copy limit")]
    Copy { limit: usize },
    /// Log messages of one call came to more than the budget.
    #[error("logged {bytes} bytes in one call, over the limit of {limit} bytes")]
    LogFlood { bytes: usize, limit: usize },
    #[error("info: {0}")]
    Info(String),
}

/// A guest's own error, in words.
fn describe(e: &GuestError) -> String {
    match e {
        GuestError::InvalidConfig(m) => format!("invalid config: {m}"),
        GuestError::UnsupportedSpace(m) => format!("unsupported space: {m}"),
        GuestError::Unsupported(m) => format!("unsupported: {m}"),
        GuestError::InvalidState(m) => format!("invalid state: {m}"),
        GuestError::Other(m) => m.clone(),
    }
}

impl StrategyError {
    /// Every guest-controlled text in `kind` is capped here, once, so nothing
    /// downstream (terminal, log, journal, report) can be flooded.
    pub(crate) fn new(strategy: impl Into<String>, call: Call, kind: ErrorKind) -> Self {
        let mut strategy = strategy.into();
        cap_in_place(&mut strategy);
        StrategyError { strategy, call, kind: kind.capped() }
    }

    /// True when the instance can no longer be called.
    pub fn is_fatal(&self) -> bool {
        match &self.kind {
            ErrorKind::InvalidOutput(InvalidOutput::Copy { .. } | InvalidOutput::LogFlood { .. }) => true,
            ErrorKind::Guest(_) | ErrorKind::NotInitialised | ErrorKind::InvalidOutput(_) | ErrorKind::Config(_) => false,
            _ => true,
        }
    }
}

impl ErrorKind {
    fn capped(mut self) -> Self {
        match &mut self {
            ErrorKind::Compile(s)
            | ErrorKind::CompileLimit(s)
            | ErrorKind::Instantiate(s)
            | ErrorKind::Config(s)
            | ErrorKind::ContractMissing { exports: s }
            | ErrorKind::IncompatibleVersion { found: s, .. }
            | ErrorKind::ForbiddenImport { import: s, .. }
            | ErrorKind::Panic { message: s }
            | ErrorKind::Trap { message: s }
            | ErrorKind::Poisoned { reason: s } => cap_in_place(s),
            ErrorKind::ContractSignature { function, detail, .. } => {
                cap_in_place(function);
                cap_in_place(detail);
            }
            ErrorKind::Guest(
                GuestError::InvalidConfig(s)
                | GuestError::UnsupportedSpace(s)
                | GuestError::Unsupported(s)
                | GuestError::InvalidState(s)
                | GuestError::Other(s),
            ) => cap_in_place(s),
            ErrorKind::InvalidOutput(
                InvalidOutput::Genotype { detail: s, .. }
                | InvalidOutput::Relaxed { detail: s, .. }
                | InvalidOutput::Recommendation(s)
                | InvalidOutput::Info(s),
            ) => cap_in_place(s),
            _ => {}
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_guest_text_in_an_error_is_capped() {
        let huge = "e".repeat(1 << 20);
        let kinds = [
            ErrorKind::Guest(GuestError::Other(huge.clone())),
            ErrorKind::Guest(GuestError::InvalidConfig(huge.clone())),
            ErrorKind::Panic { message: huge.clone() },
            ErrorKind::Trap { message: huge.clone() },
            ErrorKind::ContractMissing { exports: huge.clone() },
            ErrorKind::ForbiddenImport { import: huge.clone(), why: "no".into() },
            ErrorKind::InvalidOutput(InvalidOutput::Info(huge.clone())),
            ErrorKind::Poisoned { reason: huge.clone() },
        ];
        for kind in kinds {
            let e = StrategyError::new(huge.clone(), Call::Ask, kind);
            let shown = e.to_string();
            assert!(shown.len() < 3 * crate::strategy::text::MAX_TEXT, "{} bytes", shown.len());
            assert!(shown.contains("[cut: "), "the cut is marked");
        }
    }
}
