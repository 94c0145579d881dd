/* libFuzzer target for the .wtm loader and interpreter (`make fuzz`, Tests/Fuzz/README.md).
 *
 * Each input is taken as a .wtm file whose checksum is then made to match, so mutations reach
 * the structural checks instead of stopping at the CRC (fuzz_wtm.c tests the CRC itself). A file
 * the loader accepts is run with the reference kernels, with AVX2's and with the fastest set this CPU has, on
 * the same input bytes, and every output must agree bit for bit: the loader must refuse
 * anything a kernel could mishandle. Models above a work limit (wt_model_macs) are refused, as a
 * caller running untrusted files would. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "whittle_runtime.h"

enum { MAX_MACS = 20000000, MAX_ARENA = 64 << 20 };

/* Runs the model with `kernels` on a fixed input pattern; the caller frees *outputs. */
static int run(const wt_model *model, wt_kernels kernels, uint8_t *arena, size_t arena_size, uint8_t **outputs,
               size_t *outputs_size) {
  wt_interpreter it;
  if (wt_interpreter_init(&it, model, arena, arena_size) != WT_OK) abort(); /* the size it asked for */
  if (wt_interpreter_set_kernels(&it, kernels) != WT_OK) return 0;
  memset(arena, 0, arena_size);
  for (uint32_t i = 0; i < model->input_count; i++) {
    const wt_tensor *input = &model->tensors[model->inputs[i]];
    uint8_t *data = wt_tensor_data(&it, model->inputs[i]);
    for (uint32_t b = 0; b < input->byte_size; b++) data[b] = (uint8_t)(b * 37u + i * 101u);
  }
  if (wt_invoke(&it) != WT_OK) abort(); /* a loaded model always runs */
  size_t size = 0;
  for (uint32_t i = 0; i < model->output_count; i++) size += model->tensors[model->outputs[i]].byte_size;
  uint8_t *copy = malloc(size ? size : 1), *at = copy;
  for (uint32_t i = 0; i < model->output_count; i++) {
    const uint32_t byte_size = model->tensors[model->outputs[i]].byte_size;
    memcpy(at, wt_tensor_data(&it, model->outputs[i]), byte_size);
    at += byte_size;
  }
  *outputs = copy;
  *outputs_size = size;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *bytes = malloc(size ? size : 1); /* exactly `size` bytes, 16-byte aligned */
  memcpy(bytes, data, size);
  if (size >= sizeof(wt_header)) {
    const uint32_t crc = wt_crc32(bytes + sizeof(wt_header), size - sizeof(wt_header));
    memcpy(bytes + offsetof(wt_header, payload_crc32), &crc, sizeof crc);
  }
  wt_model model;
  if (wt_model_load(&model, bytes, size) == WT_OK && wt_model_macs(&model) <= MAX_MACS &&
      wt_model_arena_size(&model) <= MAX_ARENA) {
    const size_t arena_size = wt_model_arena_size(&model);
    uint8_t *arena = malloc(arena_size ? arena_size : 1);
    uint8_t *reference, *fast;
    size_t reference_size, fast_size;
    run(&model, WT_KERNELS_REF, arena, arena_size, &reference, &reference_size);
    const wt_kernels others[] = {WT_KERNELS_AVX2, WT_KERNELS_AUTO};
    for (size_t k = 0; k < sizeof others / sizeof others[0]; k++) {
      if (!run(&model, others[k], arena, arena_size, &fast, &fast_size)) continue;
      if (fast_size != reference_size || memcmp(fast, reference, fast_size) != 0) abort();
      free(fast);
    }
    free(reference);
    free(arena);
  }
  free(bytes);
  return 0;
}
