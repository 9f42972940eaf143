//! One running strategy instance, and every call into it.

use std::path::Path;

use wasmtime::component::TypedFunc;
use wasmtime::{Store, Trap, WasmBacktrace};

use super::bindings::{Guest, GuestError, NasboxStrategy, Observation, Proposal, RelaxedKind, RunContext, Setting, StrategyInfo};
use super::engine::{Engine, Loaded, EPOCH_TICK};
use super::error::{Call, ErrorKind, InvalidOutput, StrategyError};
use super::imports::NoNetwork;
use super::sandbox::{self, GuestState, Limits, LogFlood, MemoryLimitHit};
use super::text;
use super::validate;
use crate::space::Space;

/// A strategy's state as saved by `snapshot`: the guest's bytes and the
/// position of the host's random stream, which together resume it exactly.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    pub state: Vec<u8>,
    pub rng_position: u128,
}

/// A sandboxed strategy instance.
///
/// Calls that trap or exceed a limit poison the instance: later calls fail
/// with [`ErrorKind::Poisoned`] without entering the guest. Errors the guest
/// returns on purpose, and invalid output, do not poison it.
pub struct Plugin {
    name: String,
    info: StrategyInfo,
    store: Store<GuestState>,
    guest: NasboxStrategy,
    /// `relaxation.kind`, for strategies that export it (contract 0.1.1).
    relaxation: Option<TypedFunc<(), (RelaxedKind,)>>,
    /// What its relaxed proposals are, as it said after `init`.
    relaxed_kind: RelaxedKind,
    limits: Limits,
    space: Option<Space>,
    poisoned: Option<String>,
}

impl Plugin {
    /// Loads the component at `path` and starts an instance seeded with `seed`.
    pub fn load(engine: &Engine, path: &Path, seed: u64, limits: Limits) -> Result<Plugin, StrategyError> {
        let loaded = engine.load(path)?;
        Plugin::instantiate(&loaded, seed, limits)
    }

    /// Starts a fresh instance of an already compiled strategy, on the
    /// Wasmtime engine of the compiler that made its code, and reads its
    /// `info`.
    pub fn instantiate(loaded: &Loaded, seed: u64, limits: Limits) -> Result<Plugin, StrategyError> {
        let label = loaded.path.file_stem().map_or_else(|| loaded.path.display().to_string(), |s| s.to_string_lossy().into_owned());
        let mut store = Store::new(loaded.pre.engine(), GuestState::new(&label, seed, &limits));
        store.limiter(|s| &mut s.limiter);
        store.set_hostcall_fuel(limits.max_copy);
        arm(&mut store, &limits);
        let stderr_start = store.data_mut().begin_call();
        let instantiated = loaded.pre.instance_pre().instantiate(&mut store).and_then(|instance| {
            let guest = NasboxStrategy::new(&mut store, &instance)?;
            let relaxation = loaded.relaxation.as_ref().map(|f| instance.get_typed_func(&mut store, f)).transpose()?;
            Ok((guest, relaxation))
        });
        let (guest, relaxation) = match instantiated {
            Ok(g) => g,
            Err(e) => {
                let kind = classify(e, &mut store, &limits, stderr_start);
                return Err(StrategyError::new(label, Call::Load, kind));
            }
        };
        let mut plugin = Plugin {
            name: label,
            info: StrategyInfo { name: String::new(), version: String::new(), description: String::new(), config: vec![], supports_snapshot: false },
            store,
            guest,
            relaxation,
            relaxed_kind: RelaxedKind::Mixture,
            limits,
            space: None,
            poisoned: None,
        };
        let mut info = plugin.call(Call::Info, |g, s| g.call_info(s))?;
        validate::info(&info).map_err(|e| plugin.error(Call::Info, ErrorKind::InvalidOutput(e)))?;
        // What `inspect`, the journal and reports show of it, bounded and
        // without control characters (defaults stay as they are: they are
        // config values, and validated above).
        text::cap_in_place(&mut info.version);
        text::cap_in_place(&mut info.description);
        for key in &mut info.config {
            text::cap_in_place(&mut key.description);
        }
        plugin.name = info.name.clone();
        plugin.store.data_mut().name = info.name.clone();
        plugin.info = info;
        Ok(plugin)
    }

    /// The strategy's name from its `info`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the strategy said about itself when it was loaded.
    pub fn info(&self) -> &StrategyInfo {
        &self.info
    }

    /// The limits this instance runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Prepares the strategy for `space`. Keys in `settings` that the
    /// strategy does not declare are refused here, naming the key.
    pub fn init(&mut self, space: &Space, settings: &[(String, String)], context: RunContext) -> Result<(), StrategyError> {
        if self.space.is_some() {
            return Err(self.error(Call::Init, ErrorKind::Config("init was already called".into())));
        }
        for (key, _) in settings {
            if !self.info.config.iter().any(|k| &k.name == key) {
                let known: Vec<&str> = self.info.config.iter().map(|k| k.name.as_str()).collect();
                let known = if known.is_empty() { "it takes none".to_string() } else { format!("it takes {}", known.join(", ")) };
                return Err(self.error(Call::Init, ErrorKind::Config(format!("unknown config key `{key}` ({known})"))));
            }
        }
        let settings: Vec<Setting> = settings.iter().map(|(k, v)| Setting { key: k.clone(), value: v.clone() }).collect();
        let wit_space = space.into();
        self.store.data_mut().shape = super::bindings::shapes(space);
        self.call(Call::Init, |g, s| g.call_init(s, &wit_space, &settings, context))?.map_err(|e| self.error(Call::Init, ErrorKind::Guest(e)))?;
        // Part of `init` as the user sees it: the answer may depend on the
        // config, and a failure is the strategy failing to start.
        if let Some(kind) = self.relaxation {
            self.relaxed_kind = self.call(Call::Init, |_, s| Ok(kind.call(s, ())?.0))?;
        }
        self.space = Some(space.clone());
        Ok(())
    }

    /// How to read the strategy's relaxed proposals: what it answered to
    /// `relaxation.kind` after `init`, or `mixture` when it does not export
    /// that interface (every strategy built against contract 0.1.0).
    pub fn relaxed_kind(&self) -> RelaxedKind {
        self.relaxed_kind
    }

    /// Whether the strategy exports `relaxation` (contract 0.1.1), for
    /// `strategy inspect`.
    pub fn declares_relaxation(&self) -> bool {
        self.relaxation.is_some()
    }

    /// Up to `n` proposals, validated against the space.
    pub fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        self.space(Call::Ask)?;
        let proposals = self.guest_result(Call::Ask, |g, s| g.call_ask(s, n))?;
        let cap = n.min(self.limits.max_proposals);
        let space = self.space.as_ref().expect("checked above");
        validate::proposals(space, cap, &proposals).map_err(|e| self.error(Call::Ask, ErrorKind::InvalidOutput(e)))?;
        Ok(proposals)
    }

    /// Results of earlier proposals, in any order.
    pub fn tell(&mut self, observations: &[Observation]) -> Result<(), StrategyError> {
        self.space(Call::Tell)?;
        self.guest_result(Call::Tell, |g, s| g.call_tell(s, observations))
    }

    /// The strategy's current answer, validated against the space.
    pub fn recommend(&mut self) -> Result<Option<Vec<u32>>, StrategyError> {
        self.space(Call::Recommend)?;
        let r = self.guest_result(Call::Recommend, |g, s| g.call_recommend(s))?;
        if let Some(genotype) = &r {
            let space = self.space.as_ref().expect("checked above");
            validate::recommendation(space, genotype).map_err(|e| self.error(Call::Recommend, ErrorKind::InvalidOutput(e)))?;
        }
        Ok(r)
    }

    /// The strategy's state, or `None` when it does not support snapshots.
    pub fn snapshot(&mut self) -> Result<Option<Snapshot>, StrategyError> {
        self.space(Call::Snapshot)?;
        let rng_position = self.store.data().rng.position();
        match self.call(Call::Snapshot, |g, s| g.call_snapshot(s))? {
            Ok(state) if state.len() > self.limits.max_state => Err(self
                .error(Call::Snapshot, ErrorKind::InvalidOutput(InvalidOutput::TooLarge { what: "snapshot", size: state.len(), cap: self.limits.max_state }))),
            Ok(state) => Ok(Some(Snapshot { state, rng_position })),
            Err(GuestError::Unsupported(_)) => Ok(None),
            Err(e) => Err(self.error(Call::Snapshot, ErrorKind::Guest(e))),
        }
    }

    /// Continues from `snapshot`, random stream included. Call after `init`.
    pub fn restore(&mut self, snapshot: &Snapshot) -> Result<(), StrategyError> {
        self.space(Call::Restore)?;
        self.guest_result(Call::Restore, |g, s| g.call_restore(s, &snapshot.state))?;
        self.store.data().rng.set_position(snapshot.rng_position);
        Ok(())
    }

    /// Fuel used by the last call, for benchmarks and diagnostics.
    pub fn fuel_used_last_call(&self) -> u64 {
        self.limits.fuel - self.store.get_fuel().unwrap_or(0)
    }

    fn space(&self, call: Call) -> Result<&Space, StrategyError> {
        self.space.as_ref().ok_or_else(|| self.error(call, ErrorKind::NotInitialised))
    }

    fn error(&self, call: Call, kind: ErrorKind) -> StrategyError {
        StrategyError::new(self.name.clone(), call, kind)
    }

    /// A call whose guest-level `result` error becomes [`ErrorKind::Guest`].
    fn guest_result<R>(
        &mut self,
        call: Call,
        f: impl FnOnce(&Guest, &mut Store<GuestState>) -> wasmtime::Result<Result<R, GuestError>>,
    ) -> Result<R, StrategyError> {
        self.call(call, f)?.map_err(|e| self.error(call, ErrorKind::Guest(e)))
    }

    /// Enters the guest under fresh limits and turns a trap into a specific
    /// error, poisoning the instance.
    fn call<R>(&mut self, call: Call, f: impl FnOnce(&Guest, &mut Store<GuestState>) -> wasmtime::Result<R>) -> Result<R, StrategyError> {
        if let Some(reason) = &self.poisoned {
            return Err(self.error(call, ErrorKind::Poisoned { reason: reason.clone() }));
        }
        arm(&mut self.store, &self.limits);
        let stderr_start = self.store.data_mut().begin_call();
        let result = f(self.guest.nasbox_strategy_strategy(), &mut self.store);
        self.store.data_mut().end_call();
        result.map_err(|e| {
            let kind = classify(e, &mut self.store, &self.limits, stderr_start);
            let error = self.error(call, kind);
            self.poisoned = Some(format!("{call}: {}", error.kind));
            error
        })
    }
}

/// Refills fuel and sets the wall-clock deadline for the next call.
fn arm(store: &mut Store<GuestState>, limits: &Limits) {
    store.set_fuel(limits.fuel).expect("fuel is enabled on the engine");
    let ticks = limits.timeout.as_nanos().div_ceil(EPOCH_TICK.as_nanos()).max(1);
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX) + 1);
}

/// What a failed call means, in the user's terms.
fn classify(e: wasmtime::Error, store: &mut Store<GuestState>, limits: &Limits, stderr_start: u64) -> ErrorKind {
    // The whole error, backtrace included, for `-v`; the user sees one line.
    tracing::debug!(strategy = %store.data().name, "guest failure: {e:?}");
    if let Some(requested) = store.data_mut().limiter.exceeded.take() {
        return ErrorKind::MemoryLimit { limit: limits.memory, requested };
    }
    if e.downcast_ref::<MemoryLimitHit>().is_some() {
        return ErrorKind::MemoryLimit { limit: limits.memory, requested: 0 };
    }
    if let Some(flood) = e.downcast_ref::<LogFlood>() {
        return ErrorKind::InvalidOutput(InvalidOutput::LogFlood { bytes: flood.bytes, limit: flood.limit });
    }
    if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return ErrorKind::Exit { code: exit.0 };
    }
    let message = one_line(&e);
    if message.contains("too much data is being copied between the host and the guest") {
        return ErrorKind::InvalidOutput(InvalidOutput::Copy { limit: limits.max_copy });
    }
    if let Some(kind) = too_many(&message) {
        return kind;
    }
    if let Some(denied) = e.downcast_ref::<NoNetwork>() {
        return ErrorKind::Denied { call: denied.function.clone(), why: "strategies have no network access" };
    }
    let written = store.data().stderr.since(stderr_start);
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => ErrorKind::OutOfFuel { budget: limits.fuel },
        Some(Trap::Interrupt) => ErrorKind::Timeout { limit: limits.timeout },
        Some(Trap::StackOverflow) => ErrorKind::StackOverflow,
        // Rust and C keep a shadow stack in linear memory; when recursion
        // overruns it the symptom is an out-of-bounds access deep inside a
        // run of identical frames.
        Some(Trap::MemoryOutOfBounds) if looks_like_recursion(&e) => ErrorKind::StackOverflow,
        // What came before the panic is the guest's own report: a Python
        // traceback before componentize-py's runtime panics, say.
        _ if written.contains("panicked") => {
            let before = &written[..written.find("panicked").unwrap_or(0)];
            // Rust's own "thread '<unnamed>' (1) " prefix of the panic line.
            let before = match before.rfind("thread '") {
                Some(i) if !before[i..].contains('\n') => &before[..i],
                _ => before,
            };
            ErrorKind::Panic { message: format!("{}{}", panic_message(&written), stderr_suffix(before)) }
        }
        Some(trap) => ErrorKind::Trap { message: format!("{trap}{}", stderr_suffix(&written)) },
        None => ErrorKind::Trap { message: format!("{message}{}", stderr_suffix(&written)) },
    }
}

/// The error's chain on one line, without Wasmtime's backtrace frames
/// (`0x5c0 - <unknown>!<wasm function 7>`), which mean nothing to a user and
/// which `-v` shows anyway.
fn one_line(e: &wasmtime::Error) -> String {
    let parts: Vec<String> = e
        .chain()
        .map(|c| c.to_string())
        // A `WasmBacktrace` in the chain (it is not a `std::error::Error`,
        // so it is told by its text).
        .filter(|m| !m.starts_with("error while executing at wasm backtrace"))
        .map(|m| m.lines().next().unwrap_or_default().trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    parts.join(": ")
}

/// Wasmtime's "resource limit exceeded: memory count too high at 17", in
/// the strategy's terms.
fn too_many(message: &str) -> Option<ErrorKind> {
    let rest = message.split("resource limit exceeded: ").nth(1)?;
    let what = rest.split(" count too high").next()?;
    Some(match what {
        "instance" => ErrorKind::TooMany { what: "core instances", limit: sandbox::MAX_INSTANCES },
        "memory" => ErrorKind::TooMany { what: "memories", limit: sandbox::MAX_MEMORIES },
        "table" => ErrorKind::TooMany { what: "tables", limit: sandbox::MAX_TABLES },
        _ => return None,
    })
}

/// True when the trap's backtrace is a full window of frames mostly from one
/// function.
fn looks_like_recursion(e: &wasmtime::Error) -> bool {
    let Some(bt) = e.downcast_ref::<WasmBacktrace>() else { return false };
    let frames = bt.frames();
    if frames.len() < 16 {
        return false;
    }
    let mut counts = std::collections::HashMap::new();
    for f in frames {
        *counts.entry(f.func_index()).or_insert(0usize) += 1;
    }
    counts.values().any(|&c| c * 4 >= frames.len() * 3)
}

/// The panic message from a Rust guest's stderr, without the backtrace hint.
fn panic_message(stderr: &str) -> String {
    let text = stderr.get(stderr.find("panicked").unwrap_or(0)..).unwrap_or(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("note: run with")).map(str::trim).collect();
    lines.join(" ")
}

/// What the guest wrote to stderr during the call, its tail: an exception
/// or a traceback is the last thing written before the trap.
fn stderr_suffix(stderr: &str) -> String {
    let s = stderr.trim();
    if s.is_empty() {
        return String::new();
    }
    let mut start = s.len().saturating_sub(STDERR_SHOWN);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    if start == 0 {
        format!(" (stderr: {s})")
    } else {
        format!(" (stderr, last {} of {} bytes: …{})", s.len() - start, s.len(), &s[start..])
    }
}

/// Bytes of a failed call's stderr shown, from the end; the whole error is
/// capped at 2 KiB (`text::MAX_TEXT`).
const STDERR_SHOWN: usize = 1536;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages_lose_the_backtrace_hint() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:3:5:\nboom\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(panic_message(stderr), "panicked at src/lib.rs:3:5: boom");
    }
}
