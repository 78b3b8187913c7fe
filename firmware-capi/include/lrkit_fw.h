/* lrkit_fw.h: sched-core's learning-rate schedules, early stopping and sgd-cpu's fused SGD step
 * as a C library for microcontrollers: no_std, no heap, panic = abort.
 *
 * Build (one archive; do not link a second Rust static library into the same program):
 *   cargo build -p lrkit-firmware-capi --profile firmware --target thumbv7em-none-eabihf
 *     -> target/thumbv7em-none-eabihf/firmware/liblrkit_fw.a
 *   (also thumbv7em-none-eabi for softfp projects, thumbv8m.main-none-eabihf,
 *   riscv32imac-unknown-none-elf; link with --gc-sections)
 *
 * Ownership: the library allocates nothing and keeps no pointer after a call returns, except
 * that a composite scheduler (SequentialLR, ChainedScheduler) borrows its children's storage
 * until it is no longer used. All memory is the caller's: scheduler and early-stopping storage
 * (opaque, LRK_STORAGE_ALIGN-aligned blocks of the sizes below), parameter groups, tensors.
 *
 * Status: every function (but lrk_last_error_message and lrk_set_panic_hook) returns an
 * int32_t status; >= 0 success, < 0 rejected, and a rejected call writes nothing (exception:
 * a composite scheduler's step that a child refuses after sched-core's checks may have stepped
 * earlier children). lrk_last_error_message() then names the reason. The message slot is one
 * per program (not per thread).
 *
 * Alignment: pointers must be aligned to their C type (checked: LRK_ERR_MISALIGNED).
 * Threads: the library is not reentrant on the same objects; call it from one context.
 */
#ifndef LRKIT_FW_H
#define LRKIT_FW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (int32_t). */
#define LRK_OK 0
#define LRK_SKIPPED_FOUND_INF 1          /* SGD step validated and skipped (found_inf) */
#define LRK_ERR_NULL_POINTER (-1)
#define LRK_ERR_MISALIGNED (-2)
#define LRK_ERR_TOO_LARGE (-3)           /* over a LRK_MAX_* / LRK_SGD_MAX_* capacity */
#define LRK_ERR_OVERLAP (-4)             /* a written region overlaps another of the call */
#define LRK_ERR_INVALID_ARGUMENT (-5)    /* an unknown code, a string that is not UTF-8, ... */
#define LRK_ERR_INVALID_CONFIG (-10)     /* an SGD group's options */
#define LRK_ERR_MISSING_MOMENTUM_BUFFER (-11)
#define LRK_ERR_INVALID_GRAD_SCALE (-12)
#define LRK_ERR_DTYPE (-14)              /* a typed tensor's dtypes, master copy or rounding */
#define LRK_ERR_SGD (-15)                /* any other refused SGD step (lengths, ...) */
#define LRK_ERR_SCHEDULE (-20)           /* a schedule's options, or a step it refuses */
#define LRK_ERR_NO_CLOSED_FORM (-21)     /* lr_at of MultiplicativeLR, ReduceLROnPlateau, Chained */
#define LRK_ERR_UNKNOWN_SCHEDULE (-22)   /* lrk_scheduler_build: a name sched-core lacks */

/* Capacities. */
#define LRK_MAX_GROUPS 16u
#define LRK_MAX_MILESTONES 32u
#define LRK_MAX_KWARGS 16u
#define LRK_MAX_LIST_ITEMS 32u           /* list items over all kwargs of one build */
#define LRK_SGD_MAX_GROUPS 16u
#define LRK_SGD_MAX_TENSORS 16u          /* over all groups of one step */

/* Storage: sizes in bytes (checked against the Rust types by static asserts), alignment. */
#define LRK_STORAGE_ALIGN 8u
#if UINTPTR_MAX > 0xFFFFFFFFu
#define LRK_SCHEDULER_SIZE 1120u
#else
#define LRK_SCHEDULER_SIZE 1104u
#endif
#define LRK_EARLY_STOPPING_SIZE 56u

/* One scheduler (any kind), built by an lrk_*_init or lrk_scheduler_build. Opaque; its
 * members only size and align it. A C array of them is a composite's children. Do not copy
 * or move a built scheduler (a composite points into its children's storage). */
typedef union lrk_scheduler {
    unsigned char bytes[LRK_SCHEDULER_SIZE];
    uint64_t align_u64;
    double align_f64;
} lrk_scheduler;

/* Early stopping state. Opaque. */
typedef union lrk_early_stopping {
    unsigned char bytes[LRK_EARLY_STOPPING_SIZE];
    uint64_t align_u64;
    double align_f64;
} lrk_early_stopping;

/* What a scheduler reads and writes of one optimizer parameter group (PyTorch's
 * param_groups[i]["lr"], ["initial_lr"], ["momentum"]). 32 bytes. */
typedef struct lrk_param_group {
    double lr;
    double initial_lr;        /* valid when has_initial_lr */
    double momentum;          /* valid when has_momentum (SGD: set it, 0 for none) */
    uint8_t has_initial_lr;   /* 0 for a fresh optimizer: the first scheduler sets it */
    uint8_t has_momentum;
    uint8_t tensor_lr;        /* non-zero: lr is a 0-dim float32 tensor */
    uint8_t reserved[5];      /* 0 */
} lrk_param_group;

/* ---- Schedulers. Every init builds into `s` on groups[0..n_groups] (which it updates, as
 * the PyTorch constructor updates the optimizer's groups); last_epoch = -1 starts fresh. ---- */
int32_t lrk_step_lr_init(lrk_scheduler *s, lrk_param_group *groups, uint32_t n_groups,
                         uint64_t step_size, double gamma, int64_t last_epoch);
int32_t lrk_multi_step_lr_init(lrk_scheduler *s, lrk_param_group *groups, uint32_t n_groups,
                               const uint64_t *milestones, uint32_t n_milestones, double gamma,
                               int64_t last_epoch);
int32_t lrk_constant_lr_init(lrk_scheduler *s, lrk_param_group *groups, uint32_t n_groups,
                             double factor, uint64_t total_iters, int64_t last_epoch);
int32_t lrk_linear_lr_init(lrk_scheduler *s, lrk_param_group *groups, uint32_t n_groups,
                           double start_factor, double end_factor, uint64_t total_iters,
                           int64_t last_epoch);
int32_t lrk_exponential_lr_init(lrk_scheduler *s, lrk_param_group *groups, uint32_t n_groups,
                                double gamma, int64_t last_epoch);
int32_t lrk_polynomial_lr_init(lrk_scheduler *s, lrk_param_group *groups, uint32_t n_groups,
                               uint64_t total_iters, double power, int64_t last_epoch);
int32_t lrk_cosine_annealing_lr_init(lrk_scheduler *s, lrk_param_group *groups,
                                     uint32_t n_groups, uint64_t t_max, double eta_min,
                                     int64_t last_epoch);
int32_t lrk_cosine_annealing_warm_restarts_init(lrk_scheduler *s, lrk_param_group *groups,
                                                uint32_t n_groups, uint64_t t_0, uint64_t t_mult,
                                                double eta_min, int64_t last_epoch);
/* Composites: children[0..n_children] already built on the same groups, in order; the
 * composite borrows that array: keep it alive, and do not use, rebuild or move its elements
 * while `s` is in use. `s` must not be one of the children. */
int32_t lrk_sequential_lr_init(lrk_scheduler *s, lrk_param_group *groups, uint32_t n_groups,
                               lrk_scheduler *children, uint32_t n_children,
                               const uint64_t *milestones, uint32_t n_milestones,
                               int64_t last_epoch);
int32_t lrk_chained_scheduler_init(lrk_scheduler *s, lrk_param_group *groups, uint32_t n_groups,
                                   lrk_scheduler *children, uint32_t n_children);

/* Any leaf schedule by name with keyword arguments, as Python calls it: a PyTorch class
 * ("StepLR", "CyclicLR", "OneCycleLR", "ReduceLROnPlateau", ...), a transformers function
 * ("transformers.get_cosine_schedule_with_warmup"), a timm class ("timm.CosineLRScheduler"),
 * an optax function ("optax.warmup_cosine_decay_schedule"), with the library's keyword names,
 * defaults and type rules. Not expressible: lambdas (LambdaLR, MultiplicativeLR) and dicts. */
#define LRK_KW_INT 0u
#define LRK_KW_FLOAT 1u
#define LRK_KW_BOOL 2u
#define LRK_KW_STR 3u
#define LRK_KW_NONE 4u
#define LRK_KW_INT_LIST 5u
#define LRK_KW_FLOAT_LIST 6u
typedef struct lrk_kwarg {
    const char *name;       /* NUL-terminated UTF-8 keyword */
    uint32_t kind;          /* LRK_KW_* */
    uint32_t len;           /* items of a list kind */
    int64_t i;              /* LRK_KW_INT; LRK_KW_BOOL (0 or 1) */
    double f;               /* LRK_KW_FLOAT */
    const char *s;          /* LRK_KW_STR, NUL-terminated UTF-8 */
    const int64_t *ints;    /* LRK_KW_INT_LIST */
    const double *floats;   /* LRK_KW_FLOAT_LIST */
} lrk_kwarg;
int32_t lrk_scheduler_build(lrk_scheduler *s, lrk_param_group *groups, uint32_t n_groups,
                            const char *name, const lrk_kwarg *kwargs, uint32_t n_kwargs);

/* scheduler.step() on groups[0..n_groups] (the groups it was built on). */
int32_t lrk_scheduler_step(lrk_scheduler *s, lrk_param_group *groups, uint32_t n_groups);
/* ReduceLROnPlateau.step(metric). */
int32_t lrk_scheduler_step_metric(lrk_scheduler *s, lrk_param_group *groups, uint32_t n_groups,
                                  double metric);
/* CosineAnnealingWarmRestarts.step(epoch), fractional epochs. */
int32_t lrk_scheduler_step_epoch(lrk_scheduler *s, lrk_param_group *groups, uint32_t n_groups,
                                 double epoch);
/* Closed form lr(epoch) of one group, O(1), in double or in float (single-precision FPUs). */
int32_t lrk_scheduler_lr_at(const lrk_scheduler *s, uint32_t group, uint64_t epoch, double *out);
int32_t lrk_scheduler_lr_at_f32(const lrk_scheduler *s, uint32_t group, uint64_t epoch,
                                float *out);
int32_t lrk_scheduler_last_epoch(const lrk_scheduler *s, int64_t *out);
/* SequentialLR's closed form without building the composite: child i (of children[0..n]) from
 * milestones[i - 1] on, at epoch - milestones[i - 1] (n - 1 increasing milestones), as PyTorch
 * >= 2.13 constructs SequentialLR; sched_core::Join for any number of children. A program
 * that builds only torch leaves (the typed inits above) and evaluates them with lr_at or this
 * links only those schedules' closed forms; lrk_scheduler_build and the composite inits link
 * every family's. */
int32_t lrk_sequential_lr_at(const lrk_scheduler *children, uint32_t n_children,
                             const uint64_t *milestones, uint32_t group, uint64_t epoch,
                             double *out);
int32_t lrk_sequential_lr_at_f32(const lrk_scheduler *children, uint32_t n_children,
                                 const uint64_t *milestones, uint32_t group, uint64_t epoch,
                                 float *out);

/* ---- Early stopping: stop after `patience` epochs without improving by more than
 * min_delta (>= 0). ---- */
#define LRK_MODE_MIN 0u   /* lower is better (a loss) */
#define LRK_MODE_MAX 1u   /* higher is better (an accuracy) */
int32_t lrk_early_stopping_init(lrk_early_stopping *e, uint32_t mode, uint64_t patience,
                                double min_delta);
/* Records one epoch's metric; *stop = 1 when training should stop, else 0. */
int32_t lrk_early_stopping_update(lrk_early_stopping *e, double metric, uint8_t *stop);
/* The 1-based epoch of the best metric (0 before any) and whether to stop; NULL skips one. */
int32_t lrk_early_stopping_state(const lrk_early_stopping *e, uint64_t *best_epoch,
                                 uint8_t *should_stop);

/* ---- Fused SGD (torch.optim.SGD.step, bit for bit), over caller arrays, on this core. ---- */
typedef struct lrk_sgd_config {   /* 40 bytes, as sgd_config of sgd_cpu.h */
    double lr;
    double momentum;              /* 0: no momentum buffer */
    double dampening;
    double weight_decay;
    uint32_t nesterov;            /* non-zero = true */
    uint32_t maximize;            /* non-zero = true */
} lrk_sgd_config;

/* One float32 tensor. grad == NULL skips it. Written regions (param, momentum_buffer,
 * initialized) must not overlap anything else of the call (checked). */
typedef struct lrk_sgd_tensor {
    float *param;                 /* numel floats, updated in place */
    const float *grad;            /* numel floats, read only */
    float *momentum_buffer;       /* numel floats; required if the group has momentum */
    uint8_t *initialized;         /* with a buffer: 0 before its first step, set to 1 */
    size_t numel;
} lrk_sgd_tensor;

typedef struct lrk_sgd_group {
    lrk_sgd_config config;
    const lrk_sgd_tensor *tensors;
    size_t n_tensors;
} lrk_sgd_group;

/* One fused step over every tensor of every group. grad_scale: NULL or one float dividing
 * every gradient; found_inf non-zero: validate, then skip (LRK_SKIPPED_FOUND_INF). */
int32_t lrk_sgd_step(const lrk_sgd_group *groups, size_t n_groups, const float *grad_scale,
                     uint32_t found_inf);

/* Element types and rounding of typed tensors (the codes of sgd_cpu.h). */
#define LRK_DTYPE_FLOAT32 0u
#define LRK_DTYPE_FLOAT64 1u
#define LRK_DTYPE_BFLOAT16 2u   /* uint16_t bit patterns */
#define LRK_DTYPE_FLOAT16 3u    /* uint16_t bit patterns (IEEE binary16) */
#define LRK_ROUND_NEAREST_EVEN 0u
#define LRK_ROUND_STOCHASTIC 1u /* Philox4x32-10 of (seed, step, tensor, element) */

/* One tensor of any dtype: all FLOAT32, all FLOAT64, all BFLOAT16 or all FLOAT16; or 16-bit
 * param and grad with a float32 master copy (master_numel == numel) and a FLOAT32 buffer.
 * Pointers aligned to their element (2, 4 or 8 bytes). */
typedef struct lrk_sgd_typed_tensor {
    void *param;
    const void *grad;             /* NULL skips the tensor */
    void *momentum_buffer;        /* NULL: none */
    float *master;                /* NULL: none */
    uint8_t *initialized;
    size_t numel;
    size_t master_numel;
    uint32_t param_dtype;         /* LRK_DTYPE_* */
    uint32_t grad_dtype;
    uint32_t buffer_dtype;
    uint32_t rounding;            /* LRK_ROUND_* */
} lrk_sgd_typed_tensor;

typedef struct lrk_sgd_typed_group {
    lrk_sgd_config config;
    const lrk_sgd_typed_tensor *tensors;
    size_t n_tensors;
} lrk_sgd_typed_group;

int32_t lrk_sgd_step_typed(const lrk_sgd_typed_group *groups, size_t n_groups,
                           const float *grad_scale, uint32_t found_inf, uint64_t seed,
                           uint32_t step);

/* configs[i].lr = groups[i].lr, and .momentum where the group has one (the bridge from a
 * schedule to the optimizer); checked, nothing written when refused. */
int32_t lrk_inject_hyperparams(const lrk_param_group *groups, lrk_sgd_config *configs,
                               uint32_t n_groups);

/* ---- Errors and panics. ---- */
/* The last error's message ("" after a success), NUL-terminated and truncated to len - 1
 * bytes; returns its full length (like snprintf). buf NULL or len 0: nothing written. */
size_t lrk_last_error_message(char *buf, size_t len);

/* Called by the library's panic handler (a bug: it never panics on bad input) with the
 * message and file, not NUL-terminated, and the line. It may end the program; if it returns,
 * the handler loops forever. NULL (the default): loop at once. */
typedef void (*lrk_panic_hook)(const char *message, size_t message_len, const char *file,
                               size_t file_len, uint32_t line);
void lrk_set_panic_hook(lrk_panic_hook hook);

/* ---- The digits MLP of on-device (library feature `digits`, for the C training firmware
 * only): 64-16-10, f32, forward and backward as the Rust firmware computes them. ---- */
#define LRK_DIGITS_FEATURES 64
#define LRK_DIGITS_HIDDEN 16
#define LRK_DIGITS_CLASSES 10
#define LRK_DIGITS_TRAIN_SAMPLES 1437u
#define LRK_DIGITS_VALIDATION_SAMPLES 360u
typedef struct lrk_digits_tensors {   /* parameters, gradients or momentum buffers */
    float w1[LRK_DIGITS_HIDDEN * LRK_DIGITS_FEATURES];
    float w2[LRK_DIGITS_CLASSES * LRK_DIGITS_HIDDEN];
    float b1[LRK_DIGITS_HIDDEN];
    float b2[LRK_DIGITS_CLASSES];
} lrk_digits_tensors;
int32_t lrk_digits_gradient(const lrk_digits_tensors *params, lrk_digits_tensors *grads,
                            const uint16_t *indices, uint32_t n, float *loss_sum);
int32_t lrk_digits_validate(const lrk_digits_tensors *params, float *loss_sum,
                            uint32_t *correct);
int32_t lrk_digits_samples(uint32_t *train, uint32_t *validation);

#ifdef __cplusplus
}
#endif

#endif /* LRKIT_FW_H */
