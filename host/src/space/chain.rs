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

/// The TOML form of a chain space; every key is documented in the README.
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
        let err = |why: String| GenotypeError::Space(format!("{}: {why}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let t: ChainToml = toml::from_str(&text).map_err(|e| err(e.to_string().trim_end().to_string()))?;
        let name = t.name.unwrap_or_else(|| path.file_stem().map_or("custom".into(), |s| s.to_string_lossy().into_owned()));
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
        if let Some(&r) = t.reduce_at.iter().find(|&&r| r >= t.layers) {
            return Err(err(format!("reduce_at contains {r}, but layers are numbered 0..{}", t.layers - 1)));
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
            decisions.push(Decision { name: format!("L{i}.op"), choices: self.ops.iter().map(ChainOp::name).collect() });
            if self.widths.len() > 1 {
                decisions.push(Decision { name: format!("L{i}.width"), choices: self.widths.iter().map(|w| w.to_string()).collect() });
            }
            if self.skips {
                for j in 0..i.saturating_sub(1) {
                    decisions.push(Decision { name: format!("L{i}.skip{j}"), choices: vec!["no".into(), "yes".into()] });
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
                    if j + 2 > i || !self.skips {
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
        crate::space::NetworkSpace::Chain(c.clone()).sample(seed, 1).unwrap().remove(0)
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
