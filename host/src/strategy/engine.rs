//! The Wasmtime engine strategies run on: its configuration, the epoch ticker
//! behind wall-clock limits, and compilation through the cache.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, InstancePre, Linker};

use super::bindings::NasboxStrategyPre;
use super::cache::{self, Cache};
use super::error::{Call, ErrorKind, StrategyError};
use super::imports;
use super::sandbox::{self, GuestState};

/// How often the engine's epoch advances; the granularity of timeouts.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Where compiled code is cached.
#[derive(Debug, Clone, PartialEq)]
pub enum CachePolicy {
    /// The per-user default directory (see `NASBOX_CACHE_DIR`).
    Default,
    /// A directory of the caller's choosing.
    Dir(PathBuf),
    /// Compile every time.
    Off,
}

/// Compiles and instantiates strategies. Cheap to clone; one per process is
/// enough.
#[derive(Clone)]
pub struct Engine {
    inner: wasmtime::Engine,
    linker: Arc<Linker<GuestState>>,
    cache: Option<Arc<Cache>>,
    _ticker: Arc<Ticker>,
}

/// A compiled strategy, ready to instantiate any number of times.
#[derive(Clone)]
pub struct Loaded {
    pub path: PathBuf,
    /// SHA-256 of the file, which identifies the strategy in run records.
    pub sha256: String,
    /// Whether the machine code came from the cache.
    pub from_cache: bool,
    /// How long loading took (read, verify, compile or deserialize, link).
    pub load_time: Duration,
    pub imports: Vec<String>,
    pub(crate) pre: NasboxStrategyPre<GuestState>,
}

struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Engine {
    pub fn new(cache: CachePolicy) -> anyhow::Result<Engine> {
        let mut config = wasmtime::Config::new();
        config
            .wasm_component_model(true)
            .consume_fuel(true)
            .epoch_interruption(true)
            .max_wasm_stack(1 << 20)
            .cranelift_opt_level(wasmtime::OptLevel::Speed);
        let inner = wasmtime::Engine::new(&config).map_err(|e| anyhow::anyhow!("configuring Wasmtime: {e:#}"))?;
        let linker = Arc::new(sandbox::linker(&inner).map_err(|e| anyhow::anyhow!("building the sandbox linker: {e:#}"))?);

        let stop = Arc::new(AtomicBool::new(false));
        {
            let (engine, stop) = (inner.weak(), stop.clone());
            std::thread::Builder::new().name("nasbox-epoch".into()).spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match engine.upgrade() {
                        Some(e) => e.increment_epoch(),
                        None => break,
                    }
                }
            })?;
        }

        let cache = match cache {
            CachePolicy::Off => None,
            CachePolicy::Default => Cache::default_dir().and_then(|d| open_cache(&d)),
            CachePolicy::Dir(d) => open_cache(&d),
        };
        Ok(Engine { inner, linker, cache, _ticker: Arc::new(Ticker { stop }) })
    }

    pub fn wasmtime(&self) -> &wasmtime::Engine {
        &self.inner
    }

    pub fn cache_dir(&self) -> Option<&Path> {
        self.cache.as_deref().map(Cache::dir)
    }

    /// Reads, checks and compiles (or loads from the cache) the component at
    /// `path`. Imports and exports are checked here, before any guest code
    /// runs.
    pub fn load(&self, path: &Path) -> Result<Loaded, StrategyError> {
        let started = Instant::now();
        let label = path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned());
        let fail = |kind| StrategyError::new(label.clone(), Call::Load, kind);

        let bytes = std::fs::read(path)
            .map_err(|source| fail(ErrorKind::Read { path: path.display().to_string(), source }))?;
        check_header(&bytes).map_err(fail)?;
        let sha256 = cache::file_hash(&bytes);
        let (component, from_cache) = self.compile(&bytes).map_err(fail)?;
        imports::check_exports(&component, &self.inner).map_err(fail)?;
        imports::check_imports(&component, &self.inner).map_err(fail)?;
        let instance_pre: InstancePre<GuestState> = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| fail(ErrorKind::Instantiate(format!("{e:#}"))))?;
        let pre = NasboxStrategyPre::new(instance_pre).map_err(|e| fail(ErrorKind::Instantiate(format!("{e:#}"))))?;
        Ok(Loaded {
            path: path.to_path_buf(),
            sha256,
            from_cache,
            load_time: started.elapsed(),
            imports: imports::list(&component, &self.inner),
            pre,
        })
    }

    fn compile(&self, bytes: &[u8]) -> Result<(Component, bool), ErrorKind> {
        let Some(cache) = &self.cache else {
            return Ok((Component::new(&self.inner, bytes).map_err(compile_error)?, false));
        };
        let name = Cache::entry_name(&self.inner, bytes);
        if let Some(code) = cache.get(&name) {
            // SAFETY: the bytes carry this cache's HMAC, so they are exactly
            // what `Component::serialize` produced in an earlier run, for an
            // engine with the same compatibility hash (part of the name).
            match unsafe { Component::deserialize(&self.inner, &code) } {
                Ok(c) => return Ok((c, true)),
                Err(e) => tracing::warn!("recompiling: cached code did not load: {e:#}"),
            }
        }
        let component = Component::new(&self.inner, bytes).map_err(compile_error)?;
        match component.serialize() {
            Ok(code) => {
                if let Err(e) = cache.put(&name, &code) {
                    tracing::warn!("could not write the compile cache in {}: {e}", cache.dir().display());
                }
            }
            Err(e) => tracing::warn!("could not serialize compiled code: {e:#}"),
        }
        Ok((component, false))
    }
}

/// Tells apart "not WebAssembly" and "a core module, not a component" before
/// the parser produces a less helpful message.
fn check_header(bytes: &[u8]) -> Result<(), ErrorKind> {
    const MAGIC: &[u8] = b"\0asm";
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err(ErrorKind::Compile("not a WebAssembly file (no \\0asm header)".into()));
    }
    if bytes[4..8] == [1, 0, 0, 0] {
        return Err(ErrorKind::Compile(
            "this is a core WebAssembly module, not a component: build for wasm32-wasip2, \
             or wrap it with `wasm-tools component new`"
                .into(),
        ));
    }
    Ok(())
}

fn compile_error(e: wasmtime::Error) -> ErrorKind {
    ErrorKind::Compile(format!("{e:#}"))
}

fn open_cache(dir: &Path) -> Option<Arc<Cache>> {
    match Cache::open(dir) {
        Ok(c) => Some(Arc::new(c)),
        Err(e) => {
            tracing::warn!("compile cache disabled: cannot use {}: {e}", dir.display());
            None
        }
    }
}
