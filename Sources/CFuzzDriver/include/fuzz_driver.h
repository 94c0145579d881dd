#ifndef WHITTLE_FUZZ_DRIVER_H
#define WHITTLE_FUZZ_DRIVER_H
/* libFuzzer's driver when the program is linked with it (`make fuzz`), and nothing otherwise, so
 * one fuzz target builds both ways: a fuzzer, or a replayer of a corpus. */
#include <stddef.h>
#include <stdint.h>

typedef int (*whittle_fuzz_callback)(const uint8_t *data, size_t size);

/* 1 when libFuzzer is linked in. */
int whittle_fuzz_driver_linked(void);
/* Runs libFuzzer with the program's arguments (only when linked in). */
int whittle_fuzz_run(int *argc, char ***argv, whittle_fuzz_callback callback);

#endif
