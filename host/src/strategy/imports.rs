//! What a component asks for and what it offers, checked before it runs.
//!
//! A guest may import the contract's `random` and `log`, and the WASI 0.2
//! interfaces stock toolchains (Rust's `wasm32-wasip2`, componentize-py,
//! componentize-js) import by default. Each of those is served inert:
//! [`served`] says how. Anything else is refused before compiling, every
//! offending import named at once.

use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, ComponentExportIndex, InstancePre, Linker, ResourceType};

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
    let refused: Vec<(String, String)> = names.filter_map(|name| refusal(&name).map(|why| (name, why))).collect();
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

/// The WASI interfaces the sandbox links, each with how it is served.
/// `strategy inspect` prints these; the guide's sandbox chapter lists them.
const WASI: &[(&str, &[&str], &str)] = &[
    ("wasi:io", &["error", "poll", "streams"], "streams and polling for the other interfaces"),
    ("wasi:random", &["random", "insecure", "insecure-seed"], "the run's seeded random stream"),
    ("wasi:cli", &["environment"], "no variables, no arguments"),
    ("wasi:cli", &["exit"], "ends the call with an error"),
    ("wasi:cli", &["stdin"], "empty"),
    ("wasi:cli", &["stdout"], "discarded"),
    ("wasi:cli", &["stderr"], "captured; its tail is shown when the strategy fails"),
    ("wasi:cli", &["terminal-input", "terminal-output", "terminal-stdin", "terminal-stdout", "terminal-stderr"], "no terminal"),
    ("wasi:clocks", &["wall-clock", "monotonic-clock"], "virtual: starts at 2000-01-01 in every instance, 1 µs per reading, sleeps return at once"),
    ("wasi:filesystem", &["preopens"], "no directories"),
    ("wasi:filesystem", &["types"], "linked, but with no directories no file can be opened"),
    (
        "wasi:sockets",
        &["network", "instance-network", "tcp", "tcp-create-socket", "udp", "udp-create-socket", "ip-name-lookup"],
        "every socket and name lookup is denied (access-denied)",
    ),
    ("wasi:http", &["types", "outgoing-handler"], "stub: any call stops the strategy (no network access)"),
];

/// How the sandbox serves an import, or `None` when it does not.
pub fn served(name: &str) -> Option<&'static str> {
    let (package, interface, version) = parse(name)?;
    if package == PACKAGE {
        return match interface {
            "random" if supported(version) => Some("the run's seeded random stream"),
            "log" if supported(version) => Some("nasbox's log, capped per call"),
            "types" if supported(version) => Some("the contract's types"),
            "shape" if supported(version) => Some("what each decision is: categorical or ordered numbers, and its conditions (0.1.2)"),
            _ => None,
        };
    }
    if !version.is_some_and(|v| v.starts_with("0.2.")) {
        return None;
    }
    WASI.iter().find(|(p, i, _)| *p == package && i.contains(&interface)).map(|(_, _, how)| *how)
}

/// Why an import is refused, or `None` when the sandbox provides it.
fn refusal(name: &str) -> Option<String> {
    if served(name).is_some() {
        return None;
    }
    let Some((package, _, _)) = parse(name) else {
        return Some("strategies may only import nasbox:strategy and WASI 0.2 interfaces".into());
    };
    Some(match package {
        PACKAGE => format!("this host implements {PACKAGE}@{}.x", SUPPORTED.join(".x, ")),
        p if p.starts_with("wasi:") => "this host serves WASI 0.2's io, random, cli, clocks, filesystem, sockets and http \
             interfaces (all inert), not this one"
            .to_string(),
        _ => "strategies may only import nasbox:strategy and WASI 0.2 interfaces".to_string(),
    })
}

/// Raised when a guest calls a `wasi:http` function: nasbox links the
/// interface only so that componentize-js's default output loads.
#[derive(Debug, thiserror::Error)]
#[error("called `{function}`: strategies have no network access")]
pub struct NoNetwork {
    pub function: String,
}

/// Marks a `wasi:http` resource: no value of it is ever made.
struct HttpStub;

/// The linker for one component: `wasi:http` is defined only for components
/// that import it, each function a trap naming it ([`NoNetwork`]), each of
/// its resources a type with no values. The stubs hold no state, so a guest
/// cannot make the host allocate through them (wasmtime's real `wasi:http`
/// keeps up to 128 KiB of headers per resource). Wasmtime's
/// `define_unknown_imports_as_traps` is not used: it defines instances under
/// the component's exact version, shadowing the real WASI ones.
pub fn stub_http(linker: &Linker<GuestState>, component: &Component) -> wasmtime::Result<Option<Linker<GuestState>>> {
    let engine = component.engine();
    let mut others = vec![];
    let mut http = vec![];
    for (name, item) in component.component_type().imports(engine) {
        let ComponentItem::ComponentInstance(instance) = item.ty else { continue };
        if name.starts_with("wasi:http/") {
            http.push((name.to_string(), instance));
        } else {
            others.extend(instance.exports(engine).filter_map(|(_, item)| match item.ty {
                ComponentItem::Resource(r) => Some(r),
                _ => None,
            }));
        }
    }
    if http.is_empty() {
        return Ok(None);
    }
    let mut linker = linker.clone();
    for (name, instance) in http {
        let mut stubs = linker.instance(&name)?;
        for (export, item) in instance.exports(engine) {
            match item.ty {
                ComponentItem::ComponentFunc(_) => {
                    let function = format!("{name}#{export}");
                    stubs.func_new(export, move |_, _, _, _| Err(NoNetwork { function: function.clone() }.into()))?;
                }
                // Resources another import already defines (wasi:io's
                // streams and pollable) are that import's.
                ComponentItem::Resource(r) if !others.contains(&r) => {
                    stubs.resource(export, ResourceType::host::<HttpStub>(), |_, _| Ok(()))?;
                    others.push(r);
                }
                _ => {}
            }
        }
    }
    Ok(Some(linker))
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
        None => Err(ErrorKind::ContractMissing { exports: if exports.is_empty() { "nothing".into() } else { exports.join(", ") } }),
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
        let wrong = |detail: String| ErrorKind::ContractSignature { function: function.to_string(), expected: expected.to_string(), detail };
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
    check("ask", "func(n: u32) -> result<list<proposal>, strategy-error>", &|f| f.typecheck::<(u32,), (Result<Vec<Proposal>, GuestError>,)>(&ty))?;
    check("tell", "func(observations: list<observation>) -> result<_, strategy-error>", &|f| f.typecheck::<(Vec<Observation>,), (Unit,)>(&ty))?;
    check("recommend", "func() -> result<option<genotype>, strategy-error>", &|f| f.typecheck::<(), (Result<Option<Vec<u32>>, GuestError>,)>(&ty))?;
    check("snapshot", "func() -> result<list<u8>, strategy-error>", &|f| f.typecheck::<(), (Result<Vec<u8>, GuestError>,)>(&ty))?;
    check("restore", "func(state: list<u8>) -> result<_, strategy-error>", &|f| f.typecheck::<(Vec<u8>,), (Unit,)>(&ty))?;
    missing.map_or(Ok(()), Err)
}

/// The function of the optional `relaxation` interface (contract 0.1.1),
/// when the component exports it at a supported version; its type is checked
/// here, at load, like the contract's other functions. `None` for every
/// strategy built against 0.1.0: the host then reads its relaxed proposals
/// as mixtures, as it always did.
pub fn relaxation(component: &Component, pre: &InstancePre<GuestState>) -> Result<Option<ComponentExportIndex>, ErrorKind> {
    use super::bindings::RelaxedKind;
    let interface = component
        .component_type()
        .exports(component.engine())
        .map(|(name, _)| name.to_string())
        .find(|name| matches!(parse(name), Some((PACKAGE, "relaxation", v)) if supported(v)));
    let Some(interface) = interface else { return Ok(None) };
    let Some((_, index)) = component.get_export(None, interface.as_str()) else { return Ok(None) };
    let wrong = |detail: String| ErrorKind::ContractSignature { function: "relaxation.kind".into(), expected: "func() -> relaxed-kind".into(), detail };
    match component.get_export(Some(&index), "kind") {
        Some((ComponentItem::ComponentFunc(f), function)) => {
            f.typecheck::<(), (RelaxedKind,)>(&pre.instance_type()).map_err(|e| wrong(format!("{e:#}")))?;
            Ok(Some(function))
        }
        Some(_) => Err(wrong("it is not a function".into())),
        None => Err(wrong("it is missing".into())),
    }
}

/// The component's imports, for `strategy inspect`.
pub fn list(component: &Component, engine: &wasmtime::Engine) -> Vec<String> {
    component.component_type().imports(engine).map(|(n, _)| n.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_stock_toolchains_import_is_served_and_the_rest_is_not() {
        // The default componentize-js 0.23 build's imports, all served.
        for ok in [
            "nasbox:strategy/random@0.1.0", "nasbox:strategy/log@0.1.3", "wasi:io/streams@0.2.12", "wasi:cli/stderr@0.2.0", "wasi:random/insecure-seed@0.2.0",
            "wasi:clocks/monotonic-clock@0.2.12", "wasi:filesystem/preopens@0.2.12", "wasi:http/types@0.2.10", "wasi:http/outgoing-handler@0.2.10",
            "wasi:sockets/tcp@0.2.0",
        ] {
            assert_eq!(refusal(ok), None, "{ok}");
            assert!(served(ok).is_some(), "{ok}");
        }
        assert!(served("wasi:sockets/tcp@0.2.0").unwrap().contains("denied"));
        assert!(served("wasi:clocks/wall-clock@0.2.0").unwrap().contains("virtual"));
        assert!(refusal("nasbox:strategy/random@0.2.0").unwrap().contains("0.1"));
        assert!(refusal("wasi:clocks/timezone@0.2.0").unwrap().contains("not this one"));
        assert!(refusal("wasi:filesystem/types@0.3.0").is_some(), "only WASI 0.2 is served");
        assert!(refusal("wasi:keyvalue/store@0.2.0").is_some());
        assert!(refusal("acme:evil/thing").is_some());
        assert!(refusal("no-slash").is_some());
    }

    #[test]
    fn every_refused_import_is_named_at_once() {
        let names = ["wasi:keyvalue/store@0.2.0", "nasbox:strategy/random@0.1.0", "acme:evil/thing@1.0.0", "wasi:http/types@0.2.10"];
        match refuse(names.iter().map(|n| n.to_string())) {
            Err(ErrorKind::ForbiddenImport { import, why }) => {
                assert_eq!(import, "wasi:keyvalue/store@0.2.0`, `acme:evil/thing@1.0.0");
                assert!(why.contains("not this one") && why.contains("may only import"), "{why}");
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
