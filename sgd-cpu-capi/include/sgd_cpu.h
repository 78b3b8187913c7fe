/* sgd_cpu.h: C ABI of sgd-cpu, fused multi-tensor torch.optim.SGD for CPUs.
 *
 * Build: cargo build --release -p sgd-cpu-capi  ->  target/release/libsgd_cpu_capi.so
 * Link:  cc sgd-cpu-capi/examples/c_step.c -Isgd-cpu-capi/include -Ltarget/release -lsgd_cpu_capi \
 *          -Wl,-rpath,$PWD/target/release
 *
 * One call updates every tensor of every group in one fused pass with the semantics of
 * torch.optim.SGD.step() (lr, momentum, dampening, weight_decay, nesterov, maximize per
 * group; torch's fused grad_scale / found_inf), bit for bit as the Rust crate.
 * Everything is validated before anything is written; a negative status means nothing was
 * written (except SGD_ERR_PANIC, a bug, after which parameters may be partly updated), and
 * sgd_last_error_message() names the bad value. No other thread may access the memory of a
 * call while it runs.
 */
#ifndef SGD_CPU_H
#define SGD_CPU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (int32_t). >= 0: success; < 0: rejected, nothing written (but see
 * SGD_ERR_PANIC). */
#define SGD_OK 0
#define SGD_SKIPPED_FOUND_INF 1
#define SGD_ERR_NULL_POINTER (-1)
#define SGD_ERR_MISALIGNED (-2)     /* floats: 4 bytes; groups/tensors arrays: their type's */
#define SGD_ERR_TOO_LARGE (-3)
#define SGD_ERR_OVERLAP (-4)
#define SGD_ERR_INVALID_CONFIG (-10)
#define SGD_ERR_MISSING_MOMENTUM_BUFFER (-11)
#define SGD_ERR_INVALID_GRAD_SCALE (-12)
#define SGD_ERR_THREAD_SPAWN_FAILED (-13)
#define SGD_ERR_DTYPE (-14)         /* a tensor's dtypes, master copy or rounding do not fit */
#define SGD_ERR_UNKNOWN_CODE (-15)  /* a dtype or rounding code not defined below */
#define SGD_ERR_OTHER (-98)
#define SGD_ERR_PANIC (-99)         /* a bug; parameters may be partly updated */

/* Options of one parameter group, as torch.optim.SGD takes them. */
typedef struct sgd_config {
    double lr;
    double momentum;     /* 0: no momentum buffer */
    double dampening;
    double weight_decay;
    uint32_t nesterov;   /* non-zero = true */
    uint32_t maximize;   /* non-zero = true */
} sgd_config;

/* One parameter tensor, flattened to float32. A tensor with grad == NULL is skipped and its
 * other pointers are not used. Written regions (param, momentum_buffer, initialized) must not
 * overlap anything else in the call (checked: SGD_ERR_OVERLAP). Float pointers are 4-byte
 * aligned (checked). */
typedef struct sgd_tensor {
    float *param;             /* numel floats, updated in place */
    const float *grad;        /* numel floats, read only; NULL = no gradient this step */
    float *momentum_buffer;   /* numel floats; required if the group has momentum */
    uint8_t *initialized;     /* required with a buffer: 0 before the tensor's first step
                                 with momentum (the buffer is then set to the gradient),
                                 set to 1 by the step */
    size_t numel;
} sgd_tensor;

/* One parameter group: options for this step (set lr from a scheduler) and its tensors. */
typedef struct sgd_group {
    sgd_config config;
    const sgd_tensor *tensors;
    size_t n_tensors;
} sgd_group;

/* Element types (sgd_typed_tensor's *_dtype fields, uint32_t). */
#define SGD_DTYPE_FLOAT32 0u
#define SGD_DTYPE_FLOAT64 1u
#define SGD_DTYPE_BFLOAT16 2u   /* uint16_t bit patterns */
#define SGD_DTYPE_FLOAT16 3u    /* uint16_t bit patterns (IEEE binary16) */

/* How 16-bit results are rounded (sgd_typed_tensor's rounding field, uint32_t). */
#define SGD_ROUND_NEAREST_EVEN 0u
#define SGD_ROUND_STOCHASTIC 1u /* Philox4x32-10 bits of (seed, step, tensor, element) */

/* One parameter tensor of any dtype. The combinations (checked: SGD_ERR_DTYPE, naming the tensor):
 *   param, grad, buffer all FLOAT32, or all FLOAT64, or all BFLOAT16, or all FLOAT16;
 *   BFLOAT16 / FLOAT16 param and grad with an f32 master copy (master, master_numel == numel)
 *   and a FLOAT32 buffer: the update runs on the master, param = master rounded;
 *   SGD_ROUND_STOCHASTIC only where a 16-bit value is written (BFLOAT16 / FLOAT16 param).
 * Pointers are aligned to their element (2, 4 or 8 bytes; checked). grad == NULL skips the
 * tensor, and its other fields are not used; master == NULL: no master copy (master_numel is
 * then not used). Written regions (param, momentum_buffer, master, initialized) must not
 * overlap anything else in the call (checked). */
typedef struct sgd_typed_tensor {
    void *param;              /* numel elements of param_dtype, updated in place */
    const void *grad;         /* numel elements of grad_dtype, read only; NULL = no gradient */
    void *momentum_buffer;    /* numel elements of buffer_dtype; required if the group has momentum */
    float *master;            /* master_numel floats, updated in place; NULL = none */
    uint8_t *initialized;     /* as in sgd_tensor */
    size_t numel;
    size_t master_numel;
    uint32_t param_dtype;     /* SGD_DTYPE_* */
    uint32_t grad_dtype;      /* SGD_DTYPE_* */
    uint32_t buffer_dtype;    /* SGD_DTYPE_* (ignored without a buffer) */
    uint32_t rounding;        /* SGD_ROUND_* */
} sgd_typed_tensor;

/* One parameter group of typed tensors. */
typedef struct sgd_typed_group {
    sgd_config config;
    const sgd_typed_tensor *tensors;
    size_t n_tensors;
} sgd_typed_group;

/* A persistent thread pool (workers started once). */
typedef struct sgd_pool sgd_pool;

/* A pool of `threads` threads in total, the calling thread included (0 = one per core).
 * NULL on failure (see sgd_last_error_message). */
sgd_pool *sgd_pool_new(size_t threads);
/* Stops the workers and frees the pool; NULL is ignored. */
void sgd_pool_free(sgd_pool *pool);
/* Threads taking part in a step (0 for NULL). */
size_t sgd_pool_threads(const sgd_pool *pool);

/* One fused step over `n_groups` groups, on `pool` (NULL = the calling thread only).
 * `groups` and every group's `tensors` are naturally aligned arrays (checked). No pointer of
 * the call may point into the pool. 
 * grad_scale: NULL or one float dividing every gradient inside the pass.
 * found_inf: non-zero skips the step after validation (returns SGD_SKIPPED_FOUND_INF). */
int32_t sgd_step(const sgd_pool *pool, const sgd_group *groups, size_t n_groups,
                 const float *grad_scale, uint32_t found_inf);

/* sgd_step over typed tensors: float64 (the rule in f64), bfloat16 / float16 storage (widened to
 * f32, rounded once), bf16 / f16 with f32 master weights, each 16-bit tensor rounded to nearest
 * or stochastically. Stochastic rounding of element i of tensor t (the flat index over all
 * groups, in order) uses the Philox4x32-10 words of counter [i, i >> 32, t, step] under key
 * seed: the same bits for every pool size and SIMD backend, and as sgd_cuda.h's kernel. Checked
 * besides sgd_step's checks: SGD_ERR_UNKNOWN_CODE, SGD_ERR_DTYPE (both name the tensor). */
int32_t sgd_step_typed(const sgd_pool *pool, const sgd_typed_group *groups, size_t n_groups,
                       const float *grad_scale, uint32_t found_inf, uint64_t seed,
                       uint32_t step);

/* The message of the last error on this thread ("" after a success), NUL-terminated and
 * truncated to len - 1 bytes; returns its full length (like snprintf). */
size_t sgd_last_error_message(char *buf, size_t len);

/* The SIMD backend in use: "avx512", "avx2", "neon" or "scalar" ("unknown" for a backend
 * added after this header). */
const char *sgd_backend_name(void);

#ifdef __cplusplus
}
#endif

#endif /* SGD_CPU_H */
