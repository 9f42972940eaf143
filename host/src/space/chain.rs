//! Chain-structured spaces (Zoph & Le 2017; ENAS' macro space): a stem,
//! then L layers one after the other, each choosing an operation (and,
//! where the space offers several, a width), plus optional skip
//! connections from earlier layers that are added to the layer's input.
//! The feature map halves (and the widths double) before the layers listed
//! in `reduce_at`.
//!
//! The built-in `chain` space is ENAS' macro space at 6 layers; any other
//! chain comes from a TOML file (see [`ChainSpec::from_toml`]), for
//! problems that are not CIFAR-shaped.
//!
//! Notation: layers separated by ` | `; each is `op` or `op@width`, then
//! ` +j,k` for skips from layers j and k (0-based):
//! `conv_3x3 | sep_conv_5x5 | max_pool_3x3 +0 | conv_5x5 +0,2`.

use std::path::Path;

use serde::Deserialize;

use super::{Decision, GenotypeError, Space};

/// One operation a chain layer can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainOp {
    /// ReLU → k×k convolution → batch norm.
    Conv(i64),
    /// ReLU → k×k depthwise → 1×1 pointwise → batch norm.
    SepConv(i64),
    /// k×k max pooling (stride 1), then a 1×1 projection if widths differ.
    MaxPool(i64),
    /// k×k average pooling (stride 1), then a 1×1 projection if widths differ.
    AvgPool(i64),
    /// The input, projected by 1×1 if widths differ.
    Identity,
}

impl ChainOp {
    /// Parses `conv_KxK`, `sep_conv_KxK`, `max_pool_KxK`, `avg_pool_KxK`
    /// or `identity`, with odd K.
    pub fn parse(name: &str) -> Result<ChainOp, String> {
        if name == "identity" {
            return Ok(ChainOp::Identity);
        }
        let (kind, size) = name.rsplit_once('_').ok_or_else(|| unknown_op(name))?;
        let (a, b) = size.split_once('x').ok_or_else(|| unknown_op(name))?;
        let k: i64 = a.parse().map_err(|_| unknown_op(name))?;
        if a != b || k < 1 || k % 2 == 0 || k > 15 {
            return Err(format!("operation `{name}`: the kernel must be square and odd, between 1x1 and 15x15"));
        }
        match kind {
            "conv" => Ok(ChainOp::Conv(k)),
            "sep_conv" => Ok(ChainOp::SepConv(k)),
            "max_pool" => Ok(ChainOp::MaxPool(k)),
            "avg_pool" => Ok(ChainOp::AvgPool(k)),
            _ => Err(unknown_op(name)),
        }
    }

    pub fn name(&self) -> String {
        match self {
            ChainOp::Conv(k) => format!("conv_{k}x{k}"),
            ChainOp::SepConv(k) => format!("sep_conv_{k}x{k}"),
            ChainOp::MaxPool(k) => format!("max_pool_{k}x{k}"),
            ChainOp::AvgPool(k) => format!("avg_pool_{k}x{k}"),
            ChainOp::Identity => "identity".into(),
        }
    }
}

fn unknown_op(name: &str) -> String {
    format!("unknown operation `{name}` (use conv_KxK, sep_conv_KxK, max_pool_KxK, avg_pool_KxK or identity, K odd)")
}

/// The most channels any layer may have once the reductions have doubled
/// the widths.
pub const MAX_WIDTH: i64 = 1 << 16;

/// A chain space: what every layer may choose, and the fixed frame around.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainSpec {
    pub name: String,
    pub layers: usize,
    pub ops: Vec<ChainOp>,
    /// Width choices (output channels before any doubling); one entry
    /// means the width is fixed and not a decision.
    pub widths: Vec<i64>,
    /// Whether each layer may take skip connections from earlier layers.
    pub skips: bool,
    /// Layers (0-based) before which the feature map halves and the width
    /// doubles.
    pub reduce_at: Vec<usize>,
    /// Channels of the stem convolution.
    pub stem_channels: i64,
}

/// The TOML form of a chain space; every key is documented in docs/src/guide/spaces.md.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainToml {
    name: Option<String>,
    layers: usize,
    ops: Vec<String>,
    widths: Vec<i64>,
    #[serde(default = "yes")]
    skips: bool,
    #[serde(default)]
    reduce_at: Vec<usize>,
    stem_channels: Option<i64>,
}

fn yes() -> bool {
    true
}

/// A layer as a genotype describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub op: ChainOp,
    /// Output channels, after doubling at reductions.
    pub width: i64,
    /// Earlier layers whose outputs are added to this layer's input.
    pub skips: Vec<usize>,
    /// The feature map halves before this layer.
    pub reduce: bool,
}

impl ChainSpec {
    /// ENAS' macro operations at 6 layers, width 32, reductions before
    /// layers 2 and 4.
    pub fn builtin() -> ChainSpec {
        ChainSpec {
            name: "chain".into(),
            layers: 6,
            ops: ["conv_3x3", "conv_5x5", "sep_conv_3x3", "sep_conv_5x5", "max_pool_3x3", "avg_pool_3x3"]
                .iter()
                .map(|o| ChainOp::parse(o).expect("built-in ops parse"))
                .collect(),
            widths: vec![32],
            skips: true,
            reduce_at: vec![2, 4],
            stem_channels: 32,
        }
    }

    /// Reads a chain space from a TOML file:
    ///
    /// ```toml
    /// name = "small-mnist"            # optional; the file name otherwise
    /// layers = 4
    /// ops = ["conv_3x3", "sep_conv_5x5", "max_pool_3x3", "identity"]
    /// widths = [16, 32, 64]           # one entry: a fixed width
    /// skips = true                    # optional, default true
    /// reduce_at = [2]                 # optional, default none
    /// stem_channels = 16              # optional, default the first width
    /// ```
    pub fn from_toml(path: &Path) -> Result<ChainSpec, GenotypeError> {
        let text = std::fs::read_to_string(path).map_err(|e| GenotypeError::Space(format!("{}: {e}", path.display())))?;
        ChainSpec::from_toml_text(&text, path)
    }

    /// A chain space from the text of the file at `path` (which names it
    /// when the text does not, and its errors).
    pub fn from_toml_text(text: &str, path: &Path) -> Result<ChainSpec, GenotypeError> {
        let err = |why: String| GenotypeError::Space(format!("{}: {why}", path.display()));
        let t: ChainToml = toml::from_str(text).map_err(|e| err(e.to_string().trim_end().to_string()))?;
        let name = t.name.unwrap_or_else(|| path.file_stem().map_or("custom".into(), |s| s.to_string_lossy().into_owned()));
        if name.trim().is_empty() || name.chars().any(|c| c == '/' || c == '\\' || c.is_control()) {
            return Err(err(format!("name = {name:?}: give a name without `/`, `\\` or control characters (it names run folders)")));
        }
        if t.layers == 0 || t.layers > 64 {
            return Err(err(format!("layers = {} is not between 1 and 64", t.layers)));
        }
        if t.ops.is_empty() {
            return Err(err("ops is empty: give at least one operation".into()));
        }
        let ops = t.ops.iter().map(|o| ChainOp::parse(o)).collect::<Result<Vec<_>, _>>().map_err(err)?;
        if let Some(dup) = ops.iter().enumerate().find(|(i, o)| ops[..*i].contains(o)) {
            return Err(err(format!("operation `{}` is listed twice", dup.1.name())));
        }
        if t.widths.is_empty() || t.widths.iter().any(|&w| !(1..=4096).contains(&w)) {
            return Err(err(format!("widths = {:?}: give at least one width, each between 1 and 4096", t.widths)));
        }
        // An architecture names its widths by value: a repeated one would print
        // the same for two genotypes and parse back as the first.
        if let Some((_, w)) = t.widths.iter().enumerate().find(|(i, w)| t.widths[..*i].contains(w)) {
            return Err(err(format!("widths lists {w} twice")));
        }
        if let Some(&r) = t.reduce_at.iter().find(|&&r| r >= t.layers) {
            return Err(err(format!("reduce_at contains {r}, but layers are numbered 0..{}", t.layers - 1)));
        }
        if let Some((_, r)) = t.reduce_at.iter().enumerate().find(|(i, r)| t.reduce_at[..*i].contains(r)) {
            return Err(err(format!("reduce_at lists layer {r} twice")));
        }
        // Each reduction doubles the widths: keep the widest layer buildable
        // (and its width, and the doubling factor, far from overflowing).
        let widest = t.widths.iter().max().copied().unwrap_or(1);
        if t.reduce_at.len() > 16 || widest << t.reduce_at.len() > MAX_WIDTH {
            return Err(err(format!(
                "reduce_at has {} reductions, which double the widest layer ({widest}) to more than {MAX_WIDTH} channels",
                t.reduce_at.len()
            )));
        }
        let stem_channels = t.stem_channels.unwrap_or(t.widths[0]);
        if !(1..=4096).contains(&stem_channels) {
            return Err(err(format!("stem_channels = {stem_channels} is not between 1 and 4096")));
        }
        Ok(ChainSpec { name, layers: t.layers, ops, widths: t.widths, skips: t.skips, reduce_at: t.reduce_at, stem_channels })
    }

    /// Decisions per layer i: `L{i}.op`, then `L{i}.width` when there are
    /// several widths, then `L{i}.skip{j}` (no/yes) for each j < i-1
    /// (layer i-1 is the layer's input already).
    pub fn space(&self) -> Space {
        let mut decisions = Vec::new();
        for i in 0..self.layers {
            decisions.push(Decision::categorical(format!("L{i}.op"), self.ops.iter().map(ChainOp::name).collect()));
            if self.widths.len() > 1 {
                decisions.push(Decision::ordered(
                    format!("L{i}.width"),
                    self.widths.iter().map(|w| w.to_string()).collect(),
                    self.widths.iter().map(|&w| w as f64).collect(),
                    true,
                ));
            }
            if self.skips {
                for j in 0..i.saturating_sub(1) {
                    decisions.push(Decision::categorical(format!("L{i}.skip{j}"), vec!["no".into(), "yes".into()]));
                }
            }
        }
        Space { name: self.name.clone(), decisions }
    }

    /// The layers a genotype (assumed in range) describes.
    pub fn layers(&self, genotype: &[u32]) -> Vec<Layer> {
        let mut at = 0;
        let mut next = || {
            at += 1;
            genotype[at - 1] as usize
        };
        let mut doubling = 1;
        (0..self.layers)
            .map(|i| {
                let reduce = self.reduce_at.contains(&i);
                if reduce {
                    doubling *= 2;
                }
                let op = self.ops[next()];
                let width = if self.widths.len() > 1 { self.widths[next()] } else { self.widths[0] } * doubling;
                let skips = if self.skips { (0..i.saturating_sub(1)).filter(|_| next() == 1).collect() } else { vec![] };
                Layer { op, width, skips, reduce }
            })
            .collect()
    }

    /// Every in-range genotype is a network; this only checks the range.
    pub fn check(&self, genotype: &[u32]) -> Result<(), GenotypeError> {
        self.space().validate(genotype)
    }

    pub fn to_string(&self, genotype: &[u32]) -> String {
        let mut doubling = 1;
        self.layers(genotype)
            .iter()
            .map(|l| {
                if l.reduce {
                    doubling *= 2;
                }
                let mut s = l.op.name();
                if self.widths.len() > 1 {
                    s.push_str(&format!("@{}", l.width / doubling));
                }
                if !l.skips.is_empty() {
                    s.push_str(&format!(" +{}", l.skips.iter().map(|j| j.to_string()).collect::<Vec<_>>().join(",")));
                }
                s
            })
            .collect::<Vec<_>>()
            .join(" | ")
    }

    pub fn parse(&self, text: &str) -> Result<Vec<u32>, GenotypeError> {
        let err = |why: String| GenotypeError::Notation(format!("`{}`: {why}", text.trim()));
        let layers: Vec<&str> = text.split('|').map(str::trim).collect();
        if layers.len() != self.layers {
            return Err(err(format!("the {} space has {} layers, found {}", self.name, self.layers, layers.len())));
        }
        let mut genotype = Vec::new();
        for (i, layer) in layers.iter().enumerate() {
            let mut tokens = layer.split_whitespace();
            let head = tokens.next().ok_or_else(|| err(format!("layer {i} is empty")))?;
            let (op_name, width) = match head.split_once('@') {
                Some((o, w)) => (o, Some(w)),
                None => (head, None),
            };
            let op = ChainOp::parse(op_name).map_err(|e| err(format!("layer {i}: {e}")))?;
            let op = self.ops.iter().position(|o| *o == op).ok_or_else(|| {
                err(format!("layer {i}: `{op_name}` is not an operation of this space ({})", self.ops.iter().map(ChainOp::name).collect::<Vec<_>>().join(", ")))
            })?;
            genotype.push(op as u32);
            match (width, self.widths.len() > 1) {
                (Some(w), true) => {
                    let w: i64 = w.parse().map_err(|_| err(format!("layer {i}: width `{w}` is not a number")))?;
                    let k = self.widths.iter().position(|&x| x == w).ok_or_else(|| err(format!("layer {i}: width {w} is not one of {:?}", self.widths)))?;
                    genotype.push(k as u32);
                }
                (None, true) => return Err(err(format!("layer {i}: give the width as `{op_name}@W` (one of {:?})", self.widths))),
                (Some(w), false) if w.parse() != Ok(self.widths[0]) => {
                    return Err(err(format!("layer {i}: the width is fixed at {} in this space, found `{w}`", self.widths[0])))
                }
                _ => {}
            }
            let mut skips = vec![0u32; if self.skips { i.saturating_sub(1) } else { 0 }];
            if let Some(list) = tokens.next() {
                let list = list.strip_prefix('+').ok_or_else(|| err(format!("layer {i}: expected `+j,k` skips, found `{list}`")))?;
                for j in list.split(',') {
                    let j: usize = j.parse().map_err(|_| err(format!("layer {i}: skip `{j}` is not a layer number")))?;
                    // Layer i skips from layers 0..=i-2 (i-1 is its input).
                    if !self.skips || i < 2 || j > i - 2 {
                        let allowed = if self.skips && i >= 2 { format!("layers 0..={}", i - 2) } else { "no layer".into() };
                        return Err(err(format!("layer {i} cannot take a skip from layer {j} (it may skip from {allowed})")));
                    }
                    skips[j] = 1;
                }
            }
            if let Some(extra) = tokens.next() {
                return Err(err(format!("layer {i}: unexpected `{extra}`")));
            }
            genotype.extend(skips);
        }
        Ok(genotype)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(c: &ChainSpec, seed: u64) -> Vec<u32> {
        crate::space::SearchSpace::Chain(c.clone()).sample(seed, 1).unwrap().remove(0)
    }

    #[test]
    fn builtin_chain_round_trips_and_counts_like_enas() {
        let c = ChainSpec::builtin();
        let s = c.space();
        // 6 ops per layer, skips from all but the previous layer: 0+0+1+2+3+4.
        assert_eq!(s.size(), Some(6u128.pow(6) * 2u128.pow(10)));
        let text = "conv_3x3 | sep_conv_5x5 | max_pool_3x3 +0 | conv_5x5 +0,1 | avg_pool_3x3 | sep_conv_3x3 +2";
        let g = c.parse(text).unwrap();
        assert_eq!(c.to_string(&g), text);
        let layers = c.layers(&g);
        assert_eq!(layers[3].skips, vec![0, 1]);
        assert_eq!(layers.iter().map(|l| l.width).collect::<Vec<_>>(), vec![32, 32, 64, 64, 128, 128]);
        for seed in 0..100 {
            let g = sample(&c, seed);
            assert_eq!(c.parse(&c.to_string(&g)).unwrap(), g);
        }
    }

    #[test]
    fn toml_space_with_width_choices_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mnist-small.toml");
        std::fs::write(&path, "layers = 3\nops = [\"conv_3x3\", \"identity\", \"max_pool_5x5\"]\nwidths = [8, 16]\nreduce_at = [1]\n").unwrap();
        let c = ChainSpec::from_toml(&path).unwrap();
        assert_eq!(c.name, "mnist-small");
        assert_eq!(c.stem_channels, 8);
        let text = "conv_3x3@16 | identity@8 | max_pool_5x5@16 +0";
        let g = c.parse(text).unwrap();
        assert_eq!(c.to_string(&g), text);
        assert_eq!(c.layers(&g)[2].width, 32);
        for seed in 0..50 {
            let g = sample(&c, seed);
            assert_eq!(c.parse(&c.to_string(&g)).unwrap(), g);
        }
        assert!(c.parse("conv_3x3 | identity@8 | max_pool_5x5@16").unwrap_err().to_string().contains("give the width"));
        assert!(c.parse("conv_3x3@16 | identity@8 | max_pool_5x5@16 +1").unwrap_err().to_string().contains("cannot take a skip from layer 1"));
        assert!(c.parse("conv_5x5@16 | identity@8 | max_pool_5x5@16").unwrap_err().to_string().contains("not an operation of this space"));
    }

    #[test]
    fn bad_toml_names_the_file_and_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let bad = |body: &str| {
            let path = dir.path().join("space.toml");
            std::fs::write(&path, body).unwrap();
            let e = ChainSpec::from_toml(&path).unwrap_err().to_string();
            assert!(e.contains("space.toml"), "{e}");
            e
        };
        assert!(bad("layers = 2\nops = [\"conv_4x4\"]\nwidths = [8]\n").contains("odd"));
        assert!(bad("layers = 2\nops = [\"lstm\"]\nwidths = [8]\n").contains("unknown operation `lstm`"));
        assert!(bad("layers = 2\nops = [\"conv_3x3\"]\nwidths = []\n").contains("widths"));
        assert!(bad("layers = 2\nops = [\"conv_3x3\"]\nwidths = [8]\nreduce_at = [2]\n").contains("reduce_at contains 2"));
        assert!(bad("layers = 2\nops = [\"conv_3x3\"]\nwidths = [8]\ndepth = 3\n").contains("depth"));
        assert!(bad("layers = 2\nops = [\"conv_3x3\"]\n").contains("widths"));
        let e = ChainSpec::from_toml(&dir.path().join("absent.toml")).unwrap_err().to_string();
        assert!(e.contains("absent.toml"), "{e}");
    }
}

/// Bad chain spaces and chain architectures, fuzzed (issue 13).
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::fuzz::{apply, apply_text, config, edits};
    use crate::space::SearchSpace;
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;

    /// Cases per run (docs/src/reference/bad-input.md).
    pub const MUTATED_TOML: u32 = 256;
    pub const BAD_VALUES: u32 = 256;
    pub const MUTATED_ARCH: u32 = 512;

    const OPS: [&str; 7] = ["conv_3x3", "conv_5x5", "sep_conv_3x3", "max_pool_3x3", "avg_pool_5x5", "identity", "conv_1x1"];

    /// A valid chain space's TOML.
    fn valid_toml() -> impl Strategy<Value = String> {
        (1usize..8, prop::sample::subsequence(OPS.to_vec(), 1..=OPS.len()), prop::sample::subsequence(vec![4i64, 8, 16, 32], 1..=3), any::<bool>(), any::<prop::sample::Index>())
            .prop_flat_map(|(layers, ops, widths, skips, stem)| {
                (Just((layers, ops, widths, skips, stem)), prop::sample::subsequence((0..layers).collect::<Vec<_>>(), 0..=layers.min(3)))
            })
            .prop_map(|((layers, ops, widths, skips, stem), reduce_at)| {
                format!(
                    "name = \"fuzzed\"\nlayers = {layers}\nops = {ops:?}\nwidths = {widths:?}\nskips = {skips}\nreduce_at = {reduce_at:?}\nstem_channels = {}\n",
                    stem.index(64) + 1
                )
            })
    }

    /// A space that was accepted is one nasbox can use: every layer has a
    /// positive width, and sampled architectures print and parse back.
    fn usable(spec: &ChainSpec) -> Result<(), TestCaseError> {
        prop_assert!((1..=64).contains(&spec.layers) && !spec.ops.is_empty() && !spec.widths.is_empty(), "{spec:?}");
        prop_assert!(spec.reduce_at.iter().all(|&r| r < spec.layers), "{spec:?}");
        let space = SearchSpace::Chain(spec.clone());
        for g in space.sample(7, 3).map_err(|e| TestCaseError::fail(e.to_string()))? {
            prop_assert!(spec.layers(&g).iter().all(|l| l.width > 0 && l.width <= MAX_WIDTH), "{spec:?}");
            let text = space.to_string(&g).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(space.parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?, g);
        }
        Ok(())
    }

    /// Loaded and usable, or refused naming the file.
    fn loads_or_names_the_file(body: &[u8]) -> Result<(), TestCaseError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("space.toml");
        std::fs::write(&path, body).unwrap();
        match ChainSpec::from_toml(&path) {
            Ok(spec) => usable(&spec)?,
            Err(e) => {
                let e = e.to_string();
                let why = e.strip_prefix(&format!("{}: ", path.display()));
                prop_assert!(why.is_some_and(|w| w.trim().len() > 3), "{e}");
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(config(MUTATED_TOML))]
        #[test]
        fn mutated_spaces_load_or_name_the_file(toml in valid_toml(), edits in edits()) {
            loads_or_names_the_file(&apply(toml.into_bytes(), &edits))?;
        }
    }

    /// A chain TOML whose every key is drawn from values right and wrong:
    /// wrong types, zero, negative, huge, out of range, repeated.
    fn assembled_toml() -> impl Strategy<Value = String> {
        // Each key right three times in four, so that most files have one
        // or two wrong values among right ones.
        let pick = |good: &[&'static str], bad: &[&'static str]| prop_oneof![3 => prop::sample::select(good.to_vec()), 1 => prop::sample::select(bad.to_vec())];
        (
            pick(&["", "name = \"ok\"\n"], &["name = \"\"\n", "name = \"../up\"\n", "name = \"a\\u0007b\"\n", "name = 5\n"]),
            pick(
                &["layers = 1\n", "layers = 3\n", "layers = 17\n", "layers = 64\n"],
                &["layers = 0\n", "layers = 65\n", "layers = -1\n", "layers = 3.5\n", "layers = \"3\"\n", "layers = 18446744073709551616\n", ""],
            ),
            pick(
                &["ops = [\"conv_3x3\"]\n", "ops = [\"conv_3x3\", \"identity\", \"max_pool_5x5\"]\n", "ops = [\"sep_conv_15x15\", \"avg_pool_1x1\"]\n"],
                &[
                    "ops = []\n", "ops = [\"conv_4x4\"]\n", "ops = [\"conv_17x17\"]\n", "ops = [\"conv_3x5\"]\n", "ops = [\"conv_3x3\", \"conv_3x3\"]\n",
                    "ops = [\"lstm\"]\n", "ops = [\"conv_x\"]\n", "ops = \"conv_3x3\"\n", "ops = [3]\n",
                ],
            ),
            pick(
                &["widths = [8]\n", "widths = [4, 4096]\n", "widths = [4096]\n", "widths = [1, 2]\n"],
                &["widths = []\n", "widths = [0]\n", "widths = [-8]\n", "widths = [4097]\n", "widths = [9223372036854775807]\n", "widths = [8.0]\n", ""],
            ),
            pick(&["", "skips = false\n", "skips = true\n"], &["skips = 1\n"]),
            pick(
                &["", "reduce_at = [0]\n", "reduce_at = [0, 1, 2]\n", "reduce_at = ALL\n", "reduce_at = ALL\n"],
                &["reduce_at = [1, 1]\n", "reduce_at = [64]\n", "reduce_at = [-1]\n", "reduce_at = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n"],
            ),
            pick(
                &["", "stem_channels = 16\n"],
                &["stem_channels = 0\n", "stem_channels = -1\n", "stem_channels = 5000\n", "stem_channels = 9223372036854775807\n"],
            ),
            pick(&[""], &["depth = 3\n", "[extra]\nx = 1\n", "layers = 2\n"]),
        )
            .prop_map(|(n, l, o, w, s, r, st, x)| {
                // ALL: a reduction before every layer.
                let layers = l.trim().strip_prefix("layers = ").and_then(|v| v.parse::<usize>().ok()).unwrap_or(3);
                let all = format!("reduce_at = {:?}\n", (0..layers.min(64)).collect::<Vec<_>>());
                format!("{n}{l}{o}{w}{s}{}{st}{x}", if r == "reduce_at = ALL\n" { all.as_str() } else { r })
            })
    }

    proptest! {
        #![proptest_config(config(BAD_VALUES))]
        #[test]
        fn spaces_with_bad_values_load_or_name_the_file(toml in assembled_toml()) {
            loads_or_names_the_file(toml.as_bytes())?;
        }
    }

    /// A small chain space with width choices and skips, besides the built-in one.
    fn spaces() -> [ChainSpec; 2] {
        let custom = ChainSpec {
            name: "custom".into(),
            layers: 4,
            ops: ["conv_3x3", "identity", "max_pool_5x5"].iter().map(|o| ChainOp::parse(o).unwrap()).collect(),
            widths: vec![8, 16],
            skips: true,
            reduce_at: vec![1, 3],
            stem_channels: 8,
        };
        [ChainSpec::builtin(), custom]
    }

    proptest! {
        #![proptest_config(config(MUTATED_ARCH))]
        #[test]
        fn mutated_architectures_parse_back_or_say_what_is_wrong(which in any::<bool>(), seed in any::<u64>(), edits in edits()) {
            let spec = spaces()[which as usize].clone();
            let space = SearchSpace::Chain(spec.clone());
            let g = space.sample(seed, 1).unwrap().remove(0);
            let text = apply_text(&spec.to_string(&g), &edits);
            match space.parse(&text) {
                Ok(g) => prop_assert_eq!(space.parse(&spec.to_string(&g)).unwrap(), g),
                Err(e) => prop_assert!(e.to_string().contains(&format!("`{}`", text.trim())), "{}", e),
            }
        }
    }

    #[test]
    fn a_skip_from_a_huge_layer_number_is_refused() {
        // Regression: `j + 2` overflowed, and the skip was then written at
        // index usize::MAX (a panic).
        let c = ChainSpec::builtin();
        let text = "conv_3x3 | conv_3x3 | conv_3x3 +18446744073709551615 | conv_3x3 | conv_3x3 | conv_3x3";
        let e = c.parse(text).unwrap_err().to_string();
        assert!(e.contains("layer 2 cannot take a skip from layer 18446744073709551615 (it may skip from layers 0..=0)"), "{e}");
    }

    #[test]
    fn reductions_that_would_overflow_the_widths_are_refused() {
        // Regression: 64 reductions doubled the widths 64 times: the
        // doubling factor wrapped to 0, and printing an architecture
        // divided by it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deep.toml");
        let all: Vec<usize> = (0..64).collect();
        std::fs::write(&path, format!("layers = 64\nops = [\"conv_3x3\"]\nwidths = [8, 16]\nreduce_at = {all:?}\n")).unwrap();
        let e = ChainSpec::from_toml(&path).unwrap_err().to_string();
        assert!(e.contains("deep.toml: reduce_at has 64 reductions, which double the widest layer (16) to more than 65536 channels"), "{e}");
        std::fs::write(&path, "layers = 8\nops = [\"conv_3x3\"]\nwidths = [4096]\nreduce_at = [1, 2, 3, 4, 5]\n").unwrap();
        assert!(ChainSpec::from_toml(&path).unwrap_err().to_string().contains("5 reductions"));
        std::fs::write(&path, "layers = 8\nops = [\"conv_3x3\"]\nwidths = [4096]\nreduce_at = [1, 2, 3, 4]\n").unwrap();
        usable(&ChainSpec::from_toml(&path).unwrap()).unwrap();
    }

    #[test]
    fn repeated_reductions_and_names_that_are_no_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        let bad = |body: &str| {
            std::fs::write(&path, body).unwrap();
            ChainSpec::from_toml(&path).unwrap_err().to_string()
        };
        assert!(bad("layers = 3\nops = [\"conv_3x3\"]\nwidths = [8]\nreduce_at = [1, 1]\n").contains("s.toml: reduce_at lists layer 1 twice"));
        // Found by the fuzzer: widths [4, 16, 32, 32] printed genotypes that parsed back as others.
        assert!(bad("layers = 3\nops = [\"conv_3x3\"]\nwidths = [4, 16, 32, 32]\n").contains("s.toml: widths lists 32 twice"));
        assert!(bad("name = \"../up\"\nlayers = 3\nops = [\"conv_3x3\"]\nwidths = [8]\n").contains("s.toml: name = \"../up\": give a name without `/`"));
        assert!(bad("name = \" \"\nlayers = 3\nops = [\"conv_3x3\"]\nwidths = [8]\n").contains("s.toml: name = \" \""));
    }
}
