//! `strategy.toml`: what `nasbox strategy build` needs to know about a
//! project, written by `nasbox strategy new`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::AuthorError;

/// The manifest's file name in a project folder.
pub const MANIFEST: &str = "strategy.toml";

/// The languages with a template and a toolchain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Rust,
    Python,
    Js,
}

impl Language {
    /// The tools `build.sh` needs, each with what to install when missing.
    pub fn tools(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Language::Rust => &[("cargo", "install Rust with rustup (https://rustup.rs)")],
            Language::Python => &[("python3", "install Python 3.10 or newer with venv (e.g. apt install python3 python3-venv)")],
            Language::Js => &[("node", "install Node.js 20 or newer (e.g. apt install nodejs npm)"), ("npm", "install npm (e.g. apt install npm)")],
        }
    }
}

/// A project's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The strategy's name.
    pub name: String,
    pub language: Language,
    /// The component `build.sh` writes, relative to the project.
    pub output: PathBuf,
}

impl Manifest {
    /// Reads `DIR/strategy.toml`.
    pub fn read(dir: &Path) -> Result<Manifest, AuthorError> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|e| AuthorError::Manifest {
            path: path.clone(),
            problem: if e.kind() == std::io::ErrorKind::NotFound {
                "not found: is this a folder made by `nasbox strategy new`?".to_string()
            } else {
                e.to_string()
            },
        })?;
        toml::from_str(&text).map_err(|e| AuthorError::Manifest { path, problem: e.message().to_string() })
    }

    pub fn to_toml(&self) -> String {
        format!(
            "# Read by `nasbox strategy build`: the project's language, and the component build.sh writes.\n{}",
            toml::to_string(self).expect("a manifest serialises")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_round_trips_and_a_bad_one_names_the_problem() {
        let dir = std::env::temp_dir().join(format!("nasbox-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let m = Manifest { name: "s".into(), language: Language::Js, output: "build/s.wasm".into() };
        std::fs::write(dir.join(MANIFEST), m.to_toml()).unwrap();
        assert_eq!(Manifest::read(&dir).unwrap(), m);
        std::fs::write(dir.join(MANIFEST), "name = \"s\"\nlanguage = \"cobol\"\noutput = \"x\"\n").unwrap();
        let e = Manifest::read(&dir).unwrap_err().to_string();
        assert!(e.contains("strategy.toml") && e.contains("cobol"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
        let e = Manifest::read(&dir).unwrap_err().to_string();
        assert!(e.contains("nasbox strategy new"), "{e}");
    }
}
