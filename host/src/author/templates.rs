//! The project templates, compiled into the binary so that `strategy new`
//! works from an installed nasbox with no source tree.

use super::Language;

/// One file of a template: its path in the project, its text (with
/// `{{name}}`, `{{crate}}`, `{{version}}` and `{{wit_bindgen}}` to fill in),
/// and whether it is a script.
pub struct File {
    pub path: &'static str,
    pub text: &'static str,
    pub executable: bool,
}

const fn file(path: &'static str, text: &'static str) -> File {
    File { path, text, executable: false }
}

const fn script(path: &'static str, text: &'static str) -> File {
    File { path, text, executable: true }
}

/// The wit-bindgen version the vendored SDK pins: the one nasbox's own
/// strategies are built with (a test checks it against Cargo.lock).
pub const WIT_BINDGEN: &str = "0.63.0";

/// Files every project has.
pub const COMMON: &[File] = &[file("wit/strategy.wit", include_str!("../../../wit/strategy.wit")), file(".gitignore", "/build/\n/target/\n__pycache__/\n")];

/// The SDK, vendored into Rust projects under `sdk/nasbox-sdk`.
const RUST_SDK: &[File] = &[
    file("sdk/nasbox-sdk/Cargo.toml", include_str!("templates/rust/sdk-Cargo.toml")),
    file("sdk/nasbox-sdk/src/lib.rs", include_str!("../../../strategies/sdk/src/lib.rs")),
    file("sdk/nasbox-sdk/src/best.rs", include_str!("../../../strategies/sdk/src/best.rs")),
    file("sdk/nasbox-sdk/src/config.rs", include_str!("../../../strategies/sdk/src/config.rs")),
    file("sdk/nasbox-sdk/src/genotype.rs", include_str!("../../../strategies/sdk/src/genotype.rs")),
    file("sdk/nasbox-sdk/src/glue.rs", include_str!("../../../strategies/sdk/src/glue.rs")),
    file("sdk/nasbox-sdk/src/log.rs", include_str!("../../../strategies/sdk/src/log.rs")),
    file("sdk/nasbox-sdk/src/native.rs", include_str!("../../../strategies/sdk/src/native.rs")),
    file("sdk/nasbox-sdk/src/random.rs", include_str!("../../../strategies/sdk/src/random.rs")),
    file("sdk/nasbox-sdk/src/shape.rs", include_str!("../../../strategies/sdk/src/shape.rs")),
    file("sdk/nasbox-sdk/src/state.rs", include_str!("../../../strategies/sdk/src/state.rs")),
];

const RUST: &[File] = &[
    file("Cargo.toml", include_str!("templates/rust/Cargo.toml")),
    file("src/lib.rs", include_str!("templates/rust/src/lib.rs")),
    script("build.sh", include_str!("templates/rust/build.sh")),
    file("README.md", include_str!("templates/rust/README.md")),
];

const PYTHON: &[File] = &[
    file("strategy.py", include_str!("templates/python/strategy.py")),
    file("nasbox_kit.py", include_str!("templates/python/nasbox_kit.py")),
    script("build.sh", include_str!("templates/python/build.sh")),
    file("README.md", include_str!("templates/python/README.md")),
];

const JS: &[File] = &[
    file("strategy.js", include_str!("templates/js/strategy.js")),
    file("kit.js", include_str!("templates/js/kit.js")),
    script("build.sh", include_str!("templates/js/build.sh")),
    file("README.md", include_str!("templates/js/README.md")),
];

/// A file's text as a project gets it. The SDK's crate docs include the
/// example strategy from nasbox's source tree, which a project does not
/// have: its own `src/lib.rs` is that example.
pub fn vendored(f: &File) -> std::borrow::Cow<'static, str> {
    if f.path != "sdk/nasbox-sdk/src/lib.rs" {
        return f.text.into();
    }
    f.text
        .lines()
        .map(|l| if l.starts_with("#![doc = include_str!") { "//! (The example is this project's `src/lib.rs`.)" } else { l })
        .filter(|l| !l.starts_with("#![doc = \"```"))
        .collect::<Vec<_>>()
        .join("\n")
        .into()
}

/// Every file of a language's template.
pub fn files(language: Language) -> impl Iterator<Item = &'static File> {
    let own: &[&[File]] = match language {
        Language::Rust => &[RUST, RUST_SDK],
        Language::Python => &[PYTHON],
        Language::Js => &[JS],
    };
    COMMON.iter().chain(own.iter().flat_map(|f| f.iter()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendored_sdk_pins_the_wit_bindgen_nasbox_builds_with() {
        let lock = include_str!("../../../Cargo.lock");
        let at = lock.find("name = \"wit-bindgen\"\nversion = \"").expect("wit-bindgen is in Cargo.lock");
        let version = lock[at..].lines().nth(1).unwrap().trim_start_matches("version = ").trim_matches('"');
        assert_eq!(version, WIT_BINDGEN);
    }

    #[test]
    fn every_sdk_source_file_is_vendored() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../strategies/sdk/src");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let vendored = format!("sdk/nasbox-sdk/src/{name}");
            assert!(RUST_SDK.iter().any(|f| f.path == vendored), "{name} is not in the Rust template");
        }
    }
}
