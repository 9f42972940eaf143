//! Benchmark tables: precomputed results looked up instead of training,
//! so strategies can be compared over thousands of trials in seconds
//! (the NAS-Bench idea). The training time recorded in the table is the
//! trial's simulated cost.
//!
//! Format: JSON Lines. The first line is a header, every other line one
//! architecture at one fidelity:
//!
//! ```text
//! {"nasbox_table": 1, "space": "nb201", "source": "how the numbers were made"}
//! {"arch": "|nor_conv_3x3~0|+|...|", "fidelity": 1.0, "valid_accuracy": 0.9131, "cost": 1830.5, "metrics": {"params": 1073962}}
//! ```
//!
//! `arch` is in the space's notation; `fidelity` in (0, 1] (1 = the full
//! budget); `valid_accuracy` in [0, 1]; `cost` in seconds; `test_accuracy`
//! (optional, in [0, 1]) is never shown to strategies, only to reports of
//! what the found architecture is worth; `metrics` is optional. A proposal at fidelity f is answered by the entry with the
//! smallest fidelity ≥ f.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::Evaluation;
use crate::space::{GenotypeError, SearchSpace};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    nasbox_table: u32,
    space: String,
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    arch: String,
    fidelity: f64,
    valid_accuracy: f64,
    cost: f64,
    #[serde(default)]
    test_accuracy: Option<f64>,
    #[serde(default)]
    metrics: HashMap<String, f64>,
}

/// One table entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub fidelity: f64,
    pub valid_accuracy: f64,
    pub cost: f64,
    /// For reports only: never part of an evaluation.
    pub test_accuracy: Option<f64>,
    pub metrics: Vec<(String, f64)>,
}

/// A loaded table, keyed by genotype.
#[derive(Debug)]
pub struct Table {
    pub space: String,
    /// Per genotype, entries sorted by fidelity.
    entries: HashMap<Vec<u32>, Vec<Entry>>,
}

impl Table {
    /// Reads a table for `space`; every error names the file and line.
    pub fn load(path: &Path, space: &SearchSpace) -> Result<Table, GenotypeError> {
        let err = |line: usize, why: String| GenotypeError::Space(format!("{}:{line}: {why}", path.display()));
        let bytes = std::fs::read(path).map_err(|e| GenotypeError::Space(format!("{}: {e}", path.display())))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            err(line, format!("not UTF-8 text (byte {at} of the file)"))
        })?;
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim().is_empty());
        let (at, first) = lines.next().ok_or_else(|| err(1, "empty file: expected a header line".into()))?;
        let header: Header =
            typed(first, HEADER_FIELDS).map_err(|e| err(at, format!("bad header ({e}); expected {{\"nasbox_table\": 1, \"space\": \"...\"}}")))?;
        if header.nasbox_table != 1 {
            return Err(err(at, format!("table format {} is not supported (expected 1)", header.nasbox_table)));
        }
        if header.space != space.name() {
            return Err(err(at, format!("the table is for space `{}`, the search is in `{}`", header.space, space.name())));
        }
        let mut entries: HashMap<Vec<u32>, Vec<Entry>> = HashMap::new();
        for (n, line) in lines {
            let row: Row = typed(line, ROW_FIELDS).map_err(|e| err(n, e))?;
            let genotype = space.parse(&row.arch).map_err(|e| err(n, e.to_string()))?;
            if !(row.fidelity > 0.0 && row.fidelity <= 1.0) {
                return Err(err(n, format!("fidelity {} is not in (0, 1]", row.fidelity)));
            }
            if !(0.0..=1.0).contains(&row.valid_accuracy)
                || !row.cost.is_finite()
                || row.cost < 0.0
                || row.test_accuracy.is_some_and(|t| !(0.0..=1.0).contains(&t))
            {
                return Err(err(
                    n,
                    format!(
                        "valid_accuracy {} and test_accuracy {:?} must be in [0, 1] and cost {} a finite number of seconds",
                        row.valid_accuracy, row.test_accuracy, row.cost
                    ),
                ));
            }
            let list = entries.entry(genotype).or_default();
            if list.iter().any(|e| e.fidelity == row.fidelity) {
                return Err(err(n, format!("`{}` at fidelity {} is listed twice", row.arch, row.fidelity)));
            }
            let mut metrics: Vec<(String, f64)> = row.metrics.into_iter().collect();
            metrics.sort_by(|a, b| a.0.cmp(&b.0));
            list.push(Entry { fidelity: row.fidelity, valid_accuracy: row.valid_accuracy, cost: row.cost, test_accuracy: row.test_accuracy, metrics });
        }
        if entries.is_empty() {
            return Err(err(at, "the table has a header but no entries".into()));
        }
        for list in entries.values_mut() {
            list.sort_by(|a, b| a.fidelity.total_cmp(&b.fidelity));
        }
        Ok(Table { space: header.space, entries })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry answering `genotype` at `fidelity` (None = 1).
    pub fn lookup(&self, genotype: &[u32], fidelity: Option<f64>) -> Option<&Entry> {
        let f = fidelity.unwrap_or(1.0);
        self.entries.get(genotype)?.iter().find(|e| e.fidelity >= f - 1e-12)
    }

    /// The entry with the highest validation accuracy at full fidelity: what
    /// a perfect search would find (for regret).
    pub fn best(&self) -> Option<&Entry> {
        self.best_where(|_| true)
    }

    /// [`Table::best`] among the entries `keep` accepts (the feasible ones
    /// of a constrained search).
    pub fn best_where(&self, keep: impl Fn(&Entry) -> bool) -> Option<&Entry> {
        self.entries
            .values()
            .filter_map(|list| list.last().filter(|e| e.fidelity >= 1.0 - 1e-12 && keep(e)))
            .max_by(|a, b| a.valid_accuracy.total_cmp(&b.valid_accuracy))
    }

    /// Every architecture's full-fidelity entry, in no particular order.
    pub fn full(&self) -> impl Iterator<Item = (&Vec<u32>, &Entry)> {
        self.entries.iter().filter_map(|(g, list)| list.last().filter(|e| e.fidelity >= 1.0 - 1e-12).map(|e| (g, e)))
    }

    /// The names of the metrics the table reports, sorted.
    pub fn metric_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.entries.values().flatten().flat_map(|e| e.metrics.iter().map(|(k, _)| k.clone())).collect();
        names.sort();
        names.dedup();
        names
    }

    /// A trial answered from the table; an architecture the table lacks is
    /// a failed trial (the table is incomplete, the run goes on).
    pub fn evaluate(&self, genotype: &[u32], fidelity: Option<f64>) -> Evaluation {
        match self.lookup(genotype, fidelity) {
            Some(e) => Evaluation::ok(e.valid_accuracy, e.cost, e.metrics.clone()),
            None => Evaluation::failed(format!("not in the table at fidelity {}", fidelity.unwrap_or(1.0))),
        }
    }
}

/// What a field of a table line must hold.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    /// A string, or null for none.
    OptionalText,
    Number,
    /// A number, or null for none.
    OptionalNumber,
    /// An object of numbers.
    Numbers,
}

const HEADER_FIELDS: &[(&str, Kind)] = &[("nasbox_table", Kind::Number), ("space", Kind::Text), ("source", Kind::OptionalText)];
const ROW_FIELDS: &[(&str, Kind)] = &[
    ("arch", Kind::Text),
    ("fidelity", Kind::Number),
    ("valid_accuracy", Kind::Number),
    ("cost", Kind::Number),
    ("test_accuracy", Kind::OptionalNumber),
    ("metrics", Kind::Numbers),
];

/// Parses one line, saying which field is wrong where serde alone would
/// only say what type it expected (and at which column of which line: the
/// caller names the file's line).
fn typed<T: serde::de::DeserializeOwned>(line: &str, fields: &[(&str, Kind)]) -> Result<T, String> {
    let without_position = |e: serde_json::Error| {
        let text = e.to_string();
        let what = text.split(" at line ").next().unwrap_or(&text).to_string();
        if e.column() > 0 {
            format!("{what} at column {}", e.column())
        } else {
            what
        }
    };
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {}", without_position(e)))?;
    let object = value.as_object().ok_or_else(|| format!("expected a JSON object, found `{}`", short(&value)))?;
    for &(name, kind) in fields {
        let Some(v) = object.get(name) else { continue };
        let ok = match kind {
            Kind::Text => v.is_string(),
            Kind::OptionalText => v.is_string() || v.is_null(),
            Kind::Number => v.is_number(),
            Kind::OptionalNumber => v.is_number() || v.is_null(),
            Kind::Numbers => v.as_object().is_some_and(|m| m.values().all(serde_json::Value::is_number)),
        };
        if !ok {
            let want = match kind {
                Kind::Text => "a string",
                Kind::OptionalText => "a string or null",
                Kind::Number => "a number",
                Kind::OptionalNumber => "a number or null",
                Kind::Numbers => "an object of numbers, e.g. {\"params\": 1000}",
            };
            return Err(format!("`{name}` must be {want}, found `{}`", short(v)));
        }
    }
    serde_json::from_value(value).map_err(without_position)
}

/// A JSON value for an error message, cut to a readable length.
fn short(v: &serde_json::Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::journal::TrialStatus;

    fn write(dir: &Path, body: &str) -> std::path::PathBuf {
        let path = dir.join("t.jsonl");
        std::fs::write(&path, body).unwrap();
        path
    }

    const A: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";

    #[test]
    fn answers_with_the_smallest_fidelity_at_least_the_asked_one() {
        let dir = tempfile::tempdir().unwrap();
        let body = format!(
            "{{\"nasbox_table\": 1, \"space\": \"nb201\"}}\n{{\"arch\": \"{A}\", \"fidelity\": 0.25, \"valid_accuracy\": 0.5, \"cost\": 10}}\n{{\"arch\": \"{A}\", \"fidelity\": 1.0, \"valid_accuracy\": 0.9, \"cost\": 40, \"metrics\": {{\"params\": 5}}}}\n"
        );
        let t = Table::load(&write(dir.path(), &body), &SearchSpace::Nb201).unwrap();
        let g = SearchSpace::Nb201.parse(A).unwrap();
        assert_eq!(t.lookup(&g, Some(0.1)).unwrap().valid_accuracy, 0.5);
        assert_eq!(t.lookup(&g, Some(0.5)).unwrap().valid_accuracy, 0.9);
        let e = t.evaluate(&g, None);
        assert_eq!((e.objective, e.cost), (0.9, 40.0));
        assert_eq!(e.metrics, vec![("params".to_string(), 5.0)]);
        let missing = t.evaluate(&[0; 6], None);
        assert!(matches!(missing.status, TrialStatus::Failed(ref r) if r.contains("not in the table")));
    }

    #[test]
    fn bad_tables_name_the_file_line_and_problem() {
        let dir = tempfile::tempdir().unwrap();
        let bad = |body: &str| Table::load(&write(dir.path(), body), &SearchSpace::Nb201).unwrap_err().to_string();
        assert!(bad("").contains("t.jsonl:1: empty file"));
        assert!(bad("{\"nasbox_table\": 1, \"space\": \"darts\"}\n").contains("for space `darts`"));
        let h = "{\"nasbox_table\": 1, \"space\": \"nb201\"}\n";
        assert!(bad(&format!("{h}{{\"arch\": \"|x~0|\", \"fidelity\": 1, \"valid_accuracy\": 0.5, \"cost\": 1}}\n")).contains("t.jsonl:2:"));
        let e = bad(&format!("{h}{{\"arch\": \"{A}\", \"fidelity\": 2, \"valid_accuracy\": 0.5, \"cost\": 1}}\n"));
        assert!(e.contains("fidelity 2 is not in (0, 1]"), "{e}");
        let row = format!("{{\"arch\": \"{A}\", \"fidelity\": 1, \"valid_accuracy\": 0.5, \"cost\": 1}}\n");
        assert!(bad(&format!("{h}{row}{row}")).contains("t.jsonl:3:"));
        assert!(bad(&format!("{h}{{\"arch\": \"{A}\", \"fidelity\": 1, \"acc\": 0.5}}\n")).contains("unknown field"));
    }
}

/// Bad tables, fuzzed (issue 13): valid tables cut short, with bytes
/// flipped, inserted and deleted, and valid rows with one bad value.
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::fuzz::{apply, config, edits};
    use crate::space::nb201;
    use proptest::prelude::*;

    /// Cases per run (docs/src/reference/bad-input.md).
    pub const MUTATED: u32 = 256;
    pub const BAD_VALUES: u32 = 128;

    /// A valid nb201 table of these rows (a genotype listed again is left out).
    fn table(rows: &[(Vec<u32>, f64, f64)]) -> (String, Vec<Vec<u32>>) {
        let mut out = String::from("{\"nasbox_table\": 1, \"space\": \"nb201\", \"source\": \"fuzz\"}\n");
        let mut kept: Vec<Vec<u32>> = vec![];
        for (g, acc, cost) in rows {
            if kept.contains(g) {
                continue;
            }
            out.push_str(&format!(
                "{{\"arch\": \"{}\", \"fidelity\": 1.0, \"valid_accuracy\": {acc}, \"test_accuracy\": {acc}, \"cost\": {cost}, \"metrics\": {{\"params\": 1000}}}}\n",
                nb201::to_string(g)
            ));
            kept.push(g.clone());
        }
        (out, kept)
    }

    fn rows() -> impl Strategy<Value = Vec<(Vec<u32>, f64, f64)>> {
        prop::collection::vec((prop::collection::vec(0u32..5, 6), 0.0..=1.0f64, 0.0..1e4f64), 1..6)
    }

    /// `PATH:LINE: why` with LINE in 1..=lines+1 and a reason; the line.
    fn names_file_and_line(e: &str, path: &Path, lines: usize) -> usize {
        let rest = e.strip_prefix(&format!("{}:", path.display())).unwrap_or_else(|| panic!("does not start with the file: {e}"));
        let (line, why) = rest.split_once(": ").unwrap_or_else(|| panic!("no `LINE: ` after the file: {e}"));
        let line: usize = line.parse().unwrap_or_else(|_| panic!("no line number: {e}"));
        assert!((1..=lines + 1).contains(&line), "line {line} of {lines}: {e}");
        assert!(why.trim().len() > 3, "no reason: {e}");
        line
    }

    proptest! {
        #![proptest_config(config(MUTATED))]
        #[test]
        fn mutated_tables_load_or_name_the_file_and_line(rows in rows(), edits in edits()) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.jsonl");
            let body = apply(table(&rows).0.into_bytes(), &edits);
            std::fs::write(&path, &body).unwrap();
            match Table::load(&path, &SearchSpace::Nb201) {
                Ok(t) => {
                    // What a table promises the search: entries in range.
                    prop_assert!(!t.is_empty());
                    for e in t.entries.values().flatten() {
                        prop_assert!(e.fidelity > 0.0 && e.fidelity <= 1.0, "{e:?}");
                        prop_assert!((0.0..=1.0).contains(&e.valid_accuracy) && e.cost.is_finite() && e.cost >= 0.0, "{e:?}");
                    }
                }
                Err(e) => {
                    names_file_and_line(&e.to_string(), &path, body.split(|&b| b == b'\n').count());
                }
            }
        }
    }

    /// A field of a valid row and a value it must not hold.
    fn bad_value() -> impl Strategy<Value = (&'static str, serde_json::Value)> {
        use serde_json::json;
        prop_oneof![
            prop::sample::select(vec![json!(12), json!(null), json!("|none~0|"), json!("nonsense"), json!(["|none~0|"])]).prop_map(|v| ("arch", v)),
            prop::sample::select(vec![json!(0), json!(-0.5), json!(1.5), json!(1e300), json!("1"), json!(null), json!([])]).prop_map(|v| ("fidelity", v)),
            prop::sample::select(vec![json!(-0.01), json!(1.01), json!(1e308), json!("0.5"), json!(true), json!(null)]).prop_map(|v| ("valid_accuracy", v)),
            prop::sample::select(vec![json!(-1), json!(-1e-9), json!("10"), json!(null), json!({})]).prop_map(|v| ("cost", v)),
            prop::sample::select(vec![json!(2), json!(-1), json!("x"), json!([0.5])]).prop_map(|v| ("test_accuracy", v)),
            prop::sample::select(vec![json!({"params": "big"}), json!([1, 2]), json!(5), json!({"a": null})]).prop_map(|v| ("metrics", v)),
            Just(("acc", json!(0.5))),
            Just(("missing valid_accuracy", json!(null))),
        ]
    }

    proptest! {
        #![proptest_config(config(BAD_VALUES))]
        #[test]
        fn one_bad_value_is_named_with_its_line(rows in rows(), which in any::<prop::sample::Index>(), (field, value) in bad_value()) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.jsonl");
            let (text, kept) = table(&rows);
            let k = which.index(kept.len());
            let mut lines: Vec<String> = text.lines().map(String::from).collect();
            let mut row: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&lines[k + 1]).unwrap();
            match field.strip_prefix("missing ") {
                Some(f) => { row.remove(f); }
                None => { row.insert(field.to_string(), value.clone()); }
            }
            lines[k + 1] = serde_json::Value::Object(row).to_string();
            std::fs::write(&path, lines.join("\n")).unwrap();
            let e = Table::load(&path, &SearchSpace::Nb201).expect_err("a bad value is refused").to_string();
            prop_assert_eq!(names_file_and_line(&e, &path, lines.len()), k + 2, "{}", e);
            let name = field.trim_start_matches("missing ");
            let named = e.contains(name) || (name == "arch" && value.as_str().is_some_and(|a| e.contains(a)));
            prop_assert!(named, "{} = {} is not named: {}", field, value, e);
        }
    }

    #[test]
    fn lines_are_counted_from_the_top_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, "\n\n{\"nasbox_table\": 2, \"space\": \"nb201\"}\n").unwrap();
        let e = Table::load(&path, &SearchSpace::Nb201).unwrap_err().to_string();
        assert!(e.contains("t.jsonl:3: table format 2"), "{e}");
        let (text, _) = table(&[(vec![0, 1, 2, 3, 4, 0], 0.5, 1.0)]);
        let mut bytes = text.into_bytes();
        bytes.extend(b"{\"arch\": \"\xff\"}\n");
        std::fs::write(&path, &bytes).unwrap();
        let e = Table::load(&path, &SearchSpace::Nb201).unwrap_err().to_string();
        assert!(e.contains("t.jsonl:3: not UTF-8 text"), "{e}");
    }

    #[test]
    fn a_wrongly_typed_field_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let (text, _) = table(&[(vec![0, 1, 2, 3, 4, 0], 0.5, 1.0)]);
        let mut row: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
        row["cost"] = serde_json::json!("1");
        std::fs::write(&path, format!("{}\n{row}\n", text.lines().next().unwrap())).unwrap();
        let e = Table::load(&path, &SearchSpace::Nb201).unwrap_err().to_string();
        assert!(e.contains("t.jsonl:2: `cost` must be a number, found `\"1\"`"), "{e}");
        std::fs::write(&path, text.replace("1.0,", "1.0,,")).unwrap();
        let e = Table::load(&path, &SearchSpace::Nb201).unwrap_err().to_string();
        assert!(e.contains("t.jsonl:2: not JSON: ") && e.contains("at column") && !e.contains("line 1"), "{e}");
    }

    #[test]
    fn a_header_without_entries_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, "{\"nasbox_table\": 1, \"space\": \"nb201\"}\n\n").unwrap();
        let e = Table::load(&path, &SearchSpace::Nb201).unwrap_err().to_string();
        assert!(e.contains("t.jsonl:1: the table has a header but no entries"), "{e}");
    }
}
