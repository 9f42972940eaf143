//! `nasbox strategy new`: a project from a template.

use std::path::{Path, PathBuf};

use super::templates::{self, WIT_BINDGEN};
use super::{AuthorError, Language, Manifest, MANIFEST};

/// Writes a new project for strategy `name` into `dir` (which must not exist,
/// or be empty) and returns the files written.
pub fn new_project(name: &str, language: Language, dir: &Path) -> Result<Vec<PathBuf>, AuthorError> {
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if !valid {
        return Err(AuthorError::BadName(name.to_string()));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| AuthorError::Io { path, source }
    };
    if dir.exists() && std::fs::read_dir(dir).map_err(io(dir))?.next().is_some() {
        return Err(AuthorError::NotEmpty(dir.to_path_buf()));
    }
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{crate}}", &name.replace('-', "_"))
            .replace("{{version}}", env!("CARGO_PKG_VERSION"))
            .replace("{{wit_bindgen}}", WIT_BINDGEN)
    };
    let mut written = vec![];
    let mut write = |relative: &str, text: String, executable: bool| -> Result<(), AuthorError> {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
        if executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).map_err(io(&path))?;
        }
        written.push(path);
        Ok(())
    };
    for f in templates::files(language) {
        write(f.path, fill(&templates::vendored(f)), f.executable)?;
    }
    let manifest = Manifest { name: name.to_string(), language, output: PathBuf::from(format!("build/{name}.wasm")) };
    write(MANIFEST, manifest.to_toml(), false)?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("nasbox-new-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn each_language_gets_a_complete_project_with_its_name_filled_in() {
        for language in [Language::Rust, Language::Python, Language::Js] {
            let dir = scratch(&format!("{language:?}"));
            let files = new_project("my-search", language, &dir).unwrap();
            assert!(files.iter().any(|f| f.ends_with("build.sh")));
            assert!(dir.join("wit/strategy.wit").exists());
            for f in &files {
                let text = std::fs::read_to_string(f).unwrap();
                assert!(!text.contains("{{"), "{} has an unfilled placeholder", f.display());
            }
            let m = Manifest::read(&dir).unwrap();
            assert_eq!((m.language, m.output), (language, PathBuf::from("build/my-search.wasm")));
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    #[test]
    fn bad_names_and_used_folders_are_refused() {
        let dir = scratch("refused");
        for bad in ["", "My", "1abc", "a_b", "a-", "a b"] {
            assert!(matches!(new_project(bad, Language::Js, &dir), Err(AuthorError::BadName(_))), "{bad:?}");
        }
        new_project("ok", Language::Js, &dir).unwrap();
        let e = new_project("ok", Language::Js, &dir).unwrap_err();
        assert!(matches!(e, AuthorError::NotEmpty(_)), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
