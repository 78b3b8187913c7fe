// Just enough of CUDA C++ to run sgd-cuda's kernels on the CPU, one std::thread per CUDA
// thread and a std::barrier per block for __syncthreads(). Used by tests/kernel_on_host.rs to
// execute the real kernel source (indexing, float4 and scalar paths, first-step flags) where
// no GPU is available. Compile with -ffp-contract=off so nothing is fused behind our back.
#pragma once
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>

struct float4 {
    float x, y, z, w;
};
static inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }

struct dim3 {
    unsigned int x = 1, y = 1, z = 1;
};

static thread_local dim3 threadIdx;
static thread_local dim3 blockIdx;
static thread_local std::barrier<>* block_barrier = nullptr;
static dim3 blockDim;
static dim3 gridDim;

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict

static inline float __fmaf_rn(float a, float b, float c) { return std::fmaf(a, b, c); }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
static inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }
static inline double __dmul_rn(double a, double b) { return a * b; }
static inline double __ddiv_rn(double a, double b) { return a / b; }
static inline unsigned int __float_as_uint(float x) {
    unsigned int u;
    std::memcpy(&u, &x, sizeof u);
    return u;
}
static inline float __uint_as_float(unsigned int u) {
    float x;
    std::memcpy(&x, &u, sizeof x);
    return x;
}
static inline unsigned int __umulhi(unsigned int a, unsigned int b) {
    return (unsigned int)(((unsigned long long)a * b) >> 32);
}
static inline int __clz(unsigned int x) { return x == 0 ? 32 : __builtin_clz(x); }
static inline void __syncthreads() { block_barrier->arrive_and_wait(); }
// Cache-hinted loads and stores (evict-first): plain accesses on the CPU.
template <class T>
static inline T __ldcs(const T* p) { return *p; }
template <class T>
static inline void __stcs(T* p, T v) { *p = v; }
