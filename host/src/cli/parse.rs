//! Parsers for flag values that clap does not know: durations, sizes, k=v.

use std::time::Duration;

/// `500ms`, `10s`, `2m`, `1h`, or a plain number of seconds.
pub fn duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = split_unit(s);
    let n: f64 = num.parse().map_err(|_| format!("`{s}` is not a duration (try 500ms, 10s, 2m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (use ms, s, m or h)")),
    };
    if !(secs > 0.0 && secs.is_finite()) {
        return Err(format!("`{s}` must be a positive duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `256MiB`, `1GiB`, `64KiB`, `1000000` (bytes).
pub fn size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let (num, unit) = split_unit(s);
    let n: f64 = num.parse().map_err(|_| format!("`{s}` is not a size (try 256MiB)"))?;
    let scale: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => (1u64 << 20) as f64,
        "g" | "gb" => 1e9,
        "gib" => (1u64 << 30) as f64,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (use KiB, MiB or GiB)")),
    };
    let bytes = n * scale;
    if !(bytes >= 1.0 && bytes < usize::MAX as f64) {
        return Err(format!("`{s}` is out of range"));
    }
    Ok(bytes as usize)
}

/// `key=value`.
pub fn setting(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not key=value")),
    }
}

fn split_unit(s: &str) -> (&str, &str) {
    let at = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    (s[..at].trim(), s[at..].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert!(duration("0s").is_err());
        assert!(duration("ten").unwrap_err().contains("ten"));
        assert!(duration("5 fortnights").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(size("256MiB"), Ok(256 << 20));
        assert_eq!(size("64kib"), Ok(64 << 10));
        assert_eq!(size("1000"), Ok(1000));
        assert!(size("lots").is_err());
        assert!(size("1XB").is_err());
    }

    #[test]
    fn settings() {
        assert_eq!(setting("population=50"), Ok(("population".into(), "50".into())));
        assert_eq!(setting("expr=a=b"), Ok(("expr".into(), "a=b".into())));
        assert!(setting("novalue").is_err());
        assert!(setting("=5").is_err());
    }
}
