//! Speed: bf16 autocast on CUDA (convolutions and matmuls in bfloat16,
//! reductions and the loss in float32, weights kept in float32), and the
//! channels-last memory layout, which lets cuDNN use its NHWC tensor-core
//! kernels and, on CPU, oneDNN its faster NHWC convolution, pooling and
//! batch-norm kernels (bench/memory-format).

use std::path::Path;
use std::sync::Once;

use tch::nn::VarStore;
use tch::{Device, Tensor};

extern "C" {
    fn nasbox_autocast_use_bf16() -> i32;
}

/// Runs `f` under CUDA autocast in bfloat16 when `on`.
pub fn autocast<T>(on: bool, f: impl FnOnce() -> T) -> T {
    if !on {
        return f();
    }
    static BF16: Once = Once::new();
    BF16.call_once(|| {
        if !use_bf16() {
            tracing::warn!("could not switch CUDA autocast to bfloat16; it stays float16");
        }
    });
    tch::autocast(true, f)
}

/// Sets CUDA autocast's reduced precision to bfloat16; false if libtorch refused.
fn use_bf16() -> bool {
    // SAFETY: a plain C function without arguments; it catches C++ exceptions.
    unsafe { nasbox_autocast_use_bf16() == 0 }
}

/// The same NCHW tensor with channels-last strides (NHWC in memory).
pub fn channels_last(x: &Tensor) -> Tensor {
    if x.dim() != 4 {
        return x.shallow_clone();
    }
    x.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
}

/// Moves every 4-D parameter (the convolution weights) to channels-last in
/// place, before the optimizer sees them.
pub fn weights_channels_last(vs: &VarStore) {
    tch::no_grad(|| {
        for (_, mut v) in vs.variables() {
            if v.dim() == 4 {
                let data = channels_last(&v);
                v.set_data(&data);
            }
        }
    });
}

/// Writes every variable of `vs` to a safetensors file, as `VarStore::save`
/// does, from dense row-major CPU copies: the format stores only that
/// layout, so saving channels-last weights directly fails ("Cannot save non
/// contiguous tensors") after training has finished.
pub fn save_weights(vs: &VarStore, path: &Path) -> Result<(), tch::TchError> {
    let mut named: Vec<(String, Tensor)> = vs.variables().into_iter().map(|(k, v)| (k, v.to_device(Device::Cpu).contiguous())).collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    Tensor::write_safetensors(&named, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    #[test]
    fn channels_last_keeps_values_and_shape_and_changes_strides() {
        let x = Tensor::arange(2 * 3 * 4 * 5, (Kind::Float, Device::Cpu)).view([2, 3, 4, 5]);
        let y = channels_last(&x);
        assert_eq!(y.size(), x.size());
        assert_eq!(y.stride(), vec![60, 1, 15, 3]);
        assert!(y.equal(&x));
    }

    #[test]
    fn the_bf16_switch_is_linked_and_accepted_by_libtorch() {
        assert!(use_bf16());
    }

    #[test]
    fn weights_move_in_place() {
        let _torch = crate::train::ops::TORCH_TEST_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let vs = VarStore::new(Device::Cpu);
        let conv = tch::nn::conv2d(vs.root() / "c", 3, 8, 3, Default::default());
        let before = conv.ws.copy();
        weights_channels_last(&vs);
        assert_eq!(conv.ws.stride(), vec![27, 1, 9, 3]);
        assert!(conv.ws.equal(&before));
    }

    #[test]
    fn channels_last_weights_save_and_load_back_unchanged() {
        let _torch = crate::train::ops::TORCH_TEST_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let vs = VarStore::new(Device::Cpu);
        let conv = tch::nn::conv2d(vs.root() / "c", 3, 8, 3, Default::default());
        weights_channels_last(&vs);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        save_weights(&vs, &path).unwrap();
        let mut back = VarStore::new(Device::Cpu);
        let loaded = tch::nn::conv2d(back.root() / "c", 3, 8, 3, Default::default());
        back.load(&path).unwrap();
        assert!(loaded.ws.equal(&conv.ws));
        assert!(loaded.bs.as_ref().unwrap().equal(conv.bs.as_ref().unwrap()));
    }
}
