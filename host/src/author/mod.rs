//! Writing a strategy: `nasbox strategy new` lays out a project from a
//! template (Rust, Python or JavaScript), `nasbox strategy build` builds it
//! with its language's stock toolchain.
//!
//! A project is a folder with a `strategy.toml` naming its language and its
//! output, a `build.sh` with the toolchain's pinned version (the one place
//! the build is written down, so an author can read it and run it without
//! nasbox), the contract in `wit/`, and a working strategy with a small kit
//! of helpers in its language.

mod manifest;
mod new;
mod templates;
mod toolchain;

use std::path::PathBuf;

pub use manifest::{Language, Manifest, MANIFEST};
pub use new::new_project;
pub use toolchain::{build, toolchain_cache};

/// What can go wrong creating or building a project.
#[derive(Debug, thiserror::Error)]
pub enum AuthorError {
    #[error("`{0}` is not a strategy name: use lowercase letters, digits and dashes, starting with a letter (at most 64)")]
    BadName(String),
    #[error("{0} already exists and is not empty; choose a new folder")]
    NotEmpty(PathBuf),
    #[error("{path}: {problem}")]
    Manifest { path: PathBuf, problem: String },
    #[error("`{tool}` not found on PATH: {install}")]
    MissingTool { tool: &'static str, install: &'static str },
    #[error("`{tool}` is version {found}; building a {language} strategy needs {need} or newer: {install}")]
    OldTool { tool: &'static str, found: String, need: u32, language: &'static str, install: &'static str },
    #[error("{script} failed ({status}); its output is above")]
    BuildFailed { script: PathBuf, status: String },
    #[error("{script} finished but did not write {output}")]
    NoOutput { script: PathBuf, output: PathBuf },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}
