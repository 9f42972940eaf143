//! The chain supernet (ENAS' macro search space, Pham et al. 2018): the
//! network of `train::chain` where every layer holds all of the space's
//! operations and a projection for every possible skip connection. A mix
//! weights a layer's operations by its `op` decision and each skip by the
//! weight of its `yes`. Chains whose width is itself a decision have no
//! supernet here: the layers' shapes must not depend on the path.

use tch::nn::{self, ModuleT};
use tch::Tensor;

use super::{Route, Supernet};
use crate::space::chain::ChainSpec;
use crate::train::chain::Body;
use crate::train::ops::{relu, ReluConvBn, Stem};
use crate::train::Skeleton;

/// One operation of a layer, with its projection where a parameter-free
/// op changes the width.
struct LayerOp {
    body: Body,
    proj: Option<ReluConvBn>,
}

impl LayerOp {
    fn forward(&self, x: &Tensor) -> Tensor {
        let y = self.body.forward(x, true);
        match &self.proj {
            Some(p) => p.forward_t(&y, true),
            None => y,
        }
    }
}

struct SuperLayer {
    reduce: bool,
    /// The index of its `op` decision.
    op_decision: usize,
    ops: Vec<LayerOp>,
    /// (source layer, its decision, downsampling factor, projection).
    skips: Vec<(usize, usize, i64, Option<ReluConvBn>)>,
}

/// Every chain of a fixed-width chain space in one network.
pub struct ChainSupernet {
    stem: Stem,
    layers: Vec<SuperLayer>,
    classifier: nn::Linear,
}

impl ChainSupernet {
    pub fn new(p: &nn::Path, spec: &ChainSpec, skeleton: &Skeleton) -> anyhow::Result<ChainSupernet> {
        anyhow::ensure!(spec.widths.len() == 1, "{}: the supernet needs a fixed width per layer, and this chain space makes the width a decision", spec.name);
        let mut side = skeleton.image_size;
        let mut c_in = spec.stem_channels;
        let mut outputs: Vec<(i64, i64)> = Vec::new();
        let mut layers = Vec::new();
        let mut decision = 0;
        let mut width = spec.widths[0];
        for i in 0..spec.layers {
            let q = p / format!("layer{i}");
            let reduce = spec.reduce_at.contains(&i);
            if reduce {
                side = (side / 2).max(1);
                width *= 2;
            }
            let op_decision = decision;
            decision += 1;
            let ops = spec
                .ops
                .iter()
                .enumerate()
                .map(|(o, op)| {
                    let r = &q / format!("op{o}");
                    let (body, parameter_free) = Body::new(&r / "op", *op, c_in, width);
                    LayerOp { body, proj: (parameter_free && c_in != width).then(|| ReluConvBn::new(&r / "proj", c_in, width, 1, 1)) }
                })
                .collect();
            let mut skips = Vec::new();
            if spec.skips {
                for (j, &(w_j, side_j)) in outputs.iter().enumerate().take(i.saturating_sub(1)) {
                    let proj = (w_j != c_in).then(|| ReluConvBn::new(&q / format!("skip{j}"), w_j, c_in, 1, 1));
                    skips.push((j, decision, (side_j / side).max(1), proj));
                    decision += 1;
                }
            }
            layers.push(SuperLayer { reduce, op_decision, ops, skips });
            outputs.push((width, side));
            c_in = width;
        }
        Ok(ChainSupernet {
            stem: Stem::new(p, skeleton.in_channels, spec.stem_channels),
            layers,
            classifier: nn::linear(p / "classifier", c_in, skeleton.classes, Default::default()),
        })
    }
}

impl Supernet for ChainSupernet {
    fn forward(&self, xs: &Tensor, route: &Route) -> Tensor {
        let mut x = self.stem.forward_t(xs, true);
        let mut outputs: Vec<Tensor> = Vec::with_capacity(self.layers.len());
        for l in &self.layers {
            if l.reduce {
                x = x.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
            }
            for (j, d, factor, proj) in &l.skips {
                // Option 1 of a skip decision is `yes`.
                if !route.runs(*d, 1) {
                    continue;
                }
                let weight = route.weight(*d, 1);
                let mut s = outputs[*j].shallow_clone();
                if *factor > 1 {
                    s = s.avg_pool2d([*factor, *factor], [*factor, *factor], [0, 0], false, true, None::<i64>);
                }
                if let Some(proj) = proj {
                    s = proj.forward_t(&s, true);
                }
                x = match weight {
                    Some(w) => x + s * w,
                    None => x + s,
                };
            }
            let mix = |w: &[Tensor]| {
                l.ops.iter().enumerate().map(|(o, op)| op.forward(&x) * w[l.op_decision].get(o as i64)).reduce(|a, b| a + b).expect("a layer has ops")
            };
            let y = match route {
                Route::Path(g) => l.ops[g[l.op_decision] as usize].forward(&x),
                Route::Mix(w) => mix(w),
                Route::Sample(w, chosen) => match chosen[l.op_decision] {
                    Some(k) => l.ops[k as usize].forward(&x) * w[l.op_decision].get(k as i64),
                    None => mix(w),
                },
            };
            outputs.push(y.shallow_clone());
            x = y;
        }
        relu(&x).adaptive_avg_pool2d([1, 1]).flatten(1, -1).apply(&self.classifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::SearchSpace;
    use crate::train::ops::TORCH_TEST_LOCK;
    use tch::{Device, Kind};

    #[test]
    fn a_one_hot_mix_is_the_path_in_the_enas_chain() {
        let _lock = TORCH_TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(6);
        let space = SearchSpace::resolve("chain").unwrap();
        let SearchSpace::Chain(spec) = &space else { panic!("chain") };
        let vs = nn::VarStore::new(Device::Cpu);
        let net = ChainSupernet::new(&vs.root(), spec, &Skeleton { channels: 0, cells: 0, in_channels: 3, classes: 4, image_size: 16 }).unwrap();
        let x = Tensor::randn([2, 3, 16, 16], (Kind::Float, Device::Cpu));
        for seed in [1, 2, 3] {
            let genotype = space.sample(seed, 1).unwrap().remove(0);
            let one_hot: Vec<Tensor> = genotype
                .iter()
                .zip(&space.space().decisions)
                .map(|(&g, d)| Tensor::zeros([d.choices.len() as i64], (Kind::Float, Device::Cpu)).index_fill(0, &Tensor::from_slice(&[g as i64]), 1.0))
                .collect();
            let a = net.forward(&x, &Route::Path(&genotype));
            let b = net.forward(&x, &Route::Mix(&one_hot));
            assert!(a.allclose(&b, 1e-4, 1e-5, false), "seed {seed}: max diff {}", (&a - b).abs().max().double_value(&[]));
            let chosen: Vec<Option<u32>> = genotype.iter().map(|&g| Some(g)).collect();
            let c = net.forward(&x, &Route::Sample(&one_hot, &chosen));
            assert!(a.equal(&c), "seed {seed}: a sample of ones is the path, exactly");
        }
    }
}
