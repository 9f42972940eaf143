//! The walls around a guest: limits, the state a store carries, and the
//! linker that decides what a guest can import.

use std::time::Duration;

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::ResourceLimiter;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::{nasbox::strategy as contract, Level, NasboxStrategy};
use super::clock::{ClockView, Clocks, VirtualClock};
use super::rng::SharedRng;
use super::stderr::StderrTail;
use super::text;

/// What one strategy instance may consume.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Fuel per call: roughly one unit per WebAssembly instruction. Exhausting
    /// it is deterministic, unlike a timeout, so it is the primary CPU limit.
    pub fuel: u64,
    /// Wall-clock backstop per call, for what fuel does not count (host calls,
    /// a guest stuck in the host).
    pub timeout: Duration,
    /// Cap on all linear memories and tables of one strategy instance
    /// together, in bytes. A component may hold several core instances, each
    /// with its own memory, so a per-memory cap would multiply.
    pub memory: usize,
    /// Most bytes the host copies out of the guest in one crossing (a call's
    /// answer, or one import's arguments): wasmtime's per-call "hostcall
    /// fuel", set explicitly so that an upgrade cannot change it silently.
    /// Sized to the contract's largest answer, a snapshot of `max_state`.
    pub max_copy: usize,
    /// Most bytes of log messages one call may send, counted before they
    /// are cut to `max_log_bytes`: the host pays for copying every byte.
    pub max_log_total: usize,
    /// Most proposals one `ask` may return, whatever `n` was.
    pub max_proposals: u32,
    /// Cap on a snapshot's size, in bytes.
    pub max_state: usize,
    /// Messages kept per call; the rest are counted and dropped.
    pub max_log_messages: usize,
    /// Bytes kept of one message.
    pub max_log_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 2_000_000_000,
            timeout: Duration::from_secs(10),
            memory: 256 << 20,
            max_copy: 80 << 20,
            max_log_total: 16 << 20,
            max_proposals: 4096,
            max_state: 64 << 20,
            max_log_messages: 200,
            max_log_bytes: 4096,
        }
    }
}

/// A run's sandbox limits where they differ from [`Limits::default`]:
/// `[sandbox]` in run.toml, or `--fuel`, `--timeout` and `--memory`. A
/// heavier strategy (a larger ensemble, more training steps) needs more
/// fuel than the default allows; the journal keeps these with the run's
/// configuration, so a resumed run gets the limits it ran under.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxOptions {
    /// Fuel per call, e.g. `4_000_000_000`.
    pub fuel: Option<u64>,
    /// Wall-clock limit per call, e.g. `"20s"`.
    pub timeout: Option<String>,
    /// Memory cap of the instance, e.g. `"512MiB"`.
    pub memory: Option<String>,
}

impl SandboxOptions {
    /// The limits, or what is wrong with a value, naming its key.
    pub fn limits(&self) -> Result<Limits, String> {
        let mut limits = Limits::default();
        if let Some(fuel) = self.fuel {
            if fuel == 0 {
                return Err("[sandbox] fuel = 0: at least 1".into());
            }
            limits.fuel = fuel;
        }
        if let Some(t) = &self.timeout {
            limits.timeout = crate::units::duration(t).map_err(|e| format!("[sandbox] timeout = {t:?}: {e}"))?;
        }
        if let Some(m) = &self.memory {
            limits.memory = crate::units::size(m).map_err(|e| format!("[sandbox] memory = {m:?}: {e}"))?;
        }
        Ok(limits)
    }

    /// `other`'s values where it has them, these elsewhere.
    pub fn overridden_by(&self, other: &SandboxOptions) -> SandboxOptions {
        SandboxOptions {
            fuel: other.fuel.or(self.fuel),
            timeout: other.timeout.clone().or_else(|| self.timeout.clone()),
            memory: other.memory.clone().or_else(|| self.memory.clone()),
        }
    }
}

/// Everything a guest's store holds.
pub struct GuestState {
    pub name: String,
    wasi: WasiCtx,
    table: ResourceTable,
    pub limiter: MemoryCap,
    pub rng: SharedRng,
    pub stderr: StderrTail,
    clock: VirtualClock,
    log: LogBudget,
    /// What `shape.decisions` answers: the shapes of the space given to
    /// `init`, set just before it (empty before).
    pub shape: Vec<super::bindings::DecisionShape>,
}

/// Most resources (streams, pollables, sockets) one instance may hold at
/// once. A strategy needs a handful; wasmtime's default of a million would
/// let a guest make the host allocate for each.
pub const MAX_RESOURCES: usize = 10_000;

impl GuestState {
    pub fn new(name: &str, seed: u64, limits: &Limits) -> Self {
        let rng = SharedRng::seeded(seed);
        let stderr = StderrTail::default();
        // No preopened directories (so no file can be opened), no environment,
        // no arguments, every socket and name lookup denied, empty stdin,
        // stdout discarded, randomness from the seeded stream. Clocks are
        // virtual (clock.rs), not the context's.
        let wasi = WasiCtxBuilder::new()
            .stderr(stderr.clone())
            .secure_random(rng.clone())
            .insecure_random(rng.clone())
            .insecure_random_seed(u128::from(seed))
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .build();
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_RESOURCES);
        GuestState {
            name: name.to_string(),
            wasi,
            table,
            clock: VirtualClock::default(),
            shape: vec![],
            limiter: MemoryCap::new(limits.memory),
            rng,
            stderr,
            log: LogBudget {
                max_messages: limits.max_log_messages,
                max_bytes: limits.max_log_bytes,
                max_total: limits.max_log_total,
                used: 0,
                dropped: 0,
                bytes: 0,
            },
        }
    }

    /// Resets per-call budgets; returns a mark on stderr so the caller can
    /// pick out what this call adds.
    pub fn begin_call(&mut self) -> u64 {
        self.log.used = 0;
        self.log.dropped = 0;
        self.log.bytes = 0;
        self.stderr.mark()
    }

    /// Reports messages dropped during the call that just ended.
    pub fn end_call(&mut self) {
        if self.log.dropped > 0 {
            tracing::warn!(strategy = %self.name, "dropped {} log messages over the per-call cap", self.log.dropped);
        }
    }
}

impl WasiView for GuestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// Most core instances, linear memories and tables one strategy may create.
/// A Rust guest has about 5 instances, 2 memories and 3 tables; the Python
/// example (componentize-py links a dozen modules) stays well inside too.
pub const MAX_INSTANCES: usize = 100;
pub const MAX_MEMORIES: usize = 16;
pub const MAX_TABLES: usize = 100;

/// What one table element costs the host, for the memory total.
const TABLE_ELEMENT_BYTES: usize = std::mem::size_of::<usize>();

/// Enforces the memory cap over every memory and table of the instance, and
/// remembers that it did, so a trap can be reported as the memory limit
/// rather than as whatever the guest did next.
pub struct MemoryCap {
    pub limit: usize,
    /// Bytes of all memories and tables so far. Memories only grow, and are
    /// freed with the store, so a running sum is exact.
    pub total: usize,
    /// The total a refused growth would have reached.
    pub exceeded: Option<usize>,
}

/// Raised inside the guest's call when it grows past the cap.
#[derive(Debug, thiserror::Error)]
#[error("memory limit exceeded")]
pub struct MemoryLimitHit;

impl MemoryCap {
    pub fn new(limit: usize) -> Self {
        MemoryCap { limit, total: 0, exceeded: None }
    }

    fn grow(&mut self, current: usize, desired: usize) -> wasmtime::Result<bool> {
        let total = (self.total - current.min(self.total)).saturating_add(desired);
        if total > self.limit {
            self.exceeded = Some(total);
            return Err(MemoryLimitHit.into());
        }
        self.total = total;
        Ok(true)
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.grow(current, desired)
    }

    fn table_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.grow(current.saturating_mul(TABLE_ELEMENT_BYTES), desired.saturating_mul(TABLE_ELEMENT_BYTES))
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }
}

/// Raised inside the guest's call when its log messages exceed the budget.
#[derive(Debug, thiserror::Error)]
#[error("log budget exceeded: {bytes} bytes, limit {limit}")]
pub struct LogFlood {
    pub bytes: usize,
    pub limit: usize,
}

struct LogBudget {
    max_messages: usize,
    max_bytes: usize,
    max_total: usize,
    used: usize,
    dropped: usize,
    /// Bytes received this call, kept or not.
    bytes: usize,
}

impl contract::types::Host for GuestState {}

impl contract::random::Host for GuestState {
    fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }
    fn next_f64(&mut self) -> f64 {
        self.rng.next_f64()
    }
    fn below(&mut self, bound: u64) -> u64 {
        self.rng.below(bound)
    }
}

impl super::bindings::ShapeHost for GuestState {
    /// A copy per call: a strategy asks once, in `init`, and the copy into
    /// its memory counts against the call's host-copy budget like any other.
    fn decisions(&mut self) -> Vec<super::bindings::DecisionShape> {
        self.shape.clone()
    }
}

impl contract::log::Host for GuestState {
    /// Wasmtime has already copied `message` when this runs, so dropping
    /// messages alone would not stop a guest from making the host copy
    /// gigabytes; past the per-call byte budget the call traps.
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        self.log.bytes = self.log.bytes.saturating_add(message.len());
        if self.log.bytes > self.log.max_total {
            return Err(LogFlood { bytes: self.log.bytes, limit: self.log.max_total }.into());
        }
        if self.log.used >= self.log.max_messages {
            self.log.dropped += 1;
            return Ok(());
        }
        self.log.used += 1;
        let message = text::cap(&message, self.log.max_bytes);
        let strategy = self.name.as_str();
        match level {
            Level::Trace => tracing::trace!(target: "strategy", %strategy, "{message}"),
            Level::Debug => tracing::debug!(target: "strategy", %strategy, "{message}"),
            Level::Info => tracing::info!(target: "strategy", %strategy, "{message}"),
            Level::Warn => tracing::warn!(target: "strategy", %strategy, "{message}"),
            Level::Error => tracing::error!(target: "strategy", %strategy, "{message}"),
        }
        Ok(())
    }
}

/// The linker every guest is instantiated with: the contract's imports and
/// the WASI interfaces stock toolchains import by default, each inert (see
/// `imports::served` for what each one does). `wasi:http` is not here: it
/// is stubbed per component (`imports::stub_http`), because its resources
/// would let a guest make the host allocate.
pub fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<GuestState>> {
    use wasmtime_wasi::cli::{WasiCli, WasiCliView};
    use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
    use wasmtime_wasi::p2::bindings as wasi;
    use wasmtime_wasi::p2::bindings::sync as wasi_sync;
    use wasmtime_wasi::random::WasiRandom;
    use wasmtime_wasi::sockets::{WasiSockets, WasiSocketsView};

    let mut l = Linker::<GuestState>::new(engine);
    NasboxStrategy::add_to_linker::<GuestState, HasSelf<GuestState>>(&mut l, |s| s)?;
    super::bindings::add_shape_to_linker::<GuestState, HasSelf<GuestState>>(&mut l, |s| s)?;

    // I/O plumbing for stdio (a Rust guest's panic message goes to stderr).
    wasmtime_wasi_io::bindings::wasi::io::error::add_to_linker::<GuestState, HasTable>(&mut l, |s| &mut s.table)?;
    wasi_sync::io::poll::add_to_linker::<GuestState, HasTable>(&mut l, |s| &mut s.table)?;
    wasi_sync::io::streams::add_to_linker::<GuestState, HasTable>(&mut l, |s| &mut s.table)?;
    // Stdio, an empty environment, exit (reported as an error).
    let cli = <GuestState as WasiCliView>::cli;
    wasi::cli::exit::add_to_linker::<GuestState, WasiCli>(&mut l, cli)?;
    wasi::cli::environment::add_to_linker::<GuestState, WasiCli>(&mut l, cli)?;
    wasi::cli::stdin::add_to_linker::<GuestState, WasiCli>(&mut l, cli)?;
    wasi::cli::stdout::add_to_linker::<GuestState, WasiCli>(&mut l, cli)?;
    wasi::cli::stderr::add_to_linker::<GuestState, WasiCli>(&mut l, cli)?;
    wasi::cli::terminal_input::add_to_linker::<GuestState, WasiCli>(&mut l, cli)?;
    wasi::cli::terminal_output::add_to_linker::<GuestState, WasiCli>(&mut l, cli)?;
    wasi::cli::terminal_stdin::add_to_linker::<GuestState, WasiCli>(&mut l, cli)?;
    wasi::cli::terminal_stdout::add_to_linker::<GuestState, WasiCli>(&mut l, cli)?;
    wasi::cli::terminal_stderr::add_to_linker::<GuestState, WasiCli>(&mut l, cli)?;
    // Randomness, from the seeded stream.
    wasi::random::random::add_to_linker::<GuestState, WasiRandom>(&mut l, |s| s.wasi.random())?;
    wasi::random::insecure::add_to_linker::<GuestState, WasiRandom>(&mut l, |s| s.wasi.random())?;
    wasi::random::insecure_seed::add_to_linker::<GuestState, WasiRandom>(&mut l, |s| s.wasi.random())?;
    // Virtual clocks.
    fn clocks(s: &mut GuestState) -> ClockView<'_> {
        ClockView { clock: &mut s.clock, table: &mut s.table }
    }
    wasi::clocks::wall_clock::add_to_linker::<GuestState, Clocks>(&mut l, clocks)?;
    wasi::clocks::monotonic_clock::add_to_linker::<GuestState, Clocks>(&mut l, clocks)?;
    // A file system with no directories in it.
    let fs = <GuestState as WasiFilesystemView>::filesystem;
    wasi::filesystem::preopens::add_to_linker::<GuestState, WasiFilesystem>(&mut l, fs)?;
    wasi_sync::filesystem::types::add_to_linker::<GuestState, WasiFilesystem>(&mut l, fs)?;
    // Sockets and name lookup, every use denied (`access-denied`).
    let net = <GuestState as WasiSocketsView>::sockets;
    let options = wasi::sockets::network::LinkOptions::default();
    wasi::sockets::instance_network::add_to_linker::<GuestState, WasiSockets>(&mut l, net)?;
    wasi::sockets::network::add_to_linker::<GuestState, WasiSockets>(&mut l, &options, net)?;
    wasi::sockets::tcp_create_socket::add_to_linker::<GuestState, WasiSockets>(&mut l, net)?;
    wasi_sync::sockets::udp_create_socket::add_to_linker::<GuestState, WasiSockets>(&mut l, net)?;
    wasi::sockets::ip_name_lookup::add_to_linker::<GuestState, WasiSockets>(&mut l, net)?;
    wasi_sync::sockets::tcp::add_to_linker::<GuestState, WasiSockets>(&mut l, net)?;
    wasi_sync::sockets::udp::add_to_linker::<GuestState, WasiSockets>(&mut l, net)?;
    Ok(l)
}

struct HasTable;

impl wasmtime::component::HasData for HasTable {
    type Data<'a> = &'a mut ResourceTable;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_options_change_only_what_they_set() {
        assert_eq!(SandboxOptions::default().limits(), Ok(Limits::default()));
        let set = SandboxOptions { fuel: Some(4_000_000_000), timeout: Some("500ms".into()), memory: Some("1GiB".into()) };
        let l = set.limits().unwrap();
        assert_eq!((l.fuel, l.timeout, l.memory), (4_000_000_000, Duration::from_millis(500), 1 << 30));
        assert_eq!(l.max_state, Limits::default().max_state);
        // A resume's flags replace the recorded values they give, no others.
        let recorded = SandboxOptions { fuel: Some(5), timeout: Some("20s".into()), memory: None };
        let flags = SandboxOptions { fuel: Some(7), ..SandboxOptions::default() };
        assert_eq!(recorded.overridden_by(&flags), SandboxOptions { fuel: Some(7), timeout: Some("20s".into()), memory: None });
        assert_eq!(recorded.overridden_by(&SandboxOptions::default()), recorded);
        for (bad, why) in [
            (SandboxOptions { fuel: Some(0), ..SandboxOptions::default() }, "[sandbox] fuel = 0"),
            (SandboxOptions { timeout: Some("soon".into()), ..SandboxOptions::default() }, "[sandbox] timeout = \"soon\": `soon` is not a duration"),
            (SandboxOptions { memory: Some("0".into()), ..SandboxOptions::default() }, "[sandbox] memory = \"0\""),
        ] {
            let e = bad.limits().unwrap_err();
            assert!(e.starts_with(why), "{e}");
        }
    }

    #[test]
    fn the_memory_cap_is_the_total_of_all_memories_and_tables() {
        let mut cap = MemoryCap::new(256 << 20);
        // Two memories of 100 MiB fit; a third does not, though each alone would.
        assert!(cap.memory_growing(0, 100 << 20, None).unwrap());
        assert!(cap.memory_growing(0, 100 << 20, None).unwrap());
        assert!(cap.memory_growing(0, 100 << 20, None).is_err());
        assert_eq!(cap.exceeded, Some(300 << 20));
        // Growing an existing memory counts only the difference.
        let mut cap = MemoryCap::new(256 << 20);
        assert!(cap.memory_growing(0, 100 << 20, None).unwrap());
        assert!(cap.memory_growing(100 << 20, 200 << 20, None).unwrap());
        assert_eq!(cap.total, 200 << 20);
        // Tables count too.
        assert!(cap.table_growing(0, (56 << 20) / TABLE_ELEMENT_BYTES, None).unwrap());
        assert!(cap.table_growing(0, 1, None).is_err());
    }
}
