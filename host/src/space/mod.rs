//! Search spaces as a strategy sees them: an ordered list of named
//! decisions, each categorical or ordered numbers ([`shape`]) and possibly
//! active only under conditions. A genotype picks one choice per decision.
//!
//! A run searches a [`SearchSpace`]: one whose genotypes are networks
//! nasbox builds — [`nb201`] (NAS-Bench-201's cell), [`darts`] (the
//! DARTS/NASNet normal and reduction cells), [`chain`] (chain-structured,
//! built in or from a TOML file) — or a user's [`decisions`] file, whose
//! genotypes only the user's own training command understands. Each maps a
//! genotype to decisions a strategy sees and to and from readable text; the
//! network spaces also map it (in `train`) to a network. The [`toy`] spaces
//! exercise strategies without any network.

pub mod chain;
pub mod darts;
pub mod decisions;
pub mod hp;
pub mod nb201;
pub mod shape;
pub mod toy;

use std::path::Path;

use thiserror::Error;

/// One decision: a name, its named choices, what they are, and when the
/// decision counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub name: String,
    pub choices: Vec<String>,
    /// Categorical, or ordered numbers (what strategies of contract 0.1.2
    /// see through `shape`).
    pub kind: shape::Kind,
    /// All must hold for the decision to be active; none: always active.
    pub conditions: Vec<shape::Condition>,
}

impl Decision {
    /// An unordered decision, always active.
    pub fn categorical(name: impl Into<String>, choices: Vec<String>) -> Decision {
        Decision { name: name.into(), choices, kind: shape::Kind::Categorical, conditions: vec![] }
    }

    /// Numbers, always active; `choices` are their texts, `values` the
    /// numbers by choice.
    pub fn ordered(name: impl Into<String>, choices: Vec<String>, values: Vec<f64>, log: bool) -> Decision {
        Decision { name: name.into(), choices, kind: shape::Kind::ordered(values, log), conditions: vec![] }
    }
}

/// A search space described by its decisions, in genotype order.
#[derive(Debug, Clone, PartialEq)]
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
    /// In range, but not a network (e.g. a DARTS node without inputs).
    #[error("not a valid architecture: {0}")]
    Invalid(String),
    /// Architecture text that does not parse in the space's notation.
    #[error("{0}")]
    Notation(String),
    /// The space itself could not be resolved or read.
    #[error("{0}")]
    Space(String),
}

/// The space a run searches.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchSpace {
    Nb201,
    Darts,
    Chain(chain::ChainSpec),
    /// Named decisions from a TOML file, with no network of nasbox's
    /// behind them: evaluated by a command (or a table).
    Decisions(decisions::DecisionSpec),
    /// A network space plus training decisions (`nb201+hp`, see [`hp`]).
    WithHp(Box<SearchSpace>),
}

impl SearchSpace {
    /// `nb201`, `darts`, `chain`, or the path of a TOML file: a decision
    /// space when it has `[decisions]`, a chain space otherwise; a network
    /// space with `+hp` for its training decisions too.
    pub fn resolve(spec: &str) -> Result<SearchSpace, GenotypeError> {
        if let Some(base) = spec.strip_suffix("+hp") {
            return match SearchSpace::resolve(base)? {
                SearchSpace::WithHp(_) => Err(GenotypeError::Space(format!("`{spec}`: add +hp once"))),
                SearchSpace::Decisions(d) => Err(GenotypeError::Space(format!(
                    "`{spec}`: {} is a decision space; put your training decisions into its [decisions] instead of +hp",
                    d.name
                ))),
                network => Ok(SearchSpace::WithHp(Box::new(network))),
            };
        }
        match spec {
            "nb201" => Ok(SearchSpace::Nb201),
            "darts" => Ok(SearchSpace::Darts),
            "chain" => Ok(SearchSpace::Chain(chain::ChainSpec::builtin())),
            path if path.ends_with(".toml") => {
                let file = Path::new(path);
                let text = std::fs::read_to_string(file).map_err(|e| GenotypeError::Space(format!("{path}: {e}")))?;
                // Read once: the file is parsed as the kind it is from this text.
                if decisions::is_decision_space(&text) {
                    Ok(SearchSpace::Decisions(decisions::DecisionSpec::from_toml_text(&text, file)?))
                } else {
                    Ok(SearchSpace::Chain(chain::ChainSpec::from_toml_text(&text, file)?))
                }
            }
            other => {
                Err(GenotypeError::Space(format!("unknown space `{other}` (use nb201, darts, chain, or a .toml file: a chain space or a decision space)")))
            }
        }
    }

    /// Whether nasbox can build its genotypes as networks (decision spaces
    /// are the user's to build).
    pub fn is_network(&self) -> bool {
        !matches!(self, SearchSpace::Decisions(_))
    }

    /// The error for asking a network of a space that has none.
    pub fn no_network(&self) -> GenotypeError {
        GenotypeError::Space(format!(
            "space `{}` is a decision space: nasbox has no network for it to train, score or export; evaluate it with your own script (--estimator command) or a table (--estimator table:FILE)",
            self.name()
        ))
    }

    /// The architecture as a JSON object `{decision: choice}`: what a
    /// training command receives. Decision spaces keep their numbers typed.
    pub fn to_json(&self, genotype: &[u32]) -> serde_json::Value {
        match self {
            SearchSpace::Decisions(d) => d.to_json(genotype),
            other => {
                let space = other.space();
                serde_json::Value::Object(
                    space.decisions.iter().zip(genotype).map(|(d, &i)| (d.name.clone(), serde_json::Value::from(d.choices[i as usize].clone()))).collect(),
                )
            }
        }
    }

    /// The genotype that stands for the same architecture as `genotype`
    /// with every inactive decision at choice 0 (only decision spaces have
    /// conditions; other genotypes come back as they are).
    pub fn canonical(&self, genotype: &[u32]) -> Vec<u32> {
        match self {
            SearchSpace::Decisions(d) => d.canonical(genotype),
            _ => genotype.to_vec(),
        }
    }

    pub fn name(&self) -> String {
        match self {
            SearchSpace::Nb201 => "nb201".into(),
            SearchSpace::Darts => "darts".into(),
            SearchSpace::Chain(c) => c.name.clone(),
            SearchSpace::Decisions(d) => d.name.clone(),
            SearchSpace::WithHp(s) => format!("{}+hp", s.name()),
        }
    }

    /// The decisions a strategy sees.
    pub fn space(&self) -> Space {
        match self {
            SearchSpace::Nb201 => nb201::space(),
            SearchSpace::Darts => darts::space(),
            SearchSpace::Chain(c) => c.space(),
            SearchSpace::Decisions(d) => d.space(),
            SearchSpace::WithHp(s) => {
                let mut space = s.space();
                space.name = self.name();
                space.decisions.extend(hp::decisions());
                space
            }
        }
    }

    /// Checks that a genotype is in range and is a network.
    pub fn check(&self, genotype: &[u32]) -> Result<(), GenotypeError> {
        match self {
            SearchSpace::Nb201 => nb201::space().validate(genotype),
            SearchSpace::Darts => darts::check(genotype),
            SearchSpace::Chain(c) => c.check(genotype),
            SearchSpace::Decisions(d) => d.validate(genotype),
            SearchSpace::WithHp(s) => {
                self.space().validate(genotype)?;
                s.check(self.network_genotype(genotype))
            }
        }
    }

    /// The architecture in the space's own notation (genotype checked first).
    pub fn to_string(&self, genotype: &[u32]) -> Result<String, GenotypeError> {
        self.check(genotype)?;
        Ok(match self {
            SearchSpace::Nb201 => nb201::to_string(genotype),
            SearchSpace::Darts => darts::to_string(genotype),
            SearchSpace::Chain(c) => c.to_string(genotype),
            SearchSpace::Decisions(d) => d.to_string(genotype),
            SearchSpace::WithHp(s) => {
                let recipe = self.recipe(genotype).expect("checked");
                format!("{} ; {}", s.to_string(self.network_genotype(genotype))?, recipe.to_text())
            }
        })
    }

    /// `n` random architectures, uniform over the decisions and resampled
    /// until valid (DARTS refuses nodes without inputs), the same for the
    /// same seed.
    pub fn sample(&self, seed: u64, n: usize) -> Result<Vec<Vec<u32>>, GenotypeError> {
        let arities = self.space().arities();
        let mut rng = crate::data::SplitMix(seed);
        let mut out = Vec::with_capacity(n);
        // Valid genotypes are most of every space here; the bound only
        // turns a space with (almost) none into an error instead of a hang.
        let mut tries = 0usize;
        while out.len() < n {
            if tries >= 1000 * n.max(1) {
                return Err(GenotypeError::Space(format!("{}: no valid architecture in {tries} random draws", self.name())));
            }
            tries += 1;
            let g: Vec<u32> = arities.iter().map(|&a| rng.below(a) as u32).collect();
            let g = self.canonical(&g);
            if self.check(&g).is_ok() {
                out.push(g);
            }
        }
        Ok(out)
    }

    /// Parses the space's notation into a checked genotype.
    pub fn parse(&self, text: &str) -> Result<Vec<u32>, GenotypeError> {
        let genotype = match self {
            SearchSpace::Nb201 => nb201::parse(text)?,
            SearchSpace::Darts => darts::parse(text)?,
            SearchSpace::Chain(c) => c.parse(text)?,
            SearchSpace::Decisions(d) => d.parse(text)?,
            SearchSpace::WithHp(s) => {
                let (arch, recipe) = hp::split_text(text)?;
                let mut genotype = s.parse(arch)?;
                genotype.extend(hp::parse(recipe)?);
                genotype
            }
        };
        self.check(&genotype)?;
        Ok(genotype)
    }

    /// The space of the networks: the space itself, or the one `+hp` extends.
    pub fn network(&self) -> &SearchSpace {
        match self {
            SearchSpace::WithHp(s) => s,
            other => other,
        }
    }

    /// Number of training decisions at the end of a genotype (0 without `+hp`).
    pub fn recipe_len(&self) -> usize {
        if matches!(self, SearchSpace::WithHp(_)) {
            hp::COUNT
        } else {
            0
        }
    }

    /// The architecture's part of a genotype (for [`SearchSpace::network`]).
    pub fn network_genotype<'g>(&self, genotype: &'g [u32]) -> &'g [u32] {
        &genotype[..genotype.len().saturating_sub(self.recipe_len())]
    }

    /// The training recipe a `+hp` genotype chose; `None` for other spaces
    /// or an hp part out of range.
    pub fn recipe(&self, genotype: &[u32]) -> Option<hp::Recipe> {
        let n = self.recipe_len();
        (n > 0 && genotype.len() >= n).then(|| hp::Recipe::decode(&genotype[genotype.len() - n..]).ok()).flatten()
    }
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

    /// A readable rendering: `decision=choice` pairs of the active
    /// decisions.
    pub fn describe(&self, genotype: &[u32]) -> String {
        let active = self.active(genotype);
        self.decisions
            .iter()
            .zip(genotype)
            .zip(&active)
            .filter(|(_, &on)| on)
            .map(|((d, &i), _)| format!("{}={}", d.name, d.choices.get(i as usize).map_or("?", String::as_str)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether any decision has conditions.
    pub fn is_conditional(&self) -> bool {
        self.decisions.iter().any(|d| !d.conditions.is_empty())
    }

    /// Which decisions count in `genotype` (see [`shape::active`]).
    pub fn active(&self, genotype: &[u32]) -> Vec<bool> {
        if !self.is_conditional() {
            return vec![true; self.decisions.len()];
        }
        let conditions: Vec<&[shape::Condition]> = self.decisions.iter().map(|d| d.conditions.as_slice()).collect();
        shape::active(&conditions, genotype)
    }
}

/// Looks up a built-in space by name.
pub fn builtin(name: &str) -> Option<Space> {
    match name {
        "nb201" | "darts" | "chain" | "nb201+hp" | "darts+hp" | "chain+hp" => Some(SearchSpace::resolve(name).ok()?.space()),
        _ => toy::get(name),
    }
}

/// Names of the built-in spaces, for help texts and errors.
pub fn builtin_names() -> &'static [&'static str] {
    &["toy", "wide", "nb201", "darts", "chain"]
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
    fn a_toml_file_with_decisions_is_a_decision_space_and_others_are_chains() {
        let dir = tempfile::tempdir().unwrap();
        let decisions = dir.path().join("mine.toml");
        std::fs::write(&decisions, "[decisions]\nlr = [0.1, 0.01]\nnorm = [\"batch\", \"layer\"]\n").unwrap();
        let s = SearchSpace::resolve(decisions.to_str().unwrap()).unwrap();
        assert!(matches!(s, SearchSpace::Decisions(_)) && !s.is_network());
        assert_eq!(s.name(), "mine");
        assert_eq!(s.to_string(&[1, 0]).unwrap(), r#"{"lr":0.01,"norm":"batch"}"#);
        assert_eq!(s.to_json(&[1, 0])["lr"], 0.01);
        assert!(s.no_network().to_string().contains("--estimator command"));
        let e = SearchSpace::resolve(&format!("{}+hp", decisions.display())).unwrap_err().to_string();
        assert!(e.contains("is a decision space; put your training decisions into its [decisions]"), "{e}");
        let chain = dir.path().join("chain.toml");
        std::fs::write(&chain, "layers = 2\nops = [\"conv_3x3\"]\nwidths = [8]\n").unwrap();
        let c = SearchSpace::resolve(chain.to_str().unwrap()).unwrap();
        assert!(matches!(c, SearchSpace::Chain(_)) && c.is_network());
        // Network spaces hand a command their decisions' names too.
        assert_eq!(SearchSpace::Nb201.to_json(&[0, 1, 2, 3, 4, 0])["1<-0"], "none");
        let e = SearchSpace::resolve(dir.path().join("gone.toml").to_str().unwrap()).unwrap_err().to_string();
        assert!(e.contains("gone.toml") && e.contains("No such file"), "{e}");
    }

    #[test]
    fn each_space_says_which_decisions_are_numbers() {
        let kind = |space: &Space, name: &str| space.decisions.iter().find(|d| d.name == name).unwrap_or_else(|| panic!("{name}")).kind.describe();
        // Cell operations stay categorical.
        assert!(builtin("nb201").unwrap().decisions.iter().all(|d| d.kind == shape::Kind::Categorical));
        assert!(builtin("darts").unwrap().decisions.iter().all(|d| d.kind == shape::Kind::Categorical));
        // The recipe's numbers are ordered, on a log scale where they span decades.
        let hp = builtin("nb201+hp").unwrap();
        assert_eq!(kind(&hp, "hp.lr"), "ordered real log");
        assert_eq!(kind(&hp, "hp.wd"), "ordered real");
        assert_eq!(kind(&hp, "hp.batch"), "ordered int log");
        assert_eq!(kind(&hp, "hp.smooth"), "ordered real");
        assert_eq!(kind(&hp, "hp.opt"), "categorical");
        // A chain's widths are numbers; its operations (kernel sizes included) and skips are not.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "layers = 3\nops = [\"conv_3x3\", \"conv_5x5\"]\nwidths = [16, 32, 64]\n").unwrap();
        let chain = SearchSpace::resolve(file.to_str().unwrap()).unwrap().space();
        assert_eq!(kind(&chain, "L0.width"), "ordered int log");
        assert_eq!(kind(&chain, "L0.op"), "categorical");
        assert!(hp.decisions.iter().chain(&chain.decisions).all(|d| d.conditions.is_empty()));
    }

    #[test]
    fn size_multiplies_arities_and_reports_overflow() {
        assert_eq!(builtin("toy").unwrap().size(), Some(2 * 3 * 4 * 5 * 5));
        assert_eq!(builtin("wide").unwrap().size(), Some(5u128.pow(30)));
        let huge = Space { name: "huge".into(), decisions: (0..200).map(|i| Decision::categorical(i.to_string(), vec!["a".into(), "b".into()])).collect() };
        assert_eq!(huge.size(), None);
    }
}
