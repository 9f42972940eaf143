//! What a component asks for and what it offers, checked before it runs.
//!
//! A guest may import the contract's `random` and `log` and the inert WASI
//! basics language runtimes link by default (stdio, an empty environment,
//! exit, seeded randomness). Everything else — files, sockets, clocks, HTTP —
//! is refused with an error that names the import, before any guest code runs.

use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, InstancePre};

use super::error::ErrorKind;
use super::sandbox::GuestState;

/// The contract's package name, without version.
const PACKAGE: &str = "nasbox:strategy";
/// Versions of the contract this host implements (major.minor prefixes).
pub const SUPPORTED: &[&str] = &["0.1"];

/// Splits `ns:pkg/iface@1.2.3` into (`ns:pkg`, `iface`, `1.2.3`).
fn parse(name: &str) -> Option<(&str, &str, Option<&str>)> {
    let (path, version) = match name.split_once('@') {
        Some((p, v)) => (p, Some(v)),
        None => (name, None),
    };
    let (package, interface) = path.split_once('/')?;
    Some((package, interface, version))
}

fn supported(version: Option<&str>) -> bool {
    version.is_some_and(|v| SUPPORTED.iter().any(|s| v == *s || v.starts_with(&format!("{s}."))))
}

/// Refuses a component whose imports the sandbox does not provide, naming
/// every refused import at once, the most telling first (sockets and HTTP,
/// then files, then clocks, which runtimes pull in alongside).
pub fn check_imports(component: &Component, engine: &wasmtime::Engine) -> Result<(), ErrorKind> {
    refuse(component.component_type().imports(engine).map(|(name, _)| name.to_string()))
}

/// The same check on the file's bytes, before compiling: a refusal costs a
/// parse, not a compile (20 s for a JavaScript component).
pub fn precheck(bytes: &[u8]) -> Result<(), ErrorKind> {
    let mut names = vec![];
    let mut depth = 0;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        // A malformed file is the compiler's to report, with its message.
        let Ok(payload) = payload else { break };
        match payload {
            wasmparser::Payload::Version { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth -= 1,
            wasmparser::Payload::ComponentImportSection(reader) if depth == 1 => {
                names.extend(reader.into_iter().flatten().map(|i| i.name.name.to_string()));
            }
            _ => {}
        }
    }
    refuse(names.into_iter())
}

fn refuse(names: impl Iterator<Item = String>) -> Result<(), ErrorKind> {
    let mut refused: Vec<(String, String)> = names.filter_map(|name| refusal(&name).map(|why| (name, why))).collect();
    let rank = |name: &str| match name.split('/').next() {
        Some("wasi:sockets" | "wasi:http") => 0,
        Some("wasi:filesystem") => 1,
        _ => 2,
    };
    refused.sort_by_key(|(name, _)| rank(name));
    if refused.is_empty() {
        return Ok(());
    }
    let mut why: Vec<String> = vec![];
    for (_, w) in &refused {
        if !why.contains(w) {
            why.push(w.clone());
        }
    }
    let import = refused.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join("`, `");
    Err(ErrorKind::ForbiddenImport { import, why: why.join("; ") })
}

/// Why an import is refused, or `None` when the sandbox provides it.
fn refusal(name: &str) -> Option<String> {
    let Some((package, interface, version)) = parse(name) else {
        return Some("strategies may only import nasbox:strategy and basic WASI interfaces".into());
    };
    match package {
        PACKAGE if matches!(interface, "random" | "log" | "types") => {
            if supported(version) {
                None
            } else {
                Some(format!("this host implements {PACKAGE}@{}.x", SUPPORTED.join(".x, ")))
            }
        }
        "wasi:io" => None,
        "wasi:random" => None,
        "wasi:cli" if matches!(
            interface,
            "environment" | "exit" | "stdin" | "stdout" | "stderr"
                | "terminal-input" | "terminal-output" | "terminal-stdin" | "terminal-stdout" | "terminal-stderr"
        ) => None,
        "wasi:filesystem" => Some("strategies have no file system access".into()),
        "wasi:sockets" | "wasi:http" => Some("strategies have no network access".into()),
        "wasi:clocks" => Some("strategies have no clocks, so that searches are reproducible".into()),
        _ => Some("strategies may only import nasbox:strategy/random, nasbox:strategy/log and basic WASI".into()),
    }
}

/// Finds the contract export and checks its version.
pub fn check_exports(component: &Component, engine: &wasmtime::Engine) -> Result<(), ErrorKind> {
    let exports: Vec<String> = component.component_type().exports(engine).map(|(n, _)| n.to_string()).collect();
    let contract = exports.iter().find_map(|e| match parse(e) {
        Some((PACKAGE, "strategy", v)) => Some((e, v)),
        _ => None,
    });
    match contract {
        Some((_, v)) if supported(v) => Ok(()),
        Some((name, _)) => Err(ErrorKind::IncompatibleVersion {
            found: name.clone(),
            supported: SUPPORTED.iter().map(|s| format!("{PACKAGE}/strategy@{s}.x")).collect::<Vec<_>>().join(", "),
        }),
        None => Err(ErrorKind::ContractMissing {
            exports: if exports.is_empty() { "nothing".into() } else { exports.join(", ") },
        }),
    }
}

/// Checks the type of every function of the contract export, so that a
/// wrong signature is refused at load naming the function and what the
/// contract expects, not found at the first call as a conversion failure.
pub fn check_signatures(component: &Component, pre: &InstancePre<GuestState>) -> Result<(), ErrorKind> {
    use super::bindings::{GuestError, Observation, Proposal, RunContext, Setting, Space, StrategyInfo};
    type Unit = Result<(), GuestError>;

    let ty = pre.instance_type();
    let interface = component
        .component_type()
        .exports(component.engine())
        .map(|(name, _)| name.to_string())
        .find(|name| matches!(parse(name), Some((PACKAGE, "strategy", _))));
    let Some(interface) = interface else { return Ok(()) };
    let Some((_, index)) = component.get_export(None, interface.as_str()) else { return Ok(()) };
    // Every function is checked; a wrong type is reported before a missing
    // function, as the likelier mistake.
    let mut missing = None;
    let mut check = |function: &str, expected: &str, typecheck: &dyn Fn(&ComponentFunc) -> wasmtime::Result<()>| {
        let wrong = |detail: String| ErrorKind::ContractSignature {
            function: function.to_string(),
            expected: expected.to_string(),
            detail,
        };
        match component.get_export(Some(&index), function) {
            Some((ComponentItem::ComponentFunc(f), _)) => typecheck(&f).map_err(|e| wrong(format!("{e:#}"))),
            Some(_) => Err(wrong("it is not a function".into())),
            None => {
                missing.get_or_insert_with(|| wrong("it is missing".into()));
                Ok(())
            }
        }
    };
    check("info", "func() -> strategy-info", &|f| f.typecheck::<(), (StrategyInfo,)>(&ty))?;
    check("init", "func(space: space, config: list<setting>, context: run-context) -> result<_, strategy-error>", &|f| {
        f.typecheck::<(Space, Vec<Setting>, RunContext), (Unit,)>(&ty)
    })?;
    check("ask", "func(n: u32) -> result<list<proposal>, strategy-error>", &|f| {
        f.typecheck::<(u32,), (Result<Vec<Proposal>, GuestError>,)>(&ty)
    })?;
    check("tell", "func(observations: list<observation>) -> result<_, strategy-error>", &|f| {
        f.typecheck::<(Vec<Observation>,), (Unit,)>(&ty)
    })?;
    check("recommend", "func() -> result<option<genotype>, strategy-error>", &|f| {
        f.typecheck::<(), (Result<Option<Vec<u32>>, GuestError>,)>(&ty)
    })?;
    check("snapshot", "func() -> result<list<u8>, strategy-error>", &|f| {
        f.typecheck::<(), (Result<Vec<u8>, GuestError>,)>(&ty)
    })?;
    check("restore", "func(state: list<u8>) -> result<_, strategy-error>", &|f| f.typecheck::<(Vec<u8>,), (Unit,)>(&ty))?;
    missing.map_or(Ok(()), Err)
}

/// The component's imports, for `strategy inspect`.
pub fn list(component: &Component, engine: &wasmtime::Engine) -> Vec<String> {
    component.component_type().imports(engine).map(|(n, _)| n.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics_are_allowed_and_the_outside_world_is_not() {
        for ok in [
            "nasbox:strategy/random@0.1.0",
            "nasbox:strategy/log@0.1.3",
            "wasi:io/streams@0.2.6",
            "wasi:cli/stderr@0.2.0",
            "wasi:random/insecure-seed@0.2.0",
        ] {
            assert_eq!(refusal(ok), None, "{ok}");
        }
        let files = refusal("wasi:filesystem/preopens@0.2.0").unwrap();
        assert!(files.contains("file system"));
        assert!(refusal("wasi:sockets/tcp@0.2.0").unwrap().contains("network"));
        assert!(refusal("wasi:clocks/wall-clock@0.2.0").unwrap().contains("clocks"));
        assert!(refusal("nasbox:strategy/random@0.2.0").unwrap().contains("0.1"));
        assert!(refusal("acme:evil/thing").is_some());
        assert!(refusal("no-slash").is_some());
    }

    #[test]
    fn every_refused_import_is_named_at_once_the_most_telling_first() {
        let names = ["wasi:clocks/wall-clock@0.2.0", "nasbox:strategy/random@0.1.0", "wasi:filesystem/types@0.2.0", "wasi:http/types@0.2.10"];
        match refuse(names.iter().map(|n| n.to_string())) {
            Err(ErrorKind::ForbiddenImport { import, why }) => {
                assert_eq!(import, "wasi:http/types@0.2.10`, `wasi:filesystem/types@0.2.0`, `wasi:clocks/wall-clock@0.2.0");
                assert!(why.starts_with("strategies have no network access; strategies have no file system"), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn versions_match_by_major_minor() {
        assert!(supported(Some("0.1.0")));
        assert!(supported(Some("0.1.7")));
        assert!(!supported(Some("0.10.0")));
        assert!(!supported(Some("0.2.0")));
        assert!(!supported(None));
    }
}
