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
    assert!(
        matches!(e.kind, ErrorKind::InvalidOutput(InvalidOutput::TooManyProposals { returned: 1_000_000, asked: 3 })),
        "{e}"
    );
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
fn file_system_access_is_refused_at_load() {
    let e = Plugin::load(engine(), &guest("hostile_fs"), 0, Limits::default()).err().expect("must not load");
    match &e.kind {
        ErrorKind::ForbiddenImport { import, why } => {
            assert!(import.starts_with("wasi:filesystem/"), "{import}");
            assert!(why.contains("file system"), "{why}");
        }
        other => panic!("expected a forbidden import, got {other}"),
    }
    assert_eq!(e.call, Call::Load);
    good_strategy_still_runs();
}

#[test]
fn network_access_is_refused_at_load() {
    let e = Plugin::load(engine(), &guest("hostile_net"), 0, Limits::default()).err().expect("must not load");
    match &e.kind {
        ErrorKind::ForbiddenImport { import, why } => {
            assert!(import.starts_with("wasi:sockets/"), "{import}");
            assert!(why.contains("network"), "{why}");
        }
        other => panic!("expected a forbidden import, got {other}"),
    }
    good_strategy_still_runs();
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
