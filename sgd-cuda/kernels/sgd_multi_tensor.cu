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
};
static_assert(sizeof(TensorEntry) == 40 && alignof(TensorEntry) == 8, "TensorEntry: 40 bytes");
SGD_ASSERT_OFFSET(TensorEntry, param, 0);
SGD_ASSERT_OFFSET(TensorEntry, grad, 8);
SGD_ASSERT_OFFSET(TensorEntry, momentum, 16);
SGD_ASSERT_OFFSET(TensorEntry, numel, 24);
SGD_ASSERT_OFFSET(TensorEntry, group, 32);
SGD_ASSERT_OFFSET(TensorEntry, flags, 36);

// One chunk of one tensor, the work of one block (ChunkEntry of src/kernel_tables.rs).
struct ChunkEntry {
    unsigned int tensor;  // index into the tensor table
    unsigned int chunk;   // first element: chunk * chunk_elems
};
static_assert(sizeof(ChunkEntry) == 8 && alignof(ChunkEntry) == 4, "ChunkEntry: 8 bytes");
SGD_ASSERT_OFFSET(ChunkEntry, tensor, 0);
SGD_ASSERT_OFFSET(ChunkEntry, chunk, 4);

// One parameter group's scalars, rounded on the host (GroupEntry of src/kernel_tables.rs).
struct GroupEntry {
    float weight_decay;
    float momentum;
    float one_minus_dampening;
    unsigned int flags;  // GROUP_*
};
static_assert(sizeof(GroupEntry) == 16 && alignof(GroupEntry) == 4, "GroupEntry: 16 bytes");
SGD_ASSERT_OFFSET(GroupEntry, weight_decay, 0);
SGD_ASSERT_OFFSET(GroupEntry, momentum, 4);
SGD_ASSERT_OFFSET(GroupEntry, one_minus_dampening, 8);
SGD_ASSERT_OFFSET(GroupEntry, flags, 12);

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

struct Scalars {
    float wd;
    float m;
    float omd;
    float neg_lr;
    bool scale;
    float grad_scale;
    bool has_wd;
    bool maximize;
    bool nesterov;
};

__device__ __forceinline__ float effective_grad(const Scalars& s, float p, float g) {
    if (s.scale) {
        g = __fdiv_rn(g, s.grad_scale);
    }
    if (s.maximize) {
        g = -g;
    }
    if (s.has_wd) {
        g = __fmaf_rn(p, s.wd, g);
    }
    return g;
}

// One element with momentum. `b` is the buffer value (ignored when `first`).
__device__ __forceinline__ void update_momentum(const Scalars& s, bool first, float& p, float g0, float& b) {
    float g = effective_grad(s, p, g0);
    b = first ? g : __fmaf_rn(g, s.omd, __fmul_rn(b, s.m));
    float d = s.nesterov ? __fmaf_rn(b, s.m, g) : b;
    p = __fmaf_rn(d, s.neg_lr, p);
}

// One element without momentum.
__device__ __forceinline__ void update_plain(const Scalars& s, float& p, float g0) {
    float g = effective_grad(s, p, g0);
    p = __fmaf_rn(g, s.neg_lr, p);
}

// One element: with momentum (buffer value `b`) or without (`b` and `first` unused).
template <bool kMomentum>
__device__ __forceinline__ void update(const Scalars& s, bool first, float& p, float g, float& b) {
    if constexpr (kMomentum) {
        update_momentum(s, first, p, g, b);
    } else {
        update_plain(s, p, g);
    }
}

template <bool kMomentum>
__device__ __forceinline__ void update4(const Scalars& s, bool first, float4& p, const float4& g, float4& b) {
    update<kMomentum>(s, first, p.x, g.x, b.x);
    update<kMomentum>(s, first, p.y, g.y, b.y);
    update<kMomentum>(s, first, p.z, g.z, b.z);
    update<kMomentum>(s, first, p.w, g.w, b.w);
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
template <bool kMomentum>
__device__ __forceinline__ void update_chunk(const Scalars& s, bool first, bool vec4, float* __restrict__ p,
                                             const float* __restrict__ g, float* __restrict__ b,
                                             unsigned long long n) {
    const unsigned int tid = threadIdx.x;
    const unsigned int nt = blockDim.x;
    unsigned long long done = 0;
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
    for (unsigned long long i = done + tid; i < n; i += nt) {
        float pv = p[i];
        float bv = 0.0f;
        if constexpr (kMomentum) {
            bv = first ? 0.0f : b[i];
        }
        update<kMomentum>(s, first, pv, g[i], bv);
        if constexpr (kMomentum) {
            b[i] = bv;
        }
        p[i] = pv;
    }
}

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
        Scalars s;
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
        float* __restrict__ p = reinterpret_cast<float*>(t.param) + start;
        const float* __restrict__ g = reinterpret_cast<const float*>(t.grad) + start;
        const bool first = use_m && chunk_first[c] != 0u;
        const bool vec4 = (t.flags & TENSOR_VEC4) != 0u;
        if (use_m) {
            float* __restrict__ b = reinterpret_cast<float*>(t.momentum) + start;
            update_chunk<true>(s, first, vec4, p, g, b, n);
        } else {
            update_chunk<false>(s, false, vec4, p, g, nullptr, n);
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
