/* A C trainer's view of sgd-cpu: two groups, a momentum step, an error, and a bfloat16 tensor
 * with an f32 master copy, rounded stochastically (sgd_step_typed).
 * Build and run (from the repository root):
 *   cargo build --release -p sgd-cpu-capi
 *   cc sgd-cpu-capi/examples/c_step.c -Isgd-cpu-capi/include -Ltarget/release -lsgd_cpu_capi \
 *      -Wl,-rpath,$PWD/target/release -o /tmp/c_step && /tmp/c_step
 * Prints the struct layout, then the parameters and buffers after each step as hex bits
 * (the Rust test `c_program_matches_rust` compares them with sgd_cpu::fused_step). */
#include <stdio.h>
#include <string.h>
#include "sgd_cpu.h"

#define N 37

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
    printf("layout %zu %zu %zu %zu %zu\n", sizeof(sgd_config), sizeof(sgd_tensor),
           sizeof(sgd_group), offsetof(sgd_tensor, numel), offsetof(sgd_group, n_tensors));
    float w0[N], g0[N], b0[N], w1[N], g1[N];
    for (int i = 0; i < N; i++) {
        w0[i] = 1.0f + 0.01f * (float)i;
        g0[i] = 0.5f - 0.03f * (float)i;
        w1[i] = -2.0f + 0.07f * (float)i;
        g1[i] = 0.25f * (float)(i % 5) - 0.4f;
    }
    uint8_t init0 = 0;
    sgd_tensor t0 = { w0, g0, b0, &init0, N };
    sgd_tensor t1 = { w1, g1, NULL, NULL, N };
    sgd_group groups[2] = {
        { { .lr = 0.1, .momentum = 0.9, .dampening = 0.0, .weight_decay = 1e-4, .nesterov = 1 }, &t0, 1 },
        { { .lr = 0.05, .maximize = 1 }, &t1, 1 },
    };
    sgd_pool *pool = sgd_pool_new(2);
    if (!pool) return 1;
    for (int step = 0; step < 3; step++) {
        groups[0].config.lr = 0.1 / (double)(step + 1); /* a scheduler would set this */
        int32_t status = sgd_step(pool, groups, 2, NULL, 0);
        printf("status %d init %u\n", status, init0);
        dump("w0", w0, N);
        dump("b0", b0, N);
        dump("w1", w1, N);
    }
    groups[1].config.lr = -1.0;
    int32_t status = sgd_step(NULL, groups, 2, NULL, 0);
    char msg[128];
    sgd_last_error_message(msg, sizeof msg);
    printf("error %d %s\n", status, msg);
    printf("backend %s\n", sgd_backend_name());

    /* bfloat16 parameters (uint16_t bit patterns) with an f32 master and an f32 buffer. */
    float master[N], mbuf[N];
    uint16_t wb[N], gb[N];
    for (int i = 0; i < N; i++) {
        master[i] = 1.0f + 0.01f * (float)i;
        uint32_t mbits, gbits;
        float gv = 0.5f - 0.03f * (float)i;
        memcpy(&mbits, &master[i], sizeof mbits);
        memcpy(&gbits, &gv, sizeof gbits);
        wb[i] = (uint16_t)(mbits >> 16); /* exact: these values have 8 significant bits */
        gb[i] = (uint16_t)(gbits >> 16);
        mbits = (uint32_t)wb[i] << 16;
        memcpy(&master[i], &mbits, sizeof mbits);
    }
    uint8_t initb = 0;
    sgd_typed_tensor tb = { wb, gb, mbuf, master, &initb, N, N, SGD_DTYPE_BFLOAT16,
                            SGD_DTYPE_BFLOAT16, SGD_DTYPE_FLOAT32, SGD_ROUND_STOCHASTIC };
    sgd_typed_group typed = { { .lr = 0.1, .momentum = 0.9 }, &tb, 1 };
    for (uint32_t step = 0; step < 2; step++) {
        int32_t st = sgd_step_typed(pool, &typed, 1, NULL, 0, 1234 /* seed */, step);
        printf("typed %d", st);
        for (int i = 0; i < N; i++) printf(" %04x", wb[i]);
        printf("\n");
        dump("master", master, N);
    }
    sgd_pool_free(pool);
    return 0;
}
