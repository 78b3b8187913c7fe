// Runs sgd_multi_tensor_f32 or sgd_multi_tensor_typed (the real .cu source) on the CPU for one
// step.
//
// Input file (little-endian): u64 header[10] = {arena_words, tensors, chunks, groups, grid, block,
// has_scaler, chunk_elems, schedule_rows, typed} (counts of entries), then the arena (32-bit
// words: f32, or the bytes of other dtypes), the
// TensorEntry table (addresses are byte offsets into the arena, momentum 0 = none), the
// ChunkEntry list, the GroupEntry table (the kernel's structs, as sgd_cuda::table writes them),
// neg_lrs (f32 per group; with schedule_rows != 0 the device schedule's table, schedule_rows x
// groups f32), chunk_first (u32 per chunk), scaler (2 x f32 if has_scaler), and with
// schedule_rows != 0 the ScheduleState (4 x u32), and with typed != 0 the f64 -lr per group and
// the SrKey (4 x u32), which select sgd_multi_tensor_typed.
// A scheduled step runs sgd_multi_tensor_f32 with the ScheduleState, then (after every block
// has finished, as in stream order) sgd_schedule_advance on one thread.
// Output file: the arena and chunk_first after the step, then the ScheduleState if scheduled.
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
    uint64_t h[10];
    if (fread(h, 8, 10, in) != 10) return 4;
    const bool scheduled = h[8] != 0;
    const bool typed = h[9] != 0;
    const size_t chunks = h[2];
    std::vector<float> arena;
    std::vector<TensorEntry> tensors;
    std::vector<ChunkEntry> chunk_list;
    std::vector<GroupEntry> groups;
    std::vector<uint32_t> chunk_first;
    std::vector<float> neg_lrs, scaler;
    std::vector<ScheduleState> schedule;
    std::vector<double> neg_lrs64;
    std::vector<SrKey> sr_key;
    if (!read_vec(in, arena, h[0]) || !read_vec(in, tensors, h[1]) || !read_vec(in, chunk_list, chunks) ||
        !read_vec(in, groups, h[3]) || !read_vec(in, neg_lrs, scheduled ? h[8] * h[3] : h[3]) || !read_vec(in, chunk_first, chunks) ||
        !read_vec(in, scaler, h[6] ? 2 : 0) || !read_vec(in, schedule, scheduled ? 1 : 0) ||
        !read_vec(in, neg_lrs64, typed ? h[3] : 0) || !read_vec(in, sr_key, typed ? 1 : 0))
        return 5;
    fclose(in);
    // Turn arena byte offsets into addresses (arena is 16-byte aligned: vector<float> from new).
    const uint64_t base = (uint64_t)(uintptr_t)arena.data();
    if (base % 16 != 0) return 6;
    for (TensorEntry& t : tensors) {
        t.param += base;
        t.grad += base;
        if (t.momentum != 0) t.momentum += base;
        if (t.master != 0) t.master += base;
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
                const float* gs = h[6] ? &scaler[0] : nullptr;
                const float* fi = h[6] ? &scaler[1] : nullptr;
                const ScheduleState* sc = scheduled ? schedule.data() : nullptr;
                if (typed) {
                    sgd_multi_tensor_typed(tensors.data(), chunk_list.data(), (unsigned)chunks, h[7], groups.data(),
                                           neg_lrs.data(), chunk_first.data(), gs, fi, sc, neg_lrs64.data(),
                                           sr_key.data());
                } else {
                    sgd_multi_tensor_f32(tensors.data(), chunk_list.data(), (unsigned)chunks, h[7], groups.data(),
                                         neg_lrs.data(), chunk_first.data(), gs, fi, sc);
                }
            });
        }
        for (auto& th : threads) th.join();
    }
    if (scheduled) {
        // Every block has finished (the threads joined): the next launch of the stream.
        gridDim.x = 1;
        blockDim.x = 1;
        blockIdx.x = 0;
        threadIdx.x = 0;
        sgd_schedule_advance(schedule.data());
    }
    FILE* out = fopen(argv[2], "wb");
    if (!out) return 7;
    fwrite(arena.data(), 4, arena.size(), out);
    fwrite(chunk_first.data(), 4, chunk_first.size(), out);
    if (scheduled) fwrite(schedule.data(), sizeof(ScheduleState), 1, out);
    fclose(out);
    return 0;
}
