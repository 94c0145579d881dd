/* The interpreter: runs a loaded model's ops in order on the caller's arena. Allocates nothing. */
#include "kernels/ref/ref_kernels.h"

typedef void (*wt_kernel)(const wt_op_call *call);

/* The kernel of each op kind; index = wt_op_kind. */
static const wt_kernel wt_ref_kernels[] = {
    [WT_OP_CONV] = wt_qu8_conv__ref,       [WT_OP_FC] = wt_qu8_fc__ref,
    [WT_OP_ADD] = wt_qu8_add__ref,         [WT_OP_MUL] = wt_qu8_mul__ref,
    [WT_OP_LUT] = wt_qu8_lut__ref,         [WT_OP_MAX_POOL] = wt_qu8_maxpool__ref,
    [WT_OP_MEAN] = wt_qu8_mean__ref,       [WT_OP_CONCAT] = wt_qu8_concat__ref,
    [WT_OP_RESHAPE] = wt_qu8_reshape__ref, [WT_OP_SOFTMAX] = wt_qu8_softmax__ref,
};

wt_status wt_interpreter_init(wt_interpreter *interpreter, const wt_model *model, void *arena, size_t arena_size) {
  if (interpreter == NULL || model == NULL || model->header == NULL || arena == NULL) return WT_ERROR_ARGUMENT;
  if (arena_size < model->header->arena_size) return WT_ERROR_ARENA;
  interpreter->model = model;
  interpreter->arena = (uint8_t *)arena;
  interpreter->arena_size = arena_size;
  return WT_OK;
}

uint8_t *wt_tensor_data(const wt_interpreter *interpreter, uint32_t tensor) {
  if (interpreter == NULL || interpreter->model == NULL || tensor >= interpreter->model->tensor_count) return NULL;
  return interpreter->arena + interpreter->model->tensors[tensor].arena_offset;
}

wt_status wt_invoke_range(wt_interpreter *interpreter, uint32_t first, uint32_t end) {
  if (interpreter == NULL || interpreter->model == NULL) return WT_ERROR_ARGUMENT;
  const wt_model *m = interpreter->model;
  if (first > end || end > m->op_count) return WT_ERROR_ARGUMENT;
  for (uint32_t i = first; i < end; i++) {
    const wt_op *op = &m->ops[i];
    wt_op_call call = {.op = op, .out = &m->tensors[op->output], .data = m->data};
    for (uint32_t k = 0; k < op->input_count; k++) {
      call.in[k] = &m->tensors[op->inputs[k]];
      call.x[k] = interpreter->arena + call.in[k]->arena_offset;
    }
    call.y = interpreter->arena + call.out->arena_offset;
    wt_ref_kernels[op->kind](&call);
  }
  return WT_OK;
}

wt_status wt_invoke(wt_interpreter *interpreter) {
  if (interpreter == NULL || interpreter->model == NULL) return WT_ERROR_ARGUMENT;
  return wt_invoke_range(interpreter, 0, interpreter->model->op_count);
}
