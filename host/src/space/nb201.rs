//! The NAS-Bench-201 cell (Dong & Yang, ICLR 2020) as decisions: a cell of
//! 4 nodes where every node j takes the sum of an operation on each earlier
//! node i, so 6 edges with 5 operations each, 15,625 cells.
//!
//! Architecture strings use NAS-Bench-201's own format, so results can be
//! looked up in it: `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`, where `op~i` is
//! the operation on the edge from node i, grouped by target node 1, 2, 3.

use super::{Decision, GenotypeError, Space};

/// The operations, in NAS-Bench-201's order.
pub const OPS: [&str; 5] = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"];

/// The edges (target, source) in genotype order.
pub const EDGES: [(usize, usize); 6] = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)];

/// The space's decisions: one per edge, named `target<-source`.
pub fn space() -> Space {
    Space {
        name: "nb201".into(),
        decisions: EDGES.iter().map(|(t, s)| Decision::categorical(format!("{t}<-{s}"), OPS.iter().map(|o| o.to_string()).collect())).collect(),
    }
}

/// The NAS-Bench-201 string of a genotype (assumed valid for the space).
pub fn to_string(genotype: &[u32]) -> String {
    let mut out = String::new();
    for target in 1..=3 {
        if target > 1 {
            out.push('+');
        }
        out.push('|');
        for (k, &(t, s)) in EDGES.iter().enumerate() {
            if t == target {
                out.push_str(&format!("{}~{s}|", OPS[genotype[k] as usize]));
            }
        }
    }
    out
}

/// Parses a NAS-Bench-201 string back into a genotype.
pub fn parse(text: &str) -> Result<Vec<u32>, GenotypeError> {
    parse_text(text).map_err(GenotypeError::Notation)
}

fn parse_text(text: &str) -> Result<Vec<u32>, String> {
    let nodes: Vec<&str> = text.trim().split('+').collect();
    if nodes.len() != 3 {
        return Err(format!("`{text}`: expected 3 node groups separated by `+`, found {}", nodes.len()));
    }
    let mut genotype = vec![u32::MAX; EDGES.len()];
    for (n, group) in nodes.iter().enumerate() {
        let target = n + 1;
        let inner =
            group.strip_prefix('|').and_then(|g| g.strip_suffix('|')).ok_or_else(|| format!("`{text}`: node group `{group}` must start and end with `|`"))?;
        let edges: Vec<&str> = inner.split('|').collect();
        if edges.len() != target {
            return Err(format!("`{text}`: node {target} needs {target} inputs, found {}", edges.len()));
        }
        for e in edges {
            let (op, source) = e.split_once('~').ok_or_else(|| format!("`{text}`: `{e}` is not op~source"))?;
            let source: usize = source.parse().map_err(|_| format!("`{text}`: bad source node in `{e}`"))?;
            let op = OPS.iter().position(|o| *o == op).ok_or_else(|| format!("`{text}`: unknown operation `{op}` (known: {})", OPS.join(", ")))?;
            let k = EDGES
                .iter()
                .position(|&(t, s)| t == target && s == source)
                .ok_or_else(|| format!("`{text}`: node {target} has no input from node {source}"))?;
            if genotype[k] != u32::MAX {
                return Err(format!("`{text}`: edge {target}<-{source} given twice"));
            }
            genotype[k] = op as u32;
        }
    }
    Ok(genotype)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_in_nas_bench_201_format() {
        let s = "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|";
        let g = parse(s).unwrap();
        assert_eq!(g, vec![3, 1, 0, 4, 2, 3]);
        assert_eq!(to_string(&g), s);
        assert_eq!(space().size(), Some(15_625));
    }

    #[test]
    fn malformed_strings_say_what_is_wrong() {
        assert!(parse("|none~0|").unwrap_err().to_string().contains("3 node groups"));
        assert!(parse("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|").unwrap_err().to_string().contains("unknown operation `conv`"));
        assert!(parse("|none~0|+|none~0|+|none~0|none~1|none~2|").unwrap_err().to_string().contains("node 2 needs 2 inputs"));
        assert!(parse("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|").unwrap_err().to_string().contains("no input from node 1"));
    }
}

/// Bad architecture strings, fuzzed (issue 13).
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::fuzz::{apply_text, config, edits};
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;

    /// Cases per run (docs/src/reference/bad-input.md).
    pub const MUTATED: u32 = 512;
    pub const ASSEMBLED: u32 = 256;

    /// Parsed: a genotype of the space that prints back to itself; refused:
    /// the message quotes the string.
    fn parses_back_or_quotes(text: &str) -> Result<(), TestCaseError> {
        match parse(text) {
            Ok(g) => {
                prop_assert!(space().validate(&g).is_ok(), "{text} → {g:?}");
                prop_assert_eq!(parse(&to_string(&g)).unwrap(), g);
            }
            Err(e) => prop_assert!(e.to_string().contains(&format!("`{text}`")), "{e}"),
        }
        Ok(())
    }

    /// Node groups assembled from the notation's pieces, right and wrong:
    /// unknown operations, sources that are not numbers or not earlier
    /// nodes, edges missing, repeated or in extra groups.
    fn assembled() -> impl Strategy<Value = String> {
        let op = prop_oneof![4 => prop::sample::select(OPS.to_vec()), 1 => prop::sample::select(vec!["conv", "", "NONE", "skip"])];
        let source = prop_oneof![4 => (0u32..4).prop_map(|s| s.to_string()), 1 => prop::sample::select(vec!["", "-1", "x", "99999999999999999999"]).prop_map(String::from)];
        let edge = (op, source).prop_map(|(o, s)| format!("{o}~{s}"));
        let group = prop::collection::vec(edge, 0..5).prop_map(|e| format!("|{}|", e.join("|")));
        prop::collection::vec(group, 1..5).prop_map(|g| g.join("+"))
    }

    proptest! {
        #![proptest_config(config(MUTATED))]
        #[test]
        fn mutated_strings_parse_back_or_say_what_is_wrong(g in prop::collection::vec(0u32..5, 6), edits in edits()) {
            parses_back_or_quotes(&apply_text(&to_string(&g), &edits))?;
        }
    }

    proptest! {
        #![proptest_config(config(ASSEMBLED))]
        #[test]
        fn assembled_strings_parse_back_or_say_what_is_wrong(text in assembled()) {
            parses_back_or_quotes(&text)?;
        }
    }
}
