//! `nasbox strategy build`: runs the project's `build.sh` with its
//! language's toolchain.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{AuthorError, Manifest};

/// Where build scripts install pinned toolchains (componentize-py,
/// componentize-js): `$NASBOX_TOOLCHAINS`, else the user's cache folder.
pub fn toolchain_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("NASBOX_TOOLCHAINS") {
        return PathBuf::from(dir);
    }
    crate::user_cache::dir("toolchains").unwrap_or_else(|| std::env::temp_dir().join("nasbox/toolchains"))
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
}

/// The oldest Node.js major version componentize-js (the JS template's
/// toolchain) runs on.
pub const NODE_MAJOR: u32 = 20;

/// Refuses a Node.js older than [`NODE_MAJOR`] before the build starts:
/// componentize-js would otherwise fail inside npm with a syntax error that
/// does not say why.
fn check_node() -> Result<(), AuthorError> {
    let install = "install a newer Node.js (e.g. from https://nodejs.org or NodeSource; Debian 12's nodejs is 18)";
    let out = Command::new("node").arg("--version").output().map_err(|source| AuthorError::Io { path: "node".into(), source })?;
    let found = String::from_utf8_lossy(&out.stdout).trim().to_string();
    match node_major(&found) {
        Some(major) if major >= NODE_MAJOR => Ok(()),
        _ => Err(AuthorError::OldTool { tool: "node", found, need: NODE_MAJOR, language: "JavaScript", install }),
    }
}

/// The major version of `node --version`'s answer (`v20.11.1` → 20).
fn node_major(version: &str) -> Option<u32> {
    version.trim().strip_prefix('v')?.split('.').next()?.parse().ok()
}

/// Builds the project in `dir` and returns the component it wrote. The
/// script's output (toolchain downloads, compiler messages) goes straight
/// to the terminal, as progress.
pub fn build(dir: &Path) -> Result<(Manifest, PathBuf), AuthorError> {
    let manifest = Manifest::read(dir)?;
    for &(tool, install) in manifest.language.tools() {
        if !on_path(tool) {
            return Err(AuthorError::MissingTool { tool, install });
        }
    }
    if manifest.language == super::Language::Js {
        check_node()?;
    }
    let script = dir.join("build.sh");
    if !script.is_file() {
        return Err(AuthorError::Io { path: script, source: std::io::Error::new(std::io::ErrorKind::NotFound, "the project's build script is missing") });
    }
    let output = dir.join(&manifest.output);
    // A stale component must not pass for a fresh one.
    let _ = std::fs::remove_file(&output);
    let status = Command::new("bash")
        .arg("build.sh")
        .current_dir(dir)
        .env("NASBOX_TOOLCHAINS", toolchain_cache())
        .status()
        .map_err(|source| AuthorError::Io { path: script.clone(), source })?;
    if !status.success() {
        return Err(AuthorError::BuildFailed { script, status: status.to_string() });
    }
    if !output.is_file() {
        return Err(AuthorError::NoOutput { script, output });
    }
    Ok((manifest, output))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_versions_are_read_by_their_major() {
        assert_eq!(node_major("v20.20.2\n"), Some(20));
        assert_eq!(node_major("v18.19.0"), Some(18));
        assert_eq!(node_major("20.1"), None);
        assert_eq!(node_major(""), None);
        let e = AuthorError::OldTool { tool: "node", found: "v18.19.0".into(), need: NODE_MAJOR, language: "JavaScript", install: "install it" };
        assert_eq!(e.to_string(), "`node` is version v18.19.0; building a JavaScript strategy needs 20 or newer: install it");
    }
}
