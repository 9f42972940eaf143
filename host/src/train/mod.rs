//! Training architectures with libtorch (tch): the operations, the networks
//! of each space, and the trainer that turns an architecture into a
//! validation accuracy.

pub mod nb201;
pub mod ops;
pub mod trainer;

pub use trainer::{train, TrainConfig, TrainResult};

/// A network of some space, with its analytic cost.
pub trait Network: tch::nn::ModuleT {
    /// Multiply–accumulate operations of one forward pass of one image
    /// (what NAS-Bench-201 reports as FLOPs).
    fn flops(&self) -> u64;
}

/// Parses `cpu`, `cuda`, `cuda:N` or `auto`.
pub fn device(spec: &str) -> anyhow::Result<tch::Device> {
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
        anyhow::bail!("cuda:{n} requested but {available} CUDA devices are available");
    }
    Ok(tch::Device::Cuda(n))
}
