//! Parsers for flag values that clap does not know: durations, sizes and
//! counts (shared with run.toml, in `nasbox::units`), k=v.

pub use nasbox::units::{count, duration, size};

/// A duration, checked and kept as written (for settings the journal
/// records as the user wrote them).
pub fn duration_text(s: &str) -> Result<String, String> {
    duration(s).map(|_| s.trim().to_string())
}

/// A size, checked and kept as written.
pub fn size_text(s: &str) -> Result<String, String> {
    size(s).map(|_| s.trim().to_string())
}

/// `key=value`.
pub fn setting(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not key=value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings() {
        assert_eq!(setting("population=50"), Ok(("population".into(), "50".into())));
        assert_eq!(setting("expr=a=b"), Ok(("expr".into(), "a=b".into())));
        assert!(setting("novalue").is_err());
        assert!(setting("=5").is_err());
    }
}
