//! Typed access to a strategy's settings.

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::{Setting, StrategyError, StrategyInfo};

/// The strategy's settings: the user's values over the defaults declared in
/// [`crate::Strategy::info`]. Every declared key has a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    values: BTreeMap<String, String>,
}

impl Config {
    /// Merges `settings` over the defaults of `info`. A key that `info` does
    /// not declare is an error, so a typo never silently falls back to a
    /// default.
    pub fn new(info: &StrategyInfo, settings: Vec<Setting>) -> Result<Self, StrategyError> {
        let mut values: BTreeMap<String, String> = info.config.iter().map(|k| (k.name.clone(), k.default.clone())).collect();
        for s in settings {
            match values.get_mut(&s.key) {
                Some(v) => *v = s.value,
                None => {
                    let known: Vec<&str> = info.config.iter().map(|k| k.name.as_str()).collect();
                    return Err(StrategyError::InvalidConfig(format!(
                        "unknown key `{}` (known: {})",
                        s.key,
                        if known.is_empty() { "none".to_string() } else { known.join(", ") }
                    )));
                }
            }
        }
        Ok(Config { values })
    }

    /// The value of `key` parsed as `T`; a value that does not parse is an
    /// `invalid-config` error naming the key and the value.
    pub fn get<T: FromStr>(&self, key: &str) -> Result<T, StrategyError>
    where
        T::Err: std::fmt::Display,
    {
        let raw = self.raw(key)?;
        raw.trim().parse::<T>().map_err(|e| StrategyError::InvalidConfig(format!("{key}: cannot use `{raw}`: {e}")))
    }

    /// The value of `key` as text.
    pub fn raw(&self, key: &str) -> Result<&str, StrategyError> {
        self.values.get(key).map(String::as_str).ok_or_else(|| StrategyError::InvalidConfig(format!("`{key}` is not declared in info()")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ConfigKey;

    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "t".into(),
            version: "0".into(),
            description: String::new(),
            config: vec![ConfigKey { name: "population".into(), default: "50".into(), description: String::new() }],
            supports_snapshot: false,
        }
    }

    #[test]
    fn user_values_override_defaults() {
        let c = Config::new(&info(), vec![]).unwrap();
        assert_eq!(c.get::<u32>("population").unwrap(), 50);
        let c = Config::new(&info(), vec![Setting { key: "population".into(), value: "7".into() }]).unwrap();
        assert_eq!(c.get::<u32>("population").unwrap(), 7);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let e = Config::new(&info(), vec![Setting { key: "pop".into(), value: "7".into() }]).unwrap_err();
        assert!(matches!(e, StrategyError::InvalidConfig(m) if m.contains("`pop`") && m.contains("population")));
        let c = Config::new(&info(), vec![Setting { key: "population".into(), value: "many".into() }]).unwrap();
        let e = c.get::<u32>("population").unwrap_err();
        assert!(matches!(e, StrategyError::InvalidConfig(m) if m.contains("population") && m.contains("many")));
    }
}
