//! What can go wrong with a strategy, as types callers can match on.

use std::fmt;
use std::time::Duration;

use thiserror::Error;

use super::bindings::GuestError;

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
    #[error("does not export the strategy contract (nasbox:strategy/strategy); it exports: {exports}")]
    ContractMissing { exports: String },
    #[error("implements contract {found}, but this host supports {supported}")]
    IncompatibleVersion { found: String, supported: String },
    #[error("imports `{import}`, which the sandbox does not provide: {why}")]
    ForbiddenImport { import: String, why: String },
    #[error("instantiation failed: {0}")]
    Instantiate(String),
    #[error("ran out of fuel (budget {budget} units per call); raise it with --fuel if the strategy is legitimately slow")]
    OutOfFuel { budget: u64 },
    #[error("exceeded the wall-clock limit of {limit:?} per call")]
    Timeout { limit: Duration },
    #[error("exceeded the memory limit of {limit} bytes (tried to grow to {requested} bytes)")]
    MemoryLimit { limit: usize, requested: usize },
    #[error("overflowed its stack (unbounded recursion?)")]
    StackOverflow,
    #[error("panicked: {message}")]
    Panic { message: String },
    #[error("trapped: {message}")]
    Trap { message: String },
    #[error("called exit({code})")]
    Exit { code: i32 },
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
    pub(crate) fn new(strategy: impl Into<String>, call: Call, kind: ErrorKind) -> Self {
        StrategyError { strategy: strategy.into(), call, kind }
    }

    /// True when the instance can no longer be called.
    pub fn is_fatal(&self) -> bool {
        !matches!(self.kind, ErrorKind::Guest(_) | ErrorKind::NotInitialised | ErrorKind::InvalidOutput(_) | ErrorKind::Config(_))
    }
}
