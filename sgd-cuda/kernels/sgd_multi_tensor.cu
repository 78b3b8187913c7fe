// Multi-tensor fused SGD (float32), one launch for every tensor of every parameter group.
//
// Compiled at run time by NVRTC with `--fmad=false` (no contraction anywhere), `--ftz=false`,
// `--prec-div=true`: every fused multiply-add below is written explicitly with __fmaf_rn and
// every product that the scalar reference (sgd_core::scalar::sgd_update) rounds on its own is
// written with __fmul_rn, so results are bitwise equal to the CPU reference:
//
//   g = grad
//   if grad_scale:  g = __fdiv_rn(g, *grad_scale)            IEEE division
//   if maximize:    g = -g
//   if has_wd:      g = fma(p, wd, g)                          grad.add(p, alpha=wd)
//   if has_m:
//       if first:   buf = g
//       else:       buf = fma(g, 1-d, buf * m)                 buf.mul_(m).add_(g, alpha=1-d)
//       g = nesterov ? fma(buf, m, g) : buf                   grad.add(buf, alpha=m)
//   p = fma(g, -lr, p)                                         p.add_(g, alpha=-lr)
//
// One body, templated over the storage type and the mode, serves every dtype (TensorEntry.kind):
//   KIND_F32          float32: the rule above (update_chunk<float, ...>, float4 when aligned)
//   KIND_F64          float64: the same rule in f64 with f64 scalars (__fma_rn, __dmul_rn,
//                     __ddiv_rn; sgd_core::scalar64::sgd_update_f64)
//   KIND_BF16/F16     16-bit storage: every element widened exactly, the f32 rule, param and
//                     buffer rounded once (sgd_core::precision::sgd_update_half), with torch's
//                     scalar-tail grouping buf = fma(buf, m, g * (1-d)) from
//                     numel - numel % 32 on (sgd_core::precision::fused_tail_start)
//   KIND_*_MASTER     bf16/f16 params and grads, f32 master copy and f32 buffer: the f32 rule on
//                     the master, param = master rounded (sgd_core::precision::sgd_update_master)
// Rounding to bf16/f16 is by integer operations, the bit recipes of sgd_core::convert: to nearest
// even, or (TENSOR_STOCHASTIC) stochastically with Philox4x32-10 words of the counter
// [i, i >> 32, sr_tensor, step] under the key [seed, seed >> 32] (sgd_core::philox; word 0 rounds
// the parameter, word 1 the buffer), so the bits are sgd-core's and sgd-cpu's for every launch
// shape. sgd_multi_tensor_f32 is the body for float32 tensors only (its tables hold nothing
// else); sgd_multi_tensor_typed dispatches per chunk on the kind (uniform per block).
//
// Tables (written by sgd_cuda::table as the Rust structs of the same names, `#[repr(C)]`; both
// sides assert the sizes and offsets below):
//   TensorEntry (one per tensor), ChunkEntry (one per chunk), GroupEntry (one per group),
//   neg_lrs     (f32 per group): f32(-lr), the only per-step upload; or, with a device
//               schedule, the table of f32(-lr) per (row, group), row-major
//   chunk_first (u32 per chunk): 1 until the chunk's momentum buffer was initialised.
//     Each chunk is owned by exactly one block per launch, so the block that reads the flag is
//     the only one that clears it (after a __syncthreads): no race between blocks.
//   ScheduleState (sgd_cuda::schedule::ScheduleState, nullable): the device schedule's step
//     counter. A scheduled step is two launches in stream order (and in a captured graph):
//       sgd_multi_tensor_f32(..., schedule)   every block reads row = schedule->row and uses
//                                             neg_lrs[row * groups + g]; row >= rows: the
//                                             whole step returns, nothing is written
//       sgd_schedule_advance(schedule)        one thread, after every block of the step has
//                                             finished (stream order): row += 1 while
//                                             row < rows, else exhausted += 1 (saturating)
//     so no block can see a half-advanced counter and a step past the table is counted on the
//     device (the host reports it as ScheduleError::Exhausted), never a reuse of the
//     last row.

// Field offsets are asserted where `offsetof` exists: host compilers (the kernel_on_host test)
// and nvcc. NVRTC 13.0 has no `offsetof` and rejects `__builtin_offsetof` in a constant
// expression, so under NVRTC only sizes and alignments are asserted here (the Rust side asserts
// every offset of the same structs).
#if defined(__CUDACC_RTC__)
#define SGD_ASSERT_OFFSET(type, member, off) static_assert(true, "")
#else
#include <cstddef>
#define SGD_ASSERT_OFFSET(type, member, off) static_assert(offsetof(type, member) == (off), #type "." #member)
#endif

#define TENSOR_HAS_GRAD 1u
#define TENSOR_HAS_MOMENTUM_BUF 2u
#define TENSOR_VEC4 4u
#define TENSOR_STOCHASTIC 8u

#define KIND_F32 0u
#define KIND_F64 1u
#define KIND_BF16 2u
#define KIND_F16 3u
#define KIND_BF16_MASTER 4u
#define KIND_F16_MASTER 5u

#define GROUP_HAS_WD 1u
#define GROUP_HAS_MOMENTUM 2u
#define GROUP_NESTEROV 4u
#define GROUP_MAXIMIZE 8u

// One tensor (TensorEntry of sgd-cuda's src/kernel_tables.rs).
struct TensorEntry {
    unsigned long long param;     // device address of the first parameter
    unsigned long long grad;      // device address of the first gradient element
    unsigned long long momentum;  // device address of the first momentum element, 0 = none
    unsigned long long numel;
    unsigned int group;           // index into the group table and neg_lrs
    unsigned int flags;           // TENSOR_*
    unsigned long long master;    // device address of the f32 master copy (KIND_*_MASTER), else 0
    unsigned int kind;            // KIND_*: storage type and mode
    unsigned int sr_tensor;       // Philox counter word 2 of stochastic rounding
};
static_assert(sizeof(TensorEntry) == 56 && alignof(TensorEntry) == 8, "TensorEntry: 56 bytes");
SGD_ASSERT_OFFSET(TensorEntry, param, 0);
SGD_ASSERT_OFFSET(TensorEntry, grad, 8);
SGD_ASSERT_OFFSET(TensorEntry, momentum, 16);
SGD_ASSERT_OFFSET(TensorEntry, numel, 24);
SGD_ASSERT_OFFSET(TensorEntry, group, 32);
SGD_ASSERT_OFFSET(TensorEntry, flags, 36);
SGD_ASSERT_OFFSET(TensorEntry, master, 40);
SGD_ASSERT_OFFSET(TensorEntry, kind, 48);
SGD_ASSERT_OFFSET(TensorEntry, sr_tensor, 52);

// One chunk of one tensor, the work of one block (ChunkEntry of src/kernel_tables.rs).
struct ChunkEntry {
    unsigned int tensor;  // index into the tensor table
    unsigned int chunk;   // first element: chunk * chunk_elems
};
static_assert(sizeof(ChunkEntry) == 8 && alignof(ChunkEntry) == 4, "ChunkEntry: 8 bytes");
SGD_ASSERT_OFFSET(ChunkEntry, tensor, 0);
SGD_ASSERT_OFFSET(ChunkEntry, chunk, 4);

// One parameter group's scalars, rounded on the host (GroupEntry of src/kernel_tables.rs): the
// f32 ones of float32 and 16-bit tensors, and the f64 options themselves for float64 tensors.
struct GroupEntry {
    float weight_decay;
    float momentum;
    float one_minus_dampening;
    unsigned int flags;  // GROUP_*
    double weight_decay64;
    double momentum64;
    double one_minus_dampening64;
};
static_assert(sizeof(GroupEntry) == 40 && alignof(GroupEntry) == 8, "GroupEntry: 40 bytes");
SGD_ASSERT_OFFSET(GroupEntry, weight_decay, 0);
SGD_ASSERT_OFFSET(GroupEntry, momentum, 4);
SGD_ASSERT_OFFSET(GroupEntry, one_minus_dampening, 8);
SGD_ASSERT_OFFSET(GroupEntry, flags, 12);
SGD_ASSERT_OFFSET(GroupEntry, weight_decay64, 16);
SGD_ASSERT_OFFSET(GroupEntry, momentum64, 24);
SGD_ASSERT_OFFSET(GroupEntry, one_minus_dampening64, 32);

// The key of stochastic rounding (sgd_cuda's SrKey): the Philox key and counter word 3.
struct SrKey {
    unsigned int seed_lo;
    unsigned int seed_hi;
    unsigned int step;
    unsigned int reserved;
};
static_assert(sizeof(SrKey) == 16 && alignof(SrKey) == 4, "SrKey: 16 bytes");
SGD_ASSERT_OFFSET(SrKey, seed_lo, 0);
SGD_ASSERT_OFFSET(SrKey, seed_hi, 4);
SGD_ASSERT_OFFSET(SrKey, step, 8);

// The device schedule's counter (sgd_cuda::schedule::ScheduleState).
struct ScheduleState {
    unsigned int row;        // the row the next scheduled step uses
    unsigned int rows;       // rows of the table
    unsigned int groups;     // learning rates per row
    unsigned int exhausted;  // scheduled steps that found row == rows (did nothing), saturating
};
static_assert(sizeof(ScheduleState) == 16 && alignof(ScheduleState) == 4, "ScheduleState: 16 bytes");
SGD_ASSERT_OFFSET(ScheduleState, row, 0);
SGD_ASSERT_OFFSET(ScheduleState, rows, 4);
SGD_ASSERT_OFFSET(ScheduleState, groups, 8);
SGD_ASSERT_OFFSET(ScheduleState, exhausted, 12);

// The rounded operations of the rule, for float (f32 tensors, the f32 arithmetic of 16-bit ones)
// and double (f64 tensors).
__device__ __forceinline__ float fma_rn(float a, float b, float c) { return __fmaf_rn(a, b, c); }
__device__ __forceinline__ double fma_rn(double a, double b, double c) { return __fma_rn(a, b, c); }
__device__ __forceinline__ float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double mul_rn(double a, double b) { return __dmul_rn(a, b); }
__device__ __forceinline__ float div_rn(float a, float b) { return __fdiv_rn(a, b); }
__device__ __forceinline__ double div_rn(double a, double b) { return __ddiv_rn(a, b); }

template <class T>
struct Scalars {
    T wd;
    T m;
    T omd;
    T neg_lr;
    bool scale;
    T grad_scale;
    bool has_wd;
    bool maximize;
    bool nesterov;
};

template <class T>
__device__ __forceinline__ T effective_grad(const Scalars<T>& s, T p, T g) {
    if (s.scale) {
        g = div_rn(g, s.grad_scale);
    }
    if (s.maximize) {
        g = -g;
    }
    if (s.has_wd) {
        g = fma_rn(p, s.wd, g);
    }
    return g;
}

// One element with momentum. `b` is the buffer value (ignored when `first`). `tail`: torch's
// scalar-tail grouping of the buffer update (16-bit storage, the last numel % 32 elements).
template <class T>
__device__ __forceinline__ void update_momentum(const Scalars<T>& s, bool first, bool tail, T& p, T g0, T& b) {
    T g = effective_grad(s, p, g0);
    if (first) {
        b = g;
    } else if (tail) {
        b = fma_rn(b, s.m, mul_rn(g, s.omd));
    } else {
        b = fma_rn(g, s.omd, mul_rn(b, s.m));
    }
    T d = s.nesterov ? fma_rn(b, s.m, g) : b;
    p = fma_rn(d, s.neg_lr, p);
}

// One element without momentum.
template <class T>
__device__ __forceinline__ void update_plain(const Scalars<T>& s, T& p, T g0) {
    T g = effective_grad(s, p, g0);
    p = fma_rn(g, s.neg_lr, p);
}

// One element: with momentum (buffer value `b`) or without (`b` and `first` unused).
template <class T, bool kMomentum>
__device__ __forceinline__ void update(const Scalars<T>& s, bool first, T& p, T g, T& b) {
    if constexpr (kMomentum) {
        update_momentum(s, first, false, p, g, b);
    } else {
        update_plain(s, p, g);
    }
}

template <bool kMomentum>
__device__ __forceinline__ void update4(const Scalars<float>& s, bool first, float4& p, const float4& g, float4& b) {
    update<float, kMomentum>(s, first, p.x, g.x, b.x);
    update<float, kMomentum>(s, first, p.y, g.y, b.y);
    update<float, kMomentum>(s, first, p.z, g.z, b.z);
    update<float, kMomentum>(s, first, p.w, g.w, b.w);
}

// The bf16/f16 conversions of sgd_core::convert, by integer operations (exact widening; rounding
// to nearest even, or stochastically with a random word r).
#define F32_INF_BITS 0x7f800000u
#define F16_MIN_NORMAL_AS_F32 0x38800000u
#define F16_REBIAS (112u << 23)
#define F16_INF_BITS 0x7c00u

struct Bf16 {
    static __device__ __forceinline__ float widen(unsigned short h) { return __uint_as_float((unsigned int)h << 16); }
    static __device__ __forceinline__ unsigned short round(float x) {
        const unsigned int bits = __float_as_uint(x);
        if ((bits & 0x7fffffffu) > F32_INF_BITS) {
            return (unsigned short)((bits >> 16) | 0x0040u);
        }
        const unsigned int lsb = (bits >> 16) & 1u;
        return (unsigned short)((bits + 0x7fffu + lsb) >> 16);
    }
    static __device__ __forceinline__ unsigned short round_sr(float x, unsigned int r) {
        const unsigned int bits = __float_as_uint(x);
        if ((bits & 0x7fffffffu) > F32_INF_BITS) {
            return (unsigned short)((bits >> 16) | 0x0040u);
        }
        return (unsigned short)((bits + (r >> 16)) >> 16);
    }
};

struct F16 {
    static __device__ __forceinline__ float widen(unsigned short h16) {
        const unsigned int h = h16;
        const unsigned int sign = (h & 0x8000u) << 16;
        const unsigned int exp = (h >> 10) & 0x1fu;
        const unsigned int man = h & 0x3ffu;
        unsigned int bits;
        if (exp == 0x1fu) {
            bits = sign | F32_INF_BITS | (man << 13);
        } else if (exp == 0u && man == 0u) {
            bits = sign;
        } else if (exp == 0u) {
            const unsigned int sh = (unsigned int)__clz(man) - 21u;
            bits = sign | ((113u - sh) << 23) | (((man << sh) & 0x3ffu) << 13);
        } else {
            bits = sign | ((exp + 112u) << 23) | (man << 13);
        }
        return __uint_as_float(bits);
    }
    static __device__ __forceinline__ unsigned short quiet_nan(unsigned int x) {
        return (unsigned short)(((x >> 16) & 0x8000u) | 0x7e00u | ((x >> 13) & 0x1ffu));
    }
    static __device__ __forceinline__ unsigned short round(float x) {
        const unsigned int bits = __float_as_uint(x);
        const unsigned int sign = (bits >> 16) & 0x8000u;
        const unsigned int a = bits & 0x7fffffffu;
        if (a > F32_INF_BITS) {
            return quiet_nan(bits);
        }
        if (a >= F16_MIN_NORMAL_AS_F32) {
            const unsigned int t = a - F16_REBIAS;
            unsigned int r = (t + 0xfffu + ((t >> 13) & 1u)) >> 13;
            r = r < F16_INF_BITS ? r : F16_INF_BITS;
            return (unsigned short)(sign | r);
        }
        const unsigned int e = a >> 23;
        if (e < 102u) {
            return (unsigned short)sign;
        }
        const unsigned int m = (a & 0x7fffffu) | 0x800000u;
        const unsigned int sh = 126u - e;
        const unsigned int q = m >> sh;
        const unsigned int rem = m & ((1u << sh) - 1u);
        const unsigned int half = 1u << (sh - 1u);
        const unsigned int up = (rem > half || (rem == half && (q & 1u) == 1u)) ? 1u : 0u;
        return (unsigned short)(sign | (q + up));
    }
    static __device__ __forceinline__ unsigned short round_sr(float x, unsigned int r) {
        const unsigned int bits = __float_as_uint(x);
        const unsigned int sign = (bits >> 16) & 0x8000u;
        const unsigned int a = bits & 0x7fffffffu;
        if (a > F32_INF_BITS) {
            return quiet_nan(bits);
        }
        unsigned int y;
        if (a >= F16_MIN_NORMAL_AS_F32) {
            y = a - F16_REBIAS;
        } else {
            const unsigned int e = a >> 23;
            const unsigned int m = (a & 0x7fffffu) | (e == 0u ? 0u : 0x800000u);
            const unsigned int sh = 113u - (e > 1u ? e : 1u);
            y = sh < 32u ? m >> sh : 0u;
        }
        unsigned int h = (y + (r >> 19)) >> 13;
        h = h < F16_INF_BITS ? h : F16_INF_BITS;
        return (unsigned short)(sign | h);
    }
};

// Philox4x32-10 (sgd_core::philox::philox4x32_10): words 0 and 1 of the counter
// [i, i >> 32, tensor, step] under the key of `key`.
__device__ __forceinline__ void philox_words(const SrKey& key, unsigned int tensor, unsigned long long i,
                                             unsigned int& w0, unsigned int& w1) {
    unsigned int c0 = (unsigned int)i, c1 = (unsigned int)(i >> 32), c2 = tensor, c3 = key.step;
    unsigned int k0 = key.seed_lo, k1 = key.seed_hi;
#pragma unroll
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        const unsigned int hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        const unsigned int hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    w0 = c0;
    w1 = c1;
}

// Tuning hooks. The library compiles with these defaults; benches/cuda-variants/ compiles the
// same file with nvcc and other values to measure them. The float4 path's loads and stores are
// evict-first (__ldcs/__stcs: each byte is touched once per step; measured 1-2 % faster at 16M
// elements on an H200); cache hints change no value, only where a line is kept.
#ifndef SGD_ILP
#define SGD_ILP 4
#endif
#ifndef SGD_LOAD
#define SGD_LOAD(ptr) __ldcs(ptr)
#endif
#ifndef SGD_STORE
#define SGD_STORE(ptr, v) __stcs(ptr, v)
#endif

// The `n` elements of one chunk, by the threads of one block: `float4` loads when `vec4` (the
// host sets TENSOR_VEC4 only when every pointer is 16-byte aligned and the chunk size is a
// multiple of 4, so every chunk start stays aligned), SGD_ILP of them in flight per thread; the
// rest (unaligned tensors, the last n % 4 elements of aligned ones) one element at a time with
// the same arithmetic. One body for both loops: `kMomentum` reads and writes the buffer `b`
// (nullptr and untouched otherwise).
template <class T, bool kMomentum>
__device__ __forceinline__ void update_chunk(const Scalars<T>& s, bool first, bool vec4, T* __restrict__ p,
                                             const T* __restrict__ g, T* __restrict__ b,
                                             unsigned long long n) {
    const unsigned int tid = threadIdx.x;
    const unsigned int nt = blockDim.x;
    unsigned long long done = 0;
    if constexpr (sizeof(T) == 4) {
        if (vec4) {
            const unsigned long long n4 = n / 4;
            float4* __restrict__ p4 = reinterpret_cast<float4*>(p);
            const float4* __restrict__ g4 = reinterpret_cast<const float4*>(g);
            float4* __restrict__ b4 = reinterpret_cast<float4*>(b);
            const unsigned long long step = (unsigned long long)nt * SGD_ILP;
            for (unsigned long long base = tid; base < n4; base += step) {
                float4 rp[SGD_ILP], rg[SGD_ILP], rb[SGD_ILP];
#pragma unroll
                for (int k = 0; k < SGD_ILP; ++k) {
                    const unsigned long long i = base + (unsigned long long)k * nt;
                    if (i < n4) {
                        rp[k] = SGD_LOAD(p4 + i);
                        rg[k] = SGD_LOAD(g4 + i);
                        if constexpr (kMomentum) {
                            rb[k] = first ? make_float4(0.f, 0.f, 0.f, 0.f) : SGD_LOAD(b4 + i);
                        }
                    }
                }
#pragma unroll
                for (int k = 0; k < SGD_ILP; ++k) {
                    const unsigned long long i = base + (unsigned long long)k * nt;
                    if (i < n4) {
                        update4<kMomentum>(s, first, rp[k], rg[k], rb[k]);
                        SGD_STORE(p4 + i, rp[k]);
                        if constexpr (kMomentum) {
                            SGD_STORE(b4 + i, rb[k]);
                        }
                    }
                }
            }
            done = n4 * 4;
        }
    }
    for (unsigned long long i = done + tid; i < n; i += nt) {
        T pv = p[i];
        T bv = 0;
        if constexpr (kMomentum) {
            bv = first ? T(0) : b[i];
        }
        update<T, kMomentum>(s, first, pv, g[i], bv);
        if constexpr (kMomentum) {
            b[i] = bv;
        }
        p[i] = pv;
    }
}

// The `n` elements of one chunk of a bf16/f16 tensor (`St`: Bf16 or F16) from element `start` of
// the tensor, one element per thread at a time: 16-bit storage (`kMaster` false: param, grad and
// buffer `b` in the dtype, torch's scalar-tail grouping from `tail` on) or f32 master weights
// (`kMaster`: master `m` and buffer `b` in f32, param = master rounded). `key` non-null: stochastic
// rounding with the Philox words of element `start + i` of tensor `sr_tensor`.
template <class St, bool kMaster, bool kMomentum>
__device__ __forceinline__ void update_chunk_half(const Scalars<float>& s, bool first, unsigned short* __restrict__ p,
                                                  const unsigned short* __restrict__ g, void* __restrict__ b,
                                                  float* __restrict__ m, unsigned long long start,
                                                  unsigned long long n, unsigned long long tail,
                                                  const SrKey* __restrict__ key, unsigned int sr_tensor) {
    const unsigned int tid = threadIdx.x;
    const unsigned int nt = blockDim.x;
    float* __restrict__ bm = static_cast<float*>(b);
    unsigned short* __restrict__ bh = static_cast<unsigned short*>(b);
    for (unsigned long long i = tid; i < n; i += nt) {
        float pv = kMaster ? m[i] : St::widen(p[i]);
        const float gv = St::widen(g[i]);
        float bv = 0.0f;
        if constexpr (kMomentum) {
            if (!first) {
                bv = kMaster ? bm[i] : St::widen(bh[i]);
            }
            update_momentum(s, first, !kMaster && start + i >= tail, pv, gv, bv);
        } else {
            update_plain(s, pv, gv);
        }
        unsigned int w0 = 0u, w1 = 0u;
        if (key != nullptr) {
            philox_words(*key, sr_tensor, start + i, w0, w1);
        }
        if constexpr (kMomentum) {
            if constexpr (kMaster) {
                bm[i] = bv;
            } else {
                bh[i] = key != nullptr ? St::round_sr(bv, w1) : St::round(bv);
            }
        }
        if constexpr (kMaster) {
            m[i] = pv;
        }
        p[i] = key != nullptr ? St::round_sr(pv, w0) : St::round(pv);
    }
}

// A bf16/f16 chunk: the mode and momentum as template arguments.
template <class St>
__device__ __forceinline__ void half_chunk(const Scalars<float>& s, bool use_m, bool first, const TensorEntry& t,
                                           bool master, unsigned long long start, unsigned long long n,
                                           const SrKey* key) {
    unsigned short* p = reinterpret_cast<unsigned short*>(t.param) + start;
    const unsigned short* g = reinterpret_cast<const unsigned short*>(t.grad) + start;
    const unsigned long long tail = t.numel - t.numel % 32ull;  // sgd_core's fused_tail_start
    const SrKey* k = (t.flags & TENSOR_STOCHASTIC) != 0u ? key : nullptr;
    if (master) {
        float* m = reinterpret_cast<float*>(t.master) + start;
        float* b = use_m ? reinterpret_cast<float*>(t.momentum) + start : nullptr;
        if (use_m) {
            update_chunk_half<St, true, true>(s, first, p, g, b, m, start, n, tail, k, t.sr_tensor);
        } else {
            update_chunk_half<St, true, false>(s, false, p, g, b, m, start, n, tail, k, t.sr_tensor);
        }
    } else {
        unsigned short* b = use_m ? reinterpret_cast<unsigned short*>(t.momentum) + start : nullptr;
        if (use_m) {
            update_chunk_half<St, false, true>(s, first, p, g, b, nullptr, start, n, tail, k, t.sr_tensor);
        } else {
            update_chunk_half<St, false, false>(s, false, p, g, b, nullptr, start, n, tail, k, t.sr_tensor);
        }
    }
}

// An f32 or f64 chunk.
template <class T>
__device__ __forceinline__ void wide_chunk(const Scalars<T>& s, bool use_m, bool first, bool vec4, const TensorEntry& t,
                                           unsigned long long start, unsigned long long n) {
    T* __restrict__ p = reinterpret_cast<T*>(t.param) + start;
    const T* __restrict__ g = reinterpret_cast<const T*>(t.grad) + start;
    if (use_m) {
        T* __restrict__ b = reinterpret_cast<T*>(t.momentum) + start;
        update_chunk<T, true>(s, first, vec4, p, g, b, n);
    } else {
        update_chunk<T, false>(s, false, vec4, p, g, nullptr, n);
    }
}

// The step of both entry points. `kTyped`: tensors of every kind (float64 learning rates in
// `neg_lrs64`, the stochastic rounding key in `sr_key`, both nullable); otherwise float32 only.
template <bool kTyped>
__device__ __forceinline__ void multi_tensor(const TensorEntry* __restrict__ tensors,
                                             const ChunkEntry* __restrict__ chunks, unsigned int num_chunks,
                                             unsigned long long chunk_elems, const GroupEntry* __restrict__ groups,
                                             const float* __restrict__ neg_lrs, unsigned int* __restrict__ chunk_first,
                                             const float* __restrict__ grad_scale, const float* __restrict__ found_inf,
                                             const ScheduleState* __restrict__ schedule,
                                             const double* __restrict__ neg_lrs64, const SrKey* __restrict__ sr_key) {
    // A skipped step (found_inf != 0) changes nothing, not even the first-step state.
    if (found_inf != nullptr && *found_inf != 0.0f) {
        return;
    }
    if (schedule != nullptr) {
        // Read by every block before sgd_schedule_advance (the next launch) can change it.
        const unsigned int row = schedule->row;
        if (row >= schedule->rows) {
            return;  // past the table: no update at all; sgd_schedule_advance counts it
        }
        neg_lrs += (unsigned long long)row * schedule->groups;
    }
    for (unsigned int c = blockIdx.x; c < num_chunks; c += gridDim.x) {
        const ChunkEntry ch = chunks[c];
        const TensorEntry t = tensors[ch.tensor];
        if ((t.flags & TENSOR_HAS_GRAD) == 0u) {
            continue;  // grad is None for this tensor this step: untouched (uniform per block)
        }
        const GroupEntry gr = groups[t.group];
        Scalars<float> s;
        s.wd = gr.weight_decay;
        s.m = gr.momentum;
        s.omd = gr.one_minus_dampening;
        s.neg_lr = neg_lrs[t.group];
        s.scale = grad_scale != nullptr;
        s.grad_scale = s.scale ? *grad_scale : 1.0f;
        s.has_wd = (gr.flags & GROUP_HAS_WD) != 0u;
        s.maximize = (gr.flags & GROUP_MAXIMIZE) != 0u;
        s.nesterov = (gr.flags & GROUP_NESTEROV) != 0u;
        const bool use_m = (gr.flags & GROUP_HAS_MOMENTUM) != 0u && (t.flags & TENSOR_HAS_MOMENTUM_BUF) != 0u;

        const unsigned long long start = (unsigned long long)ch.chunk * chunk_elems;
        unsigned long long n = t.numel - start;
        if (n > chunk_elems) {
            n = chunk_elems;
        }
        const bool first = use_m && chunk_first[c] != 0u;
        const bool vec4 = (t.flags & TENSOR_VEC4) != 0u;
        const unsigned int kind = kTyped ? t.kind : KIND_F32;
        if (kind == KIND_F32) {
            wide_chunk<float>(s, use_m, first, vec4, t, start, n);
        } else if constexpr (kTyped) {
            if (kind == KIND_F64) {
                Scalars<double> s64;
                s64.wd = gr.weight_decay64;
                s64.m = gr.momentum64;
                s64.omd = gr.one_minus_dampening64;
                s64.neg_lr = neg_lrs64[t.group];
                s64.scale = s.scale;
                s64.grad_scale = (double)s.grad_scale;
                s64.has_wd = s.has_wd;
                s64.maximize = s.maximize;
                s64.nesterov = s.nesterov;
                wide_chunk<double>(s64, use_m, first, false, t, start, n);
            } else if (kind == KIND_BF16 || kind == KIND_BF16_MASTER) {
                half_chunk<Bf16>(s, use_m, first, t, kind == KIND_BF16_MASTER, start, n, sr_key);
            } else {
                half_chunk<F16>(s, use_m, first, t, kind == KIND_F16_MASTER, start, n, sr_key);
            }
        }
        if (first) {
            // Every thread of this block has read `first` above; clear it for the next step.
            __syncthreads();
            if (threadIdx.x == 0) {
                chunk_first[c] = 0u;
            }
        }
    }
}

// float32 tensors only (every TensorEntry.kind is KIND_F32).
extern "C" __global__ void sgd_multi_tensor_f32(
    const TensorEntry* __restrict__ tensors,
    const ChunkEntry* __restrict__ chunks,
    unsigned int num_chunks,
    unsigned long long chunk_elems,
    const GroupEntry* __restrict__ groups,
    const float* __restrict__ neg_lrs,
    unsigned int* __restrict__ chunk_first,
    const float* __restrict__ grad_scale,   // nullable: no scaling
    const float* __restrict__ found_inf,    // nullable: never skip
    const ScheduleState* __restrict__ schedule)  // nullable: neg_lrs holds one row (host lrs)
{
    multi_tensor<false>(tensors, chunks, num_chunks, chunk_elems, groups, neg_lrs, chunk_first, grad_scale,
                        found_inf, schedule, nullptr, nullptr);
}

// Tensors of every kind: the arguments of sgd_multi_tensor_f32, then f64(-lr) per group (read
// by float64 tensors) and the stochastic rounding key (read by TENSOR_STOCHASTIC tensors).
extern "C" __global__ void sgd_multi_tensor_typed(
    const TensorEntry* __restrict__ tensors,
    const ChunkEntry* __restrict__ chunks,
    unsigned int num_chunks,
    unsigned long long chunk_elems,
    const GroupEntry* __restrict__ groups,
    const float* __restrict__ neg_lrs,
    unsigned int* __restrict__ chunk_first,
    const float* __restrict__ grad_scale,
    const float* __restrict__ found_inf,
    const ScheduleState* __restrict__ schedule,
    const double* __restrict__ neg_lrs64,   // one per group
    const SrKey* __restrict__ sr_key)       // nullable: no tensor rounds stochastically
{
    multi_tensor<true>(tensors, chunks, num_chunks, chunk_elems, groups, neg_lrs, chunk_first, grad_scale,
                       found_inf, schedule, neg_lrs64, sr_key);
}

// Advances the device schedule after a scheduled step (launched right after
// sgd_multi_tensor_f32 on the same stream, so every block of that step has read the counter):
// the next row, or, past the last row, one more exhausted step (saturating at 2^32 - 1). One
// thread does it; launch it with one block of any size.
extern "C" __global__ void sgd_schedule_advance(ScheduleState* __restrict__ schedule) {
    if (blockIdx.x != 0u || threadIdx.x != 0u) {
        return;
    }
    if (schedule->row < schedule->rows) {
        schedule->row += 1u;
    } else if (schedule->exhausted != 0xffffffffu) {
        schedule->exhausted += 1u;
    }
}
