/* A C trainer's view of sgd-cuda: errors, then (with a GPU) momentum steps on device memory.
 * Build and run (from the repository root):
 *   cargo build --release -p sgd-cuda-capi
 *   cc -std=c99 sgd-cuda-capi/examples/c_step.c -Isgd-cuda-capi/include -Ltarget/release \
 *      -lsgd_cuda_capi -ldl -Wl,-rpath,$PWD/target/release -o /tmp/c_step && /tmp/c_step
 * No CUDA header or library is needed to build: the device memory and the stream of the GPU
 * part come from the driver API, loaded with dlopen (a real trainer has them from its framework
 * or from cudaMalloc / cudaStreamCreate).
 * Prints the struct layout, the refused calls (status and message), then either the status of
 * a create without a driver, or the parameters after each step as hex bits (the Rust test
 * `c_program_matches_the_reference` checks every line). */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include "sgd_cuda.h"

#define N 37

/* The few driver API entry points used here (cuda.h declares them; not needed to build). */
typedef int (*cu_init_t)(unsigned);
typedef int (*cu_device_get_t)(int *, int);
typedef int (*cu_ctx_retain_t)(void **, int);
typedef int (*cu_ctx_set_t)(void *);
typedef int (*cu_stream_create_t)(void **, unsigned);
typedef int (*cu_mem_alloc_t)(unsigned long long *, size_t);
typedef int (*cu_htod_t)(unsigned long long, const void *, size_t);
typedef int (*cu_dtoh_t)(void *, unsigned long long, size_t);
typedef int (*cu_sync_t)(void *);

static void report(const char *what, int32_t status) {
    char msg[256];
    sgd_cuda_last_error_message(msg, sizeof msg);
    printf("%s %d %s\n", what, status, msg);
}

static void dump(const char *name, const float *x, size_t n) {
    printf("%s", name);
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        printf(" %08x", bits);
    }
    printf("\n");
}

int main(void) {
    printf("layout %zu %zu %zu %zu %zu\n", sizeof(sgd_cuda_config), sizeof(sgd_cuda_tensor),
           offsetof(sgd_cuda_tensor, numel), offsetof(sgd_cuda_tensor, group),
           offsetof(sgd_cuda_tensor, initialized));
    float w0[N], g0[N], w1[N], g1[N];
    for (int i = 0; i < N; i++) {
        w0[i] = 1.0f + 0.01f * (float)i;
        g0[i] = 0.5f - 0.03f * (float)i;
        w1[i] = -2.0f + 0.07f * (float)i;
        g1[i] = 0.25f * (float)(i % 5) - 0.4f;
    }
    sgd_cuda_config groups[2] = {
        { .lr = 0.1, .momentum = 0.9, .weight_decay = 1e-4, .nesterov = 1 },
        { .lr = 0.05, .maximize = 1 },
    };
    /* Placeholder device addresses for the refused calls: never used by them. */
    sgd_cuda_tensor t[2] = {
        { (float *)0x10000000, (const float *)0x10001000, (float *)0x10002000, N, 0, 0 },
        { (float *)0x10003000, (const float *)0x10004000, NULL, N, 1, 0 },
    };
    void *fake_stream = (void *)0x5000;
    sgd_cuda_optimizer *opt = NULL;

    groups[1].lr = -1.0;
    report("bad-lr", sgd_cuda_create(0, fake_stream, groups, 2, t, 2, &opt));
    groups[1].lr = 0.05;
    t[1].group = 7;
    report("bad-group", sgd_cuda_create(0, fake_stream, groups, 2, t, 2, &opt));
    t[1].group = 1;
    t[0].momentum_buffer = NULL;
    report("no-buffer", sgd_cuda_create(0, fake_stream, groups, 2, t, 2, &opt));
    t[0].momentum_buffer = (float *)0x10000010; /* inside w0 */
    report("overlap", sgd_cuda_create(0, fake_stream, groups, 2, t, 2, &opt));
    t[0].momentum_buffer = (float *)0x10002000;
    report("null-stream", sgd_cuda_create(0, NULL, groups, 2, t, 2, &opt));
    report("null-opt", sgd_cuda_step(NULL, NULL, 0));

    /* Typed tensors: a bfloat16 parameter with an f32 master copy and buffer, rounded
     * stochastically (sgd_cuda_set_rounding_key sets the seed and step), next to a float32 one. */
    sgd_cuda_typed_tensor tt[2] = {
        { (void *)0x20000000, (const void *)0x20001000, (void *)0x20002000, (float *)0x20004000,
          N, N, 0, 0, SGD_CUDA_DTYPE_BFLOAT16, SGD_CUDA_DTYPE_BFLOAT16, SGD_CUDA_DTYPE_FLOAT32,
          SGD_CUDA_ROUND_STOCHASTIC },
        { (void *)0x20006000, (const void *)0x20007000, NULL, NULL, N, 0, 1, 0,
          SGD_CUDA_DTYPE_FLOAT32, SGD_CUDA_DTYPE_FLOAT32, SGD_CUDA_DTYPE_FLOAT32,
          SGD_CUDA_ROUND_NEAREST_EVEN },
    };
    tt[0].grad_dtype = SGD_CUDA_DTYPE_FLOAT16;
    report("typed-grad", sgd_cuda_create_typed(0, fake_stream, groups, 2, tt, 2, &opt));
    tt[0].grad_dtype = SGD_CUDA_DTYPE_BFLOAT16;
    tt[1].rounding = SGD_CUDA_ROUND_STOCHASTIC;
    report("typed-sr", sgd_cuda_create_typed(0, fake_stream, groups, 2, tt, 2, &opt));
    tt[1].rounding = SGD_CUDA_ROUND_NEAREST_EVEN;

    void *cuda = dlopen("libcuda.so.1", RTLD_NOW);
    if (!cuda) {
        /* Without a driver the checks pass and the create stops at the driver, cleanly. */
        report("create", sgd_cuda_create(0, fake_stream, groups, 2, t, 2, &opt));
        printf("opt %s\n", opt ? "set" : "null");
        return 0;
    }
    cu_init_t cu_init = (cu_init_t)dlsym(cuda, "cuInit");
    cu_device_get_t cu_device_get = (cu_device_get_t)dlsym(cuda, "cuDeviceGet");
    cu_ctx_retain_t cu_ctx_retain = (cu_ctx_retain_t)dlsym(cuda, "cuDevicePrimaryCtxRetain");
    cu_ctx_set_t cu_ctx_set = (cu_ctx_set_t)dlsym(cuda, "cuCtxSetCurrent");
    cu_stream_create_t cu_stream_create = (cu_stream_create_t)dlsym(cuda, "cuStreamCreate");
    cu_mem_alloc_t cu_mem_alloc = (cu_mem_alloc_t)dlsym(cuda, "cuMemAlloc_v2");
    cu_htod_t cu_htod = (cu_htod_t)dlsym(cuda, "cuMemcpyHtoD_v2");
    cu_dtoh_t cu_dtoh = (cu_dtoh_t)dlsym(cuda, "cuMemcpyDtoH_v2");
    cu_sync_t cu_sync = (cu_sync_t)dlsym(cuda, "cuStreamSynchronize");
    int device = 0;
    void *ctx = NULL, *stream = NULL;
    unsigned long long d[5];
    if (cu_init(0) || cu_device_get(&device, 0) || cu_ctx_retain(&ctx, device) ||
        cu_ctx_set(ctx) || cu_stream_create(&stream, 1 /* CU_STREAM_NON_BLOCKING */)) {
        printf("no usable GPU\n");
        return 0;
    }
    for (int i = 0; i < 5; i++) {
        if (cu_mem_alloc(&d[i], N * sizeof(float))) return 1;
    }
    static const float zeros[N];
    cu_htod(d[0], w0, sizeof w0);
    cu_htod(d[1], g0, sizeof g0);
    cu_htod(d[2], zeros, sizeof zeros);
    cu_htod(d[3], w1, sizeof w1);
    cu_htod(d[4], g1, sizeof g1);
    t[0] = (sgd_cuda_tensor){ (float *)d[0], (const float *)d[1], (float *)d[2], N, 0, 0 };
    t[1] = (sgd_cuda_tensor){ (float *)d[3], (const float *)d[4], NULL, N, 1, 0 };
    report("create", sgd_cuda_create(0, stream, groups, 2, t, 2, &opt));
    if (!opt) return 1;
    for (int step = 0; step < 3; step++) {
        double lrs[2] = { 0.1 / (double)(step + 1), 0.05 }; /* a scheduler would set these */
        int32_t status = sgd_cuda_step(opt, lrs, 2);
        cu_sync(stream);
        cu_dtoh(w0, d[0], sizeof w0);
        cu_dtoh(w1, d[3], sizeof w1);
        printf("status %d\n", status);
        dump("w0", w0, N);
        dump("w1", w1, N);
    }
    sgd_cuda_destroy(opt);
    cu_sync(stream);
    return 0;
}
