/* What startup.c gives main.c. */
#ifndef FIRMWARE_H
#define FIRMWARE_H
#include <stddef.h>
#include <stdint.h>
void fw_write(int to_stderr, const char *s, size_t len);
void fw_exit(int success);
uintptr_t fw_stack_pointer(void);
uintptr_t fw_statics_end(void);
uintptr_t fw_stack_top(void);
#endif
