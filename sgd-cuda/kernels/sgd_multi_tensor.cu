// Multi-tensor fused SGD (float32), one launch for every tensor of every parameter group.
//
// Compiled at run time by NVRTC with `--fmad=false` (no contraction anywhere), `--ftz=false`,
// `--prec-div=true`: every fused multiply-add below is written explicitly with __fmaf_rn and
// every product that the scalar reference (sgd_cpu::scalar::sgd_update) rounds on its own is
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
// Layouts (written by sgd_cuda::table, little-endian words):
//   TensorEntry (5 x u64): param ptr, grad ptr, momentum ptr (0 = none), numel,
//                          group (low 32 bits) | flags (high 32 bits)
//   ChunkEntry  (2 x u32): tensor index, chunk index inside the tensor
//   GroupEntry  (4 x u32): f32 bits of weight_decay, momentum, 1-dampening; flags
//   neg_lrs     (f32 per group): f32(-lr), the only per-step upload
//   chunk_first (u32 per chunk): 1 until the chunk's momentum buffer was initialised.
//     Each chunk is owned by exactly one block per launch, so the block that reads the flag is
//     the only one that clears it (after a __syncthreads): no race between blocks.

#define TENSOR_HAS_GRAD 1u
#define TENSOR_HAS_MOMENTUM_BUF 2u
#define TENSOR_VEC4 4u

#define GROUP_HAS_WD 1u
#define GROUP_HAS_MOMENTUM 2u
#define GROUP_NESTEROV 4u
#define GROUP_MAXIMIZE 8u

struct TensorEntry {
    unsigned long long param;
    unsigned long long grad;
    unsigned long long momentum;
    unsigned long long numel;
    unsigned long long group_flags;
};

struct ChunkEntry {
    unsigned int tensor;
    unsigned int chunk;
};

struct GroupEntry {
    float weight_decay;
    float momentum;
    float one_minus_dampening;
    unsigned int flags;
};

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

#ifndef SGD_ILP
#define SGD_ILP 4
#endif

extern "C" __global__ void sgd_multi_tensor_f32(
    const TensorEntry* __restrict__ tensors,
    const ChunkEntry* __restrict__ chunks,
    unsigned int num_chunks,
    unsigned long long chunk_elems,
    const GroupEntry* __restrict__ groups,
    const float* __restrict__ neg_lrs,
    unsigned int* __restrict__ chunk_first,
    const float* __restrict__ grad_scale,   // nullable: no scaling
    const float* __restrict__ found_inf)    // nullable: never skip
{
    // A skipped step (found_inf != 0) changes nothing, not even the first-step state.
    if (found_inf != nullptr && *found_inf != 0.0f) {
        return;
    }
    for (unsigned int c = blockIdx.x; c < num_chunks; c += gridDim.x) {
        const ChunkEntry ch = chunks[c];
        const TensorEntry t = tensors[ch.tensor];
        const unsigned int tflags = (unsigned int)(t.group_flags >> 32);
        if ((tflags & TENSOR_HAS_GRAD) == 0u) {
            continue;  // grad is None for this tensor this step: untouched (uniform per block)
        }
        const GroupEntry gr = groups[(unsigned int)(t.group_flags & 0xffffffffull)];
        Scalars s;
        s.wd = gr.weight_decay;
        s.m = gr.momentum;
        s.omd = gr.one_minus_dampening;
        s.neg_lr = neg_lrs[(unsigned int)(t.group_flags & 0xffffffffull)];
        s.scale = grad_scale != nullptr;
        s.grad_scale = s.scale ? *grad_scale : 1.0f;
        s.has_wd = (gr.flags & GROUP_HAS_WD) != 0u;
        s.maximize = (gr.flags & GROUP_MAXIMIZE) != 0u;
        s.nesterov = (gr.flags & GROUP_NESTEROV) != 0u;
        const bool use_m = (gr.flags & GROUP_HAS_MOMENTUM) != 0u && (tflags & TENSOR_HAS_MOMENTUM_BUF) != 0u;

        const unsigned long long start = (unsigned long long)ch.chunk * chunk_elems;
        unsigned long long n = t.numel - start;
        if (n > chunk_elems) {
            n = chunk_elems;
        }
        float* __restrict__ p = reinterpret_cast<float*>(t.param) + start;
        const float* __restrict__ g = reinterpret_cast<const float*>(t.grad) + start;
        float* __restrict__ b = use_m ? reinterpret_cast<float*>(t.momentum) + start : nullptr;
        const bool first = use_m && chunk_first[c] != 0u;
        const unsigned int tid = threadIdx.x;
        const unsigned int nt = blockDim.x;

        // The host sets TENSOR_VEC4 only when every pointer is 16-byte aligned and the chunk size
        // is a multiple of 4, so every chunk start stays aligned; the tail (< 4) is scalar.
        const bool vec4 = (tflags & TENSOR_VEC4) != 0u;
        unsigned long long done = 0;
        if (vec4) {
            const unsigned long long n4 = n / 4;
            float4* __restrict__ p4 = reinterpret_cast<float4*>(p);
            const float4* __restrict__ g4 = reinterpret_cast<const float4*>(g);
            float4* __restrict__ b4 = reinterpret_cast<float4*>(b);
            const unsigned long long step = (unsigned long long)nt * SGD_ILP;
            if (use_m) {
                for (unsigned long long base = tid; base < n4; base += step) {
                    float4 rp[SGD_ILP], rg[SGD_ILP], rb[SGD_ILP];
#pragma unroll
                    for (int k = 0; k < SGD_ILP; ++k) {
                        const unsigned long long i = base + (unsigned long long)k * nt;
                        if (i < n4) {
                            rp[k] = p4[i];
                            rg[k] = g4[i];
                            rb[k] = first ? make_float4(0.f, 0.f, 0.f, 0.f) : b4[i];
                        }
                    }
#pragma unroll
                    for (int k = 0; k < SGD_ILP; ++k) {
                        const unsigned long long i = base + (unsigned long long)k * nt;
                        if (i < n4) {
                            update_momentum(s, first, rp[k].x, rg[k].x, rb[k].x);
                            update_momentum(s, first, rp[k].y, rg[k].y, rb[k].y);
                            update_momentum(s, first, rp[k].z, rg[k].z, rb[k].z);
                            update_momentum(s, first, rp[k].w, rg[k].w, rb[k].w);
                            p4[i] = rp[k];
                            b4[i] = rb[k];
                        }
                    }
                }
            } else {
                for (unsigned long long base = tid; base < n4; base += step) {
                    float4 rp[SGD_ILP], rg[SGD_ILP];
#pragma unroll
                    for (int k = 0; k < SGD_ILP; ++k) {
                        const unsigned long long i = base + (unsigned long long)k * nt;
                        if (i < n4) {
                            rp[k] = p4[i];
                            rg[k] = g4[i];
                        }
                    }
#pragma unroll
                    for (int k = 0; k < SGD_ILP; ++k) {
                        const unsigned long long i = base + (unsigned long long)k * nt;
                        if (i < n4) {
                            update_plain(s, rp[k].x, rg[k].x);
                            update_plain(s, rp[k].y, rg[k].y);
                            update_plain(s, rp[k].z, rg[k].z);
                            update_plain(s, rp[k].w, rg[k].w);
                            p4[i] = rp[k];
                        }
                    }
                }
            }
            done = n4 * 4;
        }
        // Scalar path: unaligned tensors, and the last n % 4 elements of aligned ones.
        for (unsigned long long i = done + tid; i < n; i += nt) {
            float pv = p[i];
            const float gv = g[i];
            if (use_m) {
                float bv = first ? 0.0f : b[i];
                update_momentum(s, first, pv, gv, bv);
                b[i] = bv;
            } else {
                update_plain(s, pv, gv);
            }
            p[i] = pv;
        }
        if (first) {
            // Every thread of this block has read `first` above; clear it for the next step.
            __syncthreads();
            if (tid == 0) {
                chunk_first[c] = 0u;
            }
        }
    }
}
