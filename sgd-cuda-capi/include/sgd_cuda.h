/* sgd_cuda.h: C ABI of sgd-cuda, fused multi-tensor torch.optim.SGD on NVIDIA GPUs, one kernel
 * launch for every tensor of every group, on device memory and a stream that belong to the caller.
 *
 * Build: cargo build --release -p sgd-cuda-capi
 *          ->  target/release/libsgd_cuda_capi.so (and libsgd_cuda_capi.a)
 * Link:  cc trainer.c -Isgd-cuda-capi/include -Ltarget/release -lsgd_cuda_capi \
 *          -Wl,-rpath,$PWD/target/release
 * Run:   the NVIDIA driver (libcuda.so.1) and NVRTC (libnvrtc.so, CUDA 13) are loaded at run time;
 *        neither is needed to build or link.
 *
 * The semantics are those of torch.optim.SGD.step() (lr, momentum, dampening, weight_decay,
 * nesterov, maximize per group; torch's fused grad_scale / found_inf read on the device), bit for
 * bit as sgd-core's scalar reference update (and so as sgd-cpu and sgd_cpu.h).
 *
 * Everything a call can check on the host is checked before anything is written to the device or
 * launched; a negative status means the call changed nothing (except SGD_CUDA_ERR_PANIC, a bug),
 * and sgd_cuda_last_error_message() names the bad value. Work is enqueued on the caller's stream,
 * in order with the caller's own work on it; calls return without waiting for the device, and
 * leave the calling thread's current CUDA context as they found it.
 * One optimizer must not be used from two threads at once.
 */
#ifndef SGD_CUDA_H
#define SGD_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (int32_t). 0: success; < 0: refused, nothing changed (but see SGD_CUDA_ERR_PANIC). */
#define SGD_CUDA_OK 0
#define SGD_CUDA_ERR_NULL_POINTER (-1)      /* a pointer that must point at data is NULL */
#define SGD_CUDA_ERR_MISALIGNED (-2)        /* device floats: 4 bytes; host arrays: their type's */
#define SGD_CUDA_ERR_TOO_LARGE (-3)         /* numel * 4 or an array's bytes past INTPTR_MAX, a range
                                               wrapping the address space, too many chunks */
#define SGD_CUDA_ERR_OVERLAP (-4)           /* a written device range overlaps another range */
#define SGD_CUDA_ERR_EMPTY (-5)             /* no groups or no tensors */
#define SGD_CUDA_ERR_INVALID_CONFIG (-10)   /* a group's options or a learning rate (sgd-core's rules) */
#define SGD_CUDA_ERR_MISSING_MOMENTUM_BUFFER (-11) /* a group with momentum, a tensor with a
                                               gradient, no buffer */
#define SGD_CUDA_ERR_UNKNOWN_GROUP (-12)    /* a tensor's group index is >= n_groups */
#define SGD_CUDA_ERR_LR_COUNT (-13)         /* n_lrs != n_groups */
#define SGD_CUDA_ERR_DEFAULT_STREAM (-14)   /* the stream is NULL or CU_STREAM_LEGACY */
#define SGD_CUDA_ERR_INVALID_DEVICE (-15)   /* a negative ordinal, or no such device */
#define SGD_CUDA_ERR_CAPTURING (-16)        /* create, capture, new lrs or a new rounding key while the
                                               stream is captured */
#define SGD_CUDA_ERR_DTYPE (-17)            /* a tensor's dtypes, master copy or rounding do not fit */
#define SGD_CUDA_ERR_UNKNOWN_CODE (-18)     /* a dtype or rounding code not defined below */
#define SGD_CUDA_ERR_NO_DRIVER (-20)        /* libcuda could not be loaded */
#define SGD_CUDA_ERR_NO_NVRTC (-21)         /* libnvrtc could not be loaded */
#define SGD_CUDA_ERR_WRONG_CONTEXT (-22)    /* the stream is not of the device's primary context */
#define SGD_CUDA_ERR_CUDA (-23)             /* a driver call or the kernel compile failed (message) */
#define SGD_CUDA_ERR_OTHER (-98)
#define SGD_CUDA_ERR_PANIC (-99)            /* a bug; a step may have been partly enqueued */

/* Options of one parameter group, as torch.optim.SGD takes them (the fields of sgd_cpu.h's
 * sgd_config). lr is the first learning rate; sgd_cuda_step and sgd_cuda_set_lrs set new ones. */
typedef struct sgd_cuda_config {
    double lr;
    double momentum;     /* 0: no momentum buffer */
    double dampening;
    double weight_decay;
    uint32_t nesterov;   /* non-zero = true */
    uint32_t maximize;   /* non-zero = true */
} sgd_cuda_config;

/* One parameter tensor: device pointers to float32 (for PyTorch, t.data_ptr() of a contiguous
 * float32 CUDA tensor), each 4-byte aligned (checked; 16-byte aligned ones are read as float4).
 * A tensor with grad == NULL is never updated and its other fields are not used. Written ranges
 * (param, momentum_buffer) must not overlap any range of any tensor (checked: SGD_CUDA_ERR_OVERLAP);
 * gradients may share memory. The memory must stay allocated while the optimizer steps. */
typedef struct sgd_cuda_tensor {
    float *param;             /* numel floats, updated in place */
    const float *grad;        /* numel floats, read only; NULL = never updated */
    float *momentum_buffer;   /* numel floats; required (only used) if the group has momentum */
    size_t numel;
    uint32_t group;           /* index into the groups array */
    uint32_t initialized;     /* 0: the buffer holds no momentum yet, the tensor's first step
                                 copies the gradient into it (torch: momentum_buffer is None);
                                 from then on the optimizer keeps this state on the device */
} sgd_cuda_tensor;

/* Element types (sgd_cuda_typed_tensor's *_dtype fields, uint32_t; the values of sgd_cpu.h). */
#define SGD_CUDA_DTYPE_FLOAT32 0u
#define SGD_CUDA_DTYPE_FLOAT64 1u
#define SGD_CUDA_DTYPE_BFLOAT16 2u  /* torch.bfloat16 */
#define SGD_CUDA_DTYPE_FLOAT16 3u   /* torch.float16 */

/* How 16-bit results are rounded (sgd_cuda_typed_tensor's rounding field, uint32_t). */
#define SGD_CUDA_ROUND_NEAREST_EVEN 0u
#define SGD_CUDA_ROUND_STOCHASTIC 1u /* Philox4x32-10 bits of (seed, step, tensor, element) */

/* One parameter tensor of any dtype (sgd_cuda_create_typed). The combinations (checked:
 * SGD_CUDA_ERR_DTYPE, naming the tensor): param, grad, buffer all FLOAT32, all FLOAT64, all
 * BFLOAT16 or all FLOAT16; BFLOAT16 / FLOAT16 param and grad with an f32 master copy (master,
 * master_numel == numel) and a FLOAT32 buffer (the update runs on the master, param = master
 * rounded); SGD_CUDA_ROUND_STOCHASTIC only for BFLOAT16 / FLOAT16 params. Device pointers are
 * aligned to their element (2, 4 or 8 bytes; checked); master == NULL: none (master_numel is
 * then not used). Otherwise as sgd_cuda_tensor; the master copy is a written range too. */
typedef struct sgd_cuda_typed_tensor {
    void *param;              /* numel elements of param_dtype, updated in place */
    const void *grad;         /* numel elements of grad_dtype, read only; NULL = never updated */
    void *momentum_buffer;    /* numel elements of buffer_dtype; required if the group has momentum */
    float *master;            /* master_numel floats, updated in place; NULL = none */
    size_t numel;
    size_t master_numel;
    uint32_t group;           /* index into the groups array */
    uint32_t initialized;     /* as in sgd_cuda_tensor */
    uint32_t param_dtype;     /* SGD_CUDA_DTYPE_* */
    uint32_t grad_dtype;      /* SGD_CUDA_DTYPE_* */
    uint32_t buffer_dtype;    /* SGD_CUDA_DTYPE_* (ignored without a buffer) */
    uint32_t rounding;        /* SGD_CUDA_ROUND_* */
} sgd_cuda_typed_tensor;

/* An optimizer: the tensors, their groups and the caller's stream (opaque). */
typedef struct sgd_cuda_optimizer sgd_cuda_optimizer;

/* Creates an optimizer for `n_tensors` tensors in `n_groups` groups on device `device` (its
 * primary context: the one of the CUDA runtime and PyTorch), enqueueing on `stream` (a
 * CUstream / cudaStream_t of that context, e.g. torch.cuda.current_stream().cuda_stream; not
 * the legacy default stream, which cannot be captured). Checks, in order: out, device, stream,
 * the two arrays (NULL, alignment, size, at least one element), every group's options, every
 * tensor with a gradient (group index, NULL param, numel, alignment, momentum buffer), overlaps;
 * then loads the driver, checks the stream's context, compiles the kernel (once per device and
 * process, NVRTC) and uploads its tables (a few words per tensor) on the stream.
 * On success *out is the optimizer; on failure *out is NULL and nothing was created. The arrays
 * are copied: they may be freed after the call. Not while the stream is being captured (the
 * uploads would become part of the graph). */
int32_t sgd_cuda_create(int32_t device, void *stream,
                        const sgd_cuda_config *groups, size_t n_groups,
                        const sgd_cuda_tensor *tensors, size_t n_tensors,
                        sgd_cuda_optimizer **out);

/* sgd_cuda_create for tensors of any dtype: float64 (the rule in f64), bfloat16 / float16 storage
 * (widened to f32, rounded once, torch's fused scalar tail for the last numel % 32 elements),
 * bf16 / f16 with f32 master weights, each 16-bit tensor rounded to nearest or stochastically,
 * all in the same one launch, bitwise as sgd_cpu.h's sgd_step_typed. Checked besides
 * sgd_cuda_create's checks, in the tensor's order: SGD_CUDA_ERR_UNKNOWN_CODE, SGD_CUDA_ERR_DTYPE
 * (both name the tensor). Stochastic rounding of element i of tensors[t] uses the Philox words
 * of counter [i, i >> 32, t, step] under key seed (sgd_cuda_set_rounding_key; seed 0, step 0
 * until then). */
int32_t sgd_cuda_create_typed(int32_t device, void *stream,
                              const sgd_cuda_config *groups, size_t n_groups,
                              const sgd_cuda_typed_tensor *tensors, size_t n_tensors,
                              sgd_cuda_optimizer **out);

/* The seed and step of stochastic rounding from the next step (or graph replay) on: set a new
 * step every step, outside a capture (refused with SGD_CUDA_ERR_CAPTURING when it changes while
 * the stream is captured). Copied to the device only when it changed. */
int32_t sgd_cuda_set_rounding_key(sgd_cuda_optimizer *opt, uint64_t seed, uint32_t step);

/* One step of every tensor: one kernel launch (or one replay of the captured graph) on the
 * stream. lrs: one learning rate per group (n_lrs == n_groups), checked as torch checks a
 * group's lr, copied to the device only when one changed; NULL with n_lrs == 0 keeps the
 * current ones. While the caller captures the stream into a graph (torch.cuda.graph), the
 * launch becomes part of that graph: pass the learning rates of the previous call (or NULL)
 * there, and change them between replays with sgd_cuda_set_lrs. */
int32_t sgd_cuda_step(sgd_cuda_optimizer *opt, const double *lrs, size_t n_lrs);

/* Sets the learning rates of the following steps (and graph replays) without stepping; checked
 * as in sgd_cuda_step. Refused (SGD_CUDA_ERR_CAPTURING) when they change while the stream is
 * being captured. */
int32_t sgd_cuda_set_lrs(sgd_cuda_optimizer *opt, const double *lrs, size_t n_lrs);

/* Reads torch's fused-optimizer scaler from device memory from the next step on: every gradient
 * is divided by *grad_scale, and a step where *found_inf != 0 changes nothing (not even the
 * first-step state). Each is a device pointer to one float32 (e.g. GradScaler's scale and
 * found_inf tensors), or NULL (no scaling / never skip); 4-byte aligned and not inside a
 * parameter or momentum buffer (checked). Drops a captured graph: capture again afterwards.
 * Differences from torch's fused SGD: torch skips only when *found_inf == 1.0 (here any non-zero
 * value, NaN included, skips); torch also writes the unscaled gradient back into p.grad (here the
 * gradient is read only); a skipped first step leaves the momentum buffer uninitialised here
 * (torch treats the next step as not-first). The parameters are bitwise torch's otherwise. */
int32_t sgd_cuda_set_grad_scaler(sgd_cuda_optimizer *opt, const float *grad_scale,
                                 const float *found_inf);

/* Captures one step into a CUDA graph (the launch only: learning rates, tables and scaler are
 * read from device memory); later sgd_cuda_step calls replay it. Nothing else may use the
 * stream during the call. */
int32_t sgd_cuda_capture_graph(sgd_cuda_optimizer *opt);

/* Drops the captured graph; steps launch the kernel directly again. */
int32_t sgd_cuda_release_graph(sgd_cuda_optimizer *opt);

/* Frees the optimizer (its device tables are freed in stream order: the stream must still be
 * alive, and not being captured); NULL is ignored. */
void sgd_cuda_destroy(sgd_cuda_optimizer *opt);

/* The message of the last error on this thread ("" after a success), NUL-terminated and
 * truncated to len - 1 bytes; returns its full length (like snprintf). */
size_t sgd_cuda_last_error_message(char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* SGD_CUDA_H */
