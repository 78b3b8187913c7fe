/* The C training firmware: the Rust firmware's training run (on-device/src/train.rs) through
 * liblrkit_fw.a: SequentialLR([LinearLR(0.1, total_iters=3), CosineAnnealingLR(T_max=27)],
 * milestones=[3]) in its f32 closed form (lrk_sequential_lr_at_f32 over the two children, as the
 * Rust firmware's sched_core::Join: only these two schedules are linked), fused momentum SGD over two groups, early stopping
 * on the validation loss (patience 4), the digits MLP's passes of the library's `digits`
 * feature. It prints the Rust firmware's lines, bit for bit, then the stack high-water mark. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware.h"
#include "lrkit_fw.h"

#define MAX_EPOCHS 30u
#define WARMUP_EPOCHS 3u
#define BATCH 32u
#define PAINT 0xC0DE5A5Au
#define GUARD 256u

/* ---- Output, piece by piece (no printf: the Rust firmware links no float formatting). ---- */
static char line[200];
static size_t line_len;

static void put(const char *s) {
    while (*s && line_len < sizeof line) line[line_len++] = *s++;
}

static void flush(int to_stderr) {
    fw_write(to_stderr, line, line_len);
    line_len = 0;
}

static void put_u64(uint64_t n, unsigned width) {
    char d[20];
    unsigned k = 0;
    while (n > 0 || k < width || k == 0) {
        d[k++] = (char)('0' + n % 10);
        n /= 10;
    }
    while (k > 0) {
        char c[2] = {d[--k], 0};
        put(c);
    }
}

static void put_hex8(uint32_t n) {
    char c[9];
    for (int i = 0; i < 8; i++) c[i] = "0123456789abcdef"[(n >> (28 - 4 * i)) & 0xFu];
    c[8] = 0;
    put(c);
}

/* on-device's decimal::Fixed with 6 places: round(f64(|v|) * 1e6), the point put back. */
static void put_fixed6(float v) {
    if (__builtin_isnan(v)) { put("NaN"); return; }
    const char *sign = __builtin_signbit(v) ? "-" : "";
    double m = (double)__builtin_fabsf(v);
    if (m >= 1e9) { put(sign); put(__builtin_isinf(v) ? "inf" : ">=1e9"); return; }
    uint64_t scaled = (uint64_t)round(m * 1e6);
    if (scaled != 0) put(sign);
    put_u64(scaled / 1000000u, 1);
    put(".");
    put_u64(scaled % 1000000u, 6);
}

/* on-device's decimal::Percent: hundredths of a percent, rounded half up. */
static void put_percent(uint32_t part, uint32_t whole) {
    uint64_t bp = ((uint64_t)part * 20000u + whole) / (2u * (uint64_t)whole);
    put_u64(bp / 100u, 1);
    put(".");
    put_u64(bp % 100u, 2);
}

static uint32_t bits(float f) {
    union { float f; uint32_t u; } b = {f};
    return b.u;
}

/* ---- PCG32 (on-device/src/rng.rs). ---- */
typedef struct { uint64_t state, inc; } pcg32;

static uint32_t pcg_next(pcg32 *r) {
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ull + r->inc;
    uint32_t xs = (uint32_t)(((old >> 18) ^ old) >> 27), rot = (uint32_t)(old >> 59);
    return (xs >> rot) | (xs << ((0u - rot) & 31u));
}

static pcg32 pcg_new(uint64_t seed, uint64_t stream) {
    pcg32 r = {0, (stream << 1) | 1u};
    pcg_next(&r);
    r.state += seed;
    pcg_next(&r);
    return r;
}

static float pcg_uniform(pcg32 *r, float bound) {
    float unit = (float)(pcg_next(r) >> 8) * (1.0f / 16777216.0f);
    return (unit * 2.0f - 1.0f) * bound;
}

static void pcg_shuffle(pcg32 *r, uint16_t *items, uint32_t n) {
    for (uint32_t i = n - 1; i >= 1; i--) {
        uint32_t j = (uint32_t)(((uint64_t)pcg_next(r) * (i + 1)) >> 32);
        uint16_t t = items[i];
        items[i] = items[j];
        items[j] = t;
    }
}

/* ---- State: everything static, the stack stays small. ---- */
static lrk_digits_tensors params, grads, momentum;
static uint8_t initialized[4];
static uint16_t order[LRK_DIGITS_TRAIN_SAMPLES];
static lrk_scheduler children[2];
static lrk_early_stopping stopping;

static int check(int32_t status, const char *what) {
    if (status >= 0) return 1;
    char message[160];
    size_t n = lrk_last_error_message(message, sizeof message);
    put("on-device c: ");
    put(what);
    put(" failed (status -");
    put_u64((uint64_t)(-(int64_t)status), 1);
    put("): ");
    put(n ? message : "?");
    put("\n");
    flush(1);
    return 0;
}

static void on_panic(const char *message, size_t message_len, const char *file, size_t file_len,
                     uint32_t at) {
    fw_write(1, "panic: ", 7);
    fw_write(1, message, message_len);
    fw_write(1, " at ", 4);
    fw_write(1, file, file_len);
    line_len = 0;
    put(":");
    put_u64(at, 1);
    put("\n");
    flush(1);
    fw_exit(0);
}

static void paint_stack(void) {
    uintptr_t sp = fw_stack_pointer();
    for (uintptr_t w = fw_statics_end(); w + 4 <= sp - GUARD; w += 4) *(volatile uint32_t *)w = PAINT;
}

static uint32_t stack_high_water(void) {
    uintptr_t w = fw_statics_end();
    while (w < fw_stack_top() && *(volatile uint32_t *)w == PAINT) w += 4;
    return (uint32_t)(fw_stack_top() - w);
}

int main(void) {
    paint_stack();
    lrk_set_panic_hook(on_panic);
    uint32_t n_train, n_val;
    if (!check(lrk_digits_samples(&n_train, &n_val), "lrk_digits_samples")) return 1;
    if (n_train != LRK_DIGITS_TRAIN_SAMPLES || n_val != LRK_DIGITS_VALIDATION_SAMPLES) return 1;

    /* Weights with weight decay, biases without; the schedule's view of both groups. */
    lrk_sgd_config options[2] = {{0.1, 0.9, 0.0, 5e-4, 0, 0}, {0.1, 0.9, 0.0, 0.0, 0, 0}};
    lrk_param_group groups[2] = {{0.1, 0.0, 0.9, 0, 1, 0, {0}}, {0.1, 0.0, 0.9, 0, 1, 0, {0}}};
    const uint64_t milestones[1] = {WARMUP_EPOCHS};
    if (!check(lrk_linear_lr_init(&children[0], groups, 2, 0.1, 1.0, WARMUP_EPOCHS, -1), "LinearLR")
        || !check(lrk_cosine_annealing_lr_init(&children[1], groups, 2, MAX_EPOCHS - WARMUP_EPOCHS, 0.0, -1), "CosineAnnealingLR")
        || !check(lrk_early_stopping_init(&stopping, LRK_MODE_MIN, 4, 0.0), "early stopping"))
        return 1;

    pcg32 rng = pcg_new(0, 0);
    for (unsigned i = 0; i < sizeof params.w1 / 4; i++) params.w1[i] = pcg_uniform(&rng, 0.125f);
    for (unsigned i = 0; i < sizeof params.w2 / 4; i++) params.w2[i] = pcg_uniform(&rng, 0.25f);
    for (unsigned i = 0; i < sizeof params.b1 / 4; i++) params.b1[i] = pcg_uniform(&rng, 0.125f);
    for (unsigned i = 0; i < sizeof params.b2 / 4; i++) params.b2[i] = pcg_uniform(&rng, 0.25f);
    for (uint32_t i = 0; i < LRK_DIGITS_TRAIN_SAMPLES; i++) order[i] = (uint16_t)i;

    const lrk_sgd_tensor weight_tensors[2] = {
        {params.w1, grads.w1, momentum.w1, &initialized[0], sizeof params.w1 / 4},
        {params.w2, grads.w2, momentum.w2, &initialized[1], sizeof params.w2 / 4},
    };
    const lrk_sgd_tensor bias_tensors[2] = {
        {params.b1, grads.b1, momentum.b1, &initialized[2], sizeof params.b1 / 4},
        {params.b2, grads.b2, momentum.b2, &initialized[3], sizeof params.b2 / 4},
    };
    uint32_t epoch = 0, correct = 0;
    uint8_t stop = 0;
    for (uint32_t e = 0; e < MAX_EPOCHS && !stop; e++) {
        float lr[2];
        for (uint32_t g = 0; g < 2; g++) {
            if (!check(lrk_sequential_lr_at_f32(children, 2, milestones, g, e, &lr[g]), "lr_at_f32")) return 1;
            groups[g].lr = (double)lr[g];
        }
        if (!check(lrk_inject_hyperparams(groups, options, 2), "inject_hyperparams")) return 1;
        pcg_shuffle(&rng, order, LRK_DIGITS_TRAIN_SAMPLES);
        float train_loss = 0.0f;
        for (uint32_t start = 0; start < LRK_DIGITS_TRAIN_SAMPLES; start += BATCH) {
            uint32_t n = LRK_DIGITS_TRAIN_SAMPLES - start < BATCH ? LRK_DIGITS_TRAIN_SAMPLES - start : BATCH;
            if (!check(lrk_digits_gradient(&params, &grads, &order[start], n, &train_loss), "gradient")) return 1;
            const lrk_sgd_group sgd_groups[2] = {{options[0], weight_tensors, 2}, {options[1], bias_tensors, 2}};
            if (!check(lrk_sgd_step(sgd_groups, 2, NULL, 0), "lrk_sgd_step")) return 1;
        }
        float val_loss;
        if (!check(lrk_digits_validate(&params, &val_loss, &correct), "validate")) return 1;
        epoch = e + 1;
        train_loss /= (float)LRK_DIGITS_TRAIN_SAMPLES;
        val_loss /= (float)LRK_DIGITS_VALIDATION_SAMPLES;
        put("epoch ");
        put_u64(epoch, 1);
        put(", lr ");
        put_fixed6(lr[0]);
        put(", train loss ");
        put_fixed6(train_loss);
        put(", val loss ");
        put_fixed6(val_loss);
        put(", val acc ");
        put_percent(correct, LRK_DIGITS_VALIDATION_SAMPLES);
        put("% (bits ");
        put_hex8(bits(lr[0]));
        put(" ");
        put_hex8(bits(train_loss));
        put(" ");
        put_hex8(bits(val_loss));
        put(")\n");
        flush(0);
        if (!check(lrk_early_stopping_update(&stopping, (double)val_loss, &stop), "early stopping")) return 1;
    }
    uint64_t best = 0;
    uint8_t stopped = 0;
    if (!check(lrk_early_stopping_state(&stopping, &best, &stopped), "early stopping")) return 1;
    put("result: validation accuracy ");
    put_percent(correct, LRK_DIGITS_VALIDATION_SAMPLES);
    put("% after ");
    put_u64(epoch, 1);
    put(" epochs (best epoch ");
    put_u64(best, 1);
    put(", stopped early: ");
    put(stopped ? "yes)\n" : "no)\n");
    flush(0);
    put("stack high-water: ");
    put_u64(stack_high_water(), 1);
    put(" bytes\n");
    flush(0);
    return 0;
}
