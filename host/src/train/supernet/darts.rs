//! The DARTS supernet (Liu et al. 2019, `Network` of the search phase):
//! the network of `train::darts` where every edge i → node of a cell holds
//! all eight operations, each with its own weights. All normal cells take
//! the normal cell's decisions, all reduction cells the reduction cell's.
//!
//! The space encodes a node as two slots, each choosing an input and an
//! operation. A path runs the two chosen edges; a mix weights edge
//! (i, o) by Σ over slots of w(slot input = i) · w(slot op = o), so each
//! edge's operations run once however many slots could read it, as in
//! DARTS' mixed edges. A sample runs only the edges some slot's sampled
//! input and op select.

use tch::nn::{self, ModuleT};
use tch::Tensor;

use super::{Route, Supernet};
use crate::space::darts::{CELLS, NODES, OPS};
use crate::train::darts::{plan, Op, Pre};
use crate::train::ops::{ReluConvBn, Stem};
use crate::train::Skeleton;

/// Decisions per cell type: per node, two slots of (input, op).
const PER_CELL: usize = NODES * 4;

struct SuperCell {
    pre0: Pre,
    pre1: ReluConvBn,
    /// `edges[node][input][op]`; `None` for `none`.
    edges: Vec<Vec<Vec<Option<Op>>>>,
    reduction: bool,
}

impl SuperCell {
    fn new(p: nn::Path, c_pp: i64, c_p: i64, c: i64, reduction: bool, reduction_prev: bool) -> SuperCell {
        let edges = (0..NODES)
            .map(|k| {
                (0..k + 2)
                    .map(|i| {
                        let stride = if reduction && i < 2 { 2 } else { 1 };
                        OPS.iter()
                            .enumerate()
                            .map(|(o, name)| Op::new(&p / format!("n{}", k + 2) / format!("i{i}") / format!("op{o}"), name, c, stride))
                            .collect()
                    })
                    .collect()
            })
            .collect();
        SuperCell { pre0: Pre::new(&p / "pre0", c_pp, c, reduction_prev), pre1: ReluConvBn::new(&p / "pre1", c_p, c, 1, 1), edges, reduction }
    }

    fn stride(&self, input: usize) -> i64 {
        if self.reduction && input < 2 {
            2
        } else {
            1
        }
    }

    /// `first`: the index of this cell type's first decision in `route`.
    fn forward(&self, s0: &Tensor, s1: &Tensor, route: &Route, first: usize) -> Tensor {
        let mut states = vec![self.pre0.forward(s0, true), self.pre1.forward_t(s1, true)];
        for (k, node) in self.edges.iter().enumerate() {
            let d = first + 4 * k;
            let mut sum: Option<Tensor> = None;
            let mut add = |y: Tensor| {
                sum = Some(match sum.take() {
                    Some(acc) => acc + y,
                    None => y,
                })
            };
            match route {
                Route::Path(g) => {
                    for slot in 0..2 {
                        let (input, op) = (g[d + 2 * slot] as usize, g[d + 2 * slot + 1] as usize);
                        if let Some(op) = &node[input][op] {
                            add(op.forward(&states[input], self.stride(input), true));
                        }
                    }
                }
                // Each edge weighted by Σ over slots of w(input) · w(op). In
                // a sample, a slot whose input or op was sampled at another
                // option adds nothing to the edge, which runs only when some
                // slot can read it (in a mix every slot reads every edge).
                Route::Mix(_) | Route::Sample(..) => {
                    for (i, ops) in node.iter().enumerate() {
                        for (o, op) in ops.iter().enumerate() {
                            let Some(op) = op else { continue };
                            let coefficient = (0..2)
                                .filter(|slot| route.runs(d + 2 * slot, i) && route.runs(d + 2 * slot + 1, o))
                                .filter_map(|slot| Some(route.weight(d + 2 * slot, i)? * route.weight(d + 2 * slot + 1, o)?))
                                .reduce(|a, b| a + b);
                            let Some(coefficient) = coefficient else { continue };
                            add(op.forward(&states[i], self.stride(i), true) * coefficient);
                        }
                    }
                }
            }
            // A node both of whose slots chose `none` adds zeros.
            let zeros = || {
                let like = &states[1];
                let s = like.size();
                let (h, w) = if self.reduction { ((s[2] + 1) / 2, (s[3] + 1) / 2) } else { (s[2], s[3]) };
                Tensor::zeros([s[0], s[1], h, w], (like.kind(), like.device()))
            };
            let node_out = sum.unwrap_or_else(zeros);
            states.push(node_out);
        }
        Tensor::cat(&states[2..], 1)
    }
}

/// Every DARTS cell pair in one network.
pub struct DartsSupernet {
    stem: Stem,
    cells: Vec<SuperCell>,
    classifier: nn::Linear,
}

impl DartsSupernet {
    /// `skeleton.channels` is DARTS' C, `skeleton.cells` its layers.
    pub fn new(p: &nn::Path, skeleton: &Skeleton) -> DartsSupernet {
        let (plan, c_out) = plan(skeleton);
        let cells = plan.iter().enumerate().map(|(i, c)| SuperCell::new(p / format!("cell{i}"), c.c_pp, c.c_p, c.c, c.reduction, c.reduction_prev)).collect();
        DartsSupernet {
            stem: Stem::new(p, skeleton.in_channels, 3 * skeleton.channels),
            cells,
            classifier: nn::linear(p / "classifier", c_out, skeleton.classes, Default::default()),
        }
    }
}

impl Supernet for DartsSupernet {
    fn forward(&self, xs: &Tensor, route: &Route) -> Tensor {
        let s = self.stem.forward_t(xs, true);
        let (mut s0, mut s1) = (s.shallow_clone(), s);
        for cell in &self.cells {
            let first = if cell.reduction { PER_CELL } else { 0 };
            let out = cell.forward(&s0, &s1, route, first);
            (s0, s1) = (s1, out);
        }
        s1.adaptive_avg_pool2d([1, 1]).flatten(1, -1).apply(&self.classifier)
    }
}

const _: () = assert!(CELLS.len() * PER_CELL == 32, "the darts space has 32 decisions");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::SearchSpace;
    use crate::train::ops::TORCH_TEST_LOCK;
    use tch::{Device, Kind};

    fn one_hot(genotype: &[u32]) -> Vec<Tensor> {
        let space = SearchSpace::Darts.space();
        genotype
            .iter()
            .zip(&space.decisions)
            .map(|(&g, d)| Tensor::zeros([d.choices.len() as i64], (Kind::Float, Device::Cpu)).index_fill(0, &Tensor::from_slice(&[g as i64]), 1.0))
            .collect()
    }

    #[test]
    fn a_one_hot_mix_is_the_path_and_paths_share_edge_weights() {
        let _lock = TORCH_TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(4);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = DartsSupernet::new(&vs.root(), &Skeleton { channels: 2, cells: 3, in_channels: 3, classes: 4, image_size: 8 });
        let x = Tensor::randn([2, 3, 8, 8], (Kind::Float, Device::Cpu));
        let space = SearchSpace::Darts;
        let genotype = space.sample(5, 1).unwrap().remove(0);
        let a = net.forward(&x, &Route::Path(&genotype));
        let b = net.forward(&x, &Route::Mix(&one_hot(&genotype)));
        assert_eq!(a.size(), vec![2, 4]);
        assert!(a.allclose(&b, 1e-4, 1e-5, false), "max diff {}", (a - b).abs().max().double_value(&[]));
        // Uniform weights run every edge: a forward and backward pass work.
        let uniform: Vec<Tensor> =
            space.space().decisions.iter().map(|d| Tensor::full([d.choices.len() as i64], 1.0 / d.choices.len() as f64, (Kind::Float, Device::Cpu))).collect();
        net.forward(&x, &Route::Mix(&uniform)).sum(Kind::Float).backward();
        let grads = vs.variables().into_iter().filter(|(k, v)| k.starts_with("cell0.n2.i0.op4") && v.requires_grad() && v.grad().defined()).count();
        assert!(grads > 0, "the mixture trains the sep_conv of edge 0 → node 2");
    }

    #[test]
    fn a_sample_runs_only_the_edges_its_slots_select() {
        let _lock = TORCH_TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(5);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = DartsSupernet::new(&vs.root(), &Skeleton { channels: 2, cells: 3, in_channels: 3, classes: 4, image_size: 8 });
        let x = Tensor::randn([2, 3, 8, 8], (Kind::Float, Device::Cpu));
        let space = SearchSpace::Darts;
        let genotype = space.sample(7, 1).unwrap().remove(0);
        let chosen: Vec<Option<u32>> = genotype.iter().map(|&g| Some(g)).collect();
        let w: Vec<Tensor> = one_hot(&genotype).into_iter().map(|t| t.set_requires_grad(true)).collect();
        let a = tch::no_grad(|| net.forward(&x, &Route::Path(&genotype)));
        let b = net.forward(&x, &Route::Sample(&w, &chosen));
        assert!(a.allclose(&b, 1e-4, 1e-5, false), "max diff {}", (&a - &b).abs().max().double_value(&[]));
        b.sum(Kind::Float).backward();
        // Node 2 of the normal cell: its slots read (input, op) pairs; no
        // other operation of the node ran.
        let picked = [(genotype[0], genotype[1]), (genotype[2], genotype[3])];
        for (name, v) in vs.variables() {
            let Some(rest) = name.strip_prefix("cell0.n2.i") else { continue };
            let (i, rest) = rest.split_once(".op").unwrap();
            let o: u32 = rest.split('.').next().unwrap().parse().unwrap();
            let ran = v.grad().defined() && v.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0;
            let selected = picked.contains(&(i.parse().unwrap(), o));
            assert!(!ran || selected, "{name} ran though no slot selected it");
        }
        for (d, (t, &g)) in w.iter().zip(&genotype).enumerate() {
            // A row whose sampled option adds nothing (`none`) has none.
            let grad = t.grad();
            if grad.defined() {
                let off = grad.index_fill(0, &Tensor::from_slice(&[g as i64]), 0.0).abs().sum(Kind::Float).double_value(&[]);
                assert_eq!(off, 0.0, "decision {d}: zero off the sampled option");
            }
        }
    }
}
