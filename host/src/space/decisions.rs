//! Decision spaces: any named decisions, from a TOML file, for models
//! nasbox does not build itself (a transformer, a U-Net, a tabular net
//! trained by the user's own script through the `command` estimator).
//! Choices are numbers, strings or booleans; a genotype reads as a JSON
//! object `{"decision": choice, …}` of its active decisions in decision
//! order, which is also what the user's script receives.
//!
//! ```toml
//! name = "tabular-mlp"                        # optional; the file name otherwise
//! [decisions]                                 # in genotype order
//! layers = [1, 2, 3, 4]                       # numbers: ordered
//! activation = ["relu", "gelu", "silu"]       # names: categorical
//! width = { low = 32, high = 256, steps = 4, scale = "log" }   # a grid: 32, 64, 128, 256
//! dropout = { low = 0.0, high = 0.3, steps = 4 }                # 0, 0.1, 0.2, 0.3
//! lr = { low = 1e-5, high = 1e-1, scale = "log" }               # continuous
//! depth = { low = 1, high = 12 }                                # every whole number
//! optimizer = ["sgd", "adam"]
//! momentum = { low = 0.5, high = 0.99, when = { optimizer = "sgd" } }   # conditional
//! seed = { values = [3, 1, 2], ordered = false }                # numbers, but unordered
//! ```
//!
//! Kinds: a list of numbers, a grid and a range are ordered (strategies of
//! contract 0.1.2 put kernels on their values and take local steps);
//! strings, booleans and mixed lists are categorical; `ordered = false`
//! makes numbers categorical. A grid of `steps` values from `low` to `high`
//! (both included) is linear, or geometric with `scale = "log"`; its values
//! are integers when `low` and `high` are written as integers, and
//! otherwise rounded to 6 significant digits so that they read back as
//! written. Without `steps`, a range is continuous to the user: integers
//! give every whole number from `low` to `high`, and reals a continuous
//! range, for which the command receives a real number
//! and strategies model a real number, while the genotype holds one of
//! [`RESOLUTION`]` + 1` evenly spaced points (on the log with `scale =
//! "log"`), each rounded to 6 significant digits.
//!
//! Conditions: `when = { other = value }` (or a list of values, or
//! `{ min = …, max = … }` for an ordered decision) makes a decision active
//! only when every named decision is active and takes one of those values.
//! An inactive decision is absent from the genotype's text and JSON, and
//! genotypes that differ only in inactive decisions are one architecture.

use std::path::Path;

use serde_json::Value;

use super::shape::{Condition, Kind, Numbers};
use super::{Decision, GenotypeError, Space};

/// The most choices one decision may have, and decisions one space may have
/// (a strategy sees them as lists; a larger space is a mistake in the file).
pub const MAX_CHOICES: usize = 10_000;
pub const MAX_DECISIONS: usize = 1_000;
/// A continuous range is held as this many equal intervals (so a
/// learning rate from 1e-5 to 1e-1 steps by under 1% of its value).
pub const RESOLUTION: usize = 1000;

/// A decision space read from a TOML file.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionSpec {
    pub name: String,
    /// The decisions, in genotype order.
    pub decisions: Vec<Entry>,
}

/// One decision of a file: its typed choices, kind and conditions.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub choices: Vec<Value>,
    pub kind: Kind,
    pub conditions: Vec<Condition>,
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
        let mut whens = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            if key.trim().is_empty() || key.chars().any(char::is_control) {
                return Err(format!("decisions.{key:?}: give the decision a printable name"));
            }
            let (choices, kind, when) = entry(value).map_err(|why| format!("decisions.{key}: {why}"))?;
            decisions.push(Entry { name: key.clone(), choices, kind, conditions: vec![] });
            whens.push(when);
        }
        for (d, when) in whens.into_iter().enumerate() {
            if let Some(when) = when {
                let conditions = conditions(&decisions, d, &when).map_err(|why| format!("decisions.{}.when: {why}", decisions[d].name))?;
                decisions[d].conditions = conditions;
            }
        }
        let all: Vec<&[Condition]> = decisions.iter().map(|e| e.conditions.as_slice()).collect();
        if let Some(cycle) = super::shape::cycle(&all) {
            let names: Vec<&str> = cycle.iter().chain(cycle.first()).map(|&d| decisions[d].name.as_str()).collect();
            return Err(format!(
                "decisions.{}.when: the conditions form a cycle ({}): one of them must not depend on the others",
                names[0],
                names.join(" → needs ")
            ));
        }
        Ok(DecisionSpec { name, decisions })
    }

    /// The decisions a strategy sees: each choice as its text, with its
    /// kind and conditions.
    pub fn space(&self) -> Space {
        Space {
            name: self.name.clone(),
            decisions: self
                .decisions
                .iter()
                .map(|e| Decision {
                    name: e.name.clone(),
                    choices: e.choices.iter().map(label).collect(),
                    kind: e.kind.clone(),
                    conditions: e.conditions.clone(),
                })
                .collect(),
        }
    }

    /// Which decisions count in `genotype`.
    fn active(&self, genotype: &[u32]) -> Vec<bool> {
        let all: Vec<&[Condition]> = self.decisions.iter().map(|e| e.conditions.as_slice()).collect();
        super::shape::active(&all, genotype)
    }

    /// `genotype` with its inactive decisions at choice 0: two genotypes
    /// are the same architecture exactly when their canonical forms are
    /// equal. A genotype that is not in range is returned as it is, for
    /// [`DecisionSpec::validate`] to refuse.
    pub fn canonical(&self, genotype: &[u32]) -> Vec<u32> {
        if self.validate(genotype).is_err() || self.decisions.iter().all(|e| e.conditions.is_empty()) {
            return genotype.to_vec();
        }
        genotype.iter().zip(self.active(genotype)).map(|(&g, on)| if on { g } else { 0 }).collect()
    }

    /// Checks that `genotype` has one in-range choice per decision, without
    /// building the strategy's view of the space (this runs per trial).
    pub fn validate(&self, genotype: &[u32]) -> Result<(), GenotypeError> {
        if genotype.len() != self.decisions.len() {
            return Err(GenotypeError::WrongLength { got: genotype.len(), expected: self.decisions.len() });
        }
        match self.decisions.iter().zip(genotype).find(|(e, &i)| i as usize >= e.choices.len()) {
            Some((e, &index)) => Err(GenotypeError::OutOfRange { decision: e.name.clone(), index, arity: e.choices.len() }),
            None => Ok(()),
        }
    }

    /// The genotype as a JSON object of its active decisions, keys in
    /// decision order.
    pub fn to_string(&self, genotype: &[u32]) -> String {
        let active = self.active(genotype);
        let fields: Vec<String> = self
            .decisions
            .iter()
            .zip(genotype)
            .zip(active)
            .filter(|(_, on)| *on)
            .map(|((e, &i), _)| format!("{}:{}", Value::String(e.name.clone()), e.choices[i as usize]))
            .collect();
        format!("{{{}}}", fields.join(","))
    }

    /// The genotype as a JSON value (for the command estimator's trial file).
    pub fn to_json(&self, genotype: &[u32]) -> Value {
        serde_json::from_str(&self.to_string(genotype)).expect("the rendering is JSON")
    }

    /// Reads a JSON object `{decision: choice}` back into a genotype in
    /// canonical form. Every active decision must be there, with one of its
    /// choices (a number matches a number of the same value, so `0.10`
    /// reads as `0.1`); an inactive one may be left out, and is ignored if
    /// given. A continuous range takes any number within it, read as its
    /// nearest point.
    pub fn parse(&self, text: &str) -> Result<Vec<u32>, GenotypeError> {
        let notation = |why: String| GenotypeError::Notation(format!("`{text}`: {why}"));
        let value: Value = serde_json::from_str(text.trim()).map_err(|e| notation(format!("not a JSON object of decisions ({e})")))?;
        let Value::Object(object) = value else {
            return Err(notation("not a JSON object of decisions `{\"decision\": choice, …}`".into()));
        };
        if let Some(key) = object.keys().find(|k| !self.decisions.iter().any(|e| &e.name == *k)) {
            return Err(notation(format!("`{key}` is not a decision of {}", self.name)));
        }
        // Read what is given (missing decisions at 0 for now), then require
        // the active ones and zero the inactive ones.
        let mut genotype = Vec::with_capacity(self.decisions.len());
        for e in &self.decisions {
            let index = match object.get(&e.name) {
                None => 0,
                Some(given) => e.index_of(given).ok_or_else(|| notation(format!("{given} is not a choice of `{}` ({})", e.name, e.describe_choices())))?,
            };
            genotype.push(index);
        }
        let active = self.active(&genotype);
        for ((e, on), g) in self.decisions.iter().zip(&active).zip(genotype.iter_mut()) {
            if !on {
                *g = 0;
            } else if !object.contains_key(&e.name) {
                return Err(notation(format!("decision `{}` is missing", e.name)));
            }
        }
        Ok(genotype)
    }
}

impl Entry {
    /// The index of a given value among the choices.
    fn index_of(&self, given: &Value) -> Option<u32> {
        if let (Kind::Ordered(n), Some(x)) = (&self.kind, given.as_f64()) {
            if n.continuous && !n.integer {
                let (lo, hi) = (n.values[0], n.values[n.values.len() - 1]);
                if x < lo.min(hi) || x > lo.max(hi) {
                    return None;
                }
                let scale = |v: f64| if n.log { v.ln() } else { v };
                return (0..n.values.len())
                    .min_by(|&a, &b| (scale(n.values[a]) - scale(x)).abs().total_cmp(&(scale(n.values[b]) - scale(x)).abs()))
                    .map(|i| i as u32);
            }
        }
        self.choices.iter().position(|c| same(c, given)).map(|i| i as u32)
    }

    /// The choices, as an error lists them.
    fn describe_choices(&self) -> String {
        match &self.kind {
            Kind::Ordered(n) if n.continuous => format!("a number from {} to {}", label(&self.choices[0]), label(&self.choices[self.choices.len() - 1])),
            _ => format!("choices: {}", self.choices.iter().map(label).collect::<Vec<_>>().join(", ")),
        }
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
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => a.as_f64() == b.as_f64(),
        _ => a == b,
    }
}

/// One decision's choices, kind and (still unresolved) `when` table: a
/// list, `{ values = [...] }`, a grid, or a range.
fn entry(value: &toml::Value) -> Result<(Vec<Value>, Kind, Option<toml::Table>), String> {
    let (list, kind, when) = match value {
        toml::Value::Array(items) => {
            let list = items.iter().map(choice).collect::<Result<Vec<_>, _>>()?;
            let kind = list_kind(&list, None, false)?;
            (list, kind, None)
        }
        toml::Value::Table(t) => {
            let when = match t.get("when") {
                None => None,
                Some(toml::Value::Table(w)) if !w.is_empty() => Some(w.clone()),
                Some(other) => return Err(format!("when = {other}: give a table of decisions and values, e.g. `when = {{ optimizer = \"sgd\" }}`")),
            };
            let (list, kind) = if t.contains_key("values") { values(t)? } else { range(t)? };
            (list, kind, when)
        }
        other => {
            return Err(format!(
                "{other} is not a list of choices, `{{ values = [...] }}`, a grid `{{ low, high, steps, scale }}` or a range `{{ low, high }}`"
            ))
        }
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
    Ok((list, kind, when))
}

/// `{ values = [...], ordered = true|false, scale = "linear"|"log", when }`.
fn values(t: &toml::Table) -> Result<(Vec<Value>, Kind), String> {
    if let Some(k) = t.keys().find(|k| !["values", "ordered", "scale", "when"].contains(&k.as_str())) {
        return Err(format!("`{k}` does not go with `values` (it takes ordered, scale and when)"));
    }
    let list = match &t["values"] {
        toml::Value::Array(items) => items.iter().map(choice).collect::<Result<Vec<_>, _>>()?,
        other => return Err(format!("values = {other}: give a list")),
    };
    let ordered = match t.get("ordered") {
        None => None,
        Some(toml::Value::Boolean(b)) => Some(*b),
        Some(other) => return Err(format!("ordered = {other}: give true or false")),
    };
    let log = scale(t)?;
    let kind = list_kind(&list, ordered, log)?;
    Ok((list, kind))
}

/// The kind of a list of choices: ordered when every choice is a number
/// (unless `ordered = false`), categorical otherwise.
fn list_kind(list: &[Value], ordered: Option<bool>, log: bool) -> Result<Kind, String> {
    let numbers: Option<Vec<f64>> = list.iter().map(|c| if c.is_number() { c.as_f64() } else { None }).collect();
    match (numbers, ordered) {
        (_, Some(false)) if log => Err("scale = \"log\" needs ordered numbers (ordered = false makes them categorical)".into()),
        (_, Some(false)) => Ok(Kind::Categorical),
        (Some(values), _) => {
            if log && values.iter().any(|&v| v <= 0.0) {
                return Err("scale = \"log\" needs every value above 0".into());
            }
            let integer = list.iter().all(|c| c.is_i64() || c.is_u64());
            Ok(Kind::Ordered(Numbers { values, integer, log, continuous: false }))
        }
        (None, Some(true)) => Err("ordered = true needs every choice to be a number".into()),
        (None, None) if log => Err("scale = \"log\" needs every choice to be a number".into()),
        (None, None) => Ok(Kind::Categorical),
    }
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

/// `scale = "linear" | "log"`: whether it is log.
fn scale(t: &toml::Table) -> Result<bool, String> {
    match t.get("scale") {
        None => Ok(false),
        Some(toml::Value::String(s)) if s == "linear" => Ok(false),
        Some(toml::Value::String(s)) if s == "log" => Ok(true),
        Some(other) => Err(format!("scale = {other}: give \"linear\" or \"log\"")),
    }
}

/// `{ low, high, steps, scale }`: a grid of `steps` values; without
/// `steps`, every whole number (integer bounds) or a continuous range.
fn range(t: &toml::Table) -> Result<(Vec<Value>, Kind), String> {
    if let Some(k) = t.keys().find(|k| !["low", "high", "steps", "scale", "when"].contains(&k.as_str())) {
        return Err(format!("unknown key `{k}` in a range (a range has low, high, and optionally steps, scale and when)"));
    }
    let number = |key: &str| match t.get(key) {
        Some(toml::Value::Integer(i)) => Ok((*i as f64, true)),
        Some(toml::Value::Float(f)) if f.is_finite() => Ok((*f, false)),
        Some(other) => Err(format!("{key} = {other}: give a finite number")),
        None => Err(format!("a range needs `{key}`")),
    };
    let (low, low_int) = number("low")?;
    let (high, high_int) = number("high")?;
    let log = scale(t)?;
    if high < low {
        return Err(format!("low = {low} is above high = {high}"));
    }
    if log && low <= 0.0 {
        return Err(format!("scale = \"log\" needs low > 0 (low = {low})"));
    }
    let integers = low_int && high_int;
    let (steps, continuous) = match t.get("steps") {
        Some(toml::Value::Integer(n)) if (1..=MAX_CHOICES as i64).contains(n) => (*n as usize, false),
        Some(other) => return Err(format!("steps = {other}: give a whole number from 1 to {MAX_CHOICES}")),
        None if low == high => return Err(format!("low and high are both {low}: a range needs two different ends")),
        None if integers => {
            let count = high - low + 1.0;
            if count > MAX_CHOICES as f64 {
                return Err(format!("{count} whole numbers from {low} to {high}; at most {MAX_CHOICES} (give `steps` for a grid, or write low or high as a float for a continuous range)"));
            }
            (count as usize, true)
        }
        None => (RESOLUTION + 1, true),
    };
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
    if let Some(w) = values.windows(2).find(|w| w[0] == w[1]) {
        return Err(if continuous {
            format!("the range from {low} to {high} is too narrow for 6 significant digits (it repeats {}): widen it or give `steps`", w[0])
        } else if integers {
            format!("{steps} whole numbers from {low} to {high} repeat {} (use fewer steps, or write low or high as a float)", w[0])
        } else {
            format!("{steps} values from {low} to {high} repeat {} at 6 significant digits (use fewer steps)", w[0])
        });
    }
    let numbers = values.iter().map(|v| v.as_f64().expect("numbers")).collect();
    Ok((values, Kind::Ordered(Numbers { values: numbers, integer: integers, log, continuous })))
}

/// The conditions of decision `d` from its `when` table.
fn conditions(decisions: &[Entry], d: usize, when: &toml::Table) -> Result<Vec<Condition>, String> {
    let mut out = Vec::with_capacity(when.len());
    for (other, wanted) in when {
        let Some(p) = decisions.iter().position(|e| &e.name == other) else {
            let known: Vec<&str> = decisions.iter().map(|e| e.name.as_str()).collect();
            return Err(format!("`{other}` is not a decision of this space (decisions: {})", known.join(", ")));
        };
        if p == d {
            return Err(format!("`{other}` is this decision itself: the conditions form a cycle"));
        }
        let parent = &decisions[p];
        let problem = |why: String| format!("{other} = {wanted}: {why}");
        let choices: Vec<u32> = match wanted {
            toml::Value::Table(bounds) => {
                let Kind::Ordered(n) = &parent.kind else {
                    return Err(problem(format!("`min`/`max` need an ordered decision, and `{other}` is categorical: list its values instead")));
                };
                if let Some(k) = bounds.keys().find(|k| *k != "min" && *k != "max") {
                    return Err(problem(format!("unknown key `{k}` (give min and/or max)")));
                }
                let bound = |key: &str| match bounds.get(key) {
                    None => Ok(None),
                    Some(toml::Value::Integer(i)) => Ok(Some(*i as f64)),
                    Some(toml::Value::Float(f)) if f.is_finite() => Ok(Some(*f)),
                    Some(v) => Err(problem(format!("{key} = {v}: give a number, the type of `{other}`'s values"))),
                };
                let (min, max) = (bound("min")?, bound("max")?);
                if min.is_none() && max.is_none() {
                    return Err(problem("give min and/or max".into()));
                }
                (0..n.values.len() as u32).filter(|&i| min.is_none_or(|m| n.values[i as usize] >= m) && max.is_none_or(|m| n.values[i as usize] <= m)).collect()
            }
            toml::Value::Array(items) => {
                let mut out = vec![];
                for item in items {
                    out.push(choice_index(parent, item).map_err(problem)?);
                }
                out
            }
            single => vec![choice_index(parent, single).map_err(problem)?],
        };
        if choices.is_empty() {
            return Err(format!("{other} = {wanted}: no value of `{other}` meets it, so this decision could never be active"));
        }
        out.push(Condition { decision: p, choices });
    }
    Ok(out)
}

/// The index of `value` among `parent`'s choices, or why it is none of them.
fn choice_index(parent: &Entry, value: &toml::Value) -> Result<u32, String> {
    let v = choice(value)?;
    let type_of = |v: &Value| match v {
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        _ => "string",
    };
    if let Some(i) = parent.choices.iter().position(|c| same(c, &v)) {
        return Ok(i as u32);
    }
    if !parent.choices.iter().any(|c| type_of(c) == type_of(&v)) {
        return Err(format!("a {} where `{}` takes {}s", type_of(&v), parent.name, type_of(&parent.choices[0])));
    }
    Err(format!("{} is not a choice of `{}` ({})", label(&v), parent.name, parent.describe_choices()))
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
        assert!(e("[decisions]\na = { high = 2, steps = 5 }\n").contains("a range needs `low`"));
        assert!(e("[decisions]\na = { low = 0.0, high = 1.0, steps = 5, scale = \"exp\" }\n").contains("scale = \"exp\""));
        assert!(e("name = \"a/b\"\n[decisions]\na = [1]\n").contains("name = \"a/b\""));
        assert!(e("[decisions]\na = \"x\"\n").contains("decisions.a: \"x\" is not a list of choices"));
    }

    #[test]
    fn only_files_with_decisions_are_decision_spaces() {
        assert!(is_decision_space(EXAMPLE));
        assert!(!is_decision_space("layers = 4\nops = [\"conv_3x3\"]\nwidths = [8]\n"));
    }

    const MIXED: &str = r#"
[decisions]
optimizer = ["sgd", "adam"]
lr = { low = 1e-5, high = 1e-1, scale = "log" }
layers = { low = 1, high = 12 }
width = { low = 16, high = 128, steps = 4, scale = "log" }
seed = { values = [3, 1, 2], ordered = false }
flag = [true, false]
mixed = [1, "two"]
momentum = { low = 0.5, high = 0.99, when = { optimizer = "sgd" } }
deep = { values = [8, 16], when = { layers = { min = 10 } } }
"#;

    fn kind(s: &DecisionSpec, name: &str) -> Kind {
        s.decisions.iter().find(|e| e.name == name).unwrap().kind.clone()
    }

    #[test]
    fn numbers_are_ordered_names_categorical_and_ranges_continuous() {
        let s = DecisionSpec::from_text(MIXED, "m").unwrap();
        assert_eq!(kind(&s, "optimizer"), Kind::Categorical);
        assert_eq!(kind(&s, "seed"), Kind::Categorical, "ordered = false");
        assert_eq!(kind(&s, "flag"), Kind::Categorical);
        assert_eq!(kind(&s, "mixed"), Kind::Categorical);
        let Kind::Ordered(lr) = kind(&s, "lr") else { panic!() };
        assert!(lr.continuous && lr.log && !lr.integer);
        assert_eq!(lr.values.len(), RESOLUTION + 1);
        assert_eq!((lr.values[0], lr.values[RESOLUTION], lr.values[RESOLUTION / 2]), (1e-5, 1e-1, 1e-3));
        let Kind::Ordered(layers) = kind(&s, "layers") else { panic!() };
        assert!(layers.integer && !layers.log && layers.values == (1..=12).map(f64::from).collect::<Vec<_>>());
        let Kind::Ordered(width) = kind(&s, "width") else { panic!() };
        assert!(!width.continuous && width.log && width.integer && width.values == [16.0, 32.0, 64.0, 128.0]);
        assert!(matches!(DecisionSpec::from_text("[decisions]\nd = [0.3, 0.1]\n", "d").unwrap().decisions[0].kind, Kind::Ordered(_)));
        // Strategies see the kinds and conditions through the space.
        let space = s.space();
        assert_eq!(space.decisions[7].conditions, [Condition { decision: 0, choices: vec![0] }]);
        assert_eq!(space.decisions[8].conditions, [Condition { decision: 2, choices: vec![9, 10, 11] }]);
    }

    #[test]
    fn inactive_decisions_are_left_out_of_the_text_and_may_be_left_out_when_read() {
        let s = DecisionSpec::from_text(MIXED, "m").unwrap();
        // adam, lr 1e-3, 3 layers, width 32, seed 3, flag true, mixed 1, momentum (inactive), deep (inactive).
        let g = vec![1, 500, 2, 1, 0, 0, 0, 7, 1];
        let text = s.to_string(&g);
        assert_eq!(text, r#"{"optimizer":"adam","lr":0.001,"layers":3,"width":32,"seed":3,"flag":true,"mixed":1}"#);
        assert_eq!(s.canonical(&g), [1, 500, 2, 1, 0, 0, 0, 0, 0]);
        assert_eq!(s.parse(&text).unwrap(), s.canonical(&g));
        // An inactive decision given anyway is ignored; an active one is required.
        assert_eq!(s.parse(r#"{"optimizer":"adam","lr":0.001,"layers":3,"width":32,"seed":3,"flag":true,"mixed":1,"momentum":0.7}"#).unwrap(), s.canonical(&g));
        let e = s.parse(r#"{"optimizer":"sgd","lr":0.001,"layers":3,"width":32,"seed":3,"flag":true,"mixed":1}"#).unwrap_err().to_string();
        assert!(e.contains("decision `momentum` is missing"), "{e}");
        // A continuous range reads any number within it, as its nearest point.
        let sgd = s.parse(r#"{"optimizer":"sgd","lr":0.00123,"layers":11,"width":32,"seed":3,"flag":true,"mixed":1,"momentum":0.9,"deep":16}"#).unwrap();
        let read = s.decisions[1].choices[sgd[1] as usize].as_f64().unwrap();
        assert!((read / 0.00123 - 1.0).abs() < 0.005, "{read}");
        let e = s.parse(r#"{"optimizer":"adam","lr":0.5,"layers":3,"width":32,"seed":3,"flag":true,"mixed":1}"#).unwrap_err().to_string();
        assert!(e.contains("0.5 is not a choice of `lr` (a number from 0.00001 to 0.1)"), "{e}");
    }
}
