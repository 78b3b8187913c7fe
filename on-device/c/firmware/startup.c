/* Startup of the C training firmware (Cortex-M4F, netduinoplus2 under QEMU): vector table,
 * reset (copy .data, zero .bss, enable the FPU), semihosting output and exit, fault handler. */
#include <stddef.h>
#include <stdint.h>

#include "firmware.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _stack_start;
int main(void);

/* Semihosting call (BKPT 0xAB): operation in r0, argument block in r1. */
static int32_t semihost(uint32_t op, const void *arg) {
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}

static int32_t open_tt(uint32_t mode) {
    const uint32_t args[3] = {(uint32_t)":tt", mode, 3};
    return semihost(0x01 /* SYS_OPEN */, args);
}

void fw_write(int to_stderr, const char *s, size_t len) {
    static int32_t handles[2] = {-1, -1};
    if (handles[to_stderr] < 0) handles[to_stderr] = open_tt(to_stderr ? 8u : 4u);
    const uint32_t args[3] = {(uint32_t)handles[to_stderr], (uint32_t)s, (uint32_t)len};
    semihost(0x05 /* SYS_WRITE */, args);
}

void fw_exit(int success) {
    /* ADP_Stopped_ApplicationExit ends QEMU with status 0, RunTimeErrorUnknown with 1. */
    semihost(0x18 /* SYS_EXIT */, (const void *)(success ? 0x20026u : 0x20023u));
    for (;;) __asm__ volatile("wfi");
}

uintptr_t fw_stack_pointer(void) {
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

uintptr_t fw_statics_end(void) { return (uintptr_t)&_ebss; }
uintptr_t fw_stack_top(void) { return (uintptr_t)&_stack_start; }

void Reset_Handler(void) {
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;) *dst++ = 0;
    /* CPACR: full access to CP10 and CP11 (the FPU), before any floating-point instruction. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    fw_exit(main() == 0);
}

static void fault(void) {
    static const char m[] = "on-device c: fault\n";
    fw_write(1, m, sizeof m - 1);
    fw_exit(0);
}

__attribute__((section(".vector_table"), used))
static const uintptr_t vector_table[16] = {
    (uintptr_t)&_stack_start, (uintptr_t)Reset_Handler,
    (uintptr_t)fault, (uintptr_t)fault, (uintptr_t)fault, (uintptr_t)fault, (uintptr_t)fault,
    0, 0, 0, 0, (uintptr_t)fault, (uintptr_t)fault, 0, (uintptr_t)fault, (uintptr_t)fault,
};
