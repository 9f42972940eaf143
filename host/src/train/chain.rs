//! The network of a chain space: a 3×3 stem, then the layers in order.
//! Before a layer listed in `reduce_at` the running feature map is 2×2
//! max-pooled. A layer's input is the previous layer's output plus its
//! skip connections, each average-pooled to the current size and projected
//! by ReLU→1×1→BN where the widths differ. The head is ReLU, global
//! average pooling and a linear classifier.

use tch::nn::{self, ModuleT};
use tch::Tensor;

use super::ops::{activate, activation, avg_pool, max_pool, Activation, DwSep, ReluConvBn, Stem};
use super::{Network, Skeleton};
use crate::space::chain::{ChainOp, ChainSpec, Layer};

/// A layer's operation.
pub(crate) enum Body {
    Conv(ReluConvBn),
    Sep(DwSep),
    MaxPool(i64),
    AvgPool(i64),
    Identity,
}

impl Body {
    /// The op from `c_in` to `width` channels under `q`, and whether it has
    /// no parameters (so needs a projection where the widths differ).
    pub(crate) fn new(q: nn::Path, op: ChainOp, c_in: i64, width: i64) -> (Body, bool) {
        match op {
            ChainOp::Conv(k) => (Body::Conv(ReluConvBn::new(q, c_in, width, k, 1)), false),
            ChainOp::SepConv(k) => (Body::Sep(DwSep::new(q, c_in, width, k, 1, 1)), false),
            ChainOp::MaxPool(k) => (Body::MaxPool(k), true),
            ChainOp::AvgPool(k) => (Body::AvgPool(k), true),
            ChainOp::Identity => (Body::Identity, true),
        }
    }

    pub(crate) fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        match self {
            Body::Conv(c) => c.forward_t(x, train),
            Body::Sep(s) => s.forward_t(x, train),
            Body::MaxPool(k) => max_pool(x, *k, 1),
            Body::AvgPool(k) => avg_pool(x, *k, 1),
            Body::Identity => x.shallow_clone(),
        }
    }
}

struct ChainLayer {
    layer: Layer,
    body: Body,
    /// Projection after a parameter-free op whose input width differs.
    proj: Option<ReluConvBn>,
    /// (source layer, downsampling factor, projection if widths differ).
    skips: Vec<(usize, i64, Option<ReluConvBn>)>,
}

/// A chain network for one genotype.
pub struct ChainNet {
    stem: Stem,
    layers: Vec<ChainLayer>,
    classifier: nn::Linear,
    /// MACs per image, counted while building (sizes are known then).
    flops: u64,
    /// The head's activation.
    act: Activation,
}

impl ChainNet {
    /// Only `in_channels`, `classes` and `image_size` of the skeleton
    /// matter: the chain space fixes the rest.
    pub fn new(p: &nn::Path, spec: &ChainSpec, genotype: &[u32], skeleton: &Skeleton) -> ChainNet {
        let mut side = skeleton.image_size;
        let mut flops = (skeleton.in_channels * spec.stem_channels * 9 * side * side) as u64;
        let mut c_in = spec.stem_channels;
        // (width, side) of every layer's output, for skips.
        let mut outputs: Vec<(i64, i64)> = Vec::new();
        let mut layers = Vec::new();
        for (i, layer) in spec.layers(genotype).into_iter().enumerate() {
            let q = p / format!("layer{i}");
            if layer.reduce {
                side = (side / 2).max(1);
            }
            let mut skips = Vec::new();
            for &j in &layer.skips {
                let (w_j, side_j) = outputs[j];
                let factor = (side_j / side).max(1);
                let proj = (w_j != c_in).then(|| ReluConvBn::new(&q / format!("skip{j}"), w_j, c_in, 1, 1));
                flops += proj.as_ref().map_or(0, |r| r.flops(side, side));
                skips.push((j, factor, proj));
            }
            let w = layer.width;
            let (body, parameter_free) = Body::new(&q / "op", layer.op, c_in, w);
            flops += match &body {
                Body::Conv(c) => c.flops(side, side),
                Body::Sep(s) => s.flops(side, side),
                _ => 0,
            };
            let proj = (parameter_free && c_in != w).then(|| ReluConvBn::new(&q / "proj", c_in, w, 1, 1));
            flops += proj.as_ref().map_or(0, |r| r.flops(side, side));
            layers.push(ChainLayer { layer, body, proj, skips });
            outputs.push((w, side));
            c_in = w;
        }
        ChainNet {
            stem: Stem::new(p, skeleton.in_channels, spec.stem_channels),
            layers,
            classifier: nn::linear(p / "classifier", c_in, skeleton.classes, Default::default()),
            flops: flops + (c_in * skeleton.classes) as u64,
            act: activation(),
        }
    }
}

impl std::fmt::Debug for ChainNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainNet").field("layers", &self.layers.len()).field("flops", &self.flops).finish()
    }
}

impl ModuleT for ChainNet {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut x = self.stem.forward_t(xs, train);
        let mut outputs: Vec<Tensor> = Vec::with_capacity(self.layers.len());
        for l in &self.layers {
            if l.layer.reduce {
                x = x.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
            }
            for (j, factor, proj) in &l.skips {
                let mut s = outputs[*j].shallow_clone();
                if *factor > 1 {
                    s = s.avg_pool2d([*factor, *factor], [*factor, *factor], [0, 0], false, true, None::<i64>);
                }
                if let Some(proj) = proj {
                    s = proj.forward_t(&s, train);
                }
                // Not `+=`: tch adds in place, into a tensor autograd may still hold.
                x = &x + &s;
            }
            let mut y = l.body.forward(&x, train);
            if let Some(proj) = &l.proj {
                y = proj.forward_t(&y, train);
            }
            outputs.push(y.shallow_clone());
            x = y;
        }
        activate(self.act, &x).adaptive_avg_pool2d([1, 1]).flatten(1, -1).apply(&self.classifier)
    }
}

impl Network for ChainNet {
    fn flops(&self) -> u64 {
        self.flops
    }
}
