//! Training architectures with libtorch (tch): the operations, the network
//! of each space, and the trainer that turns an architecture into a
//! validation accuracy.

pub mod chain;
pub mod darts;
pub mod mixed;
pub mod nb201;
pub mod ops;
pub mod supernet;
pub mod trainer;

pub use trainer::{test, train, train_with_progress, Epoch, Progress, TrainConfig, TrainResult};

use crate::space::{GenotypeError, SearchSpace};

/// A network of some space, with its analytic cost.
pub trait Network: tch::nn::ModuleT {
    /// Multiply–accumulate operations of one forward pass of one image
    /// (what NAS-Bench-201 and DARTS report as FLOPs).
    fn flops(&self) -> u64;
}

/// The frame around a space's cells: the data's shape and the sizes the
/// space leaves open.
#[derive(Debug, Clone, PartialEq)]
pub struct Skeleton {
    /// Channels of the first stage: NAS-Bench-201's C, DARTS' C (unused by
    /// chain spaces, which fix their widths).
    pub channels: i64,
    /// NAS-Bench-201: cells per stage (N); DARTS: cells in all (unused by
    /// chain spaces).
    pub cells: usize,
    pub in_channels: i64,
    pub classes: i64,
    /// Input side in pixels (square inputs; for FLOPs and reductions).
    pub image_size: i64,
}

impl Skeleton {
    /// The benchmark defaults: NAS-Bench-201 C=16, N=5; DARTS' search
    /// network C=16 with 8 cells.
    pub fn defaults(space: &SearchSpace) -> (i64, usize) {
        match space.network() {
            SearchSpace::Nb201 => (16, 5),
            SearchSpace::Darts => (16, 8),
            SearchSpace::Chain(c) => (c.stem_channels, c.layers),
            // Never built: `build` refuses decision spaces.
            SearchSpace::Decisions(_) => (1, 1),
            SearchSpace::WithHp(_) => unreachable!("network() is not +hp"),
        }
    }
}

impl Skeleton {
    /// The skeleton for a dataset's images: the given sizes or the space's
    /// defaults, the data's channels, classes and side.
    pub fn for_data(space: &SearchSpace, channels: Option<i64>, cells: Option<usize>, images: &crate::data::Images, classes: usize) -> Skeleton {
        let (c, n) = Skeleton::defaults(space);
        Skeleton {
            channels: channels.unwrap_or(c),
            cells: cells.unwrap_or(n),
            in_channels: images.channels as i64,
            classes: classes as i64,
            image_size: images.height.min(images.width) as i64,
        }
    }
}

/// The learning rate of each space's published recipe: NAS-Bench-201's
/// 0.1, DARTS' 0.025 (its separable convolutions diverge at 0.1), ENAS'
/// 0.05 for chains. The rest of the recipe (SGD, Nesterov, cosine) is shared.
pub fn default_lr(space: &SearchSpace) -> f64 {
    match space.network() {
        SearchSpace::Nb201 => 0.1,
        SearchSpace::Darts => 0.025,
        SearchSpace::Chain(_) | SearchSpace::Decisions(_) => 0.05,
        SearchSpace::WithHp(_) => unreachable!("network() is not +hp"),
    }
}

/// Builds the network of `genotype` under `p`, after checking that the
/// genotype is a network of the space and that the input is large enough
/// for the space's reductions. A `+hp` genotype's activation replaces ReLU
/// throughout the network.
pub fn build(p: &tch::nn::Path, space: &SearchSpace, genotype: &[u32], skeleton: &Skeleton) -> Result<Box<dyn Network>, GenotypeError> {
    space.check(genotype)?;
    if let Some(recipe) = space.recipe(genotype) {
        return ops::with_activation(recipe.activation, || build(p, space.network(), space.network_genotype(genotype), skeleton));
    }
    let reductions = match space {
        SearchSpace::Nb201 => 2,
        SearchSpace::Darts => 2,
        SearchSpace::Chain(c) => c.reduce_at.len() as u32,
        SearchSpace::Decisions(_) => return Err(space.no_network()),
        SearchSpace::WithHp(_) => unreachable!("+hp genotypes are built as their network's"),
    };
    if skeleton.image_size < 1 << reductions {
        return Err(GenotypeError::Space(format!(
            "{}: {reductions} reductions need inputs of at least {}×{} pixels, the data has {}×{}",
            space.name(),
            1 << reductions,
            1 << reductions,
            skeleton.image_size,
            skeleton.image_size
        )));
    }
    if skeleton.channels < 1 || (matches!(space, SearchSpace::Darts) && skeleton.cells < 3) {
        return Err(GenotypeError::Space(format!("{}: channels must be at least 1 and a DARTS network needs at least 3 cells", space.name())));
    }
    Ok(match space {
        SearchSpace::Nb201 => Box::new(nb201::Nb201Net::new(p, genotype, skeleton)),
        SearchSpace::Darts => Box::new(darts::DartsNet::new(p, genotype, skeleton)),
        SearchSpace::Chain(c) => Box::new(chain::ChainNet::new(p, c, genotype, skeleton)),
        SearchSpace::Decisions(_) => return Err(space.no_network()),
        SearchSpace::WithHp(_) => unreachable!("+hp genotypes are built as their network's"),
    })
}

/// Parses `cpu`, `cuda`, `cuda:N` or `auto`.
pub fn device(spec: &str) -> anyhow::Result<tch::Device> {
    if spec != "cpu" {
        load_cuda_backend();
    }
    match spec {
        "cpu" => Ok(tch::Device::Cpu),
        "auto" => Ok(tch::Device::cuda_if_available()),
        "cuda" => cuda(0),
        _ => match spec.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(n)) => cuda(n),
            _ => anyhow::bail!("unknown device `{spec}` (use cpu, cuda, cuda:N or auto)"),
        },
    }
}

fn cuda(n: usize) -> anyhow::Result<tch::Device> {
    let available = tch::Cuda::device_count() as usize;
    if n >= available {
        let why = if CUDA_BACKEND.get() == Some(&false) { " (libtorch_cuda.so could not be loaded)" } else { "" };
        anyhow::bail!("cuda:{n} requested but {available} CUDA devices are available{why}");
    }
    Ok(tch::Device::Cuda(n))
}

static CUDA_BACKEND: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Loads libtorch's CUDA backend. Nothing in nasbox calls into it
/// directly, so the linker drops it (`--as-needed`) and libtorch would
/// report no CUDA devices; loading it at run time instead of linking it
/// also keeps the binary working where only the CPU library exists. It is
/// found through the binary's rpath or LD_LIBRARY_PATH.
fn load_cuda_backend() -> bool {
    *CUDA_BACKEND.get_or_init(|| {
        let name = c"libtorch_cuda.so";
        // SAFETY: dlopen with a valid C string; the handle is kept for the
        // life of the process on purpose (the backend registers itself).
        let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        if handle.is_null() {
            tracing::debug!("libtorch_cuda.so not loaded: CUDA unavailable");
        }
        !handle.is_null()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind, Tensor};

    fn sample(space: &SearchSpace, seed: u64) -> Vec<u32> {
        space.sample(seed, 1).unwrap().remove(0)
    }

    /// Every space builds random architectures that run forward and
    /// backward on a tiny input, with logits of the right shape, FLOPs and
    /// gradients reaching the stem.
    #[test]
    fn every_space_builds_and_runs_forward_and_backward() {
        // Building draws from libtorch's process-wide generator, which
        // seeded tests rely on (`hp_genotypes_build_...` failed once so).
        let _torch = ops::TORCH_TEST_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("gray.toml");
        std::fs::write(&toml, "layers = 3\nops = [\"conv_3x3\", \"sep_conv_5x5\", \"max_pool_3x3\", \"identity\"]\nwidths = [4, 6]\nreduce_at = [1, 2]\n")
            .unwrap();
        for (spec, in_channels, side) in [("nb201", 3, 8), ("darts", 3, 8), ("chain", 3, 8), (toml.to_str().unwrap(), 1, 7)] {
            let space = SearchSpace::resolve(spec).unwrap();
            for seed in 0..4 {
                let g = sample(&space, seed);
                let vs = tch::nn::VarStore::new(Device::Cpu);
                let skeleton = Skeleton { channels: 4, cells: 3, in_channels, classes: 5, image_size: side };
                let net = build(&vs.root(), &space, &g, &skeleton).unwrap();
                let x = Tensor::randn([2, in_channels, side, side], (Kind::Float, Device::Cpu));
                let y = net.forward_t(&x, true);
                assert_eq!(y.size(), vec![2, 5], "{spec} {}", space.to_string(&g).unwrap());
                assert!(net.flops() > 0);
                y.sum(Kind::Float).backward();
                let stem = &vs.variables()["stem.weight"];
                assert!(stem.grad().defined(), "{spec}: no gradient reaches the stem");
            }
        }
    }

    /// A +hp genotype builds its architecture's network with its
    /// activation: with relu the very network of the plain space (same
    /// parameters, same logits), with another activation other logits; the
    /// activation does not leak into networks built afterwards.
    #[test]
    fn hp_genotypes_build_their_network_with_their_activation() {
        let _torch = ops::TORCH_TEST_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let arch = "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|none~2|";
        let hp = SearchSpace::resolve("nb201+hp").unwrap();
        let skeleton = Skeleton { channels: 4, cells: 1, in_channels: 3, classes: 5, image_size: 8 };
        let x = Tensor::randn([2, 3, 8, 8], (Kind::Float, Device::Cpu));
        let logits = |space: &SearchSpace, text: &str| {
            tch::manual_seed(9);
            let vs = tch::nn::VarStore::new(Device::Cpu);
            let net = build(&vs.root(), space, &space.parse(text).unwrap(), &skeleton).unwrap();
            let mut names: Vec<String> = vs.variables().into_keys().collect();
            names.sort();
            (net.forward_t(&x, false), names)
        };
        let recipe = |act: &str| format!("{arch} ; lr=0.1 wd=5e-4 batch=64 smooth=0 aug=crop-flip act={act} opt=sgd-nesterov");
        let (plain, plain_names) = logits(&SearchSpace::Nb201, arch);
        let (relu, relu_names) = logits(&hp, &recipe("relu"));
        assert_eq!(relu_names, plain_names);
        assert_eq!(relu, plain);
        for act in ["hardswish", "gelu", "mish"] {
            let (other, names) = logits(&hp, &recipe(act));
            assert_eq!(names, plain_names);
            assert!(f64::try_from((&other - &plain).abs().max()).unwrap() > 1e-4, "{act} gives ReLU's logits");
        }
        assert_eq!(ops::activation(), ops::Activation::Relu);
        assert_eq!(logits(&SearchSpace::Nb201, arch).0, plain);
    }

    #[test]
    fn invalid_genotypes_and_too_small_inputs_are_errors_not_panics() {
        let _torch = ops::TORCH_TEST_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let vs = tch::nn::VarStore::new(Device::Cpu);
        let skeleton = Skeleton { channels: 4, cells: 3, in_channels: 3, classes: 5, image_size: 8 };
        let darts = SearchSpace::Darts;
        let mut g = sample(&darts, 1);
        g[1] = 0;
        g[3] = 0;
        let e = build(&vs.root(), &darts, &g, &skeleton).err().unwrap().to_string();
        assert!(e.contains("no input"), "{e}");
        let e = build(&vs.root(), &SearchSpace::Nb201, &[9; 6], &skeleton).err().unwrap().to_string();
        assert!(e.contains("out of range"), "{e}");
        let tiny = Skeleton { image_size: 2, ..skeleton };
        let e = build(&vs.root(), &SearchSpace::Nb201, &[0; 6], &tiny).err().unwrap().to_string();
        assert!(e.contains("at least 4×4"), "{e}");
    }

    /// FLOPs of DARTS' published cell at the evaluation size: DARTS (V2)
    /// reports 3.3 M parameters for C=36 with 20 cells; without the
    /// auxiliary head the count is about 3.3 M as well.
    #[test]
    fn darts_v2_at_evaluation_size_has_the_published_parameter_count() {
        let _torch = ops::TORCH_TEST_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let space = SearchSpace::Darts;
        let g = space.parse("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])").unwrap();
        let vs = tch::nn::VarStore::new(Device::Cpu);
        let skeleton = Skeleton { channels: 36, cells: 20, in_channels: 3, classes: 10, image_size: 32 };
        let _net = build(&vs.root(), &space, &g, &skeleton).unwrap();
        let params: i64 = vs.trainable_variables().iter().map(|t| t.numel() as i64).sum();
        assert!((3_200_000..3_400_000).contains(&params), "{params}");
    }
}
