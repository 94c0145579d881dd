#ifndef WT_KERNEL_H
#define WT_KERNEL_H
/* The contract between the interpreter and every kernel set: the call record a kernel gets, the
 * requantization all of them compute bit for bit, and the clamp. Kernels are keyed by op kind
 * (kernel_set.h); a conv or FC kernel reads its weights as int8 levels in the layouts of
 * packing.h, whatever scheme the file stores them in. */

#include "whittle_runtime.h"

/* TFLite's fixed-point requantization: round(x · multiplier / 2^31 · 2^shift), with
 * SaturatingRoundingDoublingHighMul then RoundingDivideByPOT. The left shift saturates. */
static inline int32_t wt_requantize(int32_t x, int32_t multiplier, int32_t shift) {
  int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  int64_t shifted = (int64_t)x * ((int64_t)1 << left);
  if (shifted > INT32_MAX) shifted = INT32_MAX;
  if (shifted < INT32_MIN) shifted = INT32_MIN;
  int32_t a = (int32_t)shifted;
  int32_t high;
  if (a == INT32_MIN && multiplier == INT32_MIN) {
    high = INT32_MAX;
  } else {
    int64_t product = (int64_t)a * multiplier;
    int64_t nudge = product >= 0 ? ((int64_t)1 << 30) : 1 - ((int64_t)1 << 30);
    high = (int32_t)((product + nudge) / ((int64_t)1 << 31));
  }
  if (right == 0) return high;
  int32_t mask = (int32_t)(((int64_t)1 << right) - 1);
  int32_t remainder = high & mask;
  int32_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  return (high >> right) + (remainder > threshold ? 1 : 0);
}

/* Takes int64 so zero point + requantized value cannot overflow. */
static inline uint8_t wt_clamp_u8(int64_t v, int32_t low, int32_t high) {
  return (uint8_t)(v < low ? low : (v > high ? high : v));
}

/* Whether an output clamp starts at or above the zero point (a ReLU folded in): every
 * requantized q ≤ 0 then gives the same byte, so the SIMD kernels may take the shorter rounding
 * that is exact only for q > 0 (`negatives_clamped` in requantize_avx2.h, requantize_avx512.h). */
static inline int wt_clamps_negatives(int32_t act_min, int32_t zero_point) { return act_min >= zero_point; }

/* Every kernel takes the op record, its operand tensors and their arena pointers. */
typedef struct {
  const wt_op *op;
  const wt_tensor *in[WT_MAX_INPUTS];
  const uint8_t *x[WT_MAX_INPUTS];
  const wt_tensor *out;
  uint8_t *y;
  const uint8_t *data; /* the model's DATA section */
  const uint8_t *weights; /* conv and FC: the weights in the int8 layout (packing.h), unpacked first when the op's
                             scheme is narrower (the interpreter's job) */
  void *scratch;       /* thread t's scratch: scratch + t · scratch_stride, wt_model.scratch_size bytes each */
  size_t scratch_stride;
  wt_threadpool *pool; /* for kernels that split their work; NULL: one thread */
} wt_op_call;

/* The op's blob `blob` (WT_B_*) in the DATA section; bias, multipliers and shifts are int32. */
static inline const uint8_t *wt_op_bytes(const wt_op_call *call, int blob) { return call->data + call->op->blobs[blob].offset; }
static inline const int32_t *wt_op_int32s(const wt_op_call *call, int blob) {
  return (const int32_t *)(const void *)wt_op_bytes(call, blob);
}

#endif
