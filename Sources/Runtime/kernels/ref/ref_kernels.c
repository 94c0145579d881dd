#include "ref_kernels.h"

#include "../kernel_set.h"
#include "../packing.h"

#include <string.h>

static size_t element_count(const wt_tensor *t) {
  size_t n = 1;
  for (uint32_t i = 0; i < t->rank; i++) n *= t->dims[i];
  return n;
}

/* acc = bias' + Σ x̃·w over every tap, x̃ = zx at padded positions (packing.h). */
void wt_qu8_conv__ref(const wt_op_call *call) {
  const wt_op *op = call->op;
  const wt_tensor *in = call->in[0], *out = call->out;
  const int32_t *p = op->params;
  const size_t batch = in->dims[0], height = in->dims[1], width = in->dims[2], channels = in->dims[3];
  const size_t out_h = out->dims[1], out_w = out->dims[2], out_c = out->dims[3];
  const size_t group = (size_t)p[WT_P_GROUP], in_per_group = channels / group, out_per_group = out_c / group;
  const size_t kh = (size_t)p[WT_P_KH], kw = (size_t)p[WT_P_KW], depth = kh * kw * in_per_group;
  const int depthwise = wt_conv_is_depthwise(op, in, out);
  const size_t group_bytes = wt_packed_group_size(out_per_group, depth);
  const int8_t *weights = (const int8_t *)call->weights;
  const int32_t *bias = wt_op_int32s(call, WT_B_BIAS), *mult = wt_op_int32s(call, WT_B_MULTIPLIER),
                *shift = wt_op_int32s(call, WT_B_SHIFT);
  const int32_t zx = in->zero_point, zy = out->zero_point;
  for (size_t n = 0; n < batch; n++)
    for (size_t oy = 0; oy < out_h; oy++)
      for (size_t ox = 0; ox < out_w; ox++)
        for (size_t oc = 0; oc < out_c; oc++) {
          const size_t g = oc / out_per_group, m = oc % out_per_group;
          int32_t acc = bias[oc];
          for (size_t ky = 0; ky < kh; ky++) {
            const ptrdiff_t iy = (ptrdiff_t)(oy * (size_t)p[WT_P_STRIDE_H] + ky * (size_t)p[WT_P_DILATION_H]) - p[WT_P_PAD_TOP];
            for (size_t kx = 0; kx < kw; kx++) {
              const ptrdiff_t ix =
                  (ptrdiff_t)(ox * (size_t)p[WT_P_STRIDE_W] + kx * (size_t)p[WT_P_DILATION_W]) - p[WT_P_PAD_LEFT];
              const int padded = iy < 0 || iy >= (ptrdiff_t)height || ix < 0 || ix >= (ptrdiff_t)width;
              const uint8_t *x =
                  padded ? NULL : call->x[0] + ((n * height + (size_t)iy) * width + (size_t)ix) * channels + g * in_per_group;
              const size_t tap = ky * kw + kx;
              for (size_t ic = 0; ic < in_per_group; ic++) {
                const int32_t w = depthwise ? weights[tap * out_c + oc]
                                            : wt_packed_weight(weights + g * group_bytes, depth, m, tap * in_per_group + ic);
                acc += (padded ? zx : (int32_t)x[ic]) * w;
              }
            }
          }
          call->y[((n * out_h + oy) * out_w + ox) * out_c + oc] =
              wt_clamp_u8((int64_t)zy + wt_requantize(acc, mult[oc], shift[oc]), op->act_min, op->act_max);
        }
}

void wt_qu8_fc__ref(const wt_op_call *call) {
  const wt_op *op = call->op;
  const size_t batch = wt_fc_rows(call->out), outputs = call->out->dims[call->out->rank - 1];
  const size_t depth = element_count(call->in[0]) / batch;
  const int8_t *weights = (const int8_t *)call->weights;
  const int32_t *bias = wt_op_int32s(call, WT_B_BIAS), *mult = wt_op_int32s(call, WT_B_MULTIPLIER),
                *shift = wt_op_int32s(call, WT_B_SHIFT);
  const int32_t zy = call->out->zero_point;
  for (size_t n = 0; n < batch; n++)
    for (size_t m = 0; m < outputs; m++) {
      const uint8_t *x = call->x[0] + n * depth;
      int32_t acc = bias[m];
      for (size_t k = 0; k < depth; k++) acc += (int32_t)x[k] * wt_packed_weight(weights, depth, m, k);
      call->y[n * outputs + m] = wt_clamp_u8((int64_t)zy + wt_requantize(acc, mult[m], shift[m]), op->act_min, op->act_max);
    }
}

void wt_qu8_add_range__ref(const wt_op_call *call, size_t first) {
  const wt_op *op = call->op;
  const int32_t *p = op->params;
  const int32_t za = call->in[0]->zero_point, zb = call->in[1]->zero_point, zy = call->out->zero_point;
  const size_t count = element_count(call->out);
  for (size_t i = first; i < count; i++) {
    const int32_t a = wt_requantize(((int32_t)call->x[0][i] - za) * (1 << p[WT_P_ADD_LEFT_SHIFT]), p[WT_P_ADD_MULT_A],
                                    p[WT_P_ADD_SHIFT_A]);
    const int32_t b = wt_requantize(((int32_t)call->x[1][i] - zb) * (1 << p[WT_P_ADD_LEFT_SHIFT]), p[WT_P_ADD_MULT_B],
                                    p[WT_P_ADD_SHIFT_B]);
    call->y[i] = wt_clamp_u8((int64_t)zy + wt_requantize(a + b, p[WT_P_ADD_MULT], p[WT_P_ADD_SHIFT]), op->act_min, op->act_max);
  }
}

void wt_qu8_add__ref(const wt_op_call *call) { wt_qu8_add_range__ref(call, 0); }

void wt_qu8_mul__ref(const wt_op_call *call) { wt_qu8_mul_range__ref(call, 0); }

void wt_qu8_mul_range__ref(const wt_op_call *call, size_t first) {
  const wt_op *op = call->op;
  const int32_t za = call->in[0]->zero_point, zb = call->in[1]->zero_point, zy = call->out->zero_point;
  const size_t count = element_count(call->out), b_count = element_count(call->in[1]);
  /* The second operand is either the same shape or [N,1,1,C]: broadcast over H and W. */
  const size_t channels = call->out->dims[call->out->rank - 1];
  const size_t plane = count / call->out->dims[0];
  for (size_t i = first; i < count; i++) {
    const size_t j = b_count == count ? i : (i / plane) * channels + i % channels;
    const int32_t product = ((int32_t)call->x[0][i] - za) * ((int32_t)call->x[1][j] - zb);
    call->y[i] = wt_clamp_u8((int64_t)zy + wt_requantize(product, op->params[WT_P_MULT], op->params[WT_P_SHIFT]), op->act_min,
                             op->act_max);
  }
}

void wt_qu8_lut__ref(const wt_op_call *call) {
  const uint8_t *table = wt_op_bytes(call, WT_B_TABLE);
  const size_t count = element_count(call->out), channels = call->out->dims[call->out->rank - 1];
  /* One table for every value, or one per channel (the last dim) one after another. */
  const size_t tables = call->op->blobs[WT_B_TABLE].size / 256u == channels ? channels : 1u;
  if (tables == 1) { /* the clamp applied to the table once, not to every value */
    uint8_t clamped[256];
    for (int v = 0; v < 256; v++) clamped[v] = wt_clamp_u8(table[v], call->op->act_min, call->op->act_max);
    for (size_t i = 0; i < count; i++) call->y[i] = clamped[call->x[0][i]];
    return;
  }
  for (size_t i = 0; i < count; i += tables)
    for (size_t c = 0; c < tables; c++)
      call->y[i + c] = wt_clamp_u8(table[c * 256u + call->x[0][i + c]], call->op->act_min, call->op->act_max);
}

void wt_qu8_maxpool__ref(const wt_op_call *call) {
  const wt_op *op = call->op;
  const int32_t *p = op->params;
  const wt_tensor *in = call->in[0], *out = call->out;
  const size_t height = in->dims[1], width = in->dims[2], channels = in->dims[3];
  for (size_t n = 0; n < out->dims[0]; n++)
    for (size_t oy = 0; oy < out->dims[1]; oy++)
      for (size_t ox = 0; ox < out->dims[2]; ox++)
        for (size_t c = 0; c < channels; c++) {
          int32_t best = 0;
          for (int32_t ky = 0; ky < p[WT_P_KH]; ky++) {
            const ptrdiff_t iy = (ptrdiff_t)(oy * (size_t)p[WT_P_STRIDE_H]) + ky * p[WT_P_DILATION_H] - p[WT_P_PAD_TOP];
            if (iy < 0 || iy >= (ptrdiff_t)height) continue;
            for (int32_t kx = 0; kx < p[WT_P_KW]; kx++) {
              const ptrdiff_t ix = (ptrdiff_t)(ox * (size_t)p[WT_P_STRIDE_W]) + kx * p[WT_P_DILATION_W] - p[WT_P_PAD_LEFT];
              if (ix < 0 || ix >= (ptrdiff_t)width) continue;
              const int32_t v = call->x[0][((n * height + (size_t)iy) * width + (size_t)ix) * channels + c];
              if (v > best) best = v;
            }
          }
          call->y[((n * out->dims[1] + oy) * out->dims[2] + ox) * channels + c] =
              wt_clamp_u8(best, op->act_min, op->act_max);
        }
}

void wt_qu8_mean__ref(const wt_op_call *call) {
  const wt_op *op = call->op;
  const wt_tensor *in = call->in[0];
  const size_t plane = (size_t)in->dims[1] * in->dims[2], channels = in->dims[3];
  const int32_t zx = in->zero_point, zy = call->out->zero_point;
  for (size_t n = 0; n < in->dims[0]; n++)
    for (size_t c = 0; c < channels; c++) {
      int32_t acc = 0;
      for (size_t i = 0; i < plane; i++) acc += (int32_t)call->x[0][(n * plane + i) * channels + c] - zx;
      call->y[n * channels + c] =
          wt_clamp_u8((int64_t)zy + wt_requantize(acc, op->params[WT_P_MULT], op->params[WT_P_SHIFT]), op->act_min, op->act_max);
    }
}

void wt_qu8_concat__ref(const wt_op_call *call) {
  const size_t out_inner = call->out->dims[call->out->rank - 1];
  const size_t outer = element_count(call->out) / out_inner;
  size_t at = 0;
  for (uint32_t k = 0; k < call->op->input_count; k++) {
    const size_t inner = call->in[k]->dims[call->in[k]->rank - 1];
    for (size_t o = 0; o < outer; o++) memcpy(call->y + o * out_inner + at, call->x[k] + o * inner, inner);
    at += inner;
  }
}

void wt_qu8_reshape__ref(const wt_op_call *call) { memmove(call->y, call->x[0], call->out->byte_size); }

void wt_qu8_softmax__ref(const wt_op_call *call) {
  const uint32_t *table = (const uint32_t *)(const void *)wt_op_bytes(call, WT_B_TABLE);
  const size_t inner = call->out->dims[call->out->rank - 1], rows = element_count(call->out) / inner;
  for (size_t r = 0; r < rows; r++) {
    const uint8_t *x = call->x[0] + r * inner;
    uint8_t top = 0;
    for (size_t i = 0; i < inner; i++) top = x[i] > top ? x[i] : top;
    uint64_t sum = 0;
    for (size_t i = 0; i < inner; i++) sum += table[top - x[i]];
    for (size_t i = 0; i < inner; i++) {
      const uint64_t q = ((uint64_t)table[top - x[i]] * 256u + sum / 2u) / sum;
      call->y[r * inner + i] = wt_clamp_u8((int32_t)(q > 255u ? 255u : q), call->op->act_min, call->op->act_max);
    }
  }
}

/* Strides of a tensor's 4 dims (unused dims are 1, so any index there is 0). */
static void strides4(const wt_tensor *t, size_t stride[4]) {
  stride[3] = 1;
  for (int d = 2; d >= 0; d--) stride[d] = stride[d + 1] * t->dims[d + 1];
}

/* y[i] = x[start + i · step] in each of the 4 dims, or `fill` where that falls outside x. */
static void gather4(const wt_op_call *call, const int64_t start[4], const int64_t step[4], uint8_t fill) {
  const uint32_t *dims = call->out->dims, *in = call->in[0]->dims;
  size_t from[4];
  strides4(call->in[0], from);
  uint8_t *y = call->y;
  for (uint32_t a = 0; a < dims[0]; a++)
    for (uint32_t b = 0; b < dims[1]; b++)
      for (uint32_t c = 0; c < dims[2]; c++)
        for (uint32_t d = 0; d < dims[3]; d++) {
          const uint32_t at[4] = {a, b, c, d};
          size_t offset = 0;
          int inside = 1;
          for (int k = 0; k < 4; k++) {
            const int64_t index = start[k] + (int64_t)at[k] * step[k];
            inside &= index >= 0 && index < (int64_t)in[k];
            offset += inside ? (size_t)index * from[k] : 0;
          }
          *y++ = inside ? call->x[0][offset] : fill;
        }
}

void wt_qu8_slice__ref(const wt_op_call *call) {
  const int32_t *p = call->op->params;
  int64_t start[4], step[4];
  for (int k = 0; k < 4; k++) start[k] = p[WT_P_SLICE_START + k], step[k] = p[WT_P_SLICE_STEP + k];
  gather4(call, start, step, 0);
}

void wt_qu8_pad__ref(const wt_op_call *call) {
  const int32_t *p = call->op->params;
  int64_t start[4], step[4];
  for (int k = 0; k < 4; k++) start[k] = -(int64_t)p[WT_P_PAD_BEFORE + k], step[k] = 1;
  gather4(call, start, step, (uint8_t)p[WT_P_PAD_VALUE]);
}

void wt_qu8_resize__ref(const wt_op_call *call) {
  const int32_t *rows = wt_op_int32s(call, WT_B_ROWS), *columns = wt_op_int32s(call, WT_B_COLUMNS);
  const wt_tensor *in = call->in[0], *out = call->out;
  const size_t channels = out->dims[3];
  uint8_t *y = call->y;
  for (size_t n = 0; n < out->dims[0]; n++)
    for (size_t i = 0; i < out->dims[1]; i++)
      for (size_t j = 0; j < out->dims[2]; j++, y += channels)
        memcpy(y, call->x[0] + ((n * in->dims[1] + (size_t)rows[i]) * in->dims[2] + (size_t)columns[j]) * channels, channels);
}

/* Each output sums the taps whose input position (output + pad − tap · dilation) / stride is a
 * whole pixel inside the input: Σ (x − zx) · w, since different outputs see different taps. */
void wt_qu8_conv_transpose__ref(const wt_op_call *call) {
  const wt_op *op = call->op;
  const wt_tensor *in = call->in[0], *out = call->out;
  const int32_t *p = op->params;
  const size_t height = in->dims[1], width = in->dims[2], channels = in->dims[3], out_c = out->dims[3];
  const size_t group = (size_t)p[WT_P_GROUP], in_per_group = channels / group, out_per_group = out_c / group;
  const size_t kh = (size_t)p[WT_P_KH], kw = (size_t)p[WT_P_KW];
  const int8_t *weights = (const int8_t *)call->weights;
  const int32_t *bias = wt_op_int32s(call, WT_B_BIAS), *mult = wt_op_int32s(call, WT_B_MULTIPLIER),
                *shift = wt_op_int32s(call, WT_B_SHIFT);
  const int32_t zx = in->zero_point, zy = out->zero_point;
  uint8_t *y = call->y;
  for (size_t n = 0; n < out->dims[0]; n++)
    for (size_t oy = 0; oy < out->dims[1]; oy++)
      for (size_t ox = 0; ox < out->dims[2]; ox++)
        for (size_t oc = 0; oc < out_c; oc++) {
          const size_t g = oc / out_per_group;
          int32_t acc = bias[oc];
          for (size_t ky = 0; ky < kh; ky++) {
            const ptrdiff_t ty = (ptrdiff_t)oy + p[WT_P_PAD_TOP] - (ptrdiff_t)(ky * (size_t)p[WT_P_DILATION_H]);
            if (ty < 0 || ty % p[WT_P_STRIDE_H] != 0 || ty / p[WT_P_STRIDE_H] >= (ptrdiff_t)height) continue;
            for (size_t kx = 0; kx < kw; kx++) {
              const ptrdiff_t tx = (ptrdiff_t)ox + p[WT_P_PAD_LEFT] - (ptrdiff_t)(kx * (size_t)p[WT_P_DILATION_W]);
              if (tx < 0 || tx % p[WT_P_STRIDE_W] != 0 || tx / p[WT_P_STRIDE_W] >= (ptrdiff_t)width) continue;
              const uint8_t *x = call->x[0] +
                                 ((n * height + (size_t)(ty / p[WT_P_STRIDE_H])) * width + (size_t)(tx / p[WT_P_STRIDE_W])) * channels +
                                 g * in_per_group;
              const int8_t *w = weights + ((oc * kh + ky) * kw + kx) * in_per_group;
              for (size_t ic = 0; ic < in_per_group; ic++) acc += ((int32_t)x[ic] - zx) * w[ic];
            }
          }
          *y++ = wt_clamp_u8((int64_t)zy + wt_requantize(acc, mult[oc], shift[oc]), op->act_min, op->act_max);
        }
}

const wt_kernel_set wt_kernel_set_ref = {
    .name = "ref",
    .by_kind = {[WT_OP_CONV] = wt_qu8_conv__ref,       [WT_OP_FC] = wt_qu8_fc__ref,
                [WT_OP_ADD] = wt_qu8_add__ref,         [WT_OP_MUL] = wt_qu8_mul__ref,
                [WT_OP_LUT] = wt_qu8_lut__ref,         [WT_OP_MAX_POOL] = wt_qu8_maxpool__ref,
                [WT_OP_MEAN] = wt_qu8_mean__ref,       [WT_OP_CONCAT] = wt_qu8_concat__ref,
                [WT_OP_RESHAPE] = wt_qu8_reshape__ref, [WT_OP_SOFTMAX] = wt_qu8_softmax__ref,
                [WT_OP_SLICE] = wt_qu8_slice__ref,     [WT_OP_PAD] = wt_qu8_pad__ref,
                [WT_OP_RESIZE] = wt_qu8_resize__ref,   [WT_OP_CONV_TRANSPOSE] = wt_qu8_conv_transpose__ref},
};
