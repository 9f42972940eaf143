//! Write a nasbox search strategy in Rust.
//!
//! A strategy decides which architecture the host evaluates next. You write it
//! as a plain Rust type that implements [`Strategy`], then call
//! [`export_strategy!`]. Built for `wasm32-wasip2` it becomes a sandboxed
//! WebAssembly component any nasbox host can load; built natively (the same
//! code, unchanged) it runs in tests and benchmarks through [`native::Native`].
//!
//! The only outside world a strategy has is [`random`] (seeded by the host, so
//! the same seed gives the same search) and [`log`].
//!
//! # A whole strategy
//!
//! This is `examples/rust-strategy/src/lib.rs`, compiled as a doctest so it
//! cannot go stale:
//!
#![doc = "```rust"]
#![doc = include_str!("../../../examples/rust-strategy/src/lib.rs")]
#![doc = "```"]
//!
//! Build it with `cargo build --release --target wasm32-wasip2` in a crate
//! with `crate-type = ["cdylib", "rlib"]`; the `.wasm` in
//! `target/wasm32-wasip2/release/` is the component. Check it with
//! `nasbox strategy check that.wasm`.

pub mod best;
pub mod config;
pub mod genotype;
pub mod log;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
pub mod random;
pub mod shape;
pub mod state;

#[doc(hidden)]
pub mod glue;

/// The bindings wit-bindgen generates from `wit/strategy.wit`. Authors use the
/// re-exports at the crate root instead.
///
/// The world is `nasbox-shaped-relaxing-strategy`: the contract's `strategy`, the
/// optional `relaxation` (0.1.1), which every SDK strategy exports, answering
/// [`Strategy::relaxed_kind`] (by default `mixture`, what the host assumes of
/// a strategy that does not export it), and the `shape` import (0.1.2),
/// which [`shape::Shape::of`] reads. One world for every strategy keeps a
/// single set of bindings, and so a single type per contract type.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "nasbox-shaped-relaxing-strategy",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_component",
        default_bindings_module: "nasbox_sdk::bindings",
    });
}

pub use best::Best;
/// How the host reads a strategy's relaxed proposals; see
/// [`Strategy::relaxed_kind`].
pub use bindings::exports::nasbox::strategy::relaxation::RelaxedKind;
pub use bindings::nasbox::strategy::types::{
    Candidate, ConfigKey, Decision, Genotype, Metric, Observation, Proposal, Relaxed, RunContext, Setting, Space, Status, StrategyError, StrategyInfo,
};
pub use config::Config;
pub use shape::Shape;

/// A search strategy. One value of the implementing type lives inside the
/// component for the whole search; the host calls the methods one at a time.
///
/// Only [`Strategy::snapshot`] and [`Strategy::restore`] have defaults: they
/// report `unsupported`, and the host then resumes a search by replaying the
/// recorded calls into a fresh instance with the same seed. Implement both to
/// make resume cheap.
pub trait Strategy: Sized + 'static {
    /// Name, version, description and config keys. Must not depend on state:
    /// the host may call it before `init`.
    fn info() -> StrategyInfo;

    /// Build the strategy for `space`. `config` already holds a value for
    /// every key of [`Strategy::info`] (the user's, or the default).
    fn init(space: Space, config: Config, context: RunContext) -> Result<Self, StrategyError>;

    /// Up to `n` proposals. Returning fewer is fine; none means exhausted.
    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError>;

    /// Results of earlier proposals, in any order.
    fn tell(&mut self, observations: Vec<Observation>) -> Result<(), StrategyError>;

    /// The architecture this strategy would retrain now.
    fn recommend(&self) -> Result<Option<Genotype>, StrategyError>;

    /// How the host is to read this strategy's [`Proposal::Relaxed`]
    /// proposals (contract 0.1.1, `relaxation.kind`), asked once right after
    /// [`Strategy::init`]. The default, [`RelaxedKind::Mixture`], is what a
    /// host assumes of any strategy: every option runs, weighted (DARTS).
    /// A strategy whose one-hot rows are samples (GDAS) answers
    /// [`RelaxedKind::Sample`]: the host then runs only the sampled option
    /// of each such row, scaled by its value, and returns the gradient at
    /// that option only (the straight-through estimator), at about the cost
    /// of one architecture's step instead of the whole supernet's. A host
    /// that predates 0.1.1 never asks, and mixes.
    fn relaxed_kind(&self) -> RelaxedKind {
        RelaxedKind::Mixture
    }

    /// The whole state, for [`Strategy::restore`] in a fresh instance.
    fn snapshot(&self) -> Result<Vec<u8>, StrategyError> {
        Err(StrategyError::Unsupported("snapshot".into()))
    }

    /// Continue from a state returned by [`Strategy::snapshot`].
    fn restore(&mut self, state: Vec<u8>) -> Result<(), StrategyError> {
        let _ = state;
        Err(StrategyError::Unsupported("restore".into()))
    }
}

/// Exports a [`Strategy`] implementation as the component's `strategy`
/// interface (and `relaxation`, from [`Strategy::relaxed_kind`]). Call it
/// once, at the top level of the strategy's crate.
///
/// The export only exists when compiling for WebAssembly; natively the macro
/// expands to nothing, so several strategies can be linked into one native
/// test or benchmark binary.
#[macro_export]
#[rustfmt::skip] // rustfmt moves the export_component! line out of its block on every run
macro_rules! export_strategy {
    ($strategy:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct Component;

            ::std::thread_local! {
                static STATE: $crate::glue::Slot<$strategy> = $crate::glue::Slot::new();
            }

            impl $crate::bindings::exports::nasbox::strategy::strategy::Guest for Component {
                fn info() -> $crate::StrategyInfo {
                    <$strategy as $crate::Strategy>::info()
                }
                fn init(
                    space: $crate::Space,
                    config: ::std::vec::Vec<$crate::Setting>,
                    context: $crate::RunContext,
                ) -> ::std::result::Result<(), $crate::StrategyError> {
                    STATE.with(|s| s.init(space, config, context))
                }
                fn ask(n: u32) -> ::std::result::Result<::std::vec::Vec<$crate::Proposal>, $crate::StrategyError> {
                    STATE.with(|s| s.with_mut(|st| $crate::Strategy::ask(st, n)))
                }
                fn tell(observations: ::std::vec::Vec<$crate::Observation>) -> ::std::result::Result<(), $crate::StrategyError> {
                    STATE.with(|s| s.with_mut(|st| $crate::Strategy::tell(st, observations)))
                }
                fn recommend() -> ::std::result::Result<::std::option::Option<$crate::Genotype>, $crate::StrategyError> {
                    STATE.with(|s| s.with_mut(|st| $crate::Strategy::recommend(st)))
                }
                fn snapshot() -> ::std::result::Result<::std::vec::Vec<u8>, $crate::StrategyError> {
                    STATE.with(|s| s.with_mut(|st| $crate::Strategy::snapshot(st)))
                }
                fn restore(state: ::std::vec::Vec<u8>) -> ::std::result::Result<(), $crate::StrategyError> {
                    STATE.with(|s| s.with_mut(|st| $crate::Strategy::restore(st, state)))
                }
            }

            impl $crate::bindings::exports::nasbox::strategy::relaxation::Guest for Component {
                fn kind() -> $crate::RelaxedKind {
                    STATE.with(|s| s.relaxed_kind())
                }
            }

            $crate::bindings::export_component!(Component with_types_in $crate::bindings);
        };
    };
}
