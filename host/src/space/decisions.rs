//! Decision spaces: any named categorical decisions, from a TOML file, for
//! models nasbox does not build itself (a transformer, a U-Net, a tabular
//! net trained by the user's own script through the `command` estimator).
//! Choices are numbers, strings or booleans; a genotype reads as a JSON
//! object `{"decision": choice, …}` in decision order, which is also what
//! the user's script receives.
//!
//! ```toml
//! name = "tabular-mlp"                        # optional; the file name otherwise
//! [decisions]                                 # in genotype order
//! layers = [1, 2, 3, 4]                       # a list of choices
//! activation = ["relu", "gelu", "silu"]
//! width = { low = 32, high = 256, steps = 4, scale = "log" }   # 32, 64, 128, 256
//! dropout = { low = 0.0, high = 0.3, steps = 4 }                # 0, 0.1, 0.2, 0.3
//! lr = { values = [1e-3, 3e-3, 1e-2] }        # the same as a list
//! ```
//!
//! A grid of `steps` values from `low` to `high` (both included) is linear,
//! or geometric with `scale = "log"`. Its values are integers when `low`
//! and `high` are written as integers, and otherwise rounded to 6
//! significant digits so that they read back as written.

use std::path::Path;

use serde_json::Value;

use super::{Decision, GenotypeError, Space};

/// The most choices one decision may have, and decisions one space may have
/// (a strategy sees them as lists; a larger space is a mistake in the file).
pub const MAX_CHOICES: usize = 10_000;
pub const MAX_DECISIONS: usize = 1_000;

/// A decision space read from a TOML file.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionSpec {
    pub name: String,
    /// Each decision's name and its choices, in genotype order.
    pub decisions: Vec<(String, Vec<Value>)>,
}

/// Whether a TOML document is a decision space (it has `[decisions]`)
/// rather than a chain space.
pub fn is_decision_space(text: &str) -> bool {
    toml::from_str::<toml::Table>(text).is_ok_and(|t| t.contains_key("decisions"))
}

impl DecisionSpec {
    pub fn from_toml(path: &Path) -> Result<DecisionSpec, GenotypeError> {
        let text = std::fs::read_to_string(path).map_err(|e| GenotypeError::Space(format!("{}: {e}", path.display())))?;
        DecisionSpec::from_toml_text(&text, path)
    }

    /// A decision space from the text of the file at `path` (whose stem
    /// names it when the text does not, and which its errors name).
    pub fn from_toml_text(text: &str, path: &Path) -> Result<DecisionSpec, GenotypeError> {
        let stem = path.file_stem().map_or("custom".into(), |s| s.to_string_lossy().into_owned());
        DecisionSpec::from_text(text, &stem).map_err(|why| GenotypeError::Space(format!("{}: {why}", path.display())))
    }

    /// Parses a decision space; `default_name` names it when the text does
    /// not. Errors name the key and the problem.
    pub fn from_text(text: &str, default_name: &str) -> Result<DecisionSpec, String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())?;
        if let Some(key) = table.keys().find(|k| *k != "name" && *k != "decisions") {
            return Err(format!("unknown key `{key}` (a decision space has `name` and `[decisions]`)"));
        }
        let name = match table.get("name") {
            None => default_name.to_string(),
            Some(toml::Value::String(s)) => s.clone(),
            Some(other) => return Err(format!("name = {other}: give a string")),
        };
        if name.trim().is_empty() || name.chars().any(|c| c == '/' || c == '\\' || c.is_control()) {
            return Err(format!("name = {name:?}: give a name without `/`, `\\` or control characters (it names run folders)"));
        }
        let Some(toml::Value::Table(entries)) = table.get("decisions") else {
            return Err("`decisions` must be a table: `[decisions]` then one `name = [choices]` line per decision".into());
        };
        if entries.is_empty() {
            return Err("[decisions] is empty: give at least one decision".into());
        }
        if entries.len() > MAX_DECISIONS {
            return Err(format!("[decisions] has {} decisions; at most {MAX_DECISIONS}", entries.len()));
        }
        let mut decisions = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            if key.trim().is_empty() || key.chars().any(char::is_control) {
                return Err(format!("decisions.{key:?}: give the decision a printable name"));
            }
            let choices = choices(value).map_err(|why| format!("decisions.{key}: {why}"))?;
            decisions.push((key.clone(), choices));
        }
        Ok(DecisionSpec { name, decisions })
    }

    /// The decisions a strategy sees: each choice as its text.
    pub fn space(&self) -> Space {
        Space {
            name: self.name.clone(),
            decisions: self.decisions.iter().map(|(name, choices)| Decision { name: name.clone(), choices: choices.iter().map(label).collect() }).collect(),
        }
    }

    /// Checks that `genotype` has one in-range choice per decision, without
    /// building the strategy's view of the space (this runs per trial).
    pub fn validate(&self, genotype: &[u32]) -> Result<(), GenotypeError> {
        if genotype.len() != self.decisions.len() {
            return Err(GenotypeError::WrongLength { got: genotype.len(), expected: self.decisions.len() });
        }
        match self.decisions.iter().zip(genotype).find(|((_, choices), &i)| i as usize >= choices.len()) {
            Some(((name, choices), &index)) => Err(GenotypeError::OutOfRange { decision: name.clone(), index, arity: choices.len() }),
            None => Ok(()),
        }
    }

    /// The genotype as a JSON object, keys in decision order.
    pub fn to_string(&self, genotype: &[u32]) -> String {
        let fields: Vec<String> =
            self.decisions.iter().zip(genotype).map(|((name, choices), &i)| format!("{}:{}", Value::String(name.clone()), choices[i as usize])).collect();
        format!("{{{}}}", fields.join(","))
    }

    /// The genotype as a JSON value (for the command estimator's trial file).
    pub fn to_json(&self, genotype: &[u32]) -> Value {
        serde_json::from_str(&self.to_string(genotype)).expect("the rendering is JSON")
    }

    /// Reads a JSON object `{decision: choice}` back into a genotype. Every
    /// decision must be there, with one of its choices (a number matches a
    /// number of the same value, so `0.10` reads as `0.1`).
    pub fn parse(&self, text: &str) -> Result<Vec<u32>, GenotypeError> {
        let notation = |why: String| GenotypeError::Notation(format!("`{text}`: {why}"));
        let value: Value = serde_json::from_str(text.trim()).map_err(|e| notation(format!("not a JSON object of decisions ({e})")))?;
        let Value::Object(object) = value else {
            return Err(notation("not a JSON object of decisions `{\"decision\": choice, …}`".into()));
        };
        if let Some(key) = object.keys().find(|k| !self.decisions.iter().any(|(name, _)| name == *k)) {
            return Err(notation(format!("`{key}` is not a decision of {}", self.name)));
        }
        self.decisions
            .iter()
            .map(|(name, choices)| {
                let given = object.get(name).ok_or_else(|| notation(format!("decision `{name}` is missing")))?;
                choices.iter().position(|c| same(c, given)).map(|i| i as u32).ok_or_else(|| {
                    notation(format!("{given} is not a choice of `{name}` (choices: {})", choices.iter().map(label).collect::<Vec<_>>().join(", ")))
                })
            })
            .collect()
    }
}

/// A choice as a strategy and a reader see it: strings bare, numbers and
/// booleans as JSON writes them.
pub fn label(choice: &Value) -> String {
    match choice {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// The choices of one decision: a list, `{ values = [...] }`, or a grid.
fn choices(value: &toml::Value) -> Result<Vec<Value>, String> {
    let list = match value {
        toml::Value::Array(items) => items.iter().map(choice).collect::<Result<Vec<_>, _>>()?,
        toml::Value::Table(t) if t.contains_key("values") => {
            if let Some(k) = t.keys().find(|k| *k != "values") {
                return Err(format!("`{k}` does not go with `values`"));
            }
            match &t["values"] {
                toml::Value::Array(items) => items.iter().map(choice).collect::<Result<Vec<_>, _>>()?,
                other => return Err(format!("values = {other}: give a list")),
            }
        }
        toml::Value::Table(t) => grid(t)?,
        other => return Err(format!("{other} is not a list of choices, `{{ values = [...] }}` or a grid `{{ low, high, steps, scale }}`")),
    };
    if list.is_empty() {
        return Err("no choices: give at least one".into());
    }
    if list.len() > MAX_CHOICES {
        return Err(format!("{} choices; at most {MAX_CHOICES}", list.len()));
    }
    if let Some((i, c)) = list.iter().enumerate().find(|(i, c)| list[..*i].iter().any(|d| same(d, c))) {
        return Err(format!("choice {} (number {}) is listed twice", label(c), i + 1));
    }
    Ok(list)
}

fn choice(value: &toml::Value) -> Result<Value, String> {
    match value {
        toml::Value::Integer(i) => Ok(Value::from(*i)),
        toml::Value::Float(f) if f.is_finite() => Ok(Value::from(*f)),
        toml::Value::Float(f) => Err(format!("choice {f} is not a finite number")),
        toml::Value::String(s) => Ok(Value::from(s.clone())),
        toml::Value::Boolean(b) => Ok(Value::from(*b)),
        other => Err(format!("choice {other} is not a number, a string or a boolean")),
    }
}

/// `{ low, high, steps, scale = "linear" | "log" }`.
fn grid(t: &toml::Table) -> Result<Vec<Value>, String> {
    if let Some(k) = t.keys().find(|k| !["low", "high", "steps", "scale"].contains(&k.as_str())) {
        return Err(format!("unknown key `{k}` in a grid (a grid has low, high, steps and scale)"));
    }
    let number = |key: &str| match t.get(key) {
        Some(toml::Value::Integer(i)) => Ok((*i as f64, true)),
        Some(toml::Value::Float(f)) if f.is_finite() => Ok((*f, false)),
        Some(other) => Err(format!("{key} = {other}: give a finite number")),
        None => Err(format!("a grid needs `{key}`")),
    };
    let (low, low_int) = number("low")?;
    let (high, high_int) = number("high")?;
    let steps = match t.get("steps") {
        Some(toml::Value::Integer(n)) if (1..=MAX_CHOICES as i64).contains(n) => *n as usize,
        Some(other) => return Err(format!("steps = {other}: give a whole number from 1 to {MAX_CHOICES}")),
        None => return Err("a grid needs `steps` (how many values from low to high)".into()),
    };
    let log = match t.get("scale") {
        None => false,
        Some(toml::Value::String(s)) if s == "linear" => false,
        Some(toml::Value::String(s)) if s == "log" => true,
        Some(other) => return Err(format!("scale = {other}: give \"linear\" or \"log\"")),
    };
    if high < low {
        return Err(format!("low = {low} is above high = {high}"));
    }
    if log && low <= 0.0 {
        return Err(format!("scale = \"log\" needs low > 0 (low = {low})"));
    }
    if steps == 1 && low != high {
        return Err(format!("steps = 1 but low ({low}) and high ({high}) differ: give at least 2 steps"));
    }
    let at = |k: usize| {
        if steps == 1 {
            return low;
        }
        let f = k as f64 / (steps - 1) as f64;
        if log {
            (low.ln() + f * (high.ln() - low.ln())).exp()
        } else {
            low + f * (high - low)
        }
    };
    let integers = low_int && high_int;
    let values: Vec<Value> = (0..steps)
        .map(|k| {
            let x = if k + 1 == steps { high } else { at(k) };
            if integers {
                Value::from(x.round() as i64)
            } else {
                Value::from(significant(x, 6))
            }
        })
        .collect();
    if integers {
        if let Some(w) = values.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("{steps} whole numbers from {low} to {high} repeat {} (use fewer steps, or write low or high as a float)", w[0]));
        }
    }
    Ok(values)
}

/// `x` rounded to `digits` significant digits.
fn significant(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let text = format!("{:.*e}", (digits - 1) as usize, x);
    text.parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
name = "tabular-mlp"
[decisions]
layers = [1, 2, 3, 4]
activation = ["relu", "gelu", "silu"]
width = { low = 32, high = 256, steps = 4, scale = "log" }
dropout = { low = 0.0, high = 0.3, steps = 4 }
lr = { values = [1e-3, 3e-3, 1e-2] }
bias = [true, false]
"#;

    #[test]
    fn lists_values_and_grids_read_in_file_order() {
        let s = DecisionSpec::from_text(EXAMPLE, "x").unwrap();
        assert_eq!(s.name, "tabular-mlp");
        let space = s.space();
        let names: Vec<&str> = space.decisions.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["layers", "activation", "width", "dropout", "lr", "bias"]);
        assert_eq!(space.decisions[2].choices, ["32", "64", "128", "256"]);
        assert_eq!(space.decisions[3].choices, ["0.0", "0.1", "0.2", "0.3"]);
        assert_eq!(space.decisions[4].choices, ["0.001", "0.003", "0.01"]);
        assert_eq!(space.decisions[5].choices, ["true", "false"]);
        assert_eq!(space.size(), Some(4 * 3 * 4 * 4 * 3 * 2));
    }

    #[test]
    fn log_grids_of_integers_stay_integers_and_floats_read_back_as_written() {
        let s = DecisionSpec::from_text(
            "[decisions]\nw = { low = 16, high = 256, steps = 5, scale = \"log\" }\nlr = { low = 1e-4, high = 1e-1, steps = 4, scale = \"log\" }\n",
            "g",
        )
        .unwrap();
        assert_eq!(s.space().decisions[0].choices, ["16", "32", "64", "128", "256"]);
        assert_eq!(s.space().decisions[1].choices, ["0.0001", "0.001", "0.01", "0.1"]);
        assert_eq!(s.name, "g");
    }

    #[test]
    fn genotypes_render_as_json_objects_in_decision_order_and_parse_back() {
        let s = DecisionSpec::from_text(EXAMPLE, "x").unwrap();
        let g = vec![1, 2, 3, 0, 2, 1];
        let text = s.to_string(&g);
        assert_eq!(text, r#"{"layers":2,"activation":"silu","width":256,"dropout":0.0,"lr":0.01,"bias":false}"#);
        assert_eq!(s.parse(&text).unwrap(), g);
        // Key order and number spelling do not matter.
        assert_eq!(s.parse(r#"{"bias":false,"lr":1e-2,"dropout":0,"width":256.0,"activation":"silu","layers":2}"#).unwrap(), g);
        assert_eq!(s.to_json(&g)["activation"], "silu");
    }

    #[test]
    fn genotypes_are_checked_against_each_decisions_choices() {
        let s = DecisionSpec::from_text(EXAMPLE, "x").unwrap();
        assert_eq!(s.validate(&[0, 0, 0, 0, 0, 0]), Ok(()));
        assert_eq!(s.validate(&[0, 0]), Err(GenotypeError::WrongLength { got: 2, expected: 6 }));
        assert_eq!(s.validate(&[0, 3, 0, 0, 0, 0]), Err(GenotypeError::OutOfRange { decision: "activation".into(), index: 3, arity: 3 }));
    }

    #[test]
    fn bad_genotype_text_names_the_problem() {
        let s = DecisionSpec::from_text(EXAMPLE, "x").unwrap();
        let e = |t: &str| s.parse(t).unwrap_err().to_string();
        assert!(e("[1,2]").contains("not a JSON object"), "{}", e("[1,2]"));
        assert!(e("{\"layers\":2}").contains("decision `activation` is missing"));
        assert!(e(r#"{"layers":5,"activation":"relu","width":32,"dropout":0,"lr":0.001,"bias":true}"#)
            .contains("5 is not a choice of `layers` (choices: 1, 2, 3, 4)"));
        assert!(e(r#"{"depth":1}"#).contains("`depth` is not a decision of tabular-mlp"));
    }

    #[test]
    fn bad_files_name_the_key_and_the_problem() {
        let e = |t: &str| DecisionSpec::from_text(t, "x").unwrap_err();
        assert!(e("[decisions]\n").contains("[decisions] is empty"));
        assert!(e("decisions = 3\n").contains("`decisions` must be a table"));
        assert!(e("layers = 2\n[decisions]\na = [1]\n").contains("unknown key `layers`"));
        assert!(e("[decisions]\na = []\n").contains("decisions.a: no choices"));
        assert!(e("[decisions]\na = [1, 1.0]\n").contains("decisions.a: choice 1.0 (number 2) is listed twice"));
        assert!(e("[decisions]\na = [[1]]\n").contains("decisions.a: choice [1] is not a number"));
        assert!(e("[decisions]\na = { low = 1, high = 0, steps = 3 }\n").contains("decisions.a: low = 1 is above high = 0"));
        assert!(e("[decisions]\na = { low = 0, high = 1, steps = 3, scale = \"log\" }\n").contains("needs low > 0"));
        assert!(e("[decisions]\na = { low = 0, high = 1, steps = 0 }\n").contains("decisions.a: steps = 0"));
        assert!(e("[decisions]\na = { low = 0, high = 2, steps = 5 }\n").contains("repeat"));
        assert!(e("[decisions]\na = { low = 0, high = 2, step = 5 }\n").contains("unknown key `step`"));
        assert!(e("[decisions]\na = { high = 2, steps = 5 }\n").contains("a grid needs `low`"));
        assert!(e("[decisions]\na = { low = 0.0, high = 1.0, steps = 5, scale = \"exp\" }\n").contains("scale = \"exp\""));
        assert!(e("name = \"a/b\"\n[decisions]\na = [1]\n").contains("name = \"a/b\""));
        assert!(e("[decisions]\na = \"x\"\n").contains("decisions.a: \"x\" is not a list of choices"));
    }

    #[test]
    fn only_files_with_decisions_are_decision_spaces() {
        assert!(is_decision_space(EXAMPLE));
        assert!(!is_decision_space("layers = 4\nops = [\"conv_3x3\"]\nwidths = [8]\n"));
    }
}
