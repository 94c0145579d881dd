/* The Python binding's side of the C runtime: one handle per loaded model (its bytes, arena and
 * interpreter), so Python mirrors no struct layout of whittle_runtime.h. Loaded with ctypes. */
#include <stdlib.h>
#include <string.h>

#include "whittle_runtime.h"

typedef struct {
  void *bytes;
  uint8_t *arena;
  wt_model model;
  wt_interpreter interpreter;
} whittle_handle;

void whittle_close(whittle_handle *h) {
  if (h == NULL) return;
  free(h->bytes);
  free(h->arena);
  free(h);
}

/* Copies `size` bytes, validates them and prepares an arena; NULL with `*status` set on failure. */
whittle_handle *whittle_open(const uint8_t *bytes, size_t size, int *status) {
  whittle_handle *h = calloc(1, sizeof *h);
  *status = WT_ERROR_ARGUMENT;
  if (h == NULL || (h->bytes = malloc(size ? size : 1)) == NULL) return whittle_close(h), NULL;
  memcpy(h->bytes, bytes, size);
  if ((*status = wt_model_load(&h->model, h->bytes, size)) != WT_OK) return whittle_close(h), NULL;
  const size_t arena = wt_model_arena_size(&h->model);
  if ((h->arena = malloc(arena)) == NULL) return *status = WT_ERROR_ARENA, whittle_close(h), NULL; /* malloc's: 16-byte aligned */
  if ((*status = wt_interpreter_init(&h->interpreter, &h->model, h->arena, arena)) != WT_OK) return whittle_close(h), NULL;
  return h;
}

const char *whittle_status(int status) { return wt_status_string((wt_status)status); }
const char *whittle_version(void) { return wt_runtime_version(); }

/* The model input's (which = 0) or output's (which = 1) rank, dims (NHWC for 4-D), scale and zero point. */
int whittle_tensor(const whittle_handle *h, int which, uint32_t dims[WT_MAX_RANK], float *scale, int32_t *zero_point) {
  const wt_tensor *t = &h->model.tensors[which == 0 ? wt_model_input(&h->model, 0) : wt_model_output(&h->model, 0)];
  memcpy(dims, t->dims, sizeof t->dims);
  *scale = t->scale;
  *zero_point = t->zero_point;
  return (int)t->rank;
}

/* Runs the model on `input` (uint8, the input's layout) and copies its output into `output`. */
int whittle_run(whittle_handle *h, const uint8_t *input, uint8_t *output, const char *kernels) {
  const wt_model *m = &h->model;
  if (kernels != NULL) {
    static const struct { const char *name; wt_kernels kernels; } sets[] = {
        {"auto", WT_KERNELS_AUTO}, {"ref", WT_KERNELS_REF}, {"avx2", WT_KERNELS_AVX2}, {"avxvnni", WT_KERNELS_AVXVNNI},
        {"avx512vnni", WT_KERNELS_AVX512VNNI}, {"neon", WT_KERNELS_NEON}, {"neondot", WT_KERNELS_NEONDOT}};
    wt_status status = WT_ERROR_UNSUPPORTED;
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
      if (strcmp(kernels, sets[i].name) == 0) status = wt_interpreter_set_kernels(&h->interpreter, sets[i].kernels);
    if (status != WT_OK) return status;
  }
  memcpy(wt_tensor_data(&h->interpreter, wt_model_input(m, 0)), input, m->tensors[wt_model_input(m, 0)].byte_size);
  const wt_status status = wt_invoke(&h->interpreter);
  if (status == WT_OK) memcpy(output, wt_tensor_data(&h->interpreter, wt_model_output(m, 0)), m->tensors[wt_model_output(m, 0)].byte_size);
  return status;
}

const char *whittle_metadata(const whittle_handle *h, size_t *size) { return wt_model_metadata(&h->model, size); }
