//! A cache of compiled strategies, so a second load skips Cranelift.
//!
//! Loading precompiled machine code is only as safe as the bytes loaded, so
//! every entry is signed with an HMAC under a per-user key that only this
//! cache writes (mode 0600). An entry that fails verification — written by
//! someone else, copied from another machine, truncated — is never
//! deserialized: the component is compiled again and the entry replaced.
//!
//! Entries are keyed by the SHA-256 of the component file together with the
//! engine's compatibility hash (Wasmtime version, target, compiler settings),
//! so a changed file or a different engine never picks up stale code.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

const KEY_FILE: &str = "cache.key";
const TAG_LEN: usize = 32;

pub struct Cache {
    dir: PathBuf,
    key: [u8; 32],
}

/// SHA-256 fed through `std::hash::Hasher`, to digest the engine's
/// compatibility hash (which is only exposed as `impl Hash`).
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// A number no other call in this process gets.
pub fn unique() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Hex SHA-256 of a component file.
pub fn file_hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Cache {
    /// The default directory: `$NASBOX_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/nasbox/strategies`, else `~/.cache/nasbox/strategies`.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os("NASBOX_CACHE_DIR") {
            return Some(PathBuf::from(d));
        }
        crate::user_cache::dir("strategies")
    }

    /// Opens (creating if needed) the cache in `dir`.
    pub fn open(dir: &Path) -> std::io::Result<Cache> {
        fs::create_dir_all(dir)?;
        let key_path = dir.join(KEY_FILE);
        let key = match fs::read(&key_path) {
            Ok(k) if k.len() == 32 => k.try_into().expect("length checked"),
            _ => Self::new_key(&key_path)?,
        };
        Ok(Cache { dir: dir.to_path_buf(), key })
    }

    fn new_key(path: &Path) -> std::io::Result<[u8; 32]> {
        let mut key = [0u8; 32];
        rand::fill(&mut key);
        let tmp = path.with_extension(format!("tmp{}.{}", std::process::id(), unique()));
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp)?;
        f.write_all(&key)?;
        f.sync_all()?;
        // Two processes may race to create the key: the first rename wins and
        // the loser adopts it, so both sign with the same key.
        if path.exists() {
            fs::remove_file(&tmp)?;
            let k = fs::read(path)?;
            if let Ok(k) = <[u8; 32]>::try_from(k.as_slice()) {
                return Ok(k);
            }
        }
        fs::rename(&tmp, path)?;
        Ok(key)
    }

    /// The entry name for a component under an engine with `compiler`.
    pub fn entry_name(engine: &wasmtime::Engine, compiler: &str, component: &[u8]) -> String {
        let mut h = ShaHasher(Sha256::new());
        h.0.update(component);
        h.0.update(compiler.as_bytes());
        engine.precompile_compatibility_hash().hash(&mut h);
        format!("{}.cwasm", hex(&h.0.finalize()))
    }

    fn mac(&self, name: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(name.as_bytes());
        mac
    }

    /// The verified compiled bytes for `name`, or `None` when there is no
    /// entry or it is not one this cache signed.
    pub fn get(&self, name: &str) -> Option<Vec<u8>> {
        let data = fs::read(self.dir.join(name)).ok()?;
        if data.len() < TAG_LEN {
            tracing::warn!("ignoring truncated cache entry {name}");
            return None;
        }
        let (tag, code) = data.split_at(TAG_LEN);
        let mut mac = self.mac(name);
        mac.update(code);
        if mac.verify_slice(tag).is_err() {
            tracing::warn!("ignoring cache entry {name}: not signed by this cache");
            return None;
        }
        Some(code.to_vec())
    }

    /// Stores compiled bytes under `name`, atomically.
    pub fn put(&self, name: &str, code: &[u8]) -> std::io::Result<()> {
        let mut mac = self.mac(name);
        mac.update(code);
        let tag = mac.finalize().into_bytes();
        // Unique per process and per call: parallel searches of one process
        // (`bench`) may write the same entry at the same time.
        let tmp = self.dir.join(format!(".{name}.{}.{}.tmp", std::process::id(), unique()));
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&tag)?;
        f.write_all(code)?;
        f.sync_all()?;
        fs::rename(&tmp, self.dir.join(name))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejection_of_foreign_or_tampered_entries() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        cache.put("a.cwasm", b"compiled code").unwrap();
        assert_eq!(cache.get("a.cwasm").as_deref(), Some(&b"compiled code"[..]));

        // Same key after reopening.
        let again = Cache::open(dir.path()).unwrap();
        assert_eq!(again.get("a.cwasm").as_deref(), Some(&b"compiled code"[..]));

        // A byte flipped in the code.
        let path = dir.path().join("a.cwasm");
        let mut bytes = fs::read(&path).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(cache.get("a.cwasm"), None);

        // An entry planted by someone without the key.
        fs::write(dir.path().join("b.cwasm"), [0u8; 64]).unwrap();
        assert_eq!(cache.get("b.cwasm"), None);
        fs::write(dir.path().join("c.cwasm"), b"short").unwrap();
        assert_eq!(cache.get("c.cwasm"), None);

        // A valid entry renamed to another key does not verify either.
        cache.put("d.cwasm", b"code for d").unwrap();
        fs::copy(dir.path().join("d.cwasm"), dir.path().join("e.cwasm")).unwrap();
        assert_eq!(cache.get("e.cwasm"), None);

        // Another cache (another key) cannot read this one's entries.
        let other_dir = tempfile::tempdir().unwrap();
        fs::copy(dir.path().join("d.cwasm"), other_dir.path().join("d.cwasm")).unwrap();
        assert_eq!(Cache::open(other_dir.path()).unwrap().get("d.cwasm"), None);
    }

    #[cfg(unix)]
    #[test]
    fn key_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        Cache::open(dir.path()).unwrap();
        let mode = fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0);
    }
}
