//! The strategy sandbox's limits as flags, the same on every command that
//! runs a strategy (`strategy check`, `search`, `resume`, `bench`); run.toml
//! writes them as `[sandbox]`.

use clap::Args;
use nasbox::strategy::{Limits, SandboxOptions};

use super::parse;

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Strategy sandbox")]
pub struct LimitArgs {
    /// Fuel (≈ WebAssembly instructions) per strategy call, e.g. 4e9 [default: 2e9].
    #[arg(long, value_name = "UNITS", value_parser = parse::count)]
    fuel: Option<u64>,
    /// Wall-clock limit per strategy call, e.g. 20s [default: 10s].
    #[arg(long, value_name = "DURATION", value_parser = parse::duration_text)]
    timeout: Option<String>,
    /// Memory cap of the strategy instance, e.g. 512MiB [default: 256MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse::size_text)]
    memory: Option<String>,
}

impl LimitArgs {
    /// The flags given, as `[sandbox]` settings (unset where not given).
    pub fn sandbox(&self) -> SandboxOptions {
        SandboxOptions { fuel: self.fuel, timeout: self.timeout.clone(), memory: self.memory.clone() }
    }

    /// The limits: the defaults, changed where a flag was given.
    pub fn limits(&self) -> Limits {
        self.sandbox().limits().expect("the flags' parsers checked every value")
    }
}
