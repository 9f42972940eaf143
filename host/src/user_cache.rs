//! Where nasbox keeps what it makes for a user and can make again: compiled
//! strategies, unpacked built-in components, strategy toolchains. One rule
//! for all of them, so a user who moves the cache (`XDG_CACHE_HOME`) moves
//! all of it. (The templates' `build.sh` scripts follow the same rule.)

use std::path::PathBuf;

/// `$XDG_CACHE_HOME/nasbox/SUB`, else `~/.cache/nasbox/SUB`; `None` when
/// neither variable is set.
pub fn dir(sub: &str) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("nasbox").join(sub))
}
