//! Hostile guests: each misdeed gives its own specific error, the instance
//! is not entered again, and the host goes on to run a good strategy.

mod support;

use std::time::Duration;

use nasbox::space;
use nasbox::strategy::{Call, ErrorKind, InvalidOutput, Limits, Plugin, Proposal, RunContext, StrategyError};
use support::{engine, guest};

fn context() -> RunContext {
    RunContext { max_trials: None, parallelism: 1 }
}

/// Loads `hostile` with `attack` striking in `when`, drives it to that call,
/// and returns the error it produced and the instance.
fn attack(attack: &str, when: &str, limits: Limits) -> (StrategyError, Plugin) {
    let mut p = Plugin::load(engine(), &guest("hostile"), 1, limits).expect("hostile loads");
    let settings = [("attack".to_string(), attack.to_string()), ("when".to_string(), when.to_string())];
    let space = space::builtin("toy").unwrap();
    let err = match p.init(&space, &settings, context()) {
        Err(e) => e,
        Ok(()) => match when {
            "ask" => p.ask(3).map(|_| ()).expect_err("the attack should fail ask"),
            "tell" => {
                p.ask(1).unwrap();
                p.tell(&[]).expect_err("the attack should fail tell")
            }
            "recommend" => p.recommend().map(|_| ()).expect_err("the attack should fail recommend"),
            other => panic!("no such call {other}"),
        },
    };
    assert_eq!(err.strategy, "hostile", "errors name the strategy: {err}");
    (err, p)
}

/// After any attack, the same engine still runs a good strategy normally.
fn good_strategy_still_runs() {
    let mut p = Plugin::load(engine(), &guest("random"), 7, Limits::default()).unwrap();
    p.init(&space::builtin("toy").unwrap(), &[], context()).unwrap();
    let proposals = p.ask(4).unwrap();
    assert_eq!(proposals.len(), 4);
    assert!(p.recommend().unwrap().is_none());
}

/// A trapped instance refuses further calls without entering the guest.
fn assert_poisoned(p: &mut Plugin) {
    let again = p.ask(1).unwrap_err();
    assert!(matches!(again.kind, ErrorKind::Poisoned { .. }), "{again}");
}

#[test]
fn an_endless_loop_runs_out_of_fuel() {
    let limits = Limits { fuel: 50_000_000, ..Limits::default() };
    let (e, mut p) = attack("loop", "ask", limits);
    assert!(matches!(e.kind, ErrorKind::OutOfFuel { budget: 50_000_000 }), "{e}");
    assert_eq!(e.call, Call::Ask);
    assert!(e.to_string().contains("strategy `hostile`: ask: ran out of fuel"), "{e}");
    assert_poisoned(&mut p);
    good_strategy_still_runs();
}

#[test]
fn an_endless_loop_with_unlimited_fuel_hits_the_wall_clock_backstop() {
    let limits = Limits { fuel: u64::MAX, timeout: Duration::from_millis(200), ..Limits::default() };
    let (e, mut p) = attack("loop", "tell", limits);
    assert!(matches!(e.kind, ErrorKind::Timeout { .. }), "{e}");
    assert_eq!(e.call, Call::Tell);
    assert_poisoned(&mut p);
    good_strategy_still_runs();
}

#[test]
fn unbounded_allocation_hits_the_memory_cap() {
    let limits = Limits { memory: 32 << 20, ..Limits::default() };
    let (e, mut p) = attack("alloc", "ask", limits);
    match e.kind {
        ErrorKind::MemoryLimit { limit, requested } => {
            assert_eq!(limit, 32 << 20);
            assert!(requested > limit);
        }
        ref other => panic!("expected a memory limit error, got {other}"),
    }
    assert_poisoned(&mut p);
    good_strategy_still_runs();
}

#[test]
fn unbounded_recursion_is_a_stack_overflow() {
    let (e, mut p) = attack("recurse", "ask", Limits::default());
    assert!(matches!(e.kind, ErrorKind::StackOverflow), "{e}");
    assert_poisoned(&mut p);
    good_strategy_still_runs();
}

#[test]
fn a_panic_is_reported_with_its_message() {
    let (e, mut p) = attack("panic", "recommend", Limits::default());
    match &e.kind {
        ErrorKind::Panic { message } => assert!(message.contains("hostile strategy panics on purpose"), "{message}"),
        other => panic!("expected a panic, got {other}"),
    }
    assert_eq!(e.call, Call::Recommend);
    assert_poisoned(&mut p);
    good_strategy_still_runs();
}

#[test]
fn a_panic_during_init_is_reported_too() {
    let (e, _) = attack("panic", "init", Limits::default());
    assert!(matches!(e.kind, ErrorKind::Panic { .. }), "{e}");
    assert_eq!(e.call, Call::Init);
}

#[test]
fn exit_is_an_error_not_the_end_of_the_host() {
    let (e, mut p) = attack("exit", "ask", Limits::default());
    assert!(matches!(e.kind, ErrorKind::Exit { .. }), "{e}");
    assert_poisoned(&mut p);
    good_strategy_still_runs();
}

#[test]
fn a_returned_error_names_the_call_and_keeps_the_instance_usable() {
    let (e, mut p) = attack("error", "tell", Limits::default());
    assert!(e.to_string().contains("tell: returned an error: hostile strategy refuses"), "{e}");
    assert!(!e.is_fatal());
    // Not poisoned: the guest chose to fail, it did not trap.
    assert!(p.recommend().is_ok());
}

#[test]
fn out_of_range_choices_are_invalid_output() {
    let (e, _) = attack("out-of-range", "ask", Limits::default());
    match &e.kind {
        ErrorKind::InvalidOutput(InvalidOutput::Genotype { proposal: 0, detail }) => {
            assert!(detail.contains("out of range for decision `stem`"), "{detail}")
        }
        other => panic!("expected an out-of-range genotype, got {other}"),
    }
    good_strategy_still_runs();
}

#[test]
fn out_of_range_recommendations_are_invalid_output() {
    let (e, _) = attack("out-of-range", "recommend", Limits::default());
    assert!(matches!(e.kind, ErrorKind::InvalidOutput(InvalidOutput::Recommendation(_))), "{e}");
}

#[test]
fn a_genotype_of_the_wrong_length_is_invalid_output() {
    let (e, _) = attack("wrong-length", "ask", Limits::default());
    assert!(e.to_string().contains("has 6 choices but the space has 5 decisions"), "{e}");
}

#[test]
fn a_huge_list_is_refused() {
    let (e, _) = attack("huge-list", "ask", Limits::default());
    assert!(matches!(e.kind, ErrorKind::InvalidOutput(InvalidOutput::TooManyProposals { returned: 1_000_000, asked: 3 })), "{e}");
    good_strategy_still_runs();
}

#[test]
fn one_proposal_too_many_is_refused() {
    let (e, _) = attack("too-many", "ask", Limits::default());
    assert!(matches!(e.kind, ErrorKind::InvalidOutput(InvalidOutput::TooManyProposals { returned: 4, asked: 3 })), "{e}");
}

#[test]
fn nan_weights_are_refused() {
    let (e, _) = attack("nan-weights", "ask", Limits::default());
    match &e.kind {
        ErrorKind::InvalidOutput(InvalidOutput::Relaxed { detail, .. }) => assert!(detail.contains("NaN"), "{detail}"),
        other => panic!("expected non-finite weights, got {other}"),
    }
}

#[test]
fn the_file_system_has_no_files() {
    // wasi:filesystem is linked (stock toolchains import it) with no
    // directories, so the guest's read fails inside the guest.
    let mut p = Plugin::load(engine(), &guest("hostile_fs"), 0, Limits::default()).expect("loads");
    let e = p.init(&space::builtin("toy").unwrap(), &[], context()).expect_err("reading /etc/passwd must fail");
    match &e.kind {
        ErrorKind::Guest(_) => assert!(e.to_string().contains("No such file or directory"), "{e}"),
        other => panic!("expected the guest's own error, got {other}"),
    }
    good_strategy_still_runs();
}

#[test]
fn every_network_use_is_denied() {
    let mut p = Plugin::load(engine(), &guest("hostile_net"), 0, Limits::default()).expect("loads");
    let e = p.init(&space::builtin("toy").unwrap(), &[], context()).expect_err("connecting must fail");
    match &e.kind {
        ErrorKind::Guest(_) => assert!(e.to_string().contains("Permission denied"), "{e}"),
        other => panic!("expected the guest's own error, got {other}"),
    }
    good_strategy_still_runs();
}

#[test]
fn clocks_are_virtual_so_a_sleep_returns_at_once_and_time_is_the_same_in_every_instance() {
    let run = |seed| {
        let mut p = Plugin::load(engine(), &guest("clocks"), seed, Limits::default()).unwrap();
        // An hour's sleep: on a real clock the 10 s per-call limit would stop it.
        p.init(&space::builtin("toy").unwrap(), &[], context()).expect("the sleep returns at once");
        format!("{:?}", p.ask(16).unwrap())
    };
    assert_eq!(run(1), run(2), "the time a guest reads does not depend on when or where it runs");
}

#[test]
fn an_unknown_contract_version_is_refused_at_load() {
    let e = Plugin::load(engine(), &guest("future_contract"), 0, Limits::default()).err().expect("must not load");
    match &e.kind {
        ErrorKind::IncompatibleVersion { found, supported } => {
            assert!(found.ends_with("@9.0.0"), "{found}");
            assert!(supported.contains("0.1"), "{supported}");
        }
        other => panic!("expected an incompatible version, got {other}"),
    }
}

#[test]
fn a_component_without_the_contract_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.wasm");
    std::fs::write(&empty, b"\0asm\x0d\x00\x01\x00").unwrap();
    let e = Plugin::load(engine(), &empty, 0, Limits::default()).err().expect("must not load");
    assert!(matches!(e.kind, ErrorKind::ContractMissing { .. }), "{e}");
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\x00\x00\x00").unwrap();
    let e = Plugin::load(engine(), &core, 0, Limits::default()).err().expect("must not load");
    assert!(e.to_string().contains("core WebAssembly module, not a component"), "{e}");
}

#[test]
fn the_same_seed_gives_the_same_proposals_and_another_seed_does_not() {
    let run = |seed: u64| -> Vec<Proposal> {
        let mut p = Plugin::load(engine(), &guest("random"), seed, Limits::default()).unwrap();
        p.init(&space::builtin("wide").unwrap(), &[], context()).unwrap();
        p.ask(5).unwrap()
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}

#[test]
fn unknown_config_keys_are_refused_before_the_guest_sees_them() {
    let mut p = Plugin::load(engine(), &guest("random"), 0, Limits::default()).unwrap();
    let e = p.init(&space::builtin("toy").unwrap(), &[("popsize".into(), "5".into())], context()).unwrap_err();
    assert!(e.to_string().contains("unknown config key `popsize`"), "{e}");
}

// ---- Guest text, copies and logs --------------------------------------

#[test]
fn a_long_error_text_is_capped_with_the_cut_marked() {
    let (e, p) = attack("long-error", "ask", Limits::default());
    let shown = e.to_string();
    assert!(matches!(e.kind, ErrorKind::Guest(_)), "{shown:.300}");
    assert!(shown.len() < 8 << 10, "{} bytes of error text", shown.len());
    assert!(shown.contains("more bytes]"), "the cut is marked: {shown:.300}");
    drop(p);
    good_strategy_still_runs();
}

#[test]
fn an_answer_over_the_copy_limit_is_invalid_output_naming_the_call() {
    let (e, mut p) = attack("huge-error", "ask", Limits::default());
    match e.kind {
        ErrorKind::InvalidOutput(InvalidOutput::Copy { limit }) => assert_eq!(limit, Limits::default().max_copy),
        ref other => panic!("expected the copy limit, got {other}"),
    }
    assert_eq!(e.call, Call::Ask);
    assert!(e.to_string().contains("ask: returned invalid output: returned more than"), "{e}");
    assert_poisoned(&mut p);
    good_strategy_still_runs();
}

#[test]
fn a_flood_of_log_messages_ends_the_call_before_the_wall_clock() {
    let (e, mut p) = attack("log-flood", "ask", Limits::default());
    match e.kind {
        ErrorKind::InvalidOutput(InvalidOutput::LogFlood { bytes, limit }) => {
            assert_eq!(limit, Limits::default().max_log_total);
            assert!(bytes > limit);
        }
        ref other => panic!("expected the log budget, got {other}"),
    }
    assert_poisoned(&mut p);
    good_strategy_still_runs();
}

#[test]
fn a_wrong_signature_is_refused_at_load_naming_the_function() {
    let e = Plugin::load(engine(), &guest("wrong_signature"), 0, Limits::default()).err().expect("must not load");
    assert_eq!(e.call, Call::Load);
    match &e.kind {
        ErrorKind::ContractSignature { function, expected, .. } => {
            assert_eq!(function, "ask");
            assert_eq!(expected, "func(n: u32) -> result<list<proposal>, strategy-error>");
        }
        other => panic!("expected a contract signature error, got {other}"),
    }
    assert!(!e.to_string().contains("wasm function"), "{e}");
}

#[test]
fn a_wrong_signature_of_the_optional_relaxation_is_refused_at_load() {
    let e = Plugin::load(engine(), &guest("wrong_relaxation"), 0, Limits::default()).err().expect("must not load");
    assert_eq!(e.call, Call::Load);
    match &e.kind {
        ErrorKind::ContractSignature { function, expected, .. } => {
            assert_eq!(function, "relaxation.kind");
            assert_eq!(expected, "func() -> relaxed-kind");
        }
        other => panic!("expected a contract signature error, got {other}"),
    }
}

// ---- Memories, tables and instances -----------------------------------

/// `random.wasm` with `copies` more core instances appended, each of a
/// module holding one memory of `pages` 64 KiB pages: a component may hold
/// any number of core instances, each with its own memory.
fn with_extra_memories(copies: u32, pages: u32) -> tempfile::NamedTempFile {
    let mut bytes = std::fs::read(guest("random")).unwrap();
    // Core modules the component already has (at its top level).
    let (mut depth, mut modules) = (0, 0u32);
    for payload in wasmparser::Parser::new(0).parse_all(&bytes.clone()) {
        match payload.unwrap() {
            wasmparser::Payload::Version { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth -= 1,
            wasmparser::Payload::ModuleSection { .. } if depth == 1 => modules += 1,
            _ => {}
        }
    }
    let module = wat::parse_str(format!("(module (memory {pages}))")).unwrap();
    section(&mut bytes, 1, &module);
    let mut instances = leb(copies);
    for _ in 0..copies {
        instances.push(0x00); // instantiate
        instances.extend(leb(modules)); // the module just appended
        instances.push(0x00); // no arguments
    }
    section(&mut bytes, 2, &instances);
    let mut file = tempfile::Builder::new().suffix(".wasm").tempfile().unwrap();
    std::io::Write::write_all(&mut file, &bytes).unwrap();
    file
}

fn leb(mut v: u32) -> Vec<u8> {
    let mut out = vec![];
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn section(component: &mut Vec<u8>, id: u8, content: &[u8]) {
    component.push(id);
    component.extend(leb(content.len() as u32));
    component.extend_from_slice(content);
}

#[test]
fn memories_of_many_instances_count_against_one_total() {
    // Four memories of 100 MiB: each alone is under 256 MiB, together not.
    let file = with_extra_memories(4, 1600);
    let e = Plugin::load(engine(), file.path(), 0, Limits::default()).err().expect("must not load");
    assert_eq!(e.call, Call::Load);
    match e.kind {
        ErrorKind::MemoryLimit { limit, requested } => {
            assert_eq!(limit, 256 << 20);
            assert!(requested > limit, "{requested}");
        }
        ref other => panic!("expected the memory limit, got {other}"),
    }
    assert!(e.to_string().contains("all its memories and tables together"), "{e}");
    // Two of them fit.
    let file = with_extra_memories(2, 1600);
    let mut p = Plugin::load(engine(), file.path(), 0, Limits::default()).expect("two memories of 100 MiB fit");
    p.init(&space::builtin("toy").unwrap(), &[], context()).unwrap();
    assert_eq!(p.ask(2).unwrap().len(), 2);
    good_strategy_still_runs();
}

#[test]
fn the_number_of_memories_is_capped() {
    let file = with_extra_memories(100, 1);
    let e = Plugin::load(engine(), file.path(), 0, Limits::default()).err().expect("must not load");
    assert!(matches!(e.kind, ErrorKind::TooMany { what: "memories", .. }), "{e}");
    assert!(e.to_string().contains("creates more than 16 memories"), "{e}");
}

#[test]
fn a_module_with_several_memories_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two-memories.wasm");
    std::fs::write(&path, wat::parse_str("(component (core module (memory 1) (memory 1)))").unwrap()).unwrap();
    let e = Plugin::load(engine(), &path, 0, Limits::default()).err().expect("must not load");
    assert!(matches!(e.kind, ErrorKind::Compile(_)), "{e}");
    assert!(e.to_string().contains("multiple memories"), "{e}");
}

#[test]
fn a_trap_is_one_clean_line() {
    let (e, _) = attack("unreachable", "ask", Limits::default());
    let shown = e.to_string();
    assert!(matches!(e.kind, ErrorKind::Trap { .. }), "{shown}");
    assert!(shown.contains("unreachable"), "{shown}");
    assert!(!shown.contains('\n') && !shown.contains("wasm function") && !shown.contains("backtrace"), "{shown}");
}

// ---- Compiling is bounded ----------------------------------------------

/// A component holding one core module with one function of about `size`
/// bytes: small blocks, each a branch and an addition over 200 locals. Hard
/// work for a register allocator: 3 MB took Cranelift 17 s and 960 MB here.
fn huge_function(size: usize) -> Vec<u8> {
    let mut body = vec![];
    let mut x = 0x2545f4914f6cdd1du64;
    let mut local = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % 200) as u32
    };
    while body.len() < size {
        let (a, b, c) = (local(), local(), local());
        body.extend([0x02, 0x40, 0x20]); // block; local.get a
        body.extend(leb(a));
        body.extend([0x0d, 0x00, 0x20]); // br_if 0; local.get b
        body.extend(leb(b));
        body.push(0x20); // local.get c
        body.extend(leb(c));
        body.extend([0x6a, 0x21]); // i32.add; local.set a
        body.extend(leb(a));
        body.push(0x0b); // end
    }
    body.extend([0x20, 0x00, 0x0b]); // local.get 0; end
    let mut func = vec![0x01, 0xc8, 0x01, 0x7f]; // 200 locals of i32
    func.extend(body);
    let mut module = b"\0asm\x01\0\0\0".to_vec();
    section(&mut module, 1, &[0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f]); // (i32) -> i32
    section(&mut module, 3, &[0x01, 0x00]);
    let mut code = vec![0x01];
    code.extend(leb(func.len() as u32));
    code.extend(func);
    section(&mut module, 10, &code);
    let mut component = b"\0asm\x0d\x00\x01\x00".to_vec();
    section(&mut component, 1, &module);
    component
}

/// `nasbox [flags] strategy inspect FILE` with a private cache.
fn inspect(file: &std::path::Path, flags: &[&str]) -> (bool, String) {
    let cache = tempfile::tempdir().unwrap();
    let mut args: Vec<&str> = flags.to_vec();
    args.extend(["strategy", "inspect", file.to_str().unwrap()]);
    let o = support::nasbox(cache.path(), &args);
    (o.status.success(), support::text(&o))
}

#[test]
fn a_huge_function_is_refused_before_compiling() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.wasm");
    std::fs::write(&path, huge_function(5 << 20)).unwrap();
    let (ok, said) = inspect(&path, &[]);
    assert!(!ok);
    assert!(said.contains("refused before compiling: one function body is"), "{said}");
    assert!(said.contains("raise it with --max-function-size"), "{said}");
    let (ok, said) = inspect(&path, &["--max-function-size", "64MiB", "--max-code-size", "4MiB"]);
    assert!(!ok && said.contains("--max-code-size"), "{said}");
}

#[test]
fn compiling_past_the_time_limit_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slow.wasm");
    std::fs::write(&path, huge_function(3 << 20)).unwrap();
    let started = std::time::Instant::now();
    let (ok, said) = inspect(&path, &["--compiler", "cranelift", "--max-function-size", "64MiB", "--compile-timeout", "1s"]);
    assert!(!ok);
    assert!(said.contains("compiling took longer than the limit of 1s; raise it with --compile-timeout"), "{said}");
    // Structural, not a timing threshold: the compile of this function takes
    // many seconds, the refusal comes right after the limit.
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
}

#[test]
fn compiling_past_the_memory_limit_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("greedy.wasm");
    std::fs::write(&path, huge_function(3 << 20)).unwrap();
    let (ok, said) = inspect(&path, &["--compiler", "cranelift", "--max-function-size", "64MiB", "--compile-memory", "200MiB"]);
    assert!(!ok);
    assert!(said.contains("compiling needed more than the limit of 209715200 bytes of memory; raise it with --compile-memory"), "{said}");
}

#[test]
fn legitimate_components_compile_in_the_bounded_child() {
    let (ok, said) = inspect(&guest("random"), &[]);
    assert!(ok, "{said}");
    assert!(said.contains("compiled by cranelift in a child process (peak memory"), "{said}");
}

#[test]
fn large_components_are_compiled_by_winch_which_is_linear_in_their_size() {
    // The function that keeps Cranelift busy past any reasonable limit
    // (above) is compiled by Winch, the default for this much code, well
    // inside the default limits; it then fails for what it is: no contract.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slow.wasm");
    std::fs::write(&path, huge_function(3 << 20)).unwrap();
    let (ok, said) = inspect(&path, &["--max-function-size", "64MiB"]);
    assert!(!ok);
    assert!(said.contains("does not export the strategy contract"), "{said}");
}

#[test]
fn both_compilers_give_the_same_search() {
    // WebAssembly's arithmetic is deterministic, so the compiler changes
    // speed, not results: REINFORCE (an LSTM controller, floating point
    // throughout) proposes the same architectures under Cranelift and Winch.
    // The two meter fuel a little differently (measured: Winch charged 0.65%
    // less on every ask), so fuel is compared within 2%.
    use nasbox::strategy::{CachePolicy, CompileOptions, Compiler, Engine, Observation, Status};
    let run = |compiler| {
        let options = CompileOptions { compiler: Some(compiler), ..CompileOptions::default() };
        let engine = Engine::with_options(CachePolicy::Off, options).unwrap();
        let loaded = engine.load(&guest("reinforce")).unwrap();
        assert_eq!(loaded.compiler, compiler);
        let mut p = Plugin::instantiate(&loaded, 5, Limits::default()).unwrap();
        p.init(&space::builtin("nb201").unwrap(), &[], context()).unwrap();
        let mut seen = vec![];
        for trial in 0..40u64 {
            let proposal = p.ask(1).unwrap().remove(0);
            let fuel = p.fuel_used_last_call();
            let objective = match &proposal {
                Proposal::Genotype(c) => c.genotype.iter().map(|&g| f64::from(g)).sum::<f64>() / 24.0,
                Proposal::Relaxed(_) => unreachable!(),
            };
            seen.push((format!("{proposal:?}"), fuel));
            let obs = Observation { trial, proposal, status: Status::Ok, objective, cost: 1.0, metrics: vec![], gradient: None };
            p.tell(&[obs]).unwrap();
        }
        seen
    };
    let (cranelift, winch) = (run(Compiler::Cranelift), run(Compiler::Winch));
    for (trial, ((p, f), (q, g))) in cranelift.iter().zip(&winch).enumerate() {
        assert_eq!(p, q, "trial {trial}");
        assert!((*f as f64 - *g as f64).abs() < 0.02 * *f as f64, "trial {trial}: fuel {f} vs {g}");
    }
    assert_eq!(cranelift.len(), winch.len());
}
