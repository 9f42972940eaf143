//! The built-in strategies travel inside the binary: `host/build.rs` embeds
//! every one it finds built (scripts/build-strategies) when the host is
//! compiled, so a `nasbox` copied, `cargo install`ed or packaged anywhere
//! still finds them by name. Loading takes a file (its hash is what the
//! journal records and resume checks), so an embedded component is written
//! once, content-addressed, to the user's cache and loaded from there.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

include!("builtin_list.rs");
include!(concat!(env!("OUT_DIR"), "/embedded_strategies.rs"));

/// The one-line description of built-in strategy `name`.
pub fn describe(name: &str) -> Option<&'static str> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, d)| *d)
}

/// Whether this binary carries the component of built-in `name`.
pub fn is_embedded(name: &str) -> bool {
    EMBEDDED.iter().any(|(n, _)| *n == name)
}

/// The embedded component of `name` as a file: written under the user's
/// cache (`$XDG_CACHE_HOME`, else `~/.cache`, else the temporary folder) in
/// a folder named by its hash, or found there from an earlier call. `None`
/// when this binary was built without it.
pub fn file(name: &str) -> std::io::Result<Option<PathBuf>> {
    let Some((_, bytes)) = EMBEDDED.iter().find(|(n, _)| *n == name) else {
        return Ok(None);
    };
    let hash: String = Sha256::digest(bytes).iter().take(8).map(|b| format!("{b:02x}")).collect();
    // A cache that cannot be written (a read-only home, a full disk) falls
    // back to the temporary folder rather than failing the search.
    match unpack(&cache_root().join(&hash), name, bytes) {
        Ok(path) => Ok(Some(path)),
        Err(first) => unpack(&std::env::temp_dir().join(format!("nasbox-builtin-{}", user())).join(&hash), name, bytes).map(Some).map_err(|_| first),
    }
}

/// `bytes` as `dir/NAME.wasm`, written unless already there.
fn unpack(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let path = dir.join(format!("{name}.wasm"));
    if std::fs::read(&path).is_ok_and(|on_disk| on_disk == bytes) {
        return Ok(path);
    }
    std::fs::create_dir_all(dir)?;
    // Written aside and renamed, so a concurrent process never loads half a
    // component.
    let part = dir.join(format!(".{name}.{}.part", std::process::id()));
    std::fs::File::create(&part)?.write_all(bytes)?;
    std::fs::rename(&part, &path)?;
    Ok(path)
}

/// This user's id, so users sharing a temporary folder do not share files.
fn user() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

fn cache_root() -> PathBuf {
    crate::user_cache::dir("builtin").unwrap_or_else(|| std::env::temp_dir().join("nasbox/builtin"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_component_is_a_listed_builtin() {
        // Unpacking is tested end to end (tests/cli.rs), with a HOME of its
        // own: a unit test must not write to the user's cache.
        for (name, bytes) in EMBEDDED {
            assert!(describe(name).is_some(), "{name} is embedded but not in BUILTINS");
            assert!(bytes.starts_with(b"\0asm"), "{name} is not a WebAssembly file");
        }
        assert_eq!(file("no_such_strategy").unwrap(), None);
    }

    #[test]
    fn a_component_is_unpacked_once_and_a_damaged_copy_is_replaced() {
        let dir = std::env::temp_dir().join(format!("nasbox-unpack-{}", std::process::id()));
        let bytes = b"\0asm component bytes";
        let path = unpack(&dir, "x", bytes).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        std::fs::write(&path, b"half").unwrap();
        assert_eq!(unpack(&dir, "x", bytes).unwrap(), path);
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "a damaged copy is written again");
        // Where nothing can be written, the error comes back.
        assert!(unpack(Path::new("/proc/nasbox-cannot-write-here"), "x", bytes).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
