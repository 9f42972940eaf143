//! The NAS-Bench-201 network: a 3×3 convolution stem, three stages of N
//! cells with C, 2C and 4C channels joined by residual reduction blocks,
//! then batch norm, ReLU, global average pooling and a linear classifier
//! (Dong & Yang 2020; C = 16, N = 5 in the benchmark).

use tch::nn::{self, ModuleT};
use tch::Tensor;

use super::ops::{activate, activation, avg_pool, batch_norm, Activation, Reduction, ReluConvBn, Stem};
use super::{Network, Skeleton};
use crate::space::nb201::{EDGES, OPS};

#[allow(clippy::large_enum_variant, reason = "one per edge of a network built once per trial; boxing buys nothing")]
enum Edge {
    None,
    Skip,
    Conv(ReluConvBn),
    Pool,
}

struct Cell {
    /// (target, source, op) for every edge that is not `none`.
    edges: Vec<(usize, usize, Edge)>,
}

impl Cell {
    fn new(p: nn::Path, genotype: &[u32], c: i64) -> Cell {
        let edges = EDGES
            .iter()
            .zip(genotype)
            .enumerate()
            .filter_map(|(k, (&(t, s), &op))| {
                let edge = match OPS[op as usize] {
                    "none" => Edge::None,
                    "skip_connect" => Edge::Skip,
                    "nor_conv_1x1" => Edge::Conv(ReluConvBn::new(&p / format!("e{k}"), c, c, 1, 1)),
                    "nor_conv_3x3" => Edge::Conv(ReluConvBn::new(&p / format!("e{k}"), c, c, 3, 1)),
                    "avg_pool_3x3" => Edge::Pool,
                    other => unreachable!("unknown nb201 op {other}"),
                };
                (!matches!(edge, Edge::None)).then_some((t, s, edge))
            })
            .collect();
        Cell { edges }
    }

    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let mut nodes: Vec<Option<Tensor>> = vec![Some(x.shallow_clone()), None, None, None];
        for target in 1..4 {
            let mut sum: Option<Tensor> = None;
            for (t, s, edge) in &self.edges {
                if *t != target {
                    continue;
                }
                let Some(input) = &nodes[*s] else { continue };
                let y = match edge {
                    Edge::Skip => input.shallow_clone(),
                    Edge::Conv(op) => op.forward_t(input, train),
                    Edge::Pool => avg_pool(input, 3, 1),
                    Edge::None => unreachable!("none edges are dropped"),
                };
                sum = Some(match sum {
                    Some(acc) => acc + y,
                    None => y,
                });
            }
            nodes[target] = sum;
        }
        // A node no path reaches is all zeros, as `none` would make it.
        nodes[3].take().unwrap_or_else(|| x.zeros_like())
    }

    fn flops(&self, h: i64, w: i64) -> u64 {
        self.edges.iter().map(|(_, _, e)| if let Edge::Conv(op) = e { op.flops(h, w) } else { 0 }).sum()
    }
}

/// A NAS-Bench-201 network for one cell genotype.
pub struct Nb201Net {
    stem: Stem,
    stages: Vec<(Option<Reduction>, Vec<Cell>)>,
    last_bn: nn::BatchNorm,
    classifier: nn::Linear,
    skeleton: Skeleton,
    /// The head's activation.
    act: Activation,
}

impl std::fmt::Debug for Nb201Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nb201Net").field("skeleton", &self.skeleton).finish()
    }
}

impl Nb201Net {
    pub fn new(p: &nn::Path, genotype: &[u32], skeleton: &Skeleton) -> Nb201Net {
        let c = skeleton.channels;
        let stages = (0..3)
            .map(|s| {
                let width = c << s;
                let reduction = (s > 0).then(|| Reduction::new(p / format!("reduce{s}"), width / 2, width));
                let cells = (0..skeleton.cells).map(|i| Cell::new(p / format!("stage{s}") / format!("cell{i}"), genotype, width)).collect();
                (reduction, cells)
            })
            .collect();
        Nb201Net {
            stem: Stem::new(p, skeleton.in_channels, c),
            stages,
            last_bn: batch_norm(p / "last_bn", 4 * c),
            classifier: nn::linear(p / "classifier", 4 * c, skeleton.classes, Default::default()),
            skeleton: skeleton.clone(),
            act: activation(),
        }
    }
}

impl ModuleT for Nb201Net {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut x = self.stem.forward_t(xs, train);
        for (reduction, cells) in &self.stages {
            if let Some(r) = reduction {
                x = r.forward_t(&x, train);
            }
            for cell in cells {
                x = cell.forward(&x, train);
            }
        }
        activate(self.act, &x.apply_t(&self.last_bn, train)).adaptive_avg_pool2d([1, 1]).flatten(1, -1).apply(&self.classifier)
    }
}

impl Network for Nb201Net {
    fn flops(&self) -> u64 {
        let s = &self.skeleton;
        let mut size = s.image_size;
        let mut total = (s.in_channels * s.channels * 9 * size * size) as u64;
        for (reduction, cells) in &self.stages {
            if let Some(r) = reduction {
                total += r.flops(size, size);
                size /= 2;
            }
            total += cells.iter().map(|c| c.flops(size, size)).sum::<u64>();
        }
        total + (4 * s.channels * s.classes) as u64
    }
}
