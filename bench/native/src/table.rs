//! NAS-Bench-201 as a table held in memory: every cell's validation and
//! test accuracy, looked up by genotype in the `nb201` space's order.

use std::collections::HashMap;
use std::path::Path;

use nasbox_sdk::{Decision, Genotype, Space};

/// NAS-Bench-201's operations and edges, in its architecture strings' order
/// (as nasbox's `nb201` space has them).
pub const OPS: [&str; 5] = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"];
pub const EDGES: [(usize, usize); 6] = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)];

/// Validation and test accuracy of every cell at full fidelity.
pub struct Table(pub HashMap<Genotype, (f64, f64)>);

impl Table {
    pub fn load(path: &Path) -> Result<Table, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let path = path.display();
        let mut cells = HashMap::new();
        for (n, line) in text.lines().enumerate().skip(1) {
            let bad = |why: &str| format!("{path}:{}: {why}", n + 1);
            let row: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(&e.to_string()))?;
            if row["fidelity"].as_f64() != Some(1.0) {
                continue;
            }
            let arch = row["arch"].as_str().ok_or_else(|| bad("no `arch`"))?;
            let genotype = parse(arch).ok_or_else(|| bad(&format!("`{arch}` is not a NAS-Bench-201 cell")))?;
            let valid = row["valid_accuracy"].as_f64().ok_or_else(|| bad("no `valid_accuracy`"))?;
            let test = row["test_accuracy"].as_f64().ok_or_else(|| bad("no `test_accuracy`"))?;
            cells.insert(genotype, (valid, test));
        }
        if cells.len() != 15_625 {
            return Err(format!("{path}: {} cells at fidelity 1, NAS-Bench-201 has 15625", cells.len()));
        }
        Ok(Table(cells))
    }
}

/// `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` → one choice per edge.
pub fn parse(arch: &str) -> Option<Genotype> {
    let ops: Vec<u32> = arch
        .split('|')
        .filter(|t| !t.is_empty() && *t != "+")
        .map(|t| t.split_once('~').and_then(|(op, _)| OPS.iter().position(|o| *o == op)).map(|i| i as u32))
        .collect::<Option<_>>()?;
    (ops.len() == EDGES.len()).then_some(ops)
}

/// The inverse of [`parse`], for the CSV.
pub fn arch(genotype: &Genotype) -> String {
    let mut s = String::from("|");
    for (k, ((to, from), op)) in EDGES.iter().zip(genotype).enumerate() {
        if k > 0 && EDGES[k - 1].0 != *to {
            s.push_str("+|");
        }
        s.push_str(&format!("{}~{from}|", OPS[*op as usize]));
    }
    s
}

/// The `nb201` space as strategies see it.
pub fn space() -> Space {
    Space {
        name: "nb201".into(),
        decisions: EDGES.iter().map(|(t, s)| Decision { name: format!("{t}<-{s}"), choices: OPS.iter().map(|o| o.to_string()).collect() }).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_parse_in_the_spaces_edge_order() {
        let arch = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|";
        assert_eq!(parse(arch), Some(vec![3, 2, 3, 1, 3, 0]));
        assert_eq!(space().decisions.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2"]);
        assert_eq!(super::arch(&vec![3, 2, 3, 1, 3, 0]), arch, "the CSV writes cells as the table does");
        assert_eq!(parse("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"), None);
        assert_eq!(parse("|none~0|+|none~0|none~1|"), None);
    }
}
