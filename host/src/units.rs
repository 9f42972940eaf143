//! Quantities as people write them, in flags and in run.toml: durations
//! (`500ms`, `90s`, `10m`, `2h`, `1d`), sizes (`256MiB`, `4GiB`) and large
//! counts (`2e9`, `4_000_000_000`), and paths inside a value (`~/data` in
//! `cifar10:~/data`, which no shell expands). One parser each, so a value
//! means the same wherever it is written.

use std::path::PathBuf;
use std::time::Duration;

/// A path as written in a flag's value: a leading `~` (alone or before
/// `/`) is the home folder, as a shell would expand it at the start of a
/// word; `cifar10:~/data` is one word to the shell, so nasbox expands it.
pub fn path(text: &str) -> PathBuf {
    let home = || std::env::var_os("HOME").map(PathBuf::from);
    match text.strip_prefix('~') {
        Some("") => home().unwrap_or_else(|| PathBuf::from(text)),
        Some(rest) if rest.starts_with('/') => home().map_or_else(|| PathBuf::from(text), |h| h.join(&rest[1..])),
        _ => PathBuf::from(text),
    }
}

/// `500ms`, `90s`, `10m`, `2h`, `1d`, or plain seconds.
pub fn duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = split_unit(text);
    let n: f64 = number.parse().map_err(|_| format!("`{text}` is not a duration (e.g. 500ms, 90s, 10m, 2h)"))?;
    let seconds = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => return Err(format!("`{text}`: unknown unit `{unit}` (use ms, s, m, h or d)")),
    };
    if !(seconds > 0.0 && seconds.is_finite()) {
        return Err(format!("`{text}` must be a positive duration"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `256MiB`, `1GiB`, `64KiB`, `1e6` or `1000000` (bytes).
pub fn size(text: &str) -> Result<usize, String> {
    let (number, unit) = split_unit(text);
    let n: f64 = number.parse().map_err(|_| format!("`{text}` is not a size (e.g. 256MiB)"))?;
    let scale: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => (1u64 << 20) as f64,
        "g" | "gb" => 1e9,
        "gib" => (1u64 << 30) as f64,
        _ => return Err(format!("`{text}`: unknown unit `{unit}` (use KiB, MiB or GiB)")),
    };
    let bytes = n * scale;
    if !(bytes >= 1.0 && bytes < usize::MAX as f64) {
        return Err(format!("`{text}` is out of range"));
    }
    Ok(bytes as usize)
}

/// A positive whole number: `4000000000`, `4_000_000_000` or `4e9`.
pub fn count(text: &str) -> Result<u64, String> {
    let plain = text.trim().replace('_', "");
    if let Ok(n) = plain.parse::<u64>() {
        return if n > 0 { Ok(n) } else { Err(format!("`{text}` must be at least 1")) };
    }
    let n: f64 = plain.parse().map_err(|_| format!("`{text}` is not a number (e.g. 4e9)"))?;
    if !(n >= 1.0 && n < u64::MAX as f64) || n.fract() != 0.0 {
        return Err(format!("`{text}` is not a whole number from 1 to 2^64"));
    }
    Ok(n as u64)
}

/// The number and the letters after it, trimmed.
fn split_unit(text: &str) -> (&str, &str) {
    let text = text.trim();
    let at = text.find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E').unwrap_or(text.len());
    // `e` is an exponent only between digits: `1e9` is a number, `5 eons` a unit.
    let at = match text[..at].find(['e', 'E']) {
        Some(e) if !text[e + 1..].starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') => e,
        _ => at,
    };
    (text[..at].trim(), text[at..].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leading_tilde_is_the_home_folder() {
        let home = PathBuf::from(std::env::var_os("HOME").expect("tests run with a HOME"));
        assert_eq!(path("~/data/cifar"), home.join("data/cifar"));
        assert_eq!(path("~"), home);
        // Only at the start, and not `~user`.
        assert_eq!(path("data/~/x"), PathBuf::from("data/~/x"));
        assert_eq!(path("~bob/x"), PathBuf::from("~bob/x"));
        assert_eq!(path("/abs"), PathBuf::from("/abs"));
    }

    #[test]
    fn durations() {
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("1d"), Ok(Duration::from_secs(86400)));
        assert!(duration("0s").is_err());
        assert!(duration("ten").unwrap_err().contains("ten"));
        assert!(duration("5 fortnights").unwrap_err().contains("unknown unit `fortnights`"));
        assert!(duration("5y").unwrap_err().contains("unknown unit `y`"));
    }

    #[test]
    fn sizes() {
        assert_eq!(size("256MiB"), Ok(256 << 20));
        assert_eq!(size("64kib"), Ok(64 << 10));
        assert_eq!(size("1000"), Ok(1000));
        assert_eq!(size("1e6"), Ok(1_000_000));
        assert!(size("lots").is_err());
        assert!(size("1XB").is_err());
        assert!(size("0").is_err());
    }

    #[test]
    fn counts() {
        assert_eq!(count("4000000000"), Ok(4_000_000_000));
        assert_eq!(count("4_000_000_000"), Ok(4_000_000_000));
        assert_eq!(count("4e9"), Ok(4_000_000_000));
        assert_eq!(count("2.5e3"), Ok(2500));
        for bad in ["0", "-5", "1.5", "lots", "1e30", ""] {
            assert!(count(bad).is_err(), "{bad}");
        }
    }
}
