/* The interpreter: runs a loaded model's ops in order on the caller's arena with one kernel set,
 * chosen at init from what the CPU runs. Allocates nothing. */
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu.h"
#include "kernels/float/float_ops.h"
#include "kernels/kernel_set.h"
#include "kernels/packing.h"
#include "kernels/parallel.h"

/* Every kernel set by name, fastest first; the reference last. */
static const struct {
  const char *name;
  wt_kernels kernels;
} by_speed[] = {{"avx512vnni", WT_KERNELS_AVX512VNNI}, {"avxvnni", WT_KERNELS_AVXVNNI}, {"avx2", WT_KERNELS_AVX2},
                {"neondot", WT_KERNELS_NEONDOT},        {"neon", WT_KERNELS_NEON},       {"ref", WT_KERNELS_REF}};

/* The set for `kernels`, or NULL when this CPU cannot run it. */
static const wt_kernel_set *kernel_set(wt_kernels kernels) {
  switch (kernels) {
  case WT_KERNELS_REF: return &wt_kernel_set_ref;
#if defined(__x86_64__) || defined(_M_X64)
  case WT_KERNELS_AVX2: return wt_cpu_has_avx2() ? &wt_kernel_set_avx2 : NULL;
  case WT_KERNELS_AVXVNNI: return wt_cpu_has_avxvnni() ? &wt_kernel_set_avxvnni : NULL;
  case WT_KERNELS_AVX512VNNI: return wt_cpu_has_avx512vnni() ? &wt_kernel_set_avx512vnni : NULL;
#endif
#if defined(__aarch64__)
  case WT_KERNELS_NEONDOT: return wt_cpu_has_dotprod() ? &wt_kernel_set_neondot : NULL;
  case WT_KERNELS_NEON: return &wt_kernel_set_neon;
#endif
  case WT_KERNELS_AUTO: {
    /* WT_KERNELS names a set this CPU runs, or the fastest one is taken. */
    const char *forced = getenv("WT_KERNELS");
    for (size_t i = 0; forced != NULL && i < sizeof by_speed / sizeof by_speed[0]; i++)
      if (strcmp(forced, by_speed[i].name) == 0 && kernel_set(by_speed[i].kernels) != NULL) return kernel_set(by_speed[i].kernels);
    for (size_t i = 0;; i++)
      if (kernel_set(by_speed[i].kernels) != NULL) return kernel_set(by_speed[i].kernels);
  }
  default: return NULL;
  }
}

size_t wt_kernel_sets_supported(const wt_kernel_set **sets, size_t capacity) {
  size_t count = 0;
  for (size_t i = 0; i + 1 < sizeof by_speed / sizeof by_speed[0]; i++) /* all but the reference, last */
    if (kernel_set(by_speed[i].kernels) != NULL) {
      if (count < capacity) sets[count] = kernel_set(by_speed[i].kernels);
      count++;
    }
  return count;
}

wt_status wt_interpreter_init(wt_interpreter *interpreter, const wt_model *model, void *arena, size_t arena_size) {
  if (interpreter == NULL || model == NULL || model->header == NULL || arena == NULL) return WT_ERROR_ARGUMENT;
  if (arena_size < wt_model_arena_size(model) || (uintptr_t)arena % 16 != 0) return WT_ERROR_ARENA;
  interpreter->model = model;
  interpreter->arena = (uint8_t *)arena;
  interpreter->arena_size = arena_size;
  interpreter->kernels = kernel_set(WT_KERNELS_AUTO);
  interpreter->pool = NULL;
  return WT_OK;
}

wt_status wt_interpreter_set_threadpool(wt_interpreter *interpreter, wt_threadpool *pool) {
  if (interpreter == NULL || interpreter->model == NULL) return WT_ERROR_ARGUMENT;
  if (interpreter->arena_size < wt_model_arena_size_threads(interpreter->model, wt_threadpool_threads(pool))) return WT_ERROR_ARENA;
  interpreter->pool = pool;
  return WT_OK;
}

wt_status wt_interpreter_set_kernels(wt_interpreter *interpreter, wt_kernels kernels) {
  if (interpreter == NULL || interpreter->model == NULL) return WT_ERROR_ARGUMENT;
  const wt_kernel_set *set = kernel_set(kernels);
  if (set == NULL) return WT_ERROR_UNSUPPORTED;
  interpreter->kernels = set;
  return WT_OK;
}

const char *wt_interpreter_kernels_name(const wt_interpreter *interpreter) {
  return interpreter != NULL && interpreter->kernels != NULL ? ((const wt_kernel_set *)interpreter->kernels)->name : "";
}

uint8_t *wt_tensor_data(const wt_interpreter *interpreter, uint32_t tensor) {
  if (interpreter == NULL || interpreter->model == NULL || tensor >= interpreter->model->tensor_count) return NULL;
  return interpreter->arena + interpreter->model->tensors[tensor].arena_offset;
}

wt_status wt_invoke_range(wt_interpreter *interpreter, uint32_t first, uint32_t end) {
  if (interpreter == NULL || interpreter->model == NULL) return WT_ERROR_ARGUMENT;
  const wt_model *m = interpreter->model;
  if (first > end || end > m->op_count) return WT_ERROR_ARGUMENT;
  const wt_kernel_set *set = (const wt_kernel_set *)interpreter->kernels;
  /* Arena: the tensors, the unpacked weights of one low-bit op, each thread's scratch. */
  int8_t *unpacked = (int8_t *)(interpreter->arena + wt_round_up(m->header->arena_size, WT_ALIGNMENT));
  void *scratch = (uint8_t *)unpacked + wt_round_up(m->unpacked_size, WT_ALIGNMENT);
  for (uint32_t i = first; i < end; i++) {
    const wt_op *op = &m->ops[i];
    wt_op_call call = {.op = op, .out = &m->tensors[op->output], .data = m->data, .scratch = scratch,
                       .scratch_stride = wt_round_up(m->scratch_size, WT_ALIGNMENT), .pool = interpreter->pool};
    if (wt_kind_has_weights(op->kind)) {
      call.weights = wt_op_bytes(&call, WT_B_WEIGHTS);
      if (op->scheme != WT_SCHEME_INT8) {
        wt_scheme_unpack(op->scheme, call.weights, wt_unpacked_count(op), unpacked);
        call.weights = (const uint8_t *)unpacked;
      }
    }
    for (uint32_t k = 0; k < op->input_count; k++) {
      call.in[k] = &m->tensors[op->inputs[k]];
      call.x[k] = interpreter->arena + call.in[k]->arena_offset;
    }
    call.y = interpreter->arena + call.out->arena_offset;
    if (op->kind >= WT_OP_FIRST_FLOAT)
      wt_float_kernels[op->kind - WT_OP_FIRST_FLOAT](&call);
    else
      set->by_kind[op->kind](&call);
  }
  return WT_OK;
}

wt_status wt_invoke(wt_interpreter *interpreter) {
  if (interpreter == NULL || interpreter->model == NULL) return WT_ERROR_ARGUMENT;
  return wt_invoke_range(interpreter, 0, interpreter->model->op_count);
}
