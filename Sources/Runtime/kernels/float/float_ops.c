/* Float-island kernels and their loader checks (float_ops.h). Shapes are handled as 6 dims
 * aligned right, leading dims 1: a [40, 120] tensor is [1, 1, 1, 1, 40, 120]. */
#include "float_ops.h"

#include <math.h>
#include <string.h>

#define RANK WT_MAX_RANK

static const float *floats_in(const wt_op_call *call, int k) { return (const float *)(const void *)call->x[k]; }
static float *floats_out(const wt_op_call *call) { return (float *)(void *)call->y; }
static const float *blob_floats(const wt_op_call *call, int blob) { return (const float *)(const void *)wt_op_bytes(call, blob); }

static float param_float(const wt_op *op, int index) {
  float f;
  memcpy(&f, &op->params[index], sizeof f);
  return f;
}

static size_t count_of(const uint32_t *dims, uint32_t rank) {
  size_t n = 1;
  for (uint32_t i = 0; i < rank; i++) n *= dims[i];
  return n;
}

/* `dims` of `rank` as RANK dims aligned right. */
static void aligned(const uint32_t *dims, uint32_t rank, size_t out[RANK]) {
  for (uint32_t i = 0; i < RANK; i++) out[i] = i + rank < RANK ? 1 : dims[i + rank - RANK];
}

/* Row-major strides of aligned dims, 0 along a dim of 1 (broadcast there). */
static void broadcast_strides(const size_t dims[RANK], size_t stride[RANK]) {
  size_t s = 1;
  for (int i = RANK - 1; i >= 0; i--) {
    stride[i] = dims[i] == 1 ? 0 : s;
    s *= dims[i];
  }
}

/* Steps `index` (row-major over `dims`) to the next element. */
static void next_index(size_t index[RANK], const size_t dims[RANK]) {
  int d = RANK - 1;
  while (d > 0 && ++index[d] == dims[d]) index[d--] = 0;
  if (d == 0) index[0]++;
}

static size_t offset(const size_t index[RANK], const size_t stride[RANK]) {
  size_t at = 0;
  for (int d = 0; d < (int)RANK; d++) at += index[d] * stride[d];
  return at;
}

/* NHWC position of NCHW element (n, c, h, w). */
static size_t nhwc_at(const uint32_t nchw[4], size_t n, size_t c, size_t h, size_t w) {
  return ((n * nchw[2] + h) * nchw[3] + w) * nchw[1] + c;
}

static void dequantize(const wt_op_call *call) {
  const wt_tensor *in = call->in[0], *out = call->out;
  const float scale = in->scale;
  const int32_t zero = in->zero_point;
  float *y = floats_out(call);
  if (out->rank == 4) {
    const uint32_t *d = out->dims;
    size_t i = 0;
    for (size_t n = 0; n < d[0]; n++)
      for (size_t c = 0; c < d[1]; c++)
        for (size_t h = 0; h < d[2]; h++)
          for (size_t w = 0; w < d[3]; w++) y[i++] = scale * (float)((int32_t)call->x[0][nhwc_at(d, n, c, h, w)] - zero);
  } else {
    const size_t count = count_of(out->dims, out->rank);
    for (size_t i = 0; i < count; i++) y[i] = scale * (float)((int32_t)call->x[0][i] - zero);
  }
}

static uint8_t quantized(float x, float scale, int32_t zero, int32_t low, int32_t high) {
  float q = rintf(x / scale) + (float)zero;
  if (isnan(q)) q = 0;
  return (uint8_t)(q < (float)low ? low : (q > (float)high ? high : (int32_t)q));
}

static void quantize(const wt_op_call *call) {
  const wt_tensor *in = call->in[0], *out = call->out;
  const float *x = floats_in(call, 0);
  const int32_t low = call->op->act_min, high = call->op->act_max;
  if (in->rank == 4) {
    const uint32_t *d = in->dims;
    size_t i = 0;
    for (size_t n = 0; n < d[0]; n++)
      for (size_t c = 0; c < d[1]; c++)
        for (size_t h = 0; h < d[2]; h++)
          for (size_t w = 0; w < d[3]; w++)
            call->y[nhwc_at(d, n, c, h, w)] = quantized(x[i++], out->scale, out->zero_point, low, high);
  } else {
    const size_t count = count_of(in->dims, in->rank);
    for (size_t i = 0; i < count; i++) call->y[i] = quantized(x[i], out->scale, out->zero_point, low, high);
  }
}

static float unary(uint32_t function, float x, float a, float b) {
  switch (function) {
  case WT_F_RELU: return x > 0 ? x : 0;
  case WT_F_SIGMOID: return 1.0f / (1.0f + expf(-x));
  case WT_F_SQRT: return sqrtf(x);
  case WT_F_ERF: return erff(x);
  case WT_F_EXP: return expf(x);
  case WT_F_TANH: return tanhf(x);
  case WT_F_CLIP: return x < a ? a : (x > b ? b : x);
  case WT_F_HARD_SIGMOID: {
    const float v = a * x + b;
    return v < 0 ? 0 : (v > 1 ? 1 : v);
  }
  default: { /* WT_F_HARD_SWISH */
    const float v = x / 6.0f + 0.5f;
    return x * (v < 0 ? 0 : (v > 1 ? 1 : v));
  }
  }
}

static void f_unary(const wt_op_call *call) {
  const wt_op *op = call->op;
  const float a = param_float(op, WT_P_F_A), b = param_float(op, WT_P_F_B);
  const float *x = floats_in(call, 0);
  float *y = floats_out(call);
  const size_t count = count_of(call->out->dims, call->out->rank);
  for (size_t i = 0; i < count; i++) y[i] = unary((uint32_t)op->params[WT_P_F_FUNCTION], x[i], a, b);
}

static float binary(uint32_t function, float a, float b) {
  switch (function) {
  case WT_F_ADD: return a + b;
  case WT_F_SUB: return a - b;
  case WT_F_MUL: return a * b;
  case WT_F_DIV: return a / b;
  default: return powf(a, b); /* WT_F_POW */
  }
}

/* A binary op's operands: pointer and aligned dims of a and b (the constant blob for the missing one). */
static void binary_operands(const wt_op_call *call, const float *operand[2], size_t dims[2][RANK]) {
  const wt_op *op = call->op;
  if (op->input_count == 2) {
    for (int k = 0; k < 2; k++) {
      operand[k] = floats_in(call, k);
      aligned(call->in[k]->dims, call->in[k]->rank, dims[k]);
    }
    return;
  }
  const int constant = op->params[WT_P_F_CONSTANT_FIRST] ? 0 : 1;
  operand[1 - constant] = floats_in(call, 0);
  aligned(call->in[0]->dims, call->in[0]->rank, dims[1 - constant]);
  operand[constant] = blob_floats(call, WT_B_CONSTANT);
  aligned((const uint32_t *)(const void *)&op->params[WT_P_F_DIMS], (uint32_t)op->params[WT_P_F_RANK], dims[constant]);
}

static void f_binary(const wt_op_call *call) {
  const float *operand[2];
  size_t dims[2][RANK], out[RANK], sa[RANK], sb[RANK], index[RANK] = {0};
  binary_operands(call, operand, dims);
  aligned(call->out->dims, call->out->rank, out);
  broadcast_strides(dims[0], sa);
  broadcast_strides(dims[1], sb);
  float *y = floats_out(call);
  const size_t count = count_of(call->out->dims, call->out->rank);
  const uint32_t function = (uint32_t)call->op->params[WT_P_F_FUNCTION];
  for (size_t i = 0; i < count; i++, next_index(index, out))
    y[i] = binary(function, operand[0][offset(index, sa)], operand[1][offset(index, sb)]);
}

static void f_matmul(const wt_op_call *call) {
  const wt_op *op = call->op;
  size_t da[RANK], db[RANK], dy[RANK];
  aligned(call->in[0]->dims, call->in[0]->rank, da);
  const float *a = floats_in(call, 0), *b;
  if (op->input_count == 2) {
    b = floats_in(call, 1);
    aligned(call->in[1]->dims, call->in[1]->rank, db);
  } else {
    b = blob_floats(call, WT_B_CONSTANT);
    aligned((const uint32_t *)(const void *)&op->params[WT_P_F_MATMUL_DIMS], (uint32_t)op->params[WT_P_F_MATMUL_RANK], db);
  }
  aligned(call->out->dims, call->out->rank, dy);
  const float *bias = op->blobs[WT_B_BIAS].size ? blob_floats(call, WT_B_BIAS) : NULL;
  const size_t rows = dy[RANK - 2], columns = dy[RANK - 1], depth = da[RANK - 1];
  /* Batch strides: the leading RANK − 2 dims, each matrix one unit. */
  size_t batch[RANK], sa[RANK], sb[RANK], index[RANK] = {0};
  for (int d = 0; d < (int)RANK; d++) batch[d] = d < (int)RANK - 2 ? dy[d] : 1;
  size_t ma[RANK], mb[RANK];
  for (int d = 0; d < (int)RANK; d++) {
    ma[d] = d < (int)RANK - 2 ? da[d] : 1;
    mb[d] = d < (int)RANK - 2 ? db[d] : 1;
  }
  broadcast_strides(ma, sa);
  broadcast_strides(mb, sb);
  const size_t batches = count_of(call->out->dims, call->out->rank) / (rows * columns);
  float *y = floats_out(call);
  for (size_t t = 0; t < batches; t++, next_index(index, batch)) {
    const float *at = a + offset(index, sa) * rows * depth, *bt = b + offset(index, sb) * depth * columns;
    /* Each output row accumulates in place, k ascending for every element: the sums of the plain
       triple loop, read along b's rows. */
    for (size_t m = 0; m < rows; m++, y += columns) {
      for (size_t n = 0; n < columns; n++) y[n] = 0;
      for (size_t k = 0; k < depth; k++) {
        const float a_mk = at[m * depth + k];
        const float *b_k = bt + k * columns;
        for (size_t n = 0; n < columns; n++) y[n] += a_mk * b_k[n];
      }
      if (bias != NULL)
        for (size_t n = 0; n < columns; n++) y[n] += bias[n];
    }
  }
}

static void f_reduce_mean(const wt_op_call *call) {
  const wt_tensor *in = call->in[0];
  const uint32_t mask = (uint32_t)call->op->params[0];
  size_t dims[RANK], kept[RANK], stride[RANK], index[RANK] = {0};
  aligned(in->dims, in->rank, dims);
  size_t reduced = 1;
  for (int d = 0; d < (int)RANK; d++) {
    const int axis = d - (int)(RANK - in->rank);
    const int gone = axis >= 0 && (mask >> axis) & 1u;
    kept[d] = gone ? 1 : dims[d];
    if (gone) reduced *= dims[d];
  }
  broadcast_strides(kept, stride);
  float *y = floats_out(call);
  const size_t outputs = count_of(call->out->dims, call->out->rank), count = count_of(in->dims, in->rank);
  for (size_t j = 0; j < outputs; j++) y[j] = 0;
  const float *x = floats_in(call, 0);
  for (size_t i = 0; i < count; i++, next_index(index, dims)) y[offset(index, stride)] += x[i];
  for (size_t j = 0; j < outputs; j++) y[j] = y[j] / (float)reduced;
}

/* Outer, axis and inner extents of a tensor split at `axis`. */
static void split_at(const wt_tensor *t, uint32_t axis, size_t *outer, size_t *along, size_t *inner) {
  *outer = count_of(t->dims, axis);
  *along = t->dims[axis];
  *inner = count_of(t->dims + axis + 1, t->rank - axis - 1);
}

static void f_softmax(const wt_op_call *call) {
  size_t outer, along, inner;
  split_at(call->out, (uint32_t)call->op->params[0], &outer, &along, &inner);
  const float *x = floats_in(call, 0);
  float *y = floats_out(call);
  for (size_t o = 0; o < outer; o++)
    for (size_t i = 0; i < inner; i++) {
      const size_t base = o * along * inner + i;
      float top = x[base];
      for (size_t k = 1; k < along; k++) top = x[base + k * inner] > top ? x[base + k * inner] : top;
      float sum = 0;
      for (size_t k = 0; k < along; k++) {
        y[base + k * inner] = expf(x[base + k * inner] - top);
        sum += y[base + k * inner];
      }
      for (size_t k = 0; k < along; k++) y[base + k * inner] = y[base + k * inner] / sum;
    }
}

static void f_transpose(const wt_op_call *call) {
  const wt_tensor *in = call->in[0], *out = call->out;
  const uint32_t rank = in->rank, shift = RANK - rank;
  size_t from[RANK], dims[RANK], stride[RANK] = {0}, index[RANK] = {0};
  aligned(in->dims, rank, dims);
  broadcast_strides(dims, from);
  for (uint32_t i = 0; i < rank; i++) stride[shift + i] = from[shift + (uint32_t)call->op->params[i]];
  aligned(out->dims, rank, dims);
  const float *x = floats_in(call, 0);
  float *y = floats_out(call);
  const size_t count = count_of(out->dims, rank);
  for (size_t i = 0; i < count; i++, next_index(index, dims)) y[i] = x[offset(index, stride)];
}

static void f_slice(const wt_op_call *call) {
  const wt_tensor *in = call->in[0], *out = call->out;
  const uint32_t rank = in->rank, shift = RANK - rank;
  const int32_t *p = call->op->params;
  size_t dims[RANK], from[RANK], index[RANK] = {0};
  ptrdiff_t step[RANK] = {0}, start = 0;
  aligned(in->dims, rank, dims);
  size_t s = 1;
  for (int d = RANK - 1; d >= 0; d--) {
    from[d] = s;
    s *= dims[d];
  }
  for (uint32_t d = 0; d < rank; d++) {
    start += (ptrdiff_t)p[d] * (ptrdiff_t)from[shift + d];
    step[shift + d] = (ptrdiff_t)p[RANK + d] * (ptrdiff_t)from[shift + d];
  }
  aligned(out->dims, rank, dims);
  const float *x = floats_in(call, 0);
  float *y = floats_out(call);
  const size_t count = count_of(out->dims, rank);
  for (size_t i = 0; i < count; i++, next_index(index, dims)) {
    ptrdiff_t at = start;
    for (int d = 0; d < (int)RANK; d++) at += (ptrdiff_t)index[d] * step[d];
    y[i] = x[at];
  }
}

static void f_concat(const wt_op_call *call) {
  size_t outer, along, inner, at = 0;
  const uint32_t axis = (uint32_t)call->op->params[0];
  split_at(call->out, axis, &outer, &along, &inner);
  float *y = floats_out(call);
  for (uint32_t k = 0; k < call->op->input_count; k++) {
    const size_t part = call->in[k]->dims[axis] * inner;
    for (size_t o = 0; o < outer; o++) memcpy(y + o * along * inner + at, floats_in(call, k) + o * part, part * sizeof(float));
    at += part;
  }
}

static void f_pool(const wt_op_call *call) {
  const int32_t *p = call->op->params;
  const uint32_t *in = call->in[0]->dims, *out = call->out->dims;
  const float *x = floats_in(call, 0);
  float *y = floats_out(call);
  const int32_t kind = p[WT_P_POOL_KIND];
  for (size_t plane = 0; plane < (size_t)out[0] * out[1]; plane++)
    for (size_t oy = 0; oy < out[2]; oy++)
      for (size_t ox = 0; ox < out[3]; ox++) {
        float acc = kind == WT_POOL_MAX ? -INFINITY : 0;
        size_t seen = 0, padded = 0;
        for (int32_t ky = 0; ky < p[WT_P_KH]; ky++) {
          const ptrdiff_t iy = (ptrdiff_t)(oy * (size_t)p[WT_P_STRIDE_H]) + ky * p[WT_P_DILATION_H] - p[WT_P_PAD_TOP];
          for (int32_t kx = 0; kx < p[WT_P_KW]; kx++) {
            const ptrdiff_t ix = (ptrdiff_t)(ox * (size_t)p[WT_P_STRIDE_W]) + kx * p[WT_P_DILATION_W] - p[WT_P_PAD_LEFT];
            if (iy < (ptrdiff_t)in[2] + p[WT_P_PAD_BOTTOM] && ix < (ptrdiff_t)in[3] + p[WT_P_PAD_RIGHT]) padded++;
            if (iy < 0 || iy >= (ptrdiff_t)in[2] || ix < 0 || ix >= (ptrdiff_t)in[3]) continue;
            const float v = x[(plane * in[2] + (size_t)iy) * in[3] + (size_t)ix];
            acc = kind == WT_POOL_MAX ? (v > acc ? v : acc) : acc + v;
            seen++;
          }
        }
        *y++ = kind == WT_POOL_MAX ? acc : acc / (float)(kind == WT_POOL_AVERAGE ? seen : padded);
      }
}

const wt_kernel wt_float_kernels[WT_OP_KIND_COUNT - WT_OP_FIRST_FLOAT] = {
    [WT_OP_DEQUANTIZE - WT_OP_FIRST_FLOAT] = dequantize,
    [WT_OP_QUANTIZE - WT_OP_FIRST_FLOAT] = quantize,
    [WT_OP_F_UNARY - WT_OP_FIRST_FLOAT] = f_unary,
    [WT_OP_F_BINARY - WT_OP_FIRST_FLOAT] = f_binary,
    [WT_OP_F_MATMUL - WT_OP_FIRST_FLOAT] = f_matmul,
    [WT_OP_F_REDUCE_MEAN - WT_OP_FIRST_FLOAT] = f_reduce_mean,
    [WT_OP_F_SOFTMAX - WT_OP_FIRST_FLOAT] = f_softmax,
    [WT_OP_F_TRANSPOSE - WT_OP_FIRST_FLOAT] = f_transpose,
    [WT_OP_F_SLICE - WT_OP_FIRST_FLOAT] = f_slice,
    [WT_OP_F_CONCAT - WT_OP_FIRST_FLOAT] = f_concat,
    [WT_OP_F_POOL - WT_OP_FIRST_FLOAT] = f_pool,
};

/* ---- Loader checks ---- */

static int is_type(const wt_tensor *t, uint32_t type) { return t->type == type; }

/* Dims stored in params (rank, then RANK dims with the unused ones 1), as a constant operand. */
static int param_dims(const int32_t *p, int rank_at, int dims_at, uint32_t dims[RANK], uint32_t *rank) {
  if (p[rank_at] < 1 || p[rank_at] > (int32_t)RANK) return 0;
  *rank = (uint32_t)p[rank_at];
  uint64_t count = 1;
  for (uint32_t i = 0; i < RANK; i++) {
    if (p[dims_at + (int)i] < 1 || (i >= *rank && p[dims_at + (int)i] != 1) || p[dims_at + (int)i] > (1 << 24)) return 0;
    dims[i] = (uint32_t)p[dims_at + (int)i];
    count *= dims[i];
    if (count > UINT32_MAX) return 0;
  }
  return 1;
}

/* Whether `a` and `b` broadcast to exactly `out` over the dims [0, upto) of the aligned shapes. */
static int broadcasts(const size_t a[RANK], const size_t b[RANK], const size_t out[RANK], int upto) {
  for (int d = 0; d < upto; d++) {
    const size_t big = a[d] > b[d] ? a[d] : b[d];
    if ((a[d] != out[d] && a[d] != 1) || (b[d] != out[d] && b[d] != 1) || out[d] != big) return 0;
  }
  return 1;
}

/* The second operand of a binary or matmul op: the input tensor, or the constant blob its params describe. */
static wt_status second_operand(const wt_model *m, const wt_op *op, const wt_tensor *const in[], int rank_at, int dims_at,
                                size_t dims[RANK]) {
  if (op->input_count == 2) {
    aligned(in[1]->dims, in[1]->rank, dims);
    return WT_OK;
  }
  uint32_t d[RANK], rank;
  if (!param_dims(op->params, rank_at, dims_at, d, &rank)) return WT_ERROR_OP;
  aligned(d, rank, dims);
  return wt_check_blob(m, &op->blobs[WT_B_CONSTANT], 4u * count_of(d, rank), 4);
}

wt_status wt_check_float_op(const wt_model *m, const wt_op *op, const wt_tensor *const in[WT_MAX_INPUTS], const wt_tensor *out) {
  const int32_t *p = op->params;
  const uint32_t n = op->input_count;
  for (uint32_t k = 0; k < n; k++)
    if (!is_type(in[k], op->kind == WT_OP_DEQUANTIZE ? WT_TYPE_U8 : WT_TYPE_F32)) return WT_ERROR_OP;
  if (!is_type(out, op->kind == WT_OP_QUANTIZE ? WT_TYPE_U8 : WT_TYPE_F32)) return WT_ERROR_OP;
  if (op->kind != WT_OP_QUANTIZE && (op->act_min != 0 || op->act_max != 255)) return WT_ERROR_OP;
  size_t a[RANK], b[RANK], y[RANK];
  aligned(in[0]->dims, in[0]->rank, a);
  aligned(out->dims, out->rank, y);
  wt_status s;
  switch (op->kind) {
  case WT_OP_DEQUANTIZE:
  case WT_OP_QUANTIZE: {
    /* The uint8 side is NHWC when 4-D, the float side NCHW. */
    const wt_tensor *q = op->kind == WT_OP_DEQUANTIZE ? in[0] : out, *f = op->kind == WT_OP_DEQUANTIZE ? out : in[0];
    if (n != 1 || q->rank != f->rank) return WT_ERROR_OP;
    if (q->rank != 4) return wt_same_dims(q, f) ? WT_OK : WT_ERROR_OP;
    return q->dims[0] == f->dims[0] && q->dims[3] == f->dims[1] && q->dims[1] == f->dims[2] && q->dims[2] == f->dims[3]
               ? WT_OK
               : WT_ERROR_OP;
  }
  case WT_OP_F_UNARY:
    return n == 1 && wt_same_dims(in[0], out) && p[WT_P_F_FUNCTION] >= 0 && p[WT_P_F_FUNCTION] < WT_F_UNARY_COUNT ? WT_OK
                                                                                                               : WT_ERROR_OP;
  case WT_OP_F_BINARY:
    if (n < 1 || n > 2 || p[WT_P_F_FUNCTION] < 0 || p[WT_P_F_FUNCTION] >= WT_F_BINARY_COUNT) return WT_ERROR_OP;
    if (n == 1 && p[WT_P_F_CONSTANT_FIRST] != 0 && p[WT_P_F_CONSTANT_FIRST] != 1) return WT_ERROR_OP;
    if ((s = second_operand(m, op, in, WT_P_F_RANK, WT_P_F_DIMS, b)) != WT_OK) return s;
    return broadcasts(a, b, y, RANK) ? WT_OK : WT_ERROR_OP;
  case WT_OP_F_MATMUL:
    if (n < 1 || n > 2 || in[0]->rank < 2 || out->rank < 2) return WT_ERROR_OP;
    if ((s = second_operand(m, op, in, WT_P_F_MATMUL_RANK, WT_P_F_MATMUL_DIMS, b)) != WT_OK) return s;
    if ((n == 2 ? in[1]->rank : (uint32_t)p[WT_P_F_MATMUL_RANK]) < 2) return WT_ERROR_OP;
    if (a[RANK - 1] != b[RANK - 2] || y[RANK - 2] != a[RANK - 2] || y[RANK - 1] != b[RANK - 1] || !broadcasts(a, b, y, RANK - 2))
      return WT_ERROR_OP;
    return op->blobs[WT_B_BIAS].size == 0 ? WT_OK : wt_check_blob(m, &op->blobs[WT_B_BIAS], 4u * y[RANK - 1], 4);
  case WT_OP_F_REDUCE_MEAN: {
    const uint32_t mask = (uint32_t)p[0];
    if (n != 1 || mask == 0 || mask >> in[0]->rank != 0) return WT_ERROR_OP;
    uint64_t kept = 1;
    for (uint32_t d = 0; d < in[0]->rank; d++)
      if (!((mask >> d) & 1u)) kept *= in[0]->dims[d];
    return kept == count_of(out->dims, out->rank) ? WT_OK : WT_ERROR_OP;
  }
  case WT_OP_F_SOFTMAX:
    return n == 1 && wt_same_dims(in[0], out) && p[0] >= 0 && (uint32_t)p[0] < out->rank ? WT_OK : WT_ERROR_OP;
  case WT_OP_F_TRANSPOSE: {
    if (n != 1 || in[0]->rank != out->rank) return WT_ERROR_OP;
    uint32_t seen = 0;
    for (uint32_t i = 0; i < out->rank; i++) {
      if (p[i] < 0 || (uint32_t)p[i] >= out->rank || (seen >> p[i]) & 1u || out->dims[i] != in[0]->dims[p[i]]) return WT_ERROR_OP;
      seen |= 1u << p[i];
    }
    return WT_OK;
  }
  case WT_OP_F_SLICE:
    if (n != 1 || in[0]->rank != out->rank) return WT_ERROR_OP;
    for (uint32_t d = 0; d < out->rank; d++) {
      const int64_t start = p[d], step = p[RANK + d], last = start + ((int64_t)out->dims[d] - 1) * step;
      if (step == 0 || start < 0 || start >= in[0]->dims[d] || last < 0 || last >= in[0]->dims[d]) return WT_ERROR_OP;
    }
    return WT_OK;
  case WT_OP_F_CONCAT: {
    if (p[0] < 0 || (uint32_t)p[0] >= out->rank) return WT_ERROR_OP;
    const uint32_t axis = (uint32_t)p[0];
    uint64_t along = 0;
    for (uint32_t k = 0; k < n; k++) {
      if (in[k]->rank != out->rank) return WT_ERROR_OP;
      for (uint32_t d = 0; d < out->rank; d++)
        if (d != axis && in[k]->dims[d] != out->dims[d]) return WT_ERROR_OP;
      along += in[k]->dims[axis];
    }
    return along == out->dims[axis] ? WT_OK : WT_ERROR_OP;
  }
  case WT_OP_F_POOL:
    if (n != 1 || in[0]->rank != 4 || out->rank != 4 || in[0]->dims[0] != out->dims[0] || in[0]->dims[1] != out->dims[1])
      return WT_ERROR_OP;
    if (p[WT_P_POOL_KIND] < WT_POOL_MAX || p[WT_P_POOL_KIND] > WT_POOL_AVERAGE_WITH_PADS) return WT_ERROR_OP;
    return wt_window_extent(in[0]->dims[2], p[WT_P_KH], p[WT_P_STRIDE_H], p[WT_P_PAD_TOP], p[WT_P_PAD_BOTTOM], p[WT_P_DILATION_H]) ==
                       out->dims[2] &&
                   wt_window_extent(in[0]->dims[3], p[WT_P_KW], p[WT_P_STRIDE_W], p[WT_P_PAD_LEFT], p[WT_P_PAD_RIGHT],
                                    p[WT_P_DILATION_W]) == out->dims[3]
               ? WT_OK
               : WT_ERROR_OP;
  default:
    return WT_ERROR_OP;
  }
}
