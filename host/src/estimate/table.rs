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
use crate::space::{GenotypeError, NetworkSpace};

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
    pub fn load(path: &Path, space: &NetworkSpace) -> Result<Table, GenotypeError> {
        let err = |line: usize, why: String| GenotypeError::Space(format!("{}:{line}: {why}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|e| GenotypeError::Space(format!("{}: {e}", path.display())))?;
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let (_, first) = lines.next().ok_or_else(|| err(1, "empty file: expected a header line".into()))?;
        let header: Header = serde_json::from_str(first)
            .map_err(|e| err(1, format!("bad header ({e}); expected {{\"nasbox_table\": 1, \"space\": \"...\"}}")))?;
        if header.nasbox_table != 1 {
            return Err(err(1, format!("table format {} is not supported (expected 1)", header.nasbox_table)));
        }
        if header.space != space.name() {
            return Err(err(1, format!("the table is for space `{}`, the search is in `{}`", header.space, space.name())));
        }
        let mut entries: HashMap<Vec<u32>, Vec<Entry>> = HashMap::new();
        for (i, line) in lines {
            let row: Row = serde_json::from_str(line).map_err(|e| err(i + 1, e.to_string()))?;
            let genotype = space.parse(&row.arch).map_err(|e| err(i + 1, e.to_string()))?;
            if !(row.fidelity > 0.0 && row.fidelity <= 1.0) {
                return Err(err(i + 1, format!("fidelity {} is not in (0, 1]", row.fidelity)));
            }
            if !(0.0..=1.0).contains(&row.valid_accuracy) || !row.cost.is_finite() || row.cost < 0.0 || row.test_accuracy.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
                return Err(err(i + 1, format!("valid_accuracy {} and test_accuracy {:?} must be in [0, 1] and cost {} a finite number of seconds", row.valid_accuracy, row.test_accuracy, row.cost)));
            }
            let list = entries.entry(genotype).or_default();
            if list.iter().any(|e| e.fidelity == row.fidelity) {
                return Err(err(i + 1, format!("`{}` at fidelity {} is listed twice", row.arch, row.fidelity)));
            }
            let mut metrics: Vec<(String, f64)> = row.metrics.into_iter().collect();
            metrics.sort_by(|a, b| a.0.cmp(&b.0));
            list.push(Entry { fidelity: row.fidelity, valid_accuracy: row.valid_accuracy, cost: row.cost, test_accuracy: row.test_accuracy, metrics });
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
        self.entries.values().filter_map(|list| list.last().filter(|e| e.fidelity >= 1.0 - 1e-12)).max_by(|a, b| a.valid_accuracy.total_cmp(&b.valid_accuracy))
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
        let t = Table::load(&write(dir.path(), &body), &NetworkSpace::Nb201).unwrap();
        let g = NetworkSpace::Nb201.parse(A).unwrap();
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
        let bad = |body: &str| Table::load(&write(dir.path(), body), &NetworkSpace::Nb201).unwrap_err().to_string();
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
