#ifndef WHITTLE_FUZZ_DRIVER_H
#define WHITTLE_FUZZ_DRIVER_H
/* One main for the Swift fuzz targets: libFuzzer's driver when the program is linked with it
 * (`make fuzz`), and a replayer of files otherwise, so one target builds both ways. */
#include <stddef.h>
#include <stdint.h>

typedef int (*whittle_fuzz_callback)(const uint8_t *data, size_t size);

/* 1 when libFuzzer is linked in. */
int whittle_fuzz_driver_linked(void);
/* With libFuzzer: runs it with the program's arguments. Without: calls `callback` on every file
 * named by an argument, or in a folder an argument names (not descending further). Returns the
 * exit status: 2 when an argument cannot be read or none is given. */
int whittle_fuzz_main(int *argc, char ***argv, whittle_fuzz_callback callback);

#endif
