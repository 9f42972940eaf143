// tch turns CUDA autocast on and off but always with PyTorch's default
// reduced precision (float16). This sets it to bfloat16, which needs no
// loss scaling; called once before the first autocast region.
#include <ATen/autocast_mode.h>

extern "C" int nasbox_autocast_use_bf16() {
  try {
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    return 0;
  } catch (...) {
    return 1;
  }
}
