//! The DARTS evaluation network (Liu et al. 2019, `NetworkCIFAR`): a 3×3
//! stem with 3C channels, then `cells` cells, the ones at 1/3 and 2/3 depth
//! being reduction cells that halve the size and double the channels, then
//! global average pooling and a linear classifier. Each cell preprocesses
//! its two inputs to C channels (a factorized reduction for the input that
//! comes before a reduction), computes its 4 nodes, and concatenates them.
//!
//! Left out on purpose, as in DARTS' search-phase networks: the auxiliary
//! head and drop-path, which only matter for the long final training.

use tch::nn::{self, ModuleT};
use tch::Tensor;

use super::ops::{avg_pool, max_pool, strided, DwSep, FactorizedReduce, ReluConvBn, Stem};
use super::{Network, Skeleton};
use crate::space::darts::{cells, Edge, NODES, OPS};

/// One operation of an edge (`none` has none: it adds zeros).
#[allow(clippy::large_enum_variant, reason = "one per edge of a network built once per trial; boxing buys nothing")]
pub(crate) enum Op {
    MaxPool,
    AvgPool,
    Identity,
    /// `skip_connect` in a reduction cell.
    Reduce(FactorizedReduce),
    /// `sep_conv`: two stacked separable convolutions, the first strided.
    Sep(DwSep, DwSep),
    Dil(DwSep),
}

impl Op {
    /// The op named `name` (one of DARTS' `PRIMITIVES`) on `c` channels;
    /// `None` for `none`.
    pub(crate) fn new(q: nn::Path, name: &str, c: i64, stride: i64) -> Option<Op> {
        Some(match name {
            "none" => return None,
            "max_pool_3x3" => Op::MaxPool,
            "avg_pool_3x3" => Op::AvgPool,
            "skip_connect" if stride == 1 => Op::Identity,
            "skip_connect" => Op::Reduce(FactorizedReduce::new(q, c, c)),
            "sep_conv_3x3" => Op::Sep(DwSep::new(&q / "a", c, c, 3, stride, 1), DwSep::new(&q / "b", c, c, 3, 1, 1)),
            "sep_conv_5x5" => Op::Sep(DwSep::new(&q / "a", c, c, 5, stride, 1), DwSep::new(&q / "b", c, c, 5, 1, 1)),
            "dil_conv_3x3" => Op::Dil(DwSep::new(q, c, c, 3, stride, 2)),
            "dil_conv_5x5" => Op::Dil(DwSep::new(q, c, c, 5, stride, 2)),
            other => unreachable!("unknown darts op {other}"),
        })
    }

    pub(crate) fn forward(&self, x: &Tensor, stride: i64, train: bool) -> Tensor {
        match self {
            Op::MaxPool => max_pool(x, 3, stride),
            Op::AvgPool => avg_pool(x, 3, stride),
            Op::Identity => x.shallow_clone(),
            Op::Reduce(r) => r.forward_t(x, train),
            Op::Sep(a, b) => b.forward_t(&a.forward_t(x, train), train),
            Op::Dil(d) => d.forward_t(x, train),
        }
    }
}

struct CellEdge {
    input: usize,
    op: Op,
    stride: i64,
}

impl CellEdge {
    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        self.op.forward(x, self.stride, train)
    }

    fn flops(&self, h: i64, w: i64) -> u64 {
        match &self.op {
            Op::Reduce(r) => r.flops(h, w),
            Op::Sep(a, b) => a.flops(h, w) + b.flops(strided(h, self.stride), strided(w, self.stride)),
            Op::Dil(d) => d.flops(h, w),
            _ => 0,
        }
    }
}

/// How a cell brings its first input to its width: a factorized
/// reduction after a reduction cell, a 1×1 ReLUConvBN otherwise.
pub(crate) enum Pre {
    Reduce(FactorizedReduce),
    Conv(ReluConvBn),
}

impl Pre {
    pub(crate) fn new(p: nn::Path, c_in: i64, c: i64, reduction_prev: bool) -> Pre {
        if reduction_prev {
            Pre::Reduce(FactorizedReduce::new(p, c_in, c))
        } else {
            Pre::Conv(ReluConvBn::new(p, c_in, c, 1, 1))
        }
    }

    pub(crate) fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        match self {
            Pre::Reduce(r) => r.forward_t(x, train),
            Pre::Conv(r) => r.forward_t(x, train),
        }
    }
}

struct Cell {
    pre0: Pre,
    pre1: ReluConvBn,
    /// Two per node; `none` edges are left out (they add zeros).
    edges: Vec<Vec<CellEdge>>,
    reduction: bool,
}

impl Cell {
    fn new(p: nn::Path, genotype: &[Edge], c_pp: i64, c_p: i64, c: i64, reduction: bool, reduction_prev: bool) -> Cell {
        let pre0 = Pre::new(&p / "pre0", c_pp, c, reduction_prev);
        let edges = genotype
            .chunks(2)
            .enumerate()
            .map(|(k, pair)| {
                pair.iter()
                    .enumerate()
                    .filter(|(_, e)| OPS[e.op] != "none")
                    .map(|(j, e)| {
                        let stride = if reduction && e.input < 2 { 2 } else { 1 };
                        let q = &p / format!("n{}{}", k + 2, ["a", "b"][j]);
                        let op = Op::new(q, OPS[e.op], c, stride).expect("none edges are filtered out");
                        CellEdge { input: e.input, op, stride }
                    })
                    .collect()
            })
            .collect();
        Cell { pre0, pre1: ReluConvBn::new(&p / "pre1", c_p, c, 1, 1), edges, reduction }
    }

    fn forward(&self, s0: &Tensor, s1: &Tensor, train: bool) -> Tensor {
        let s0 = self.pre0.forward(s0, train);
        let mut states = vec![s0, self.pre1.forward_t(s1, train)];
        for node in &self.edges {
            let sum = node.iter().map(|e| e.forward(&states[e.input], train)).reduce(|a, b| a + b).expect("checked genotypes give every node an input");
            states.push(sum);
        }
        Tensor::cat(&states[2..], 1)
    }

    /// MACs for cell inputs of sizes `(h0, w0)` and `(h1, w1)`.
    fn flops(&self, (h0, w0): (i64, i64), (h1, w1): (i64, i64)) -> u64 {
        let pre0 = match &self.pre0 {
            Pre::Reduce(r) => r.flops(h0, w0),
            Pre::Conv(r) => r.flops(h0, w0),
        };
        let edges: u64 = self
            .edges
            .iter()
            .flatten()
            .map(|e| {
                // After preprocessing, both inputs have the size of s1;
                // intermediate nodes have the output size.
                let (h, w) = if e.input < 2 || !self.reduction { (h1, w1) } else { (strided(h1, 2), strided(w1, 2)) };
                e.flops(h, w)
            })
            .sum();
        pre0 + self.pre1.flops(h1, w1) + edges
    }
}

/// Where one cell of a DARTS network sits: the widths of its two inputs,
/// its own width, and whether it and the cell before it reduce.
pub(crate) struct CellPlan {
    pub c_pp: i64,
    pub c_p: i64,
    pub c: i64,
    pub reduction: bool,
    pub reduction_prev: bool,
}

/// DARTS' `NetworkCIFAR` layout for a skeleton: a stem of 3C channels,
/// reductions (doubling the width) at 1/3 and 2/3 of the cells; and the
/// width of the last cell's output (4 nodes concatenated).
pub(crate) fn plan(skeleton: &Skeleton) -> (Vec<CellPlan>, i64) {
    let stem_c = 3 * skeleton.channels;
    let (mut c_pp, mut c_p, mut c) = (stem_c, stem_c, skeleton.channels);
    let mut reduction_prev = false;
    let n = skeleton.cells;
    let cells = (0..n)
        .map(|i| {
            let reduction = i == n / 3 || i == 2 * n / 3;
            if reduction {
                c *= 2;
            }
            let cell = CellPlan { c_pp, c_p, c, reduction, reduction_prev };
            reduction_prev = reduction;
            (c_pp, c_p) = (c_p, NODES as i64 * c);
            cell
        })
        .collect();
    (cells, c_p)
}

/// A DARTS network for one genotype (normal and reduction cell).
pub struct DartsNet {
    stem: Stem,
    cells: Vec<Cell>,
    classifier: nn::Linear,
    skeleton: Skeleton,
    stem_macs: u64,
}

impl DartsNet {
    /// `skeleton.channels` is DARTS' C (initial channels), `skeleton.cells`
    /// its number of layers (cells).
    pub fn new(p: &nn::Path, genotype: &[u32], skeleton: &Skeleton) -> DartsNet {
        let [normal, reduce] = cells(genotype);
        let (plan, c_out) = plan(skeleton);
        let cells = plan
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let genes = if c.reduction { &reduce } else { &normal };
                Cell::new(p / format!("cell{i}"), genes, c.c_pp, c.c_p, c.c, c.reduction, c.reduction_prev)
            })
            .collect();
        let stem_c = 3 * skeleton.channels;
        DartsNet {
            stem: Stem::new(p, skeleton.in_channels, stem_c),
            cells,
            classifier: nn::linear(p / "classifier", c_out, skeleton.classes, Default::default()),
            skeleton: skeleton.clone(),
            stem_macs: (skeleton.in_channels * stem_c * 9) as u64,
        }
    }
}

impl std::fmt::Debug for DartsNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DartsNet").field("skeleton", &self.skeleton).finish()
    }
}

impl ModuleT for DartsNet {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let s = self.stem.forward_t(xs, train);
        let (mut s0, mut s1) = (s.shallow_clone(), s);
        for cell in &self.cells {
            let out = cell.forward(&s0, &s1, train);
            (s0, s1) = (s1, out);
        }
        s1.adaptive_avg_pool2d([1, 1]).flatten(1, -1).apply(&self.classifier)
    }
}

impl Network for DartsNet {
    fn flops(&self) -> u64 {
        let side = self.skeleton.image_size;
        let mut total = self.stem_macs * (side * side) as u64;
        let (mut size0, mut size1) = ((side, side), (side, side));
        for cell in &self.cells {
            total += cell.flops(size0, size1);
            let out = if cell.reduction { (strided(size1.0, 2), strided(size1.1, 2)) } else { size1 };
            (size0, size1) = (size1, out);
        }
        total + (self.classifier.ws.size()[0] * self.classifier.ws.size()[1]) as u64
    }
}
