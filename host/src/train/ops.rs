//! The operations cells and layers are made of, as NAS-Bench-201 and DARTS
//! define them. Every op knows its multiply–accumulates for an input size,
//! so FLOPs are counted analytically, and its parameter names match the
//! generated PyTorch module (see `export`).

use std::cell::{Cell, RefCell};

use tch::nn::{self, ModuleT};
use tch::{Kind, Tensor};

pub use crate::space::hp::Activation;

/// Batch norm initialised as PyTorch does (weight 1, bias 0), which is what
/// NAS-Bench-201's and DARTS' numbers were trained with; tch's own default
/// draws the weight uniformly from [0, 1], which changes how networks train.
pub fn batch_norm(p: nn::Path, channels: i64) -> nn::BatchNorm {
    let cfg = nn::BatchNormConfig { ws_init: nn::Init::Const(1.0), bs_init: nn::Init::Const(0.0), ..Default::default() };
    nn::batch_norm2d(p, channels, cfg)
}

thread_local! {
    /// The kernel [`record_relu_kernel`] is accumulating on this thread:
    /// `None` outside a recording, `Some(None)` before its first ReLU.
    static RELU_KERNEL: RefCell<Option<Option<Tensor>>> = const { RefCell::new(None) };
}

/// The networks' ReLU. It goes through here so that a training-free
/// estimator (NASWOT) can see every ReLU's input without hooks, which tch
/// lacks; outside [`record_relu_kernel`] it is `x.relu()`.
pub fn relu(x: &Tensor) -> Tensor {
    RELU_KERNEL.with_borrow_mut(|recording| {
        if let Some(kernel) = recording {
            let agree = tch::no_grad(|| {
                // With codes s = ±1, s·sᵀ = agreements − disagreements, so one
                // product gives N_A − Hamming distance; exact in f32 while a
                // layer has fewer than 2^24 units, summed across layers in f64.
                let signs = x.gt(0.0).flatten(1, -1).to_kind(Kind::Float) * 2.0 - 1.0;
                let units = signs.size()[1] as f64;
                ((signs.matmul(&signs.tr()) + units) / 2.0).to_kind(Kind::Double)
            });
            match kernel {
                Some(k) => {
                    assert_eq!(k.size(), agree.size(), "ReLU inputs of different batch sizes in one recording");
                    *k += agree;
                }
                None => *kernel = Some(agree),
            }
        }
    });
    x.relu()
}

/// Runs `f` (a forward pass) and returns its result with the N×N kernel of
/// NASWOT (Mellor et al. 2021) over the ReLUs it ran through [`relu`]:
/// `K[i][j]` counts the ReLU units on which images i and j are both active or
/// both inactive. `None` when no ReLU ran. Scoped, so a panicking `f` or a
/// nested recording leaves the recorder as it was; per thread, so other
/// threads' forward passes are not counted.
pub fn record_relu_kernel<T>(f: impl FnOnce() -> T) -> (T, Option<Tensor>) {
    struct Restore(Option<Option<Tensor>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            RELU_KERNEL.with_borrow_mut(|r| *r = previous);
        }
    }
    let restore = Restore(RELU_KERNEL.with_borrow_mut(|r| r.replace(None)));
    let out = f();
    let kernel = RELU_KERNEL.with_borrow_mut(|r| r.take()).flatten();
    drop(restore);
    (out, kernel)
}

thread_local! {
    /// The activation the ops built on this thread use (see [`with_activation`]).
    static BUILD_ACTIVATION: Cell<Activation> = const { Cell::new(Activation::Relu) };
}

/// Runs `f`, which builds a network, so that every op built in it uses
/// `act` where NAS-Bench-201 and DARTS have a ReLU (a `+hp` genotype's
/// activation). Scoped: afterwards, and on other threads, ops use ReLU.
pub fn with_activation<T>(act: Activation, f: impl FnOnce() -> T) -> T {
    struct Restore(Activation);
    impl Drop for Restore {
        fn drop(&mut self) {
            BUILD_ACTIVATION.set(self.0);
        }
    }
    let _restore = Restore(BUILD_ACTIVATION.replace(act));
    f()
}

/// The activation of ops built now.
pub fn activation() -> Activation {
    BUILD_ACTIVATION.get()
}

/// `act` applied to `x`; ReLU goes through [`relu`] (so NASWOT sees it),
/// GELU is the exact (erf) one, as PyTorch's default.
pub fn activate(act: Activation, x: &Tensor) -> Tensor {
    match act {
        Activation::Relu => relu(x),
        Activation::Hardswish => x.hardswish(),
        Activation::Gelu => x.gelu("none"),
        Activation::Mish => x.mish(),
    }
}

/// libtorch's seed is process-wide and tests run in parallel: every test
/// that seeds it holds this one lock from seeding to its last random draw,
/// so no other test's seeding lands in between.
#[cfg(test)]
pub(crate) static TORCH_TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Every space's stem: a 3×3 convolution without bias, then batch norm,
/// named `stem` and `stem_bn` (the names the PyTorch export uses).
#[derive(Debug)]
pub struct Stem {
    conv: nn::Conv2D,
    bn: nn::BatchNorm,
}

impl Stem {
    pub fn new(p: &nn::Path, c_in: i64, c_out: i64) -> Stem {
        let cfg = nn::ConvConfig { padding: 1, bias: false, ..Default::default() };
        Stem { conv: nn::conv2d(p / "stem", c_in, c_out, 3, cfg), bn: batch_norm(p / "stem_bn", c_out) }
    }
}

impl ModuleT for Stem {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        xs.apply(&self.conv).apply_t(&self.bn, train)
    }
}

/// Output side of a "same"-padded op with this stride.
pub fn strided(side: i64, stride: i64) -> i64 {
    (side + stride - 1) / stride
}

/// A bias-free convolution padded to keep the size (up to the stride).
#[derive(Debug)]
pub struct Conv {
    conv: nn::Conv2D,
    /// Multiply–accumulates per output pixel.
    macs_per_pixel: u64,
    stride: i64,
}

impl Conv {
    pub fn new(p: nn::Path, c_in: i64, c_out: i64, kernel: i64, stride: i64, dilation: i64, groups: i64) -> Conv {
        let cfg = nn::ConvConfig { stride, padding: dilation * (kernel / 2), dilation, groups, bias: false, ..Default::default() };
        Conv { conv: nn::conv2d(p, c_in, c_out, kernel, cfg), macs_per_pixel: (c_in / groups * c_out * kernel * kernel) as u64, stride }
    }

    /// MACs on an input of `h`×`w`.
    pub fn flops(&self, h: i64, w: i64) -> u64 {
        self.macs_per_pixel * (strided(h, self.stride) * strided(w, self.stride)) as u64
    }

    pub fn forward(&self, xs: &Tensor) -> Tensor {
        xs.apply(&self.conv)
    }
}

/// ReLU → convolution → batch norm: NAS-Bench-201's and DARTS' `ReLUConvBN`.
#[derive(Debug)]
pub struct ReluConvBn {
    conv: Conv,
    bn: nn::BatchNorm,
    act: Activation,
}

impl ReluConvBn {
    pub fn new(p: nn::Path, c_in: i64, c_out: i64, kernel: i64, stride: i64) -> ReluConvBn {
        ReluConvBn { conv: Conv::new(&p / "conv", c_in, c_out, kernel, stride, 1, 1), bn: batch_norm(&p / "bn", c_out), act: activation() }
    }

    pub fn flops(&self, h: i64, w: i64) -> u64 {
        self.conv.flops(h, w)
    }
}

impl ModuleT for ReluConvBn {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.conv.forward(&activate(self.act, xs)).apply_t(&self.bn, train)
    }
}

/// ReLU → depthwise k×k (strided, possibly dilated) → pointwise 1×1 →
/// batch norm: one half of DARTS' `SepConv`, the whole of its `DilConv`,
/// and a chain space's separable convolution.
#[derive(Debug)]
pub struct DwSep {
    dw: Conv,
    pw: Conv,
    bn: nn::BatchNorm,
    act: Activation,
}

impl DwSep {
    pub fn new(p: nn::Path, c_in: i64, c_out: i64, kernel: i64, stride: i64, dilation: i64) -> DwSep {
        DwSep {
            dw: Conv::new(&p / "dw", c_in, c_in, kernel, stride, dilation, c_in),
            pw: Conv::new(&p / "pw", c_in, c_out, 1, 1, 1, 1),
            bn: batch_norm(&p / "bn", c_out),
            act: activation(),
        }
    }

    pub fn flops(&self, h: i64, w: i64) -> u64 {
        let s = self.dw.stride;
        self.dw.flops(h, w) + self.pw.flops(strided(h, s), strided(w, s))
    }
}

impl ModuleT for DwSep {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.pw.forward(&self.dw.forward(&activate(self.act, xs))).apply_t(&self.bn, train)
    }
}

/// DARTS' `FactorizedReduce`: halves the size with two 1×1 stride-2
/// convolutions on the input and on the input shifted by one pixel, whose
/// outputs are concatenated. The shifted input is zero-padded at the far
/// edge, which changes nothing on even sizes and makes odd sizes work.
#[derive(Debug)]
pub struct FactorizedReduce {
    conv1: Conv,
    conv2: Conv,
    bn: nn::BatchNorm,
    act: Activation,
}

impl FactorizedReduce {
    pub fn new(p: nn::Path, c_in: i64, c_out: i64) -> FactorizedReduce {
        FactorizedReduce {
            conv1: Conv::new(&p / "conv1", c_in, c_out / 2, 1, 2, 1, 1),
            conv2: Conv::new(&p / "conv2", c_in, c_out - c_out / 2, 1, 2, 1, 1),
            bn: batch_norm(&p / "bn", c_out),
            act: activation(),
        }
    }

    pub fn flops(&self, h: i64, w: i64) -> u64 {
        self.conv1.flops(h, w) + self.conv2.flops(h, w)
    }
}

impl ModuleT for FactorizedReduce {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let x = activate(self.act, xs);
        let shifted = x.narrow(2, 1, x.size()[2] - 1).narrow(3, 1, x.size()[3] - 1).constant_pad_nd([0, 1, 0, 1]);
        Tensor::cat(&[self.conv1.forward(&x), self.conv2.forward(&shifted)], 1).apply_t(&self.bn, train)
    }
}

/// k×k average pooling that keeps the size (up to the stride) and ignores
/// the padding, as NAS-Bench-201 and DARTS do.
pub fn avg_pool(xs: &Tensor, kernel: i64, stride: i64) -> Tensor {
    xs.avg_pool2d([kernel, kernel], [stride, stride], [kernel / 2, kernel / 2], false, false, None::<i64>)
}

/// k×k max pooling that keeps the size (up to the stride).
pub fn max_pool(xs: &Tensor, kernel: i64, stride: i64) -> Tensor {
    xs.max_pool2d([kernel, kernel], [stride, stride], [kernel / 2, kernel / 2], [1, 1], false)
}

/// NAS-Bench-201's residual reduction block between stages: two ReLUConvBN
/// (the first with stride 2) plus an average-pooled 1×1 shortcut.
#[derive(Debug)]
pub struct Reduction {
    a: ReluConvBn,
    b: ReluConvBn,
    shortcut: Conv,
}

impl Reduction {
    pub fn new(p: nn::Path, c_in: i64, c_out: i64) -> Reduction {
        Reduction {
            a: ReluConvBn::new(&p / "a", c_in, c_out, 3, 2),
            b: ReluConvBn::new(&p / "b", c_out, c_out, 3, 1),
            shortcut: Conv::new(&p / "shortcut", c_in, c_out, 1, 1, 1, 1),
        }
    }

    /// MACs on an input of `h`×`w`.
    pub fn flops(&self, h: i64, w: i64) -> u64 {
        self.a.flops(h, w) + self.b.flops(h / 2, w / 2) + self.shortcut.flops(h / 2, w / 2)
    }
}

impl ModuleT for Reduction {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let residual = self.shortcut.forward(&xs.avg_pool2d([2, 2], [2, 2], [0, 0], false, true, None::<i64>));
        xs.apply_t(&self.a, train).apply_t(&self.b, train) + residual
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// Forward and backward on a tiny input: the output has the size the
    /// op promises and every parameter receives a gradient.
    fn forward_backward(build: impl Fn(nn::Path) -> Box<dyn Fn(&Tensor) -> Tensor>, c_out: i64, side: i64, stride: i64) {
        // Initialisation and `randn` draw from libtorch's process-wide
        // generator, which seeded tests elsewhere rely on.
        let _torch = TORCH_TEST_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let vs = nn::VarStore::new(Device::Cpu);
        let op = build(vs.root());
        let x = Tensor::randn([2, 4, side, side], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        let y = op(&x);
        let out = strided(side, stride);
        assert_eq!(y.size(), vec![2, c_out, out, out]);
        y.square().sum(Kind::Float).backward();
        assert!(x.grad().defined(), "no gradient reaches the input");
        for (name, v) in vs.variables() {
            if v.requires_grad() {
                assert!(v.grad().defined() && v.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0, "{name} has no gradient");
            }
        }
    }

    #[test]
    fn every_op_runs_forward_and_backward_with_the_right_shape() {
        for side in [7, 8] {
            forward_backward(
                |p| {
                    let m = ReluConvBn::new(p, 4, 6, 3, 2);
                    Box::new(move |x| m.forward_t(x, true))
                },
                6,
                side,
                2,
            );
            forward_backward(
                |p| {
                    let m = DwSep::new(p, 4, 6, 5, 1, 2);
                    Box::new(move |x| m.forward_t(x, true))
                },
                6,
                side,
                1,
            );
            forward_backward(
                |p| {
                    let m = DwSep::new(p, 4, 4, 3, 2, 1);
                    Box::new(move |x| m.forward_t(x, true))
                },
                4,
                side,
                2,
            );
            forward_backward(
                |p| {
                    let m = FactorizedReduce::new(p, 4, 6);
                    Box::new(move |x| m.forward_t(x, true))
                },
                6,
                side,
                2,
            );
            forward_backward(|_| Box::new(|x| avg_pool(x, 3, 2)), 4, side, 2);
            forward_backward(|_| Box::new(|x| max_pool(x, 5, 1)), 4, side, 1);
        }
        forward_backward(
            |p| {
                let m = Reduction::new(p, 4, 8);
                Box::new(move |x| m.forward_t(x, true))
            },
            8,
            8,
            2,
        );
    }

    /// The recorded kernel is N_A minus the Hamming distance between the
    /// images' activation codes, summed over ReLUs; nothing is recorded
    /// outside the scope, and a nested scope does not leak into the outer.
    #[test]
    fn relu_kernel_counts_agreeing_units() {
        // Image codes over 3 units: a = 110, b = 100, c = 001.
        let x = Tensor::from_slice(&[1.0f32, 2.0, -1.0, 3.0, 0.0, -2.0, -1.0, 0.0, 5.0]).view([3, 3]);
        assert_eq!(relu(&x), x.relu());
        let ((inner, y), k) = record_relu_kernel(|| {
            let inner = record_relu_kernel(|| relu(&x)).1.unwrap();
            (inner, relu(&relu(&x)))
        });
        assert_eq!(y, x.relu());
        let k = k.unwrap();
        assert_eq!(k.kind(), Kind::Double);
        // The second ReLU sees x.relu(): codes unchanged (positive stays
        // positive, the rest is not > 0), so the outer kernel is twice one pass.
        let one = Tensor::from_slice(&[3.0f64, 2.0, 0.0, 2.0, 3.0, 1.0, 0.0, 1.0, 3.0]).view([3, 3]);
        assert_eq!(inner, one);
        assert_eq!(k, &one * 2.0);
        assert!(record_relu_kernel(|| ()).1.is_none());
    }

    #[test]
    fn flops_count_multiply_accumulates() {
        let _torch = TORCH_TEST_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let vs = nn::VarStore::new(Device::Cpu);
        // 4→6 channels, 3×3, stride 2 on 8×8: 4·6·9 MACs per output pixel, 16 pixels.
        assert_eq!(ReluConvBn::new(vs.root() / "a", 4, 6, 3, 2).flops(8, 8), 4 * 6 * 9 * 16);
        // depthwise 4·9 per pixel + pointwise 4·6 per pixel, 64 pixels.
        assert_eq!(DwSep::new(vs.root() / "b", 4, 6, 3, 1, 2).flops(8, 8), (4 * 9 + 4 * 6) * 64);
        assert_eq!(FactorizedReduce::new(vs.root() / "c", 4, 6).flops(8, 8), 2 * 4 * 3 * 16);
    }
}
