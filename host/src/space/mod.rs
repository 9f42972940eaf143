//! Search spaces as a strategy sees them: an ordered list of named
//! categorical decisions. A genotype picks one choice per decision.
//!
//! [`nb201`] is NAS-Bench-201's cell as decisions, with its string format;
//! the networks behind the spaces come with the trainer. The [`toy`] spaces
//! exercise strategies without any network.

pub mod nb201;
pub mod toy;

use thiserror::Error;

/// One categorical decision: a name and its named choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub name: String,
    pub choices: Vec<String>,
}

/// A search space described by its decisions, in genotype order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    pub name: String,
    pub decisions: Vec<Decision>,
}

/// Why a genotype does not belong to a space.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum GenotypeError {
    #[error("has {got} choices but the space has {expected} decisions")]
    WrongLength { got: usize, expected: usize },
    #[error("choice {index} is out of range for decision `{decision}`, which has {arity} choices")]
    OutOfRange { decision: String, index: u32, arity: usize },
}

impl Space {
    /// Number of architectures, or `None` when it exceeds `u128`.
    pub fn size(&self) -> Option<u128> {
        self.decisions.iter().try_fold(1u128, |acc, d| acc.checked_mul(d.choices.len() as u128))
    }

    /// Number of choices of each decision.
    pub fn arities(&self) -> Vec<usize> {
        self.decisions.iter().map(|d| d.choices.len()).collect()
    }

    /// Checks that `genotype` has one in-range choice per decision.
    pub fn validate(&self, genotype: &[u32]) -> Result<(), GenotypeError> {
        if genotype.len() != self.decisions.len() {
            return Err(GenotypeError::WrongLength { got: genotype.len(), expected: self.decisions.len() });
        }
        for (d, &index) in self.decisions.iter().zip(genotype) {
            if index as usize >= d.choices.len() {
                return Err(GenotypeError::OutOfRange { decision: d.name.clone(), index, arity: d.choices.len() });
            }
        }
        Ok(())
    }

    /// A readable rendering: `decision=choice` pairs.
    pub fn describe(&self, genotype: &[u32]) -> String {
        self.decisions
            .iter()
            .zip(genotype)
            .map(|(d, &i)| format!("{}={}", d.name, d.choices.get(i as usize).map_or("?", String::as_str)))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Looks up a built-in space by name.
pub fn builtin(name: &str) -> Option<Space> {
    match name {
        "nb201" => Some(nb201::space()),
        _ => toy::get(name),
    }
}

/// Names of the built-in spaces, for help texts and errors.
pub fn builtin_names() -> &'static [&'static str] {
    &["toy", "wide", "nb201"]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_names_the_bad_decision() {
        let s = builtin("toy").unwrap();
        assert!(s.validate(&[0, 0, 0, 0, 0]).is_ok());
        assert_eq!(s.validate(&[0, 0]), Err(GenotypeError::WrongLength { got: 2, expected: 5 }));
        let e = s.validate(&[0, 9, 0, 0, 0]).unwrap_err();
        assert!(e.to_string().contains(&s.decisions[1].name), "{e}");
    }

    #[test]
    fn size_multiplies_arities_and_reports_overflow() {
        assert_eq!(builtin("toy").unwrap().size(), Some(2 * 3 * 4 * 5 * 5));
        assert_eq!(builtin("wide").unwrap().size(), Some(5u128.pow(30)));
        let huge = Space {
            name: "huge".into(),
            decisions: (0..200).map(|i| Decision { name: i.to_string(), choices: vec!["a".into(), "b".into()] }).collect(),
        };
        assert_eq!(huge.size(), None);
    }
}
