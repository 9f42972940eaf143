//! Checks on what a guest returns, before the host acts on it.

use super::bindings::{Proposal, StrategyInfo};
use super::error::InvalidOutput;
use crate::space::Space;

/// Checks an `ask(asked)` answer: count, genotypes, fidelities, weights.
pub fn proposals(space: &Space, asked: u32, proposals: &[Proposal]) -> Result<(), InvalidOutput> {
    if proposals.len() > asked as usize {
        return Err(InvalidOutput::TooManyProposals { returned: proposals.len(), asked });
    }
    for (i, p) in proposals.iter().enumerate() {
        match p {
            Proposal::Genotype(c) => {
                space.validate(&c.genotype).map_err(|e| InvalidOutput::Genotype { proposal: i, detail: e.to_string() })?;
                if let Some(f) = c.fidelity {
                    if !(f > 0.0 && f <= 1.0) {
                        return Err(InvalidOutput::Fidelity { proposal: i, value: f });
                    }
                }
            }
            Proposal::Relaxed(weights) => relaxed(space, weights).map_err(|detail| InvalidOutput::Relaxed { proposal: i, detail })?,
        }
    }
    Ok(())
}

fn relaxed(space: &Space, weights: &[Vec<f64>]) -> Result<(), String> {
    if weights.len() != space.decisions.len() {
        return Err(format!("have {} vectors but the space has {} decisions", weights.len(), space.decisions.len()));
    }
    for (d, w) in space.decisions.iter().zip(weights) {
        if w.len() != d.choices.len() {
            return Err(format!("for decision `{}` have {} values, expected {}", d.name, w.len(), d.choices.len()));
        }
        if let Some(v) = w.iter().find(|v| !v.is_finite()) {
            return Err(format!("for decision `{}` contain the non-finite value {v}", d.name));
        }
    }
    Ok(())
}

/// Checks a `recommend` answer.
pub fn recommendation(space: &Space, genotype: &[u32]) -> Result<(), InvalidOutput> {
    space.validate(genotype).map_err(|e| InvalidOutput::Recommendation(e.to_string()))
}

/// Bounds on `info` so that a hostile guest cannot flood terminals and reports.
const MAX_TEXT: usize = 16 << 10;
const MAX_KEYS: usize = 256;

/// Checks an `info` answer.
pub fn info(info: &StrategyInfo) -> Result<(), InvalidOutput> {
    let bad = |m: String| Err(InvalidOutput::Info(m));
    if info.name.trim().is_empty() {
        return bad("empty name".into());
    }
    if info.name.len() > 64 || !info.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return bad(format!("name `{}` must be at most 64 characters of [A-Za-z0-9-_.]", info.name.escape_debug()));
    }
    if info.config.len() > MAX_KEYS {
        return bad(format!("{} config keys, over the cap of {MAX_KEYS}", info.config.len()));
    }
    let texts = [&info.version, &info.description].into_iter().chain(info.config.iter().flat_map(|k| [&k.name, &k.default, &k.description]));
    if let Some(t) = texts.into_iter().find(|t| t.len() > MAX_TEXT) {
        return bad(format!("a text of {} bytes, over the cap of {MAX_TEXT}", t.len()));
    }
    let mut names: Vec<&str> = info.config.iter().map(|k| k.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return bad(format!("config key `{}` declared twice", w[0]));
    }
    if names.iter().any(|n| n.is_empty()) {
        return bad("a config key with an empty name".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::builtin;
    use crate::strategy::bindings::{Candidate, ConfigKey};

    fn g(genotype: Vec<u32>, fidelity: Option<f64>) -> Proposal {
        Proposal::Genotype(Candidate { genotype, fidelity })
    }

    #[test]
    fn proposals_are_checked_against_the_space() {
        let s = builtin("toy").unwrap();
        assert!(proposals(&s, 2, &[g(vec![1, 2, 3, 4, 4], None), g(vec![0; 5], Some(0.5))]).is_ok());
        assert_eq!(proposals(&s, 1, &[g(vec![0; 5], None), g(vec![0; 5], None)]), Err(InvalidOutput::TooManyProposals { returned: 2, asked: 1 }));
        let e = proposals(&s, 1, &[g(vec![0, 0, 0, 0, 5], None)]).unwrap_err();
        assert!(e.to_string().contains("`width`"), "{e}");
        assert!(proposals(&s, 1, &[g(vec![0; 4], None)]).is_err());
        assert!(matches!(proposals(&s, 1, &[g(vec![0; 5], Some(0.0))]), Err(InvalidOutput::Fidelity { .. })));
        assert!(matches!(proposals(&s, 1, &[g(vec![0; 5], Some(f64::NAN))]), Err(InvalidOutput::Fidelity { .. })));
    }

    #[test]
    fn relaxed_weights_need_the_right_shape_and_finite_values() {
        let s = builtin("toy").unwrap();
        let ok: Vec<Vec<f64>> = s.arities().iter().map(|&a| vec![0.1; a]).collect();
        assert!(proposals(&s, 1, &[Proposal::Relaxed(ok.clone())]).is_ok());
        let mut nan = ok.clone();
        nan[2][1] = f64::NAN;
        let e = proposals(&s, 1, &[Proposal::Relaxed(nan)]).unwrap_err();
        assert!(e.to_string().contains("non-finite") && e.to_string().contains("edge-2-0"), "{e}");
        let mut short = ok;
        short[0].pop();
        assert!(proposals(&s, 1, &[Proposal::Relaxed(short)]).is_err());
    }

    #[test]
    fn info_needs_a_name_and_unique_keys() {
        let key = |n: &str| ConfigKey { name: n.into(), default: "1".into(), description: String::new() };
        let mut i =
            StrategyInfo { name: "ok".into(), version: "1".into(), description: "d".into(), config: vec![key("a"), key("b")], supports_snapshot: false };
        assert!(info(&i).is_ok());
        i.config.push(key("a"));
        assert!(info(&i).unwrap_err().to_string().contains("`a` declared twice"));
        i.config.pop();
        i.name = "bad name\n".into();
        assert!(info(&i).is_err());
    }
}
