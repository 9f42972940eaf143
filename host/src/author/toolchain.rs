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
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("nasbox/toolchains")
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
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
