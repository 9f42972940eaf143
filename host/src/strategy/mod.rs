//! Search strategies as sandboxed WebAssembly components.
//!
//! A strategy is third-party code, so the host treats it as untrusted:
//!
//! - [`Engine`] compiles components once and caches the machine code, keyed by
//!   the file's hash and the engine's settings; it only ever loads cache
//!   entries it signed itself.
//! - [`Plugin`] is one running instance: every call gets a fuel budget (a
//!   deterministic instruction limit), a wall-clock backstop and a memory cap;
//!   its only imports are the host's seeded random numbers and logging (plus
//!   inert WASI basics that language runtimes expect); every answer is
//!   validated against the space before the host uses it.
//! - [`check`] is the conformance check a strategy author runs before
//!   publishing.
//!
//! Every failure is a [`StrategyError`] naming the strategy, the call and what
//! went wrong; an instance that trapped is never entered again.

mod bindings;
pub mod builtin;
mod cache;
pub mod check;
mod clock;
mod compile;
mod engine;
mod error;
mod imports;
mod plugin;
mod rng;
mod sandbox;
mod stderr;
mod text;
mod validate;

pub use bindings::{Candidate, ConfigKey, Metric, Observation, Proposal, RelaxedKind, RunContext, Status, StrategyInfo};
pub use compile::{precheck, CodeSize, CompileLimits, Compiler, WINCH_ABOVE};
pub use engine::{compile_child, CachePolicy, CompileOptions, Engine, Loaded};
pub use error::{Call, ErrorKind, InvalidOutput, StrategyError};
pub use imports::served;
pub use plugin::{Plugin, Snapshot};
pub use sandbox::{Limits, SandboxOptions};

/// The contract version this host implements, as `package@version`. It
/// loads strategies built against any 0.1.x (see `imports::SUPPORTED`).
pub const CONTRACT: &str = "nasbox:strategy@0.1.2";
