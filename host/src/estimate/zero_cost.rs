//! Training-free ("zero-cost") estimators: scores computed on a network at
//! initialisation from one minibatch, in a fraction of a second, that rank
//! architectures roughly as their trained accuracy does. They let a search
//! discard most candidates before training any (Abdelfattah et al. 2021,
//! "Zero-Cost Proxies for Lightweight NAS"; Mellor et al. 2021, "Neural
//! Architecture Search without Training").
//!
//! As in Abdelfattah et al.'s reference code, the per-parameter proxies
//! (synflow, snip, grad_norm) sum over the convolution and linear weights
//! (the variables of rank ≥ 2); batch-norm parameters and biases are left
//! out, so a proxy measures the architecture's operations, not its
//! normalisation.
//!
//! Each proxy alone is noisy and space-dependent; [`Reference::vote`]
//! combines their ranks, which is more robust than any one of them.

use std::cmp::Ordering;

use tch::nn;
use tch::{Device, Kind, Tensor};

use crate::space::{GenotypeError, SearchSpace};
use crate::train::{build, ops, Skeleton};

/// The four proxies of one architecture, higher meaning "predicted better"
/// for each. Plain sums (no log) except `naswot`, which is a log
/// determinant; a non-finite value is kept as is rather than hidden.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// Σ θ ⊙ ∂R/∂θ with |θ| weights in float64 and R the sum of the logits
    /// on an all-ones image (Tanaka et al. 2020): the signal the
    /// architecture can carry, independent of the data. Raw sum, not a log;
    /// ≥ 0, +inf if float64 overflows.
    pub synflow: f64,
    /// log |det K| of the minibatch's ReLU activation-pattern kernel
    /// (Mellor et al. 2021): how differently the network's ReLUs carve up
    /// the images. Natural log; -inf when K is singular (images the network
    /// cannot tell apart).
    pub naswot: f64,
    /// Σ ‖∂L/∂θ‖₂ of the cross-entropy on the minibatch (Abdelfattah et al.
    /// 2021): how strongly training will move the weights at first.
    pub grad_norm: f64,
    /// Σ |θ ⊙ ∂L/∂θ| (SNIP, Lee et al. 2019): how much the loss depends on
    /// the weights as initialised.
    pub snip: f64,
}

impl Scores {
    /// The proxies in a fixed order, for code that treats them alike.
    pub fn as_array(&self) -> [f64; 4] {
        [self.synflow, self.naswot, self.grad_norm, self.snip]
    }

    /// The proxies' names as trial metrics, in [`Scores::as_array`]'s order.
    pub const NAMES: [&'static str; 4] = ["synflow", "naswot", "grad-norm", "snip"];
}

/// Scores `genotype` on the minibatch `x` (N×C×H×W, normalised as for
/// training) with labels `y` (N class indices). The network is built in a
/// fresh VarStore on `x`'s device after `tch::manual_seed(seed)`, so the
/// scores depend on the seed, as the proxies do on the initialisation;
/// libtorch's generator is process-wide, so concurrent callers on other
/// threads must not seed it meanwhile. The thread count is the caller's.
pub fn score(space: &SearchSpace, genotype: &[u32], skeleton: &Skeleton, x: &Tensor, y: &Tensor, seed: u64) -> Result<Scores, GenotypeError> {
    if space.recipe_len() > 0 {
        return Err(GenotypeError::Space(format!("{}: zero-cost proxies score untrained networks and cannot judge training decisions", space.name())));
    }
    let size = x.size();
    if size.len() != 4 || size[0] < 1 || size[1] != skeleton.in_channels || y.size() != [size[0]] {
        return Err(GenotypeError::Space(format!(
            "zero-cost scoring needs a batch of N×{}×H×W images and N labels, got {:?} and {:?}",
            skeleton.in_channels,
            size,
            y.size()
        )));
    }
    let device = x.device();
    let (naswot, grad_norm, snip) = minibatch_proxies(space, genotype, skeleton, x, y, seed)?;
    let synflow = synflow(space, genotype, skeleton, [1, size[1], size[2], size[3]], device, seed)?;
    Ok(Scores { synflow, naswot, grad_norm, snip })
}

/// The variables the per-parameter proxies sum over: convolution and
/// linear weights.
fn weights(vs: &nn::VarStore) -> Vec<Tensor> {
    vs.trainable_variables().into_iter().filter(|v| v.dim() >= 2).collect()
}

/// Σ of per-variable scalars, read back once (one device sync, not one per
/// variable).
fn total(parts: Vec<Tensor>) -> f64 {
    if parts.is_empty() {
        return 0.0;
    }
    Tensor::stack(&parts, 0).sum(Kind::Double).double_value(&[])
}

/// NASWOT, grad_norm and snip from one training-mode forward and backward
/// pass: the ReLU codes are recorded during the same forward that gives
/// the loss.
fn minibatch_proxies(space: &SearchSpace, genotype: &[u32], skeleton: &Skeleton, x: &Tensor, y: &Tensor, seed: u64) -> Result<(f64, f64, f64), GenotypeError> {
    tch::manual_seed(seed as i64);
    let vs = nn::VarStore::new(x.device());
    let net = build(&vs.root(), space, genotype, skeleton)?;
    let x = x.to_kind(Kind::Float);
    let (logits, kernel) = ops::record_relu_kernel(|| net.forward_t(&x, true));
    let naswot = match kernel {
        Some(k) => Tensor::linalg_slogdet(&k).1.double_value(&[]),
        // No ReLU: every image has the same (empty) code.
        None => f64::NEG_INFINITY,
    };
    logits.to_kind(Kind::Float).cross_entropy_for_logits(&y.to_kind(Kind::Int64)).backward();
    let (mut norms, mut saliencies) = (Vec::new(), Vec::new());
    tch::no_grad(|| {
        for w in weights(&vs) {
            let g = w.grad();
            if g.defined() {
                norms.push(g.to_kind(Kind::Double).norm());
                saliencies.push((&w * &g).abs().sum(Kind::Double));
            }
        }
    });
    Ok((naswot, total(norms), total(saliencies)))
}

/// Synflow on its own network (built with the same seed, so the same
/// weights), since it replaces the weights by their absolute values.
/// Float64 because the product of |weights| along paths overflows float32
/// in deep networks. Eval mode: batch norm uses its initial statistics
/// (mean 0, variance 1), so a one-image batch is well defined.
fn synflow(space: &SearchSpace, genotype: &[u32], skeleton: &Skeleton, shape: [i64; 4], device: Device, seed: u64) -> Result<f64, GenotypeError> {
    tch::manual_seed(seed as i64);
    let mut vs = nn::VarStore::new(device);
    let net = build(&vs.root(), space, genotype, skeleton)?;
    vs.double();
    tch::no_grad(|| {
        for mut v in vs.trainable_variables() {
            let _ = v.abs_();
        }
    });
    let ones = Tensor::ones(shape, (Kind::Double, device));
    net.forward_t(&ones, false).sum(Kind::Double).backward();
    let parts = tch::no_grad(|| weights(&vs).into_iter().filter(|w| w.grad().defined()).map(|w| (&w * w.grad()).sum(Kind::Double)).collect());
    Ok(total(parts))
}

/// The proxies of a seeded sample of random architectures: the scale
/// against which [`Reference::vote`] ranks a candidate. The proxies'
/// values mean nothing across spaces, sizes or batches; their rank among
/// architectures scored the same way does.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    genotypes: Vec<Vec<u32>>,
    scores: Vec<Scores>,
}

impl Reference {
    /// Scores `n` (≥ 1) architectures from `space.sample(seed, n)` on the
    /// batch, the i-th with network seed `seed + i`.
    /// Deterministic for a seed and thread count.
    pub fn sample(space: &SearchSpace, skeleton: &Skeleton, x: &Tensor, y: &Tensor, seed: u64, n: usize) -> Result<Reference, GenotypeError> {
        if n == 0 {
            return Err(GenotypeError::Space("a zero-cost reference needs at least one architecture".into()));
        }
        let genotypes = space.sample(seed, n)?;
        let scores = genotypes.iter().enumerate().map(|(i, g)| score(space, g, skeleton, x, y, seed.wrapping_add(i as u64))).collect::<Result<_, _>>()?;
        Ok(Reference { genotypes, scores })
    }

    /// A reference from scores computed elsewhere (e.g. the architectures a
    /// search has already scored). Panics if `scores` is empty or its
    /// length differs from `genotypes`'.
    pub fn from_scores(genotypes: Vec<Vec<u32>>, scores: Vec<Scores>) -> Reference {
        assert!(!scores.is_empty(), "a zero-cost reference needs at least one architecture");
        assert_eq!(genotypes.len(), scores.len(), "one genotype per score");
        Reference { genotypes, scores }
    }

    pub fn genotypes(&self) -> &[Vec<u32>] {
        &self.genotypes
    }

    pub fn scores(&self) -> &[Scores] {
        &self.scores
    }

    /// The mean over the four proxies of the fraction of reference
    /// architectures that `s` beats (ties half): in [0, 1], 1 when it beats
    /// every reference on every proxy. Ranks, not values, because the
    /// proxies' scales differ by orders of magnitude. NaN counts as lower
    /// than anything, -inf included, so a broken score never wins a vote.
    pub fn vote(&self, s: &Scores) -> f64 {
        let candidate = s.as_array();
        let n = self.scores.len() as f64;
        let mut sum = 0.0;
        for (p, &c) in candidate.iter().enumerate() {
            let beaten: f64 = self
                .scores
                .iter()
                .map(|r| match nan_lowest(c, r.as_array()[p]) {
                    Ordering::Greater => 1.0,
                    Ordering::Equal => 0.5,
                    Ordering::Less => 0.0,
                })
                .sum();
            sum += beaten / n;
        }
        sum / candidate.len() as f64
    }
}

/// Compares with NaN below every number (and equal to NaN).
fn nan_lowest(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.partial_cmp(&b).expect("neither is NaN"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic::{generate, Options};
    use crate::space::chain::ChainSpec;
    use crate::train::ops::TORCH_TEST_LOCK;
    use std::sync::MutexGuard;

    /// Held across seeding and scoring: `score` seeds libtorch's
    /// process-wide generator, as other modules' tests do.
    fn torch() -> MutexGuard<'static, ()> {
        let guard = TORCH_TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        tch::set_num_threads(1);
        guard
    }

    const CONV: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|";
    const NONE: &str = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";

    fn skeleton() -> Skeleton {
        Skeleton { channels: 4, cells: 1, in_channels: 3, classes: 10, image_size: 16 }
    }

    /// 16 synthetic 16×16 images scaled to about [-0.5, 0.5], and labels.
    fn batch() -> (Tensor, Tensor) {
        let data = generate(&Options { seed: 1, train: 64, test: 8, size: 16 });
        let images = data.train.select(&(0..16).collect::<Vec<_>>());
        let pixels: Vec<f32> = images.pixels.iter().map(|&p| p as f32 / 255.0 - 0.5).collect();
        let labels: Vec<i64> = images.labels.iter().map(|&l| l as i64).collect();
        (Tensor::from_slice(&pixels).view([16, 3, 16, 16]), Tensor::from_slice(&labels))
    }

    fn scores(space: &SearchSpace, arch: &str, skeleton: &Skeleton, seed: u64) -> Scores {
        let (x, y) = batch();
        score(space, &space.parse(arch).unwrap(), skeleton, &x, &y, seed).unwrap()
    }

    #[test]
    fn conv_cell_scores_are_finite_positive_and_deterministic() {
        let _torch = torch();
        let s = scores(&SearchSpace::Nb201, CONV, &skeleton(), 7);
        assert!(s.synflow.is_finite() && s.synflow > 0.0, "{s:?}");
        assert!(s.grad_norm.is_finite() && s.grad_norm > 0.0, "{s:?}");
        assert!(s.snip.is_finite() && s.snip > 0.0, "{s:?}");
        assert!(s.naswot.is_finite(), "{s:?}");
        assert_eq!(scores(&SearchSpace::Nb201, CONV, &skeleton(), 7), s);
        assert_ne!(scores(&SearchSpace::Nb201, CONV, &skeleton(), 8), s, "the seed changes the initialisation");
    }

    #[test]
    fn a_cell_of_none_edges_scores_below_a_cell_of_convolutions() {
        let _torch = torch();
        let conv = scores(&SearchSpace::Nb201, CONV, &skeleton(), 3);
        let none = scores(&SearchSpace::Nb201, NONE, &skeleton(), 3);
        // Structural, not a margin: the none cell's synflow, grad-norm and
        // snip are exactly 0 and its naswot -inf on every float path
        // (measured with AVX-512, AVX2 and default kernels, seeds 0-7),
        // while the conv cell's are far from 0 (synflow ~2e16, naswot ~140).
        assert!(none.synflow < conv.synflow, "{none:?} {conv:?}");
        assert!(none.snip < conv.snip, "{none:?} {conv:?}");
        assert!(none.grad_norm < conv.grad_norm, "{none:?} {conv:?}");
        // The none cell zeroes every feature map: all images look alike.
        assert!(none.naswot < conv.naswot, "{none:?} {conv:?}");
    }

    #[test]
    fn darts_and_chain_networks_score() {
        let _torch = torch();
        let (x, y) = batch();
        let darts = SearchSpace::Darts;
        let chain = SearchSpace::Chain(ChainSpec { widths: vec![4], stem_channels: 4, ..ChainSpec::builtin() });
        for (space, sk) in [(darts, Skeleton { channels: 2, cells: 3, ..skeleton() }), (chain, skeleton())] {
            for g in space.sample(5, 2).unwrap() {
                let s = score(&space, &g, &sk, &x, &y, 1).unwrap();
                assert!(s.synflow > 0.0 && s.grad_norm > 0.0 && s.snip > 0.0, "{} {s:?}", space.name());
                assert!(!s.naswot.is_nan(), "{} {s:?}", space.name());
            }
        }
    }

    #[test]
    fn malformed_batches_and_genotypes_are_errors() {
        let _torch = torch();
        let (x, y) = batch();
        let e = score(&SearchSpace::Nb201, &[0; 6], &skeleton(), &x.narrow(1, 0, 1), &y, 0).unwrap_err();
        assert!(e.to_string().contains("N×3×H×W"), "{e}");
        assert!(score(&SearchSpace::Nb201, &[9; 6], &skeleton(), &x, &y, 0).is_err());
        assert!(Reference::sample(&SearchSpace::Nb201, &skeleton(), &x, &y, 0, 0).is_err());
    }

    #[test]
    fn sampled_reference_votes_in_unit_interval_and_a_dominant_architecture_gets_one() {
        let _torch = torch();
        let (x, y) = batch();
        let space = SearchSpace::Nb201;
        let reference = Reference::sample(&space, &skeleton(), &x, &y, 11, 6).unwrap();
        assert_eq!(reference.genotypes(), space.sample(11, 6).unwrap());
        for s in reference.scores() {
            let v = reference.vote(s);
            assert!((0.0..=1.0).contains(&v), "{v}");
        }
        let best = |p: usize| reference.scores().iter().map(|s| s.as_array()[p]).filter(|v| v.is_finite()).fold(0.0f64, f64::max) * 2.0 + 1.0;
        let dominant = Scores { synflow: best(0), naswot: best(1), grad_norm: best(2), snip: best(3) };
        assert_eq!(reference.vote(&dominant), 1.0);
        let conv = score(&space, &space.parse(CONV).unwrap(), &skeleton(), &x, &y, 1).unwrap();
        let none = score(&space, &space.parse(NONE).unwrap(), &skeleton(), &x, &y, 1).unwrap();
        assert!(reference.vote(&none) < reference.vote(&conv));
    }

    fn uniform(v: f64) -> Scores {
        Scores { synflow: v, naswot: v, grad_norm: v, snip: v }
    }

    #[test]
    fn vote_counts_ties_half_is_monotone_and_ranks_nan_lowest() {
        let reference = Reference::from_scores(vec![vec![0]; 3], vec![uniform(1.0), uniform(2.0), uniform(3.0)]);
        assert_eq!(reference.vote(&uniform(2.0)), 0.5);
        assert_eq!(reference.vote(&uniform(0.0)), 0.0);
        assert_eq!(reference.vote(&uniform(4.0)), 1.0);
        let mut last = -1.0;
        for v in [f64::NAN, f64::NEG_INFINITY, 0.5, 1.0, 1.5, 2.0, 3.0, f64::INFINITY] {
            let vote = reference.vote(&uniform(v));
            assert!(vote >= last, "{v}: {vote} < {last}");
            last = vote;
        }
        // One proxy better moves the vote by a quarter of its rank change.
        let one = Scores { synflow: 4.0, ..uniform(0.0) };
        assert_eq!(reference.vote(&one), 0.25);

        let broken = Reference::from_scores(vec![vec![0]; 2], vec![uniform(f64::NAN), uniform(f64::NEG_INFINITY)]);
        assert_eq!(broken.vote(&uniform(f64::NAN)), 0.25, "NaN ties NaN and loses to -inf");
        assert_eq!(broken.vote(&uniform(f64::NEG_INFINITY)), 0.75);
    }

    #[test]
    fn sampled_genotypes_are_valid_and_seeded() {
        let space = SearchSpace::Darts;
        let a = space.sample(4, 20).unwrap();
        assert_eq!(a.len(), 20);
        assert!(a.iter().all(|g| space.check(g).is_ok()));
        assert_eq!(space.sample(4, 20).unwrap(), a);
        assert_ne!(space.sample(5, 20).unwrap(), a);
    }
}
