// Launch-shape and kernel-variant sweep of sgd-cuda's kernel (sgd-cuda/kernels/sgd_multi_tensor.cu,
// included as is), built with nvcc on a GPU machine by run.sh. Not part of the library: it
// answers "which chunk size, block size, grid cap, ILP and cache hints make the step closest to
// copy bandwidth", so the library's defaults can be chosen from measurements.
//
// The kernel is compiled with the library's numerics flags (--fmad=false, --ftz=false,
// --prec-div=true) and the tuning macros of the .cu (SGD_ILP, SGD_LOAD, SGD_STORE) set by
// run.sh; cache hints and unrolling change no value.
//
// Prints CSV: variant,case,tensors,elements,chunk,threads,grid,regs,step_us,copy_us,of_copy
// where of_copy = time of a device-to-device copy of the same 20 bytes/element of traffic
// divided by the step time (the sgd_cuda bench's definition), measured in the same process.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

// Variant switches (plain -D NAME=value: nvcc splits option values at commas, so function-like
// macros cannot be passed on its command line).
#if defined(SGD_CACHE_PLAIN) && SGD_CACHE_PLAIN
#define SGD_LOAD(ptr) (*(ptr))
#define SGD_STORE(ptr, v) (*(ptr) = (v))
#endif

#include "../../sgd-cuda/kernels/sgd_multi_tensor.cu"

#ifndef VARIANT
#define VARIANT "default"
#endif

#define CK(x)                                                                              \
    do {                                                                                   \
        cudaError_t e_ = (x);                                                              \
        if (e_ != cudaSuccess) {                                                           \
            std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); \
            std::exit(1);                                                                  \
        }                                                                                  \
    } while (0)

template <class F>
static double median_us(F f, double target_ms) {
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    for (int i = 0; i < 3; ++i) f();
    CK(cudaEventRecord(a));
    f();
    CK(cudaEventRecord(b));
    CK(cudaEventSynchronize(b));
    float one = 0;
    CK(cudaEventElapsedTime(&one, a, b));
    int iters = (int)std::min(std::max(target_ms / 5.0 / std::max((double)one, 1e-3), 3.0), 20000.0);
    std::vector<double> s;
    for (int k = 0; k < 5; ++k) {
        CK(cudaEventRecord(a));
        for (int i = 0; i < iters; ++i) f();
        CK(cudaEventRecord(b));
        CK(cudaEventSynchronize(b));
        float ms = 0;
        CK(cudaEventElapsedTime(&ms, a, b));
        s.push_back(ms * 1e3 / iters);
    }
    std::sort(s.begin(), s.end());
    CK(cudaEventDestroy(a));
    CK(cudaEventDestroy(b));
    return s[2];
}

int main(int argc, char** argv) {
    double target_ms = argc > 1 ? std::atof(argv[1]) : 10.0;
    int sms = 0;
    CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
    cudaFuncAttributes attr;
    CK(cudaFuncGetAttributes(&attr, sgd_multi_tensor_f32));
    struct Case { const char* name; unsigned tensors; unsigned long long per; };
    const Case cases[] = {{"1x1M", 1, 1ull << 20}, {"1x16M", 1, 16ull << 20}, {"1x256M", 1, 256ull << 20},
                          {"1000x4096", 1000, 4096}};
    const unsigned long long chunks_try[] = {4096, 8192, 16384, 32768, 65536, 131072};
    const unsigned threads_try[] = {128, 256, 512, 1024};
    const int grid_mult[] = {0, 2, 4};  // 0: one block per chunk; k: at most k * SMs blocks
    std::printf("variant,case,tensors,elements,chunk,threads,grid,regs,step_us,copy_us,of_copy\n");
    for (const Case& c : cases) {
        unsigned long long n = c.tensors * c.per;
        float *p, *g, *b;
        CK(cudaMalloc(&p, n * 4));
        CK(cudaMalloc(&g, n * 4));
        CK(cudaMalloc(&b, n * 4));
        CK(cudaMemset(p, 0, n * 4));
        CK(cudaMemset(b, 0, n * 4));
        std::vector<float> hg(n, 1e-3f);
        CK(cudaMemcpy(g, hg.data(), n * 4, cudaMemcpyHostToDevice));
        char *src, *dst;
        CK(cudaMalloc(&src, n * 10));
        CK(cudaMalloc(&dst, n * 10));
        double copy_us = median_us([&] { CK(cudaMemcpyAsync(dst, src, n * 10, cudaMemcpyDeviceToDevice)); }, target_ms);
        CK(cudaFree(src));
        CK(cudaFree(dst));
        std::vector<TensorEntry> te(c.tensors);
        for (unsigned t = 0; t < c.tensors; ++t) {
            unsigned long long off = t * c.per;
            te[t] = TensorEntry{(unsigned long long)(p + off), (unsigned long long)(g + off),
                                (unsigned long long)(b + off), c.per, 0u,
                                TENSOR_HAS_GRAD | TENSOR_HAS_MOMENTUM_BUF | TENSOR_VEC4};
        }
        GroupEntry ge{0.0f, 0.9f, 1.0f, GROUP_HAS_MOMENTUM};
        float neg_lr = -0.01f;
        TensorEntry* d_te;
        GroupEntry* d_ge;
        float* d_lr;
        CK(cudaMalloc(&d_te, te.size() * sizeof(TensorEntry)));
        CK(cudaMemcpy(d_te, te.data(), te.size() * sizeof(TensorEntry), cudaMemcpyHostToDevice));
        CK(cudaMalloc(&d_ge, sizeof ge));
        CK(cudaMemcpy(d_ge, &ge, sizeof ge, cudaMemcpyHostToDevice));
        CK(cudaMalloc(&d_lr, 4));
        CK(cudaMemcpy(d_lr, &neg_lr, 4, cudaMemcpyHostToDevice));
        for (unsigned long long chunk : chunks_try) {
            if (c.tensors > 1 && chunk > c.per) continue;  // one chunk per tensor already
            std::vector<ChunkEntry> ch;
            for (unsigned t = 0; t < c.tensors; ++t)
                for (unsigned long long k = 0; k * chunk < c.per; ++k) ch.push_back(ChunkEntry{t, (unsigned)k});
            ChunkEntry* d_ch;
            unsigned* d_first;
            CK(cudaMalloc(&d_ch, ch.size() * sizeof(ChunkEntry)));
            CK(cudaMemcpy(d_ch, ch.data(), ch.size() * sizeof(ChunkEntry), cudaMemcpyHostToDevice));
            CK(cudaMalloc(&d_first, ch.size() * 4));
            CK(cudaMemset(d_first, 0, ch.size() * 4));
            unsigned nc = (unsigned)ch.size();
            for (unsigned threads : threads_try) {
                if (threads > (unsigned)attr.maxThreadsPerBlock) continue;
                for (int gm : grid_mult) {
                    unsigned grid = gm == 0 ? nc : std::min(nc, (unsigned)(gm * sms));
                    if (gm != 0 && grid == nc) continue;  // same as one block per chunk
                    double us = median_us(
                        [&] {
                            sgd_multi_tensor_f32<<<grid, threads>>>(d_te, d_ch, nc, chunk, d_ge, d_lr, d_first,
                                                                    nullptr, nullptr, nullptr);
                        },
                        target_ms);
                    CK(cudaGetLastError());
                    std::printf("%s,%s,%u,%llu,%llu,%u,%u,%d,%.2f,%.2f,%.4f\n", VARIANT, c.name, c.tensors, n,
                                chunk, threads, grid, attr.numRegs, us, copy_us, copy_us / us);
                }
            }
            CK(cudaFree(d_ch));
            CK(cudaFree(d_first));
        }
        CK(cudaFree(d_te));
        CK(cudaFree(d_ge));
        CK(cudaFree(d_lr));
        CK(cudaFree(p));
        CK(cudaFree(g));
        CK(cudaFree(b));
        std::fflush(stdout);
    }
    return 0;
}
