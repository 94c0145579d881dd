#define _DEFAULT_SOURCE /* DT_DIR */
#include "fuzz_driver.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Defined by libclang_rt.fuzzer_no_main when `make fuzz` links it (with -u to pull it in). */
int LLVMFuzzerRunDriver(int *argc, char ***argv, whittle_fuzz_callback callback) __attribute__((weak));

int whittle_fuzz_driver_linked(void) { return LLVMFuzzerRunDriver != NULL; }

/* Reads the file at `path` whole and hands it to `callback`; 0 when it could be read. */
static int replay_file(const char *path, whittle_fuzz_callback callback) {
  FILE *file = fopen(path, "rb");
  if (file == NULL) return 1;
  size_t size = 0, capacity = 1 << 16;
  uint8_t *bytes = malloc(capacity);
  size_t got;
  while (bytes != NULL && (got = fread(bytes + size, 1, capacity - size, file)) > 0) {
    size += got;
    if (size == capacity) {
      uint8_t *grown = realloc(bytes, capacity *= 2);
      if (grown == NULL) free(bytes);
      bytes = grown;
    }
  }
  fclose(file);
  if (bytes == NULL) return 1;
  callback(bytes, size);
  free(bytes);
  return 0;
}

int whittle_fuzz_main(int *argc, char ***argv, whittle_fuzz_callback callback) {
  if (LLVMFuzzerRunDriver != NULL) return LLVMFuzzerRunDriver(argc, argv, callback);
  if (*argc < 2) {
    fprintf(stderr, "usage: %s FILE|FOLDER...   (replays each file; `make fuzz` builds the fuzzer)\n", (*argv)[0]);
    return 2;
  }
  for (int i = 1; i < *argc; i++) {
    const char *path = (*argv)[i];
    struct stat info;
    if (stat(path, &info) != 0) {
      fprintf(stderr, "%s: '%s' does not exist\n", (*argv)[0], path);
      return 2;
    }
    if (!S_ISDIR(info.st_mode)) {
      if (replay_file(path, callback) != 0) return 2;
      continue;
    }
    struct dirent **entries;
    const int count = scandir(path, &entries, NULL, alphasort);
    if (count < 0) return 2;
    for (int e = 0; e < count; e++) {
      char child[4096];
      if (entries[e]->d_name[0] != '.' && snprintf(child, sizeof child, "%s/%s", path, entries[e]->d_name) < (int)sizeof child &&
          stat(child, &info) == 0 && S_ISREG(info.st_mode))
        replay_file(child, callback);
      free(entries[e]);
    }
    free(entries);
  }
  return 0;
}
