//! The DARTS / NASNet cell space (Zoph et al. 2018; Liu et al. 2019): a
//! normal and a reduction cell, each with 2 input nodes (the outputs of the
//! two previous cells) and 4 intermediate nodes. Intermediate node `k` sums
//! two operations, each applied to one earlier node; the cell's output
//! concatenates the 4 intermediate nodes.
//!
//! Architectures print in DARTS' `Genotype` notation, so genotypes from the
//! DARTS code base (and papers that reuse it) paste straight in:
//! `Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...], normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])`.

use super::{Decision, GenotypeError, Space};

/// The operations, in DARTS' `PRIMITIVES` order.
pub const OPS: [&str; 8] = ["none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"];

/// The two cell types, in genotype order.
pub const CELLS: [&str; 2] = ["normal", "reduce"];

/// Intermediate nodes per cell.
pub const NODES: usize = 4;

/// One edge of a cell: the operation and the node it reads (0 and 1 are
/// the cell's inputs, 2.. the intermediate nodes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub op: usize,
    pub input: usize,
}

/// Genotype layout: for each cell, for each node k, for each of its two
/// edges: the input (choices 0..=k+1), then the operation.
pub fn space() -> Space {
    let mut decisions = Vec::new();
    for cell in CELLS {
        for k in 0..NODES {
            for edge in ["a", "b"] {
                let node = k + 2;
                decisions.push(Decision::categorical(format!("{cell}.{node}{edge}.input"), (0..node).map(|i| i.to_string()).collect()));
                decisions.push(Decision::categorical(format!("{cell}.{node}{edge}.op"), OPS.iter().map(|o| o.to_string()).collect()));
            }
        }
    }
    Space { name: "darts".into(), decisions }
}

/// The edges of each cell: `[normal, reduce]`, 8 edges each, two per node.
pub fn cells(genotype: &[u32]) -> [Vec<Edge>; 2] {
    let per_cell = NODES * 2 * 2;
    let cell = |c: usize| genotype[c * per_cell..(c + 1) * per_cell].chunks(2).map(|pair| Edge { input: pair[0] as usize, op: pair[1] as usize }).collect();
    [cell(0), cell(1)]
}

/// Rejects genotypes that are in range but are not networks: a node whose
/// two operations are both `none` has no input.
pub fn check(genotype: &[u32]) -> Result<(), GenotypeError> {
    space().validate(genotype)?;
    for (name, edges) in CELLS.iter().zip(cells(genotype)) {
        for (k, pair) in edges.chunks(2).enumerate() {
            if pair.iter().all(|e| OPS[e.op] == "none") {
                return Err(GenotypeError::Invalid(format!("node {} of the {name} cell has no input: both of its operations are `none`", k + 2)));
            }
        }
    }
    Ok(())
}

/// The genotype in DARTS' notation (assumed in range).
pub fn to_string(genotype: &[u32]) -> String {
    let list = |edges: &[Edge]| edges.iter().map(|e| format!("('{}', {})", OPS[e.op], e.input)).collect::<Vec<_>>().join(", ");
    let [normal, reduce] = cells(genotype);
    format!("Genotype(normal=[{}], normal_concat=[2, 3, 4, 5], reduce=[{}], reduce_concat=[2, 3, 4, 5])", list(&normal), list(&reduce))
}

/// Parses DARTS' notation: `Genotype(normal=[(op, input), ...8], normal_concat=..., reduce=[...], reduce_concat=...)`.
/// The concat lists may be `[2, 3, 4, 5]` or `range(2, 6)`; this space
/// always concatenates all four intermediate nodes.
pub fn parse(text: &str) -> Result<Vec<u32>, GenotypeError> {
    let err = |why: String| GenotypeError::Notation(format!("`{}`: {why}", text.trim()));
    let body = text
        .trim()
        .strip_prefix("Genotype(")
        .and_then(|t| t.strip_suffix(')'))
        .ok_or_else(|| err("expected `Genotype(normal=[...], normal_concat=..., reduce=[...], reduce_concat=...)`".into()))?;
    let mut genotype = Vec::with_capacity(space().decisions.len());
    for cell in CELLS {
        let key = format!("{cell}=[");
        let start = body.find(&key).ok_or_else(|| err(format!("no `{cell}=[...]` list")))? + key.len();
        let end = start + body[start..].find(']').ok_or_else(|| err(format!("`{cell}` list is not closed")))?;
        let pairs = parse_pairs(&body[start..end]).map_err(|why| err(format!("{cell} cell: {why}")))?;
        if pairs.len() != 2 * NODES {
            return Err(err(format!("the {cell} cell needs {} (op, input) pairs, found {}", 2 * NODES, pairs.len())));
        }
        for (i, (op, input)) in pairs.into_iter().enumerate() {
            let node = i / 2 + 2;
            let op = OPS.iter().position(|o| *o == op).ok_or_else(|| err(format!("unknown operation `{op}` (known: {})", OPS.join(", "))))?;
            if input >= node {
                return Err(err(format!("{cell} cell: node {node} cannot read node {input} (only 0..{})", node - 1)));
            }
            genotype.extend([input as u32, op as u32]);
        }
        let concat_key = format!("{cell}_concat=");
        if let Some(at) = body.find(&concat_key) {
            let rest = &body[at + concat_key.len()..];
            let value = if rest.starts_with("range(") {
                &rest[..rest.find(')').map_or(rest.len(), |i| i + 1)]
            } else {
                &rest[..rest.find(']').map_or(rest.len(), |i| i + 1)]
            };
            let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            if compact != "[2,3,4,5]" && compact != "range(2,6)" {
                return Err(err(format!("{cell}_concat must be all intermediate nodes ([2, 3, 4, 5]), found `{value}`")));
            }
        }
    }
    check(&genotype)?;
    Ok(genotype)
}

/// `('op', 1), ("op", 0)` → pairs.
fn parse_pairs(list: &str) -> Result<Vec<(String, usize)>, String> {
    let mut pairs = Vec::new();
    let mut rest = list.trim();
    while !rest.is_empty() {
        let inner_end = rest.find(')').ok_or_else(|| format!("unclosed pair in `{list}`"))?;
        let pair = rest.strip_prefix('(').ok_or_else(|| format!("expected `(` at `{rest}`"))?;
        let pair = &pair[..inner_end - 1];
        let (op, input) = pair.split_once(',').ok_or_else(|| format!("`({pair})` is not (op, input)"))?;
        let op = op.trim().trim_matches(|c| c == '\'' || c == '"').to_string();
        let input = input.trim().parse().map_err(|_| format!("`{}` is not a node number", input.trim()))?;
        pairs.push((op, input));
        rest = rest[inner_end + 1..].trim_start().trim_start_matches(',').trim_start();
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DARTS (second order) as published in the DARTS repository's genotypes.py.
    const DARTS_V2: &str = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

    #[test]
    fn darts_v2_round_trips_in_darts_notation() {
        let g = parse(DARTS_V2).unwrap();
        assert_eq!(g.len(), 32);
        assert_eq!(to_string(&g), DARTS_V2);
        let [normal, _] = cells(&g);
        assert_eq!(normal[7], Edge { op: 6, input: 2 });
        // DARTS' search code prints range(2, 6) and double quotes also occur.
        let alt = DARTS_V2.replace("[2, 3, 4, 5]", "range(2, 6)").replace('\'', "\"");
        assert_eq!(parse(&alt).unwrap(), g);
    }

    #[test]
    fn every_sampled_genotype_round_trips() {
        let space = crate::space::SearchSpace::Darts;
        for g in space.sample(12345, 200).unwrap() {
            assert_eq!(parse(&to_string(&g)).unwrap(), g);
        }
        // In-range genotypes that are not networks are refused by check.
        let none_pair = [0u32, 0, 0, 0].iter().chain(&[0u32; 28]).copied().collect::<Vec<_>>();
        assert!(check(&none_pair).unwrap_err().to_string().contains("no input"));
    }

    #[test]
    fn a_node_without_inputs_is_rejected_with_the_reason() {
        let mut g = parse(DARTS_V2).unwrap();
        g[1] = 0; // normal node 2, edge a: none
        g[3] = 0; // normal node 2, edge b: none
        let e = check(&g).unwrap_err().to_string();
        assert!(e.contains("node 2 of the normal cell has no input"), "{e}");
        assert!(parse(&to_string(&g)).is_err());
    }

    #[test]
    fn malformed_text_says_what_is_wrong() {
        let e = |t: &str| parse(t).unwrap_err().to_string();
        assert!(e("normal=[]").contains("expected `Genotype("));
        assert!(e(&DARTS_V2.replace("dil_conv_3x3", "conv_9x9")).contains("unknown operation `conv_9x9`"));
        assert!(e(&DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)")).contains("node 5 cannot read node 5"));
        assert!(e(&DARTS_V2.replace("('dil_conv_3x3', 2)]", "]")).contains("needs 8"));
        assert!(e(&DARTS_V2.replacen("[2, 3, 4, 5]", "[4, 5]", 1)).contains("normal_concat"));
    }
}

/// Bad `Genotype(...)` strings, fuzzed (issue 13).
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::fuzz::{apply_text, config, edits};
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;

    /// Cases per run (docs/src/reference/bad-input.md).
    pub const MUTATED: u32 = 512;
    pub const ASSEMBLED: u32 = 256;

    /// Parsed: a network of the space that prints back to itself; refused:
    /// the message quotes the text, or is the reason it is no network.
    fn parses_back_or_says_why(text: &str) -> Result<(), TestCaseError> {
        match parse(text) {
            Ok(g) => {
                prop_assert!(check(&g).is_ok(), "{text} → {g:?}");
                prop_assert_eq!(parse(&to_string(&g)).unwrap(), g);
            }
            Err(e @ GenotypeError::Invalid(_)) => prop_assert!(e.to_string().contains("has no input"), "{e}"),
            Err(e) => prop_assert!(e.to_string().contains(&format!("`{}`", text.trim())), "{e}"),
        }
        Ok(())
    }

    /// `Genotype(...)` assembled from right and wrong pieces: unknown
    /// operations, inputs out of range or not numbers, pairs too few or
    /// too many, broken quotes and brackets, concat lists of every kind.
    fn assembled() -> impl Strategy<Value = String> {
        let op = prop_oneof![6 => prop::sample::select(OPS.to_vec()), 1 => prop::sample::select(vec!["conv_9x9", "", "Sep_Conv_3x3"])];
        let input = prop_oneof![6 => (0u32..6).prop_map(|s| s.to_string()), 1 => prop::sample::select(vec!["-1", "x", "", "1.5", "18446744073709551616"]).prop_map(String::from)];
        let quote = prop::sample::select(vec!["'", "\"", ""]);
        let pair = (op, input, quote).prop_map(|(o, i, q)| format!("({q}{o}{q}, {i})"));
        let cell = prop_oneof![6 => prop::collection::vec(pair.clone(), 8..=8), 1 => prop::collection::vec(pair, 0..11)].prop_map(|p| p.join(", "));
        let concat = prop::sample::select(vec!["[2, 3, 4, 5]", "range(2, 6)", "[2,3,4,5]", "[4, 5]", "range(2, 5)", "[2, 3, 4, 5", "range(2, 6"]);
        (cell.clone(), concat.clone(), cell, concat, any::<bool>()).prop_map(|(n, nc, r, rc, close)| {
            format!("Genotype(normal=[{n}], normal_concat={nc}, reduce=[{r}], reduce_concat={rc}{}", if close { ")" } else { "" })
        })
    }

    proptest! {
        #![proptest_config(config(MUTATED))]
        #[test]
        fn mutated_genotypes_parse_back_or_say_what_is_wrong(seed in any::<u64>(), edits in edits()) {
            let g = crate::space::SearchSpace::Darts.sample(seed, 1).unwrap().remove(0);
            parses_back_or_says_why(&apply_text(&to_string(&g), &edits))?;
        }
    }

    proptest! {
        #![proptest_config(config(ASSEMBLED))]
        #[test]
        fn assembled_genotypes_parse_back_or_say_what_is_wrong(text in assembled()) {
            parses_back_or_says_why(&text)?;
        }
    }
}
