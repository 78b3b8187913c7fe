// Runs sgd_multi_tensor_f32 (the real .cu source) on the CPU for one step.
//
// Input file (little-endian): u64 header[8] = {arena_f32, tensors, chunks, groups, grid, block,
// has_scaler, chunk_elems} (counts of entries), then the arena (f32), the TensorEntry table
// (addresses are byte offsets into the arena, momentum 0 = none), the ChunkEntry list, the
// GroupEntry table (the kernel's structs, as sgd_cuda::table writes them), neg_lrs (f32 per
// group), chunk_first (u32 per chunk), scaler (2 x f32 if has_scaler).
// Output file: the arena and chunk_first after the step.
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "cuda_host_shim.h"
#include "../../kernels/sgd_multi_tensor.cu"

template <typename T>
static bool read_vec(FILE* f, std::vector<T>& v, size_t n) {
    v.resize(n);
    return n == 0 || fread(v.data(), sizeof(T), n, f) == n;
}

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    FILE* in = fopen(argv[1], "rb");
    if (!in) return 3;
    uint64_t h[8];
    if (fread(h, 8, 8, in) != 8) return 4;
    const size_t chunks = h[2];
    std::vector<float> arena;
    std::vector<TensorEntry> tensors;
    std::vector<ChunkEntry> chunk_list;
    std::vector<GroupEntry> groups;
    std::vector<uint32_t> chunk_first;
    std::vector<float> neg_lrs, scaler;
    if (!read_vec(in, arena, h[0]) || !read_vec(in, tensors, h[1]) || !read_vec(in, chunk_list, chunks) ||
        !read_vec(in, groups, h[3]) || !read_vec(in, neg_lrs, h[3]) || !read_vec(in, chunk_first, chunks) ||
        !read_vec(in, scaler, h[6] ? 2 : 0))
        return 5;
    fclose(in);
    // Turn arena byte offsets into addresses (arena is 16-byte aligned: vector<float> from new).
    const uint64_t base = (uint64_t)(uintptr_t)arena.data();
    if (base % 16 != 0) return 6;
    for (TensorEntry& t : tensors) {
        t.param += base;
        t.grad += base;
        if (t.momentum != 0) t.momentum += base;
    }
    gridDim.x = (unsigned)h[4];
    blockDim.x = (unsigned)h[5];
    for (unsigned b = 0; b < gridDim.x; ++b) {
        std::barrier<> bar((std::ptrdiff_t)blockDim.x);
        std::vector<std::thread> threads;
        for (unsigned t = 0; t < blockDim.x; ++t) {
            threads.emplace_back([&, b, t] {
                blockIdx.x = b;
                threadIdx.x = t;
                block_barrier = &bar;
                sgd_multi_tensor_f32(tensors.data(), chunk_list.data(), (unsigned)chunks, h[7], groups.data(),
                                     neg_lrs.data(), chunk_first.data(), h[6] ? &scaler[0] : nullptr,
                                     h[6] ? &scaler[1] : nullptr);
            });
        }
        for (auto& th : threads) th.join();
    }
    FILE* out = fopen(argv[2], "wb");
    if (!out) return 7;
    fwrite(arena.data(), 4, arena.size(), out);
    fwrite(chunk_first.data(), 4, chunk_first.size(), out);
    fclose(out);
    return 0;
}
