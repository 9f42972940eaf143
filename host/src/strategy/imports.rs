//! What a component asks for and what it offers, checked before it runs.
//!
//! A guest may import the contract's `random` and `log` and the inert WASI
//! basics language runtimes link by default (stdio, an empty environment,
//! exit, seeded randomness). Everything else — files, sockets, clocks, HTTP —
//! is refused with an error that names the import, before any guest code runs.

use wasmtime::component::Component;

use super::error::ErrorKind;

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

/// Refuses a component whose imports the sandbox does not provide.
///
/// When several imports are refused, the error names the most telling one
/// (sockets, then files, then clocks, which runtimes pull in alongside).
pub fn check_imports(component: &Component, engine: &wasmtime::Engine) -> Result<(), ErrorKind> {
    let ty = component.component_type();
    let refused = ty
        .imports(engine)
        .filter_map(|(name, _)| refusal(name).map(|why| (name.to_string(), why)));
    let rank = |name: &str| match name.split('/').next() {
        Some("wasi:sockets" | "wasi:http") => 0,
        Some("wasi:filesystem") => 1,
        _ => 2,
    };
    match refused.min_by_key(|(name, _)| rank(name)) {
        Some((import, why)) => Err(ErrorKind::ForbiddenImport { import, why }),
        None => Ok(()),
    }
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
    fn versions_match_by_major_minor() {
        assert!(supported(Some("0.1.0")));
        assert!(supported(Some("0.1.7")));
        assert!(!supported(Some("0.10.0")));
        assert!(!supported(Some("0.2.0")));
        assert!(!supported(None));
    }
}
