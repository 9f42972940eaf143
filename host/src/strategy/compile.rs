//! Compiling a strategy is itself untrusted work.
//!
//! Cranelift's time and memory grow with the code it is given, and a
//! component's author chooses that code: one 6 MB function kept it busy for
//! minutes, 50 MB of code took 1.7 GB. So compiling is bounded twice:
//!
//! - [`precheck`] parses the file (cheap, linear) and refuses it before any
//!   compiling when it is too big in one of four ways: the file, all code,
//!   one function body, the number of functions;
//! - [`in_child`] compiles in a child `nasbox` process under a wall-clock
//!   limit and a memory limit (and a CPU-time backstop). The child writes the
//!   machine code into the signed compile cache; the parent only ever
//!   deserializes bytes that carry the cache's signature.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wasmparser::{Parser, Payload};

use super::error::ErrorKind;

/// Which of Wasmtime's compilers turns a component into machine code.
///
/// Cranelift optimises, and its time grows faster than linearly with the
/// size of a function; Winch, the baseline compiler, makes slower code in
/// one linear pass. Measured here (docs/src/performance.md, `cargo bench --bench compile`):
/// Winch compiles the Python and JavaScript components 6–7× faster, and the
/// adversarial function of `tests/hostile.rs` that Cranelift cannot finish
/// within the tests' limit, while guest calls run about 1.8× slower. Strategies are small programs called a few times per trial, so
/// above [`WINCH_ABOVE`] bytes of code compiling dominates and Winch is the
/// better choice; below it, Cranelift costs a fraction of a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compiler {
    Cranelift,
    Winch,
}

/// Bytes of code above which [`Compiler::for_code`] picks Winch: between the
/// largest Rust strategy (0.4 MB) and the Python example (6.6 MB).
pub const WINCH_ABOVE: usize = 2 << 20;

impl Compiler {
    /// The compiler for a component with `code` bytes of function bodies.
    pub fn for_code(code: usize) -> Compiler {
        if code > WINCH_ABOVE {
            Compiler::Winch
        } else {
            Compiler::Cranelift
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compiler::Cranelift => "cranelift",
            Compiler::Winch => "winch",
        }
    }
}

impl std::str::FromStr for Compiler {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cranelift" => Ok(Compiler::Cranelift),
            "winch" => Ok(Compiler::Winch),
            other => Err(format!("unknown compiler `{other}` (cranelift or winch)")),
        }
    }
}

/// Bounds on what the host agrees to compile.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileLimits {
    /// Size of the component file.
    pub max_file: usize,
    /// Bytes of function bodies, over every core module of the component.
    pub max_code: usize,
    /// Bytes of the largest single function body.
    pub max_function: usize,
    /// Number of function bodies.
    pub max_functions: usize,
    /// Wall-clock limit on compiling (child process only).
    pub timeout: Duration,
    /// Memory the compiler may use beyond what the process starts with
    /// (child process only).
    pub memory: usize,
}

impl Default for CompileLimits {
    /// Several times what the largest stock-toolchain components need: the
    /// componentize-py example has 18.6 MB of code, 24k functions, the largest
    /// 0.5 MB (see docs/src/reference/sandbox.md for the measurements).
    fn default() -> Self {
        CompileLimits {
            max_file: 128 << 20,
            max_code: 96 << 20,
            max_function: 4 << 20,
            max_functions: 200_000,
            timeout: Duration::from_secs(60),
            memory: 4 << 30,
        }
    }
}

/// What [`precheck`] measured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CodeSize {
    pub file: usize,
    pub code: usize,
    pub largest_function: usize,
    pub functions: usize,
    pub modules: usize,
}

fn refuse(what: &str, value: usize, limit: usize, flag: &str) -> ErrorKind {
    ErrorKind::CompileLimit(format!(
        "refused before compiling: {what} is {value} bytes, over the limit of {limit} bytes; raise it with {flag} if you trust this strategy"
    ))
}

/// Measures the component's code without compiling it, and refuses it when
/// it is over a limit.
pub fn precheck(bytes: &[u8], limits: &CompileLimits) -> Result<CodeSize, ErrorKind> {
    let mut size = CodeSize { file: bytes.len(), ..CodeSize::default() };
    if bytes.len() > limits.max_file {
        return Err(refuse("the file", bytes.len(), limits.max_file, "--max-component-size"));
    }
    for payload in Parser::new(0).parse_all(bytes) {
        // A malformed file is the compiler's to report, with its message.
        let Ok(payload) = payload else { break };
        match payload {
            Payload::ModuleSection { .. } => size.modules += 1,
            Payload::CodeSectionEntry(body) => {
                let len = body.range().len();
                size.functions += 1;
                size.code += len;
                size.largest_function = size.largest_function.max(len);
                if len > limits.max_function {
                    return Err(refuse("one function body", len, limits.max_function, "--max-function-size"));
                }
                if size.code > limits.max_code {
                    return Err(refuse("the code (all function bodies)", size.code, limits.max_code, "--max-code-size"));
                }
                if size.functions > limits.max_functions {
                    return Err(ErrorKind::CompileLimit(format!(
                        "refused before compiling: more than {} functions; raise the limit with --max-functions if you trust this strategy",
                        limits.max_functions
                    )));
                }
            }
            _ => {}
        }
    }
    Ok(size)
}

/// The hidden subcommand the child runs.
pub const CHILD_COMMAND: &str = "compile-strategy";
/// How the child reports its peak memory on standard output.
pub const PEAK: &str = "peak-rss ";

/// This process's peak resident memory, in bytes.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Compiles `bytes` in a child process (`exe compile-strategy`) that puts
/// the machine code into the signed cache in `cache_dir` under `entry`.
/// Returns the child's peak resident memory, when it could tell.
pub fn in_child(exe: &Path, cache_dir: &Path, entry: &str, compiler: Compiler, bytes: &[u8], limits: &CompileLimits) -> Result<Option<u64>, ErrorKind> {
    let started = Instant::now();
    let mut child = Command::new(exe)
        .arg(CHILD_COMMAND)
        .arg("--compiler")
        .arg(compiler.name())
        .arg("--into")
        .arg(cache_dir)
        .arg("--entry")
        .arg(entry)
        .arg("--memory")
        .arg(limits.memory.to_string())
        .arg("--cpu-seconds")
        .arg(cpu_seconds(limits.timeout).to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("NASBOX_LOG")
        .spawn()
        .map_err(|e| ErrorKind::Compile(format!("cannot start the compiler process {}: {e}", exe.display())))?;
    // Feed the bytes from a thread: the child may die before reading them all.
    let mut stdin = child.stdin.take().expect("piped");
    let input = bytes.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().expect("piped");
    let said = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.by_ref().take(4096).read_to_string(&mut text);
        text
    });
    let mut stderr = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.by_ref().take(64 << 10).read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    });
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| ErrorKind::Compile(format!("waiting for the compiler process: {e}")))? {
            break Some(status);
        }
        if started.elapsed() > limits.timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = feeder.join();
    let message = reader.join().unwrap_or_default();
    let message = message.trim();
    let timed_out = || {
        ErrorKind::CompileLimit(format!(
            "compiling took longer than the limit of {:?}; raise it with --compile-timeout if you trust this strategy",
            limits.timeout
        ))
    };
    let said = said.join().unwrap_or_default();
    let Some(status) = status else { return Err(timed_out()) };
    if status.success() {
        return Ok(said.strip_prefix(PEAK).and_then(|n| n.trim().parse().ok()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if status.signal() == Some(libc::SIGXCPU) {
            return Err(timed_out());
        }
    }
    if message.contains("memory allocation of") || message.contains("out of memory") || message.contains("Cannot allocate memory") {
        return Err(ErrorKind::CompileLimit(format!(
            "compiling needed more than the limit of {} bytes of memory; raise it with --compile-memory if you trust this strategy",
            limits.memory
        )));
    }
    match status.code() {
        // The child's own verdict: the component does not compile.
        Some(2) => Err(ErrorKind::Compile(message.lines().last().unwrap_or("the compiler process failed").to_string())),
        _ => Err(ErrorKind::Compile(format!(
            "the compiler process failed ({status}){}",
            if message.is_empty() { String::new() } else { format!(": {}", super::text::cap(message, 2000)) }
        ))),
    }
}

/// CPU seconds the child may use: the wall-clock limit on every core
/// (Cranelift compiles functions in parallel), a backstop for when the
/// parent cannot kill it.
fn cpu_seconds(timeout: Duration) -> u64 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    timeout.as_secs().max(1) * cores + 1
}

/// Lowers this process's own limits before it compiles: address space to
/// what it has now plus `memory`, and CPU time to `cpu_seconds`.
#[cfg(unix)]
pub fn limit_this_process(memory: usize, cpu_seconds: u64) -> std::io::Result<()> {
    let set = |resource, value: u64| -> std::io::Result<()> {
        let limit = libc::rlimit { rlim_cur: value as libc::rlim_t, rlim_max: value as libc::rlim_t };
        // SAFETY: setrlimit reads a valid struct and only lowers our limits.
        if unsafe { libc::setrlimit(resource, &limit) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    };
    let mapped = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|pages| pages.parse::<u64>().ok()))
        .map_or(0, |pages| pages * page_size());
    set(libc::RLIMIT_AS, mapped.saturating_add(memory as u64))?;
    set(libc::RLIMIT_CPU, cpu_seconds)
}

#[cfg(unix)]
fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A core module with one function whose body is `size` bytes of `nop`s,
    /// wrapped as a component (a component's nested module is what the
    /// precheck has to find).
    fn component_with_function(size: usize) -> Vec<u8> {
        let body = format!("(func {})", "nop ".repeat(size));
        let module = wat::parse_str(format!("(module {body} {body})")).unwrap();
        let mut component = b"\0asm\x0d\x00\x01\x00".to_vec();
        // Section 1: a core module.
        component.push(1);
        leb(&mut component, module.len());
        component.extend_from_slice(&module);
        component
    }

    fn leb(out: &mut Vec<u8>, mut v: usize) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
    }

    #[test]
    fn sizes_are_measured_inside_nested_modules() {
        let size = precheck(&component_with_function(1000), &CompileLimits::default()).unwrap();
        assert_eq!(size.functions, 2);
        assert_eq!(size.modules, 1);
        assert!(size.largest_function > 1000 && size.largest_function < 1100, "{size:?}");
        assert_eq!(size.code, 2 * size.largest_function);
    }

    #[test]
    fn each_limit_is_named_with_its_flag() {
        let c = component_with_function(5000);
        let limits = CompileLimits::default();
        let cases = [
            (CompileLimits { max_file: 1000, ..limits.clone() }, "--max-component-size"),
            (CompileLimits { max_function: 4000, ..limits.clone() }, "--max-function-size"),
            (CompileLimits { max_code: 8000, ..limits.clone() }, "--max-code-size"),
            (CompileLimits { max_functions: 1, ..limits.clone() }, "--max-functions"),
        ];
        for (l, flag) in cases {
            match precheck(&c, &l) {
                Err(ErrorKind::CompileLimit(m)) => assert!(m.contains(flag) && m.contains("refused before compiling"), "{m}"),
                other => panic!("expected a compile limit naming {flag}, got {other:?}"),
            }
        }
    }
}
