/* The baseline for `scripts/on-device.sh --cost`: one momentum-SGD step with weight decay as a
 * plain C loop, in the operation order of sgd-cpu's scalar reference (so the results are the
 * same bits, which the firmware checks), compiled by arm-none-eabi-gcc -O2 for the Cortex-M4F.
 * `fmaf` is the FPU's vfma.f32 there. */
#include <math.h>

void sgd_momentum_c(float *restrict param, const float *restrict grad, float *restrict buf,
                    unsigned n, float neg_lr, float weight_decay, float momentum,
                    float one_minus_dampening) {
  for (unsigned i = 0; i < n; i++) {
    float g = fmaf(param[i], weight_decay, grad[i]);
    float b = fmaf(g, one_minus_dampening, buf[i] * momentum);
    buf[i] = b;
    param[i] = fmaf(b, neg_lr, param[i]);
  }
}
