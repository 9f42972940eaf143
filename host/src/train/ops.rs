//! The operations cells are made of, as NAS-Bench-201 defines them.

use tch::nn::{self, ModuleT};
use tch::Tensor;

/// Batch norm initialised as PyTorch does (weight 1, bias 0), which is what
/// NAS-Bench-201's numbers were trained with; tch's own default draws the
/// weight uniformly from [0, 1], which changes how networks train.
pub fn batch_norm(p: nn::Path, channels: i64) -> nn::BatchNorm {
    let cfg = nn::BatchNormConfig { ws_init: nn::Init::Const(1.0), bs_init: nn::Init::Const(0.0), ..Default::default() };
    nn::batch_norm2d(p, channels, cfg)
}

/// ReLU → convolution → batch norm: NAS-Bench-201's `ReLUConvBN`.
#[derive(Debug)]
pub struct ReluConvBn {
    conv: nn::Conv2D,
    bn: nn::BatchNorm,
    /// Multiply–accumulates per output pixel.
    macs_per_pixel: u64,
    stride: i64,
}

impl ReluConvBn {
    pub fn new(p: nn::Path, c_in: i64, c_out: i64, kernel: i64, stride: i64) -> ReluConvBn {
        let cfg = nn::ConvConfig { stride, padding: kernel / 2, bias: false, ..Default::default() };
        ReluConvBn {
            conv: nn::conv2d(&p / "conv", c_in, c_out, kernel, cfg),
            bn: batch_norm(&p / "bn", c_out),
            macs_per_pixel: (c_in * c_out * kernel * kernel) as u64,
            stride,
        }
    }

    /// MACs on an input of `h`×`w`.
    pub fn flops(&self, h: i64, w: i64) -> u64 {
        self.macs_per_pixel * ((h / self.stride) * (w / self.stride)) as u64
    }
}

impl ModuleT for ReluConvBn {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        xs.relu().apply(&self.conv).apply_t(&self.bn, train)
    }
}

/// 3×3 average pooling that keeps the size and ignores the padding.
pub fn avg_pool_3x3(xs: &Tensor) -> Tensor {
    xs.avg_pool2d([3, 3], [1, 1], [1, 1], false, false, None::<i64>)
}

/// NAS-Bench-201's residual reduction block between stages: two ReLUConvBN
/// (the first with stride 2) plus an average-pooled 1×1 shortcut.
#[derive(Debug)]
pub struct Reduction {
    a: ReluConvBn,
    b: ReluConvBn,
    shortcut: nn::Conv2D,
    c_in: i64,
    c_out: i64,
}

impl Reduction {
    pub fn new(p: nn::Path, c_in: i64, c_out: i64) -> Reduction {
        let cfg = nn::ConvConfig { bias: false, ..Default::default() };
        Reduction {
            a: ReluConvBn::new(&p / "a", c_in, c_out, 3, 2),
            b: ReluConvBn::new(&p / "b", c_out, c_out, 3, 1),
            shortcut: nn::conv2d(&p / "shortcut", c_in, c_out, 1, cfg),
            c_in,
            c_out,
        }
    }

    /// MACs on an input of `h`×`w`.
    pub fn flops(&self, h: i64, w: i64) -> u64 {
        self.a.flops(h, w) + self.b.flops(h / 2, w / 2) + (self.c_in * self.c_out * (h / 2) * (w / 2)) as u64
    }
}

impl ModuleT for Reduction {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let residual = xs.avg_pool2d([2, 2], [2, 2], [0, 0], false, true, None::<i64>).apply(&self.shortcut);
        xs.apply_t(&self.a, train).apply_t(&self.b, train) + residual
    }
}
