/* Runs a .wtm model once and writes its output bytes: the small host/firmware-style program
 * of the standalone runtime build (Sources/Runtime/Makefile), used to compare an aarch64 run
 * under qemu with the x86 one byte for byte.
 *
 *   wtm_run MODEL.wtm OUTPUT.bin [INPUT.bin]
 *
 * INPUT.bin holds the input tensor's bytes (uint8 NHWC); without it the input is a fixed
 * pseudo-random pattern, the same on every machine. Prints the kernel set and the output size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whittle_runtime.h"

static unsigned char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  unsigned char *bytes = NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    const long length = ftell(f);
    if (length > 0 && fseek(f, 0, SEEK_SET) == 0) {
      bytes = malloc(((size_t)length + 63) / 64 * 64); /* 8-byte aligned, as the loader needs */
      if (bytes != NULL && fread(bytes, 1, (size_t)length, f) != (size_t)length) {
        free(bytes);
        bytes = NULL;
      }
      *size = (size_t)length;
    }
  }
  fclose(f);
  return bytes;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: wtm_run MODEL.wtm OUTPUT.bin [INPUT.bin]\n");
    return 2;
  }
  size_t size = 0;
  unsigned char *bytes = read_file(argv[1], &size);
  if (bytes == NULL) {
    fprintf(stderr, "wtm_run: cannot read %s\n", argv[1]);
    return 1;
  }
  wt_model model;
  wt_status status = wt_model_load(&model, bytes, size);
  if (status != WT_OK) {
    fprintf(stderr, "wtm_run: %s: %s\n", argv[1], wt_status_string(status));
    return 1;
  }
  const size_t arena_size = wt_model_arena_size(&model);
  void *arena = malloc(arena_size + 16);
  wt_interpreter it;
  if (arena == NULL || (status = wt_interpreter_init(&it, &model, arena, arena_size)) != WT_OK) {
    fprintf(stderr, "wtm_run: %s\n", arena == NULL ? "out of memory" : wt_status_string(status));
    return 1;
  }
  const uint32_t in = wt_model_input(&model, 0), out = wt_model_output(&model, 0);
  uint8_t *x = wt_tensor_data(&it, in);
  const size_t in_bytes = model.tensors[in].byte_size, out_bytes = model.tensors[out].byte_size;
  if (argc > 3) {
    size_t given = 0;
    unsigned char *input = read_file(argv[3], &given);
    if (input == NULL || given != in_bytes) {
      fprintf(stderr, "wtm_run: %s must hold the input's %zu bytes\n", argv[3], in_bytes);
      return 1;
    }
    memcpy(x, input, in_bytes);
    free(input);
  } else {
    uint32_t state = 12345;
    for (size_t i = 0; i < in_bytes; i++) {
      state = state * 1664525u + 1013904223u;
      x[i] = (uint8_t)(state >> 24);
    }
  }
  if ((status = wt_invoke(&it)) != WT_OK) {
    fprintf(stderr, "wtm_run: %s\n", wt_status_string(status));
    return 1;
  }
  FILE *f = fopen(argv[2], "wb");
  if (f == NULL || fwrite(wt_tensor_data(&it, out), 1, out_bytes, f) != out_bytes || fclose(f) != 0) {
    fprintf(stderr, "wtm_run: cannot write %s\n", argv[2]);
    return 1;
  }
  printf("%s: %s kernels, %zu output bytes\n", argv[1], wt_interpreter_kernels_name(&it), out_bytes);
  free(arena);
  free(bytes);
  return 0;
}
