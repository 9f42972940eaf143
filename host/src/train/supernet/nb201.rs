//! The NAS-Bench-201 supernet: the network of `train::nb201` with every
//! edge of the cell holding all five operations. As in the benchmark's
//! one-shot baselines, all cells share the edges' choices (the cell is
//! repeated), each cell has its own weights.

use tch::nn::{self, ModuleT};
use tch::{Kind, Tensor};

use super::{Route, Supernet};
use crate::space::nb201::{EDGES, OPS};
use crate::train::ops::{avg_pool, batch_norm, relu, Reduction, ReluConvBn, Stem};
use crate::train::Skeleton;

/// One operation of an edge.
#[allow(clippy::large_enum_variant, reason = "one per edge of a network built once per trial; boxing buys nothing")]
enum Op {
    Zero,
    Skip,
    Conv(ReluConvBn),
    Pool,
}

impl Op {
    /// `None` for the zero operation: it adds nothing.
    fn forward(&self, x: &Tensor) -> Option<Tensor> {
        match self {
            Op::Zero => None,
            Op::Skip => Some(x.shallow_clone()),
            // Batch statistics always (see the module above).
            Op::Conv(c) => Some(c.forward_t(x, true)),
            Op::Pool => Some(avg_pool(x, 3, 1)),
        }
    }
}

/// An edge with all of its operations.
struct MixedEdge {
    ops: Vec<Op>,
}

impl MixedEdge {
    fn new(p: nn::Path, c: i64) -> MixedEdge {
        let ops = OPS
            .iter()
            .enumerate()
            .map(|(k, name)| match *name {
                "none" => Op::Zero,
                "skip_connect" => Op::Skip,
                "nor_conv_1x1" => Op::Conv(ReluConvBn::new(&p / format!("op{k}"), c, c, 1, 1)),
                "nor_conv_3x3" => Op::Conv(ReluConvBn::new(&p / format!("op{k}"), c, c, 3, 1)),
                "avg_pool_3x3" => Op::Pool,
                other => unreachable!("unknown nb201 op {other}"),
            })
            .collect();
        MixedEdge { ops }
    }

    /// The chosen op's output (scaled by its weight when sampled), or the
    /// weighted sum of all of them.
    fn forward(&self, x: &Tensor, choice: Choice) -> Option<Tensor> {
        match choice {
            Choice::One(k) => self.ops[k as usize].forward(x),
            Choice::Sampled(w, k) => self.ops[k as usize].forward(x).map(|y| y * w.get(k as i64)),
            Choice::Mix(w) => {
                let mut sum: Option<Tensor> = None;
                for (k, op) in self.ops.iter().enumerate() {
                    if let Some(y) = op.forward(x) {
                        let y = y * w.get(k as i64);
                        sum = Some(match sum {
                            Some(acc) => acc + y,
                            None => y,
                        });
                    }
                }
                sum
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Choice<'a> {
    One(u32),
    Mix(&'a Tensor),
    /// Option `k` alone, scaled by its weight in the row.
    Sampled(&'a Tensor, u32),
}

struct Cell {
    edges: Vec<MixedEdge>,
}

impl Cell {
    fn forward(&self, x: &Tensor, route: &Route) -> Tensor {
        let mut nodes: Vec<Option<Tensor>> = vec![Some(x.shallow_clone()), None, None, None];
        for (k, (&(target, source), edge)) in EDGES.iter().zip(&self.edges).enumerate() {
            let Some(input) = &nodes[source] else { continue };
            let choice = match route {
                Route::Path(g) => Choice::One(g[k]),
                Route::Mix(w) => Choice::Mix(&w[k]),
                Route::Sample(w, chosen) => match chosen[k] {
                    Some(j) => Choice::Sampled(&w[k], j),
                    None => Choice::Mix(&w[k]),
                },
            };
            if let Some(y) = edge.forward(input, choice) {
                nodes[target] = Some(match nodes[target].take() {
                    Some(acc) => acc + y,
                    None => y,
                });
            }
        }
        nodes[3].take().unwrap_or_else(|| x.zeros_like())
    }
}

/// Every NAS-Bench-201 cell in one network.
pub struct Nb201Supernet {
    stem: Stem,
    stages: Vec<(Option<Reduction>, Vec<Cell>)>,
    last_bn: nn::BatchNorm,
    classifier: nn::Linear,
}

impl Nb201Supernet {
    pub fn new(p: &nn::Path, skeleton: &Skeleton) -> Nb201Supernet {
        let c = skeleton.channels;
        let stages = (0..3)
            .map(|s| {
                let width = c << s;
                let reduction = (s > 0).then(|| Reduction::new(p / format!("reduce{s}"), width / 2, width));
                let cells = (0..skeleton.cells)
                    .map(|i| Cell {
                        edges: (0..EDGES.len()).map(|k| MixedEdge::new(p / format!("stage{s}") / format!("cell{i}") / format!("e{k}"), width)).collect(),
                    })
                    .collect();
                (reduction, cells)
            })
            .collect();
        Nb201Supernet {
            stem: Stem::new(p, skeleton.in_channels, c),
            stages,
            last_bn: batch_norm(p / "last_bn", 4 * c),
            classifier: nn::linear(p / "classifier", 4 * c, skeleton.classes, Default::default()),
        }
    }
}

impl Supernet for Nb201Supernet {
    fn forward(&self, xs: &Tensor, route: &Route) -> Tensor {
        let mut x = self.stem.forward_t(xs, true);
        for (reduction, cells) in &self.stages {
            if let Some(r) = reduction {
                x = r.forward_t(&x, true);
            }
            for cell in cells {
                x = cell.forward(&x, route);
            }
        }
        relu(&x.apply_t(&self.last_bn, true)).adaptive_avg_pool2d([1, 1]).flatten(1, -1).apply(&self.classifier)
    }
}

/// Uniform mixing weights for every edge (for tests and the start of a
/// differentiable search).
pub fn uniform(kind: Kind, device: tch::Device) -> Vec<Tensor> {
    (0..EDGES.len()).map(|_| Tensor::full([OPS.len() as i64], 1.0 / OPS.len() as f64, (kind, device))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::ops::TORCH_TEST_LOCK;
    use tch::Device;

    fn tiny(vs: &nn::VarStore) -> Nb201Supernet {
        Nb201Supernet::new(&vs.root(), &Skeleton { channels: 2, cells: 1, in_channels: 3, classes: 4, image_size: 8 })
    }

    #[test]
    fn a_mixed_edge_is_the_weighted_sum_of_its_ops() {
        let _lock = TORCH_TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(1);
        let vs = nn::VarStore::new(Device::Cpu);
        let edge = MixedEdge::new(vs.root() / "e", 3);
        let x = Tensor::randn([2, 3, 5, 5], (Kind::Float, Device::Cpu));
        let w = Tensor::from_slice(&[0.3f32, -0.2, 0.5, 0.7, 1.1]);
        let mixed = edge.forward(&x, Choice::Mix(&w)).unwrap();
        let mut expected = x.zeros_like();
        for k in 0..OPS.len() {
            if let Some(y) = edge.forward(&x, Choice::One(k as u32)) {
                expected += y * w.double_value(&[k as i64]);
            }
        }
        assert!(mixed.allclose(&expected, 1e-5, 1e-6, false), "max diff {}", (mixed - expected).abs().max().double_value(&[]));
        assert!(edge.forward(&x, Choice::One(0)).is_none(), "`none` adds nothing");
    }

    #[test]
    fn a_one_hot_mix_is_the_path() {
        let _lock = TORCH_TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(2);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = tiny(&vs);
        let x = Tensor::randn([4, 3, 8, 8], (Kind::Float, Device::Cpu));
        let genotype = [3u32, 1, 4, 2, 0, 3];
        let one_hot: Vec<Tensor> =
            genotype.iter().map(|&g| Tensor::zeros([5], (Kind::Float, Device::Cpu)).index_fill(0, &Tensor::from_slice(&[g as i64]), 1.0)).collect();
        let a = net.forward(&x, &Route::Path(&genotype));
        let b = net.forward(&x, &Route::Mix(&one_hot));
        assert!(a.allclose(&b, 1e-5, 1e-6, false));
    }

    #[test]
    fn paths_that_share_an_edge_op_share_its_weights() {
        let _lock = TORCH_TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = tiny(&vs);
        let x = Tensor::randn([4, 3, 8, 8], (Kind::Float, Device::Cpu));
        // Both use nor_conv_3x3 on edge 0; they differ elsewhere.
        let a = [3u32, 1, 1, 1, 1, 1];
        let b = [3u32, 2, 4, 1, 3, 2];
        let grads = |g: &[u32]| {
            for mut t in vs.trainable_variables() {
                t.zero_grad();
            }
            net.forward(&x, &Route::Path(g)).sum(Kind::Float).backward();
            let vars = vs.variables();
            let shared = vars["stage0.cell0.e0.op3.conv.weight"].grad();
            let only_b = vars["stage0.cell0.e1.op2.conv.weight"].grad();
            (
                shared.defined() && shared.abs().sum(Kind::Float).double_value(&[]) > 0.0,
                only_b.defined() && only_b.abs().sum(Kind::Float).double_value(&[]) > 0.0,
            )
        };
        assert_eq!(grads(&a), (true, false), "a trains the shared conv and not b's");
        assert_eq!(grads(&b), (true, true), "b trains the same shared conv");
        let convs = vs.variables().into_keys().filter(|k| k.starts_with("stage0.cell0.e0.") && k.ends_with("conv.weight")).count();
        assert_eq!(convs, 2, "one conv per conv op of an edge, not one per path");
    }
}
