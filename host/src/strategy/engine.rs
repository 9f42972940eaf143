//! The Wasmtime engine strategies run on: its configuration, the epoch ticker
//! behind wall-clock limits, and compilation through the cache.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::component::{Component, InstancePre, Linker};

use super::bindings::NasboxStrategyPre;
use super::cache::{self, Cache};
use super::compile::{self, CompileLimits, Compiler};
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

/// How compiling is bounded.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CompileOptions {
    pub limits: CompileLimits,
    /// Compile in a child process of this executable (its hidden
    /// `compile-strategy` command) under `limits.timeout` and
    /// `limits.memory`. `None` compiles in this process, bounded by the
    /// size limits only: for embedders and tests without the `nasbox` binary.
    pub child: Option<PathBuf>,
    /// The compiler to use; `None` picks by code size ([`Compiler::for_code`]).
    pub compiler: Option<Compiler>,
}

/// Compiles and instantiates strategies. Cheap to clone; one per process is
/// enough: it compiles each distinct component once and shares the code
/// between every search of the process.
#[derive(Clone)]
pub struct Engine {
    /// One Wasmtime engine per compiler: code compiled by one only runs on
    /// an engine configured alike.
    cranelift: Backend,
    winch: Backend,
    cache: Option<Arc<Cache>>,
    compile: CompileOptions,
    /// Compiled components by cache entry name. The lock is held while
    /// compiling, so parallel loads of one component compile it once.
    compiled: Arc<Mutex<HashMap<String, Component>>>,
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
    /// Peak memory of the child process that compiled it, when this load
    /// compiled in one.
    pub compile_memory: Option<u64>,
    /// The component's code, as measured before compiling.
    pub code: compile::CodeSize,
    /// The compiler that made its machine code.
    pub compiler: Compiler,
    pub imports: Vec<String>,
    /// The optional `relaxation.kind` function (contract 0.1.1), when the
    /// component exports it.
    pub(crate) relaxation: Option<wasmtime::component::ComponentExportIndex>,
    pub(crate) pre: NasboxStrategyPre<GuestState>,
}

/// A Wasmtime engine and the sandbox's linker for it.
#[derive(Clone)]
struct Backend {
    engine: wasmtime::Engine,
    linker: Arc<Linker<GuestState>>,
}

impl Backend {
    fn new(compiler: Compiler) -> anyhow::Result<Backend> {
        let engine = wasmtime::Engine::new(&config(compiler)).map_err(|e| anyhow::anyhow!("configuring Wasmtime: {e:#}"))?;
        let linker = Arc::new(sandbox::linker(&engine).map_err(|e| anyhow::anyhow!("building the sandbox linker: {e:#}"))?);
        Ok(Backend { engine, linker })
    }
}

struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The Wasmtime configuration for `compiler`, shared by a parent and the
/// child that compiles for it (the cache entry's name depends on it).
fn config(compiler: Compiler) -> wasmtime::Config {
    let mut config = wasmtime::Config::new();
    config.strategy(match compiler {
        Compiler::Cranelift => wasmtime::Strategy::Cranelift,
        Compiler::Winch => wasmtime::Strategy::Winch,
    });
    config
        .wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(1 << 20)
        // The contract needs one memory per module; more would only be a
        // way around the memory cap.
        .wasm_multi_memory(false)
        // No memfd-backed copy-on-write memory images: sealing the memfd
        // fails now and then with EBUSY on kernels where something else
        // holds references to its pages (seen in CI here: "cannot add seals
        // to the memfd"). Copying a guest's data segments at instantiation
        // instead costs milliseconds, once per strategy instance.
        .memory_init_cow(false)
        .cranelift_opt_level(wasmtime::OptLevel::Speed);
    config
}

impl Engine {
    /// An engine that compiles in this process, within the default size
    /// limits.
    pub fn new(cache: CachePolicy) -> anyhow::Result<Engine> {
        Engine::with_options(cache, CompileOptions::default())
    }

    pub fn with_options(cache: CachePolicy, compile: CompileOptions) -> anyhow::Result<Engine> {
        let (cranelift, winch) = (Backend::new(Compiler::Cranelift)?, Backend::new(Compiler::Winch)?);
        let stop = Arc::new(AtomicBool::new(false));
        {
            let engines = [cranelift.engine.weak(), winch.engine.weak()];
            let stop = stop.clone();
            std::thread::Builder::new().name("nasbox-epoch".into()).spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    for engine in &engines {
                        match engine.upgrade() {
                            Some(e) => e.increment_epoch(),
                            None => return,
                        }
                    }
                }
            })?;
        }

        let cache = match cache {
            CachePolicy::Off => None,
            CachePolicy::Default => Cache::default_dir().and_then(|d| open_cache(&d)),
            CachePolicy::Dir(d) => open_cache(&d),
        };
        Ok(Engine { cranelift, winch, cache, compile, compiled: Arc::default(), _ticker: Arc::new(Ticker { stop }) })
    }

    fn backend(&self, compiler: Compiler) -> &Backend {
        match compiler {
            Compiler::Cranelift => &self.cranelift,
            Compiler::Winch => &self.winch,
        }
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

        let bytes = std::fs::read(path).map_err(|source| fail(ErrorKind::Read { path: path.display().to_string(), source }))?;
        check_header(&bytes).map_err(fail)?;
        imports::precheck(&bytes).map_err(fail)?;
        let code = compile::precheck(&bytes, &self.compile.limits).map_err(fail)?;
        let compiler = self.compile.compiler.unwrap_or(Compiler::for_code(code.code));
        let backend = self.backend(compiler);
        let sha256 = cache::file_hash(&bytes);
        let (component, from_cache, compile_memory) = self.compile(compiler, &bytes).map_err(fail)?;
        imports::check_exports(&component, &backend.engine).map_err(fail)?;
        imports::check_imports(&component, &backend.engine).map_err(fail)?;
        let instantiate = |e: wasmtime::Error| fail(ErrorKind::Instantiate(format!("{e:#}")));
        let http = imports::stub_http(&backend.linker, &component).map_err(instantiate)?;
        let instance_pre: InstancePre<GuestState> = http.as_ref().unwrap_or(&backend.linker).instantiate_pre(&component).map_err(instantiate)?;
        imports::check_signatures(&component, &instance_pre).map_err(fail)?;
        let relaxation = imports::relaxation(&component, &instance_pre).map_err(fail)?;
        let pre = NasboxStrategyPre::new(instance_pre).map_err(|e| fail(ErrorKind::Instantiate(format!("{e:#}"))))?;
        Ok(Loaded {
            path: path.to_path_buf(),
            sha256,
            from_cache,
            load_time: started.elapsed(),
            compile_memory,
            code,
            compiler,
            imports: imports::list(&component, &backend.engine),
            relaxation,
            pre,
        })
    }

    /// The compiled component, from this process's memory, the cache, or a
    /// fresh compile (in a child process when so configured).
    fn compile(&self, compiler: Compiler, bytes: &[u8]) -> Result<(Component, bool, Option<u64>), ErrorKind> {
        let engine = &self.backend(compiler).engine;
        let name = Cache::entry_name(engine, compiler.name(), bytes);
        let mut compiled = self.compiled.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = compiled.get(&name) {
            return Ok((c.clone(), true, None));
        }
        let started = Instant::now();
        let (component, from_cache, memory) = match (&self.compile.child, &self.cache) {
            (Some(exe), Some(cache)) => self.compile_in_child(exe, cache, compiler, &name, bytes)?,
            (Some(exe), None) => {
                // No cache wanted: a private one, for this load only.
                let private = |e: std::io::Error| ErrorKind::Compile(format!("creating a private compile cache: {e}"));
                let dir = tempfile_dir().map_err(private)?;
                let cache = Cache::open(dir.path()).map_err(private)?;
                self.compile_in_child(exe, &cache, compiler, &name, bytes)?
            }
            (None, cache) => {
                let (c, hit) = self.compile_here(engine, cache.as_deref(), &name, bytes)?;
                (c, hit, None)
            }
        };
        if !from_cache {
            tracing::debug!("compiled strategy {} with {} in {:.2?}", &name[..16], compiler.name(), started.elapsed());
        }
        compiled.insert(name, component.clone());
        Ok((component, from_cache, memory))
    }

    /// Loads `name` from `cache`, if it is there and carries the cache's
    /// signature.
    fn cached(&self, engine: &wasmtime::Engine, cache: &Cache, name: &str) -> Option<Component> {
        let code = cache.get(name)?;
        // SAFETY: the bytes carry this cache's HMAC, so they are exactly
        // what `Component::serialize` produced in an earlier run or a child
        // process, for an engine with the same compatibility hash (part of
        // the name).
        match unsafe { Component::deserialize(engine, &code) } {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!("recompiling: cached code did not load: {e:#}");
                None
            }
        }
    }

    fn compile_in_child(&self, exe: &Path, cache: &Cache, compiler: Compiler, name: &str, bytes: &[u8]) -> Result<(Component, bool, Option<u64>), ErrorKind> {
        let engine = &self.backend(compiler).engine;
        if let Some(c) = self.cached(engine, cache, name) {
            return Ok((c, true, None));
        }
        let memory = compile::in_child(exe, cache.dir(), name, compiler, bytes, &self.compile.limits)?;
        let component = self
            .cached(engine, cache, name)
            .ok_or_else(|| ErrorKind::Compile(format!("the compiler process left no signed code in {}", cache.dir().display())))?;
        Ok((component, false, memory))
    }

    fn compile_here(&self, engine: &wasmtime::Engine, cache: Option<&Cache>, name: &str, bytes: &[u8]) -> Result<(Component, bool), ErrorKind> {
        if let Some(c) = cache.and_then(|cache| self.cached(engine, cache, name)) {
            return Ok((c, true));
        }
        let component = Component::new(engine, bytes).map_err(compile_error)?;
        if let Some(cache) = cache {
            match component.serialize() {
                Ok(code) => {
                    if let Err(e) = cache.put(name, &code) {
                        tracing::warn!("could not write the compile cache in {}: {e}", cache.dir().display());
                    }
                }
                Err(e) => tracing::warn!("could not serialize compiled code: {e:#}"),
            }
        }
        Ok((component, false))
    }
}

/// The child's side of `compile::in_child`: reads the component from
/// standard input, compiles it under the given limits and signs the code into
/// the cache at `cache_dir`. Exit status 2 means the component does not
/// compile; the message is the last line of standard error.
pub fn compile_child(cache_dir: &Path, entry: &str, compiler: Compiler, memory: usize, cpu_seconds: u64) -> anyhow::Result<()> {
    #[cfg(unix)]
    compile::limit_this_process(memory, cpu_seconds)?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)?;
    let engine = wasmtime::Engine::new(&config(compiler)).map_err(|e| anyhow::anyhow!("configuring Wasmtime: {e:#}"))?;
    let cache = Cache::open(cache_dir)?;
    if Cache::entry_name(&engine, compiler.name(), &bytes) != entry {
        anyhow::bail!("the component's bytes do not match the cache entry {entry}");
    }
    let component = match Component::new(&engine, &bytes) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e:#}");
            std::process::exit(2);
        }
    };
    let code = component.serialize().map_err(|e| anyhow::anyhow!("serializing compiled code: {e:#}"))?;
    cache.put(entry, &code)?;
    if let Some(peak) = compile::peak_rss() {
        println!("{}{peak}", compile::PEAK);
    }
    Ok(())
}

/// A private directory, removed when dropped.
fn tempfile_dir() -> std::io::Result<TempDir> {
    let dir = std::env::temp_dir().join(format!("nasbox-compile-{}-{}", std::process::id(), cache::unique()));
    std::fs::create_dir(&dir)?;
    #[cfg(unix)]
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    Ok(TempDir(dir))
}

struct TempDir(PathBuf);

impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
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
