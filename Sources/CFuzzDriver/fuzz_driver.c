#include "fuzz_driver.h"

/* Defined by libclang_rt.fuzzer_no_main when `make fuzz` links it (with -u to pull it in). */
int LLVMFuzzerRunDriver(int *argc, char ***argv, whittle_fuzz_callback callback) __attribute__((weak));

int whittle_fuzz_driver_linked(void) { return LLVMFuzzerRunDriver != NULL; }

int whittle_fuzz_run(int *argc, char ***argv, whittle_fuzz_callback callback) {
  return LLVMFuzzerRunDriver(argc, argv, callback);
}
