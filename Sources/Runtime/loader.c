/* The .wtm loader: every offset, size, index and count is checked before anything reads it, so
 * the interpreter and kernels can trust the records (docs/wtm-format.md). */
#include <math.h>
#include <string.h>

#include "whittle_runtime.h"
#include "kernels/float/float_ops.h"
#include "kernels/packing.h"

#define WT_MAX_SECTIONS 16u
/* Bounds that keep every int32 accumulation of the reference kernels inside int32. */
#define WT_MAX_DOT 16384u           /* kh·kw·C/g or K: 16384·255·128 < 2^29 */
#define WT_MAX_BIAS (1 << 30)        /* the bias has zx·Σw folded in (packing.h): 2^30 + 2^29 < 2^31 */
#define WT_MAX_PLANE (1u << 23)      /* H·W summed by Mean: 2^23·255 < 2^31 */
#define WT_MAX_ADD_SHIFT 22          /* 255·2^22 < 2^31 */

const char *wt_runtime_version(void) { return "whittle-runtime 0.7 (wtm format 7)"; }

const char *wt_status_string(wt_status status) {
  switch (status) {
  case WT_OK: return "ok";
  case WT_ERROR_TRUNCATED: return "the file ends before a header, section or record it declares";
  case WT_ERROR_MAGIC: return "not a .wtm file (bad magic)";
  case WT_ERROR_VERSION: return "a .wtm format version this runtime does not read";
  case WT_ERROR_CHECKSUM: return "the payload's CRC-32 does not match the header: the file is corrupted";
  case WT_ERROR_SECTION: return "a section is missing, repeated, misaligned or outside the file";
  case WT_ERROR_TENSOR: return "a tensor record is invalid (type, rank, dimensions or arena range)";
  case WT_ERROR_OP: return "an op record is invalid (kind, tensor index, shapes or parameters)";
  case WT_ERROR_BLOB: return "an op's constant data lies outside the data section or has the wrong size";
  case WT_ERROR_ARENA: return "the arena is smaller than the model needs";
  case WT_ERROR_ARGUMENT: return "a null or misaligned pointer, or an index out of range";
  case WT_ERROR_UNSUPPORTED: return "this CPU cannot run the kernel set asked for";
  case WT_ERROR_LIFETIME:
    return "two tensors live at the same time share arena bytes, or an op uses a tensor outside the steps its record declares";
  }
  return "unknown status";
}

uint32_t wt_crc32(const void *bytes, size_t size) {
  const uint8_t *p = (const uint8_t *)bytes;
  uint32_t crc = 0xffffffffu;
  for (size_t i = 0; i < size; i++) {
    crc ^= p[i];
    for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

static uint64_t element_count(const wt_tensor *t) {
  uint64_t n = 1;
  for (uint32_t i = 0; i < t->rank; i++) n *= t->dims[i];
  return n;
}

int wt_same_dims(const wt_tensor *a, const wt_tensor *b) {
  if (a->rank != b->rank) return 0;
  for (uint32_t i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

/* uint8: rank 1 … 4, a zero point and a positive scale; float32: rank 1 … WT_MAX_RANK, 4-byte aligned, scale 1, zero point 0. */
static wt_status check_tensor(const wt_tensor *t, uint32_t arena_size) {
  const int is_float = t->type == WT_TYPE_F32;
  if ((t->type != WT_TYPE_U8 && !is_float) || t->rank < 1 || t->rank > (is_float ? WT_MAX_RANK : 4u)) return WT_ERROR_TENSOR;
  uint64_t count = 1;
  for (uint32_t i = 0; i < WT_MAX_RANK; i++) {
    if (t->dims[i] == 0 || (i >= t->rank && t->dims[i] != 1) || t->dims[i] > (1u << 24)) return WT_ERROR_TENSOR;
    count *= t->dims[i];
    if (count > UINT32_MAX) return WT_ERROR_TENSOR;
  }
  if ((uint64_t)t->byte_size != count * (is_float ? 4u : 1u)) return WT_ERROR_TENSOR;
  if ((uint64_t)t->arena_offset + t->byte_size > arena_size) return WT_ERROR_TENSOR;
  if (is_float) return t->arena_offset % 4 == 0 && t->scale == 1.0f && t->zero_point == 0 ? WT_OK : WT_ERROR_TENSOR;
  if (t->zero_point < 0 || t->zero_point > 255 || !(t->scale > 0.0f) || !isfinite(t->scale)) return WT_ERROR_TENSOR;
  return WT_OK;
}

/* A blob that must hold exactly `size` bytes, aligned to `align`, inside the data section. */
wt_status wt_check_blob(const wt_model *m, const wt_blob *b, uint64_t size, uint32_t align) {
  if (b->size != size || b->offset % align != 0) return WT_ERROR_BLOB;
  if ((uint64_t)b->offset + b->size > m->data_size) return WT_ERROR_BLOB;
  return WT_OK;
}

static const int32_t *blob_i32(const wt_model *m, const wt_blob *b) {
  return (const int32_t *)(const void *)(m->data + b->offset);
}

static int valid_shift(int32_t shift, int32_t low, int32_t high) { return shift >= low && shift <= high; }

/* Bias, multiplier and shift blobs of `channels` entries, with their values in range. */
static wt_status check_requant_blobs(const wt_model *m, const wt_op *op, uint64_t channels) {
  for (int slot = WT_B_BIAS; slot <= WT_B_SHIFT; slot++) {
    wt_status s = wt_check_blob(m, &op->blobs[slot], channels * 4u, 4);
    if (s != WT_OK) return s;
  }
  const int32_t *bias = blob_i32(m, &op->blobs[WT_B_BIAS]), *mult = blob_i32(m, &op->blobs[WT_B_MULTIPLIER]),
                *shift = blob_i32(m, &op->blobs[WT_B_SHIFT]);
  for (uint64_t c = 0; c < channels; c++) {
    if (bias[c] > WT_MAX_BIAS || bias[c] < -WT_MAX_BIAS || mult[c] < 0 || !valid_shift(shift[c], -31, 30))
      return WT_ERROR_BLOB;
  }
  return WT_OK;
}

/* Output extent of a window op along one axis, or 0 when the geometry is impossible. Padding
 * must be smaller than the window so every output sees at least one input. */
uint64_t wt_window_extent(uint32_t in, int32_t kernel, int32_t stride, int32_t pad0, int32_t pad1, int32_t dilation) {
  if (kernel < 1 || stride < 1 || dilation < 1 || pad0 < 0 || pad1 < 0 || kernel > 4096 || stride > 4096 ||
      dilation > 4096)
    return 0;
  const int64_t span = (int64_t)dilation * (kernel - 1) + 1;
  if (pad0 >= span || pad1 >= span) return 0;
  const int64_t padded = (int64_t)in + pad0 + pad1;
  if (padded < span) return 0;
  return (uint64_t)((padded - span) / stride + 1);
}

static wt_status check_window(const wt_op *op, const wt_tensor *in, const wt_tensor *out) {
  const int32_t *p = op->params;
  if (in->rank != 4 || out->rank != 4 || in->dims[0] != out->dims[0]) return WT_ERROR_OP;
  if (wt_window_extent(in->dims[1], p[WT_P_KH], p[WT_P_STRIDE_H], p[WT_P_PAD_TOP], p[WT_P_PAD_BOTTOM],
                    p[WT_P_DILATION_H]) != out->dims[1] ||
      wt_window_extent(in->dims[2], p[WT_P_KW], p[WT_P_STRIDE_W], p[WT_P_PAD_LEFT], p[WT_P_PAD_RIGHT],
                    p[WT_P_DILATION_W]) != out->dims[2])
    return WT_ERROR_OP;
  return WT_OK;
}

/* A conv's or FC's weights blob: `slots` levels in the int8 layout packed at the op's scheme; a
 * ternary code must not be 0b10 (−2). */
static wt_status check_weights(const wt_model *m, const wt_op *op, uint64_t slots) {
  if (op->scheme >= WT_SCHEME_COUNT) return WT_ERROR_OP;
  const wt_status s = wt_check_blob(m, &op->blobs[WT_B_WEIGHTS], wt_scheme_bytes(op->scheme, (size_t)slots), 1);
  if (s != WT_OK || op->scheme != WT_SCHEME_TERNARY) return s;
  const uint8_t *codes = m->data + op->blobs[WT_B_WEIGHTS].offset;
  for (uint32_t i = 0; i < op->blobs[WT_B_WEIGHTS].size; i++)
    for (unsigned shift = 0; shift < 8; shift += 2)
      if (((codes[i] >> shift) & 3u) == 2u) return WT_ERROR_BLOB;
  return WT_OK;
}

static wt_status check_op(const wt_model *m, const wt_op *op) {
  if (op->input_count < 1 || op->input_count > WT_MAX_INPUTS || op->output >= m->tensor_count) return WT_ERROR_OP;
  if (!wt_kind_has_weights(op->kind) && op->scheme != WT_SCHEME_INT8) return WT_ERROR_OP;
  if (op->act_min < 0 || op->act_max > 255 || op->act_min > op->act_max) return WT_ERROR_OP;
  if (op->reserved[0] != 0 || op->reserved[1] != 0) return WT_ERROR_OP;
  const wt_tensor *in[WT_MAX_INPUTS] = {0};
  for (uint32_t i = 0; i < WT_MAX_INPUTS; i++) {
    if (i >= op->input_count) {
      if (op->inputs[i] != WT_NO_TENSOR) return WT_ERROR_OP;
      continue;
    }
    if (op->inputs[i] >= m->tensor_count || op->inputs[i] == op->output) return WT_ERROR_OP;
    in[i] = &m->tensors[op->inputs[i]];
  }
  const wt_tensor *out = &m->tensors[op->output];
  if (op->kind >= WT_OP_FIRST_FLOAT && op->kind < WT_OP_KIND_COUNT) return wt_check_float_op(m, op, in, out);
  /* Reshape moves the bytes of either type; every other integer op reads and writes uint8. */
  const uint32_t type = op->kind == WT_OP_RESHAPE ? out->type : WT_TYPE_U8;
  for (uint32_t i = 0; i < op->input_count; i++)
    if (in[i]->type != type) return WT_ERROR_OP;
  if (out->type != type) return WT_ERROR_OP;
  const int32_t *p = op->params;
  wt_status s;
  switch (op->kind) {
  case WT_OP_CONV: {
    if (op->input_count != 1 || (s = check_window(op, in[0], out)) != WT_OK) return WT_ERROR_OP;
    const int32_t group = p[WT_P_GROUP];
    if (group < 1 || in[0]->dims[3] % (uint32_t)group != 0 || out->dims[3] % (uint32_t)group != 0) return WT_ERROR_OP;
    const uint64_t dot = (uint64_t)p[WT_P_KH] * (uint64_t)p[WT_P_KW] * (in[0]->dims[3] / (uint32_t)group);
    if (dot > WT_MAX_DOT) return WT_ERROR_OP;
    const uint64_t weights = wt_conv_is_depthwise(op, in[0], out)
                                 ? dot * out->dims[3]
                                 : (uint64_t)group * wt_packed_group_size(out->dims[3] / (uint32_t)group, dot);
    if ((s = check_weights(m, op, weights)) != WT_OK) return s;
    return check_requant_blobs(m, op, out->dims[3]);
  }
  case WT_OP_FC: {
    /* Out [N, M] or [B, T, M]: rows of M outputs, each reading an equal share of the input. */
    if (op->input_count != 1 || out->rank < 2 || out->rank > 3 || element_count(in[0]) % wt_fc_rows(out) != 0) return WT_ERROR_OP;
    const uint64_t depth = element_count(in[0]) / wt_fc_rows(out), outputs = out->dims[out->rank - 1];
    if (depth > WT_MAX_DOT) return WT_ERROR_OP;
    if ((s = check_weights(m, op, wt_packed_group_size(outputs, depth))) != WT_OK) return s;
    return check_requant_blobs(m, op, outputs);
  }
  case WT_OP_ADD:
    if (op->input_count != 2 || !wt_same_dims(in[0], out) || !wt_same_dims(in[1], out)) return WT_ERROR_OP;
    if (p[WT_P_ADD_LEFT_SHIFT] < 0 || p[WT_P_ADD_LEFT_SHIFT] > WT_MAX_ADD_SHIFT) return WT_ERROR_OP;
    if (p[WT_P_ADD_MULT_A] < 0 || p[WT_P_ADD_MULT_B] < 0 || p[WT_P_ADD_MULT] < 0) return WT_ERROR_OP;
    if (!valid_shift(p[WT_P_ADD_SHIFT_A], -31, 0) || !valid_shift(p[WT_P_ADD_SHIFT_B], -31, 0) ||
        !valid_shift(p[WT_P_ADD_SHIFT], -31, 30))
      return WT_ERROR_OP;
    return WT_OK;
  case WT_OP_MUL: {
    if (op->input_count != 2 || !wt_same_dims(in[0], out)) return WT_ERROR_OP;
    const int broadcast = out->rank == 4 && in[1]->rank == 4 && in[1]->dims[0] == out->dims[0] &&
                          in[1]->dims[1] == 1 && in[1]->dims[2] == 1 && in[1]->dims[3] == out->dims[3];
    if (!wt_same_dims(in[1], out) && !broadcast) return WT_ERROR_OP;
    if (p[WT_P_MULT] < 0 || !valid_shift(p[WT_P_SHIFT], -31, 30)) return WT_ERROR_OP;
    return WT_OK;
  }
  case WT_OP_LUT: {
    if (op->input_count != 1 || !wt_same_dims(in[0], out)) return WT_ERROR_OP;
    const uint64_t per_channel = 256u * (uint64_t)out->dims[out->rank - 1];
    return wt_check_blob(m, &op->blobs[WT_B_TABLE], op->blobs[WT_B_TABLE].size == per_channel ? per_channel : 256, 1);
  }
  case WT_OP_MAX_POOL:
    if (op->input_count != 1 || (s = check_window(op, in[0], out)) != WT_OK) return WT_ERROR_OP;
    return in[0]->dims[3] == out->dims[3] ? WT_OK : WT_ERROR_OP;
  case WT_OP_MEAN:
    /* [N,H,W,C] → [N,1,1,C] or [N,C]. */
    if (op->input_count != 1 || in[0]->rank != 4 || in[0]->dims[0] != out->dims[0] ||
        element_count(out) != (uint64_t)out->dims[0] * in[0]->dims[3] || out->dims[out->rank - 1] != in[0]->dims[3])
      return WT_ERROR_OP;
    if ((uint64_t)in[0]->dims[1] * in[0]->dims[2] > WT_MAX_PLANE) return WT_ERROR_OP;
    if (p[WT_P_MULT] < 0 || !valid_shift(p[WT_P_SHIFT], -31, 30)) return WT_ERROR_OP;
    return WT_OK;
  case WT_OP_CONCAT: {
    uint64_t channels = 0;
    for (uint32_t i = 0; i < op->input_count; i++) {
      if (in[i]->rank != out->rank) return WT_ERROR_OP;
      for (uint32_t d = 0; d + 1 < out->rank; d++)
        if (in[i]->dims[d] != out->dims[d]) return WT_ERROR_OP;
      channels += in[i]->dims[out->rank - 1];
    }
    return channels == out->dims[out->rank - 1] ? WT_OK : WT_ERROR_OP;
  }
  case WT_OP_RESHAPE:
    return op->input_count == 1 && in[0]->byte_size == out->byte_size ? WT_OK : WT_ERROR_OP;
  case WT_OP_RESIZE: {
    if (op->input_count != 1 || in[0]->rank != 4 || out->rank != 4 || in[0]->dims[0] != out->dims[0] ||
        in[0]->dims[3] != out->dims[3])
      return WT_ERROR_OP;
    for (int axis = 0; axis < 2; axis++) {
      const wt_blob *b = &op->blobs[axis == 0 ? WT_B_ROWS : WT_B_COLUMNS];
      if ((s = wt_check_blob(m, b, 4u * (uint64_t)out->dims[1 + axis], 4)) != WT_OK) return s;
      const int32_t *index = blob_i32(m, b);
      for (uint32_t i = 0; i < out->dims[1 + axis]; i++)
        if (index[i] < 0 || (uint32_t)index[i] >= in[0]->dims[1 + axis]) return WT_ERROR_BLOB;
    }
    return WT_OK;
  }
  case WT_OP_CONV_TRANSPOSE: {
    if (op->input_count != 1 || in[0]->rank != 4 || out->rank != 4 || in[0]->dims[0] != out->dims[0]) return WT_ERROR_OP;
    const int32_t group = p[WT_P_GROUP];
    if (group < 1 || in[0]->dims[3] % (uint32_t)group != 0 || out->dims[3] % (uint32_t)group != 0) return WT_ERROR_OP;
    for (int axis = 0; axis < 2; axis++) {
      const int64_t k = p[axis ? WT_P_KW : WT_P_KH], stride = p[axis ? WT_P_STRIDE_W : WT_P_STRIDE_H];
      const int64_t dilation = p[axis ? WT_P_DILATION_W : WT_P_DILATION_H];
      const int64_t pads = (int64_t)p[axis ? WT_P_PAD_LEFT : WT_P_PAD_TOP] + p[axis ? WT_P_PAD_RIGHT : WT_P_PAD_BOTTOM];
      if (k < 1 || stride < 1 || dilation < 1 || k > 64 || stride > 64 || dilation > 64 || p[axis ? WT_P_PAD_LEFT : WT_P_PAD_TOP] < 0 ||
          p[axis ? WT_P_PAD_RIGHT : WT_P_PAD_BOTTOM] < 0)
        return WT_ERROR_OP;
      const int64_t extent = ((int64_t)in[0]->dims[1 + axis] - 1) * stride - pads + dilation * (k - 1) + 1;
      const int64_t extra = (int64_t)out->dims[1 + axis] - extent;
      if (extra < 0 || extra >= stride) return WT_ERROR_OP;
    }
    const uint64_t dot = (uint64_t)p[WT_P_KH] * (uint64_t)p[WT_P_KW] * (in[0]->dims[3] / (uint32_t)group);
    if (dot > WT_MAX_DOT) return WT_ERROR_OP;
    if ((s = check_weights(m, op, dot * out->dims[3])) != WT_OK) return s;
    return check_requant_blobs(m, op, out->dims[3]);
  }
  case WT_OP_SLICE:
    if (op->input_count != 1 || in[0]->rank != out->rank) return WT_ERROR_OP;
    for (int d = 0; d < 4; d++) {
      const int64_t start = p[WT_P_SLICE_START + d], step = p[WT_P_SLICE_STEP + d];
      const int64_t last = start + ((int64_t)out->dims[d] - 1) * step;
      if (step == 0 || start < 0 || start >= in[0]->dims[d] || last < 0 || last >= in[0]->dims[d]) return WT_ERROR_OP;
    }
    return WT_OK;
  case WT_OP_PAD:
    if (op->input_count != 1 || in[0]->rank != out->rank || p[WT_P_PAD_VALUE] < 0 || p[WT_P_PAD_VALUE] > 255) return WT_ERROR_OP;
    for (int d = 0; d < 4; d++)
      if (p[WT_P_PAD_BEFORE + d] < 0 || (uint64_t)p[WT_P_PAD_BEFORE + d] + in[0]->dims[d] > out->dims[d]) return WT_ERROR_OP;
    return WT_OK;
  case WT_OP_SOFTMAX:
    if (op->input_count != 1 || !wt_same_dims(in[0], out)) return WT_ERROR_OP;
    if ((s = wt_check_blob(m, &op->blobs[WT_B_TABLE], 256 * 4, 4)) != WT_OK) return s;
    return blob_i32(m, &op->blobs[WT_B_TABLE])[0] != 0 ? WT_OK : WT_ERROR_BLOB;
  default:
    return WT_ERROR_OP;
  }
}

/* Scratch an op's kernels may use (packing.h): an activation panel of GEMM depth in int16. */
static size_t scratch_size(const wt_model *m, const wt_op *op) {
  const wt_tensor *in = &m->tensors[op->inputs[0]], *out = &m->tensors[op->output];
  size_t depth;
  if (op->kind == WT_OP_FC) {
    depth = (size_t)element_count(in) / wt_fc_rows(out);
  } else if (op->kind == WT_OP_CONV && !wt_conv_is_depthwise(op, in, out)) {
    depth = (size_t)op->params[WT_P_KH] * (size_t)op->params[WT_P_KW] * (in->dims[3] / (uint32_t)op->params[WT_P_GROUP]);
  } else {
    return 0;
  }
  return wt_gemm_scratch_size(depth);
}

static int is_model_input(const wt_model *m, uint32_t tensor) {
  for (uint32_t i = 0; i < m->input_count; i++)
    if (m->inputs[i] == tensor) return 1;
  return 0;
}

/* The lifetimes the tensor records declare hold: each tensor is written at its live_from step (by
 * the op of that step, or as a model input at step 0), every op reads its inputs after they are
 * written and within their lifetime, model outputs live to the end; and no two tensors live at
 * one step share arena bytes, so no op overwrites a value still to be read (its own inputs
 * included). The pair check is quadratic in the tensors, whose count the file size bounds. */
static wt_status check_lifetimes(const wt_model *m) {
  const uint32_t end = m->op_count + 1;
  for (uint32_t t = 0; t < m->tensor_count; t++) {
    const wt_tensor *r = &m->tensors[t];
    if (r->live_from > r->live_to) continue; /* never used: the op and IO checks below find any use */
    if (r->live_to > end || r->live_from > m->op_count) return WT_ERROR_LIFETIME;
    if (r->live_from == 0 ? !is_model_input(m, t) : m->ops[r->live_from - 1].output != t) return WT_ERROR_LIFETIME;
  }
  for (uint32_t i = 0; i < m->op_count; i++) {
    const wt_op *op = &m->ops[i];
    const wt_tensor *out = &m->tensors[op->output];
    if (out->live_from != i + 1 || out->live_to < i + 1) return WT_ERROR_LIFETIME;
    for (uint32_t k = 0; k < op->input_count; k++) {
      const wt_tensor *in = &m->tensors[op->inputs[k]];
      if (in->live_from > i || in->live_to < i + 1) return WT_ERROR_LIFETIME;
    }
  }
  for (uint32_t i = 0; i < m->input_count; i++)
    if (m->tensors[m->inputs[i]].live_from != 0) return WT_ERROR_LIFETIME;
  for (uint32_t i = 0; i < m->output_count; i++)
    if (m->tensors[m->outputs[i]].live_to != end) return WT_ERROR_LIFETIME;
  for (uint32_t t = 0; t < m->tensor_count; t++) {
    const wt_tensor *a = &m->tensors[t];
    if (a->live_from > a->live_to) continue;
    for (uint32_t u = t + 1; u < m->tensor_count; u++) {
      const wt_tensor *b = &m->tensors[u];
      if (b->live_from > b->live_to || a->live_from > b->live_to || b->live_from > a->live_to) continue;
      if ((uint64_t)a->arena_offset < (uint64_t)b->arena_offset + b->byte_size &&
          (uint64_t)b->arena_offset < (uint64_t)a->arena_offset + a->byte_size)
        return WT_ERROR_LIFETIME;
    }
  }
  return WT_OK;
}

static wt_status load_io(wt_model *m, const uint8_t *bytes, uint64_t size) {
  if (size < 8) return WT_ERROR_SECTION;
  const uint32_t *words = (const uint32_t *)(const void *)bytes;
  const uint64_t inputs = words[0];
  if (inputs < 1 || inputs > 64 || 4 * (inputs + 2) > size) return WT_ERROR_SECTION;
  const uint64_t outputs = words[1 + inputs];
  if (outputs < 1 || outputs > 64 || 4 * (inputs + outputs + 2) != size) return WT_ERROR_SECTION;
  m->inputs = words + 1;
  m->input_count = (uint32_t)inputs;
  m->outputs = words + 2 + inputs;
  m->output_count = (uint32_t)outputs;
  for (uint32_t i = 0; i < m->input_count; i++)
    if (m->inputs[i] >= m->tensor_count || m->tensors[m->inputs[i]].type != WT_TYPE_U8) return WT_ERROR_SECTION;
  for (uint32_t i = 0; i < m->output_count; i++)
    if (m->outputs[i] >= m->tensor_count || m->tensors[m->outputs[i]].type != WT_TYPE_U8) return WT_ERROR_SECTION;
  return WT_OK;
}

wt_status wt_model_load(wt_model *model, const void *bytes, size_t size) {
  if (model == NULL || bytes == NULL || (uintptr_t)bytes % 8 != 0) return WT_ERROR_ARGUMENT;
  memset(model, 0, sizeof *model);
  const uint8_t *b = (const uint8_t *)bytes;
  if (size < sizeof(wt_header)) return WT_ERROR_TRUNCATED;
  const wt_header *h = (const wt_header *)bytes;
  if (memcmp(h->magic, WT_MAGIC, 4) != 0) return WT_ERROR_MAGIC;
  if (h->version != WT_FORMAT_VERSION || h->header_size != sizeof(wt_header)) return WT_ERROR_VERSION;
  if (h->file_size != size) return WT_ERROR_TRUNCATED;
  if (h->section_count < 1 || h->section_count > WT_MAX_SECTIONS) return WT_ERROR_SECTION;
  const uint64_t table_end = sizeof(wt_header) + (uint64_t)h->section_count * sizeof(wt_section);
  if (table_end > size) return WT_ERROR_TRUNCATED;
  if (wt_crc32(b + sizeof(wt_header), size - sizeof(wt_header)) != h->payload_crc32) return WT_ERROR_CHECKSUM;

  const wt_section *sections = (const wt_section *)(const void *)(b + sizeof(wt_header));
  const wt_section *found[WT_SECTION_METADATA + 1] = {0};
  for (uint32_t i = 0; i < h->section_count; i++) {
    const wt_section *s = &sections[i];
    if (s->kind < WT_SECTION_TENSORS || s->kind > WT_SECTION_METADATA || found[s->kind] != NULL) return WT_ERROR_SECTION;
    if (s->offset % WT_ALIGNMENT != 0 || s->offset < table_end || s->offset > size || s->size > size - s->offset)
      return WT_ERROR_SECTION;
    found[s->kind] = s;
  }
  for (uint32_t k = WT_SECTION_TENSORS; k <= WT_SECTION_DATA; k++)
    if (found[k] == NULL) return WT_ERROR_SECTION;
  const wt_section *ts = found[WT_SECTION_TENSORS], *os = found[WT_SECTION_OPS];
  if (ts->count < 1 || (uint64_t)ts->count * sizeof(wt_tensor) != ts->size) return WT_ERROR_SECTION;
  if (os->count < 1 || (uint64_t)os->count * sizeof(wt_op) != os->size) return WT_ERROR_SECTION;
  if (found[WT_SECTION_DATA]->count != found[WT_SECTION_DATA]->size) return WT_ERROR_SECTION;
  const wt_section *meta = found[WT_SECTION_METADATA];
  if (meta != NULL && (meta->count != meta->size || meta->size == 0)) return WT_ERROR_SECTION;

  model->bytes = b;
  model->size = size;
  model->header = h;
  model->tensors = (const wt_tensor *)(const void *)(b + ts->offset);
  model->tensor_count = ts->count;
  model->ops = (const wt_op *)(const void *)(b + os->offset);
  model->op_count = os->count;
  model->data = b + found[WT_SECTION_DATA]->offset;
  model->data_size = found[WT_SECTION_DATA]->size;
  if (meta != NULL) {
    model->metadata = b + meta->offset;
    model->metadata_size = meta->size;
  }
  wt_status status = load_io(model, b + found[WT_SECTION_IO]->offset, found[WT_SECTION_IO]->size);
  /* The header's fields outside the checksum are each checked: the arena size is the end of the
   * last tensor, the reserved words are zero. */
  uint64_t arena_end = 0;
  for (uint32_t i = 0; i < 8; i++)
    if (h->reserved[i] != 0) status = WT_ERROR_VERSION;
  for (uint32_t i = 0; status == WT_OK && i < model->tensor_count; i++) {
    status = check_tensor(&model->tensors[i], h->arena_size);
    const uint64_t tensor_end = (uint64_t)model->tensors[i].arena_offset + model->tensors[i].byte_size;
    if (tensor_end > arena_end) arena_end = tensor_end;
  }
  if (status == WT_OK && arena_end != h->arena_size) status = WT_ERROR_TENSOR;
  for (uint32_t i = 0; status == WT_OK && i < model->op_count; i++) status = check_op(model, &model->ops[i]);
  if (status == WT_OK) status = check_lifetimes(model);
  for (uint32_t i = 0; status == WT_OK && i < model->op_count; i++) {
    const wt_op *op = &model->ops[i];
    const size_t need = scratch_size(model, op);
    if (need > model->scratch_size) model->scratch_size = need;
    if (op->scheme != WT_SCHEME_INT8 && wt_unpacked_count(op) > model->unpacked_size) model->unpacked_size = wt_unpacked_count(op);
  }
  if (status != WT_OK) memset(model, 0, sizeof *model);
  return status;
}

size_t wt_model_arena_size(const wt_model *model) { return wt_model_arena_size_threads(model, 1); }

size_t wt_model_arena_size_threads(const wt_model *model, unsigned threads) {
  if (model == NULL || model->header == NULL || threads < 1 || threads > WT_MAX_THREADS) return 0;
  return wt_round_up(model->header->arena_size, WT_ALIGNMENT) + wt_round_up(model->unpacked_size, WT_ALIGNMENT) +
         threads * wt_round_up(model->scratch_size, WT_ALIGNMENT);
}

uint64_t wt_model_macs(const wt_model *model) {
  if (model == NULL || model->header == NULL) return 0;
  uint64_t total = 0;
  for (uint32_t i = 0; i < model->op_count; i++) {
    const wt_op *op = &model->ops[i];
    const wt_tensor *in = &model->tensors[op->inputs[0]], *out = &model->tensors[op->output];
    const uint64_t kernel = (uint64_t)op->params[WT_P_KH] * (uint64_t)op->params[WT_P_KW];
    const uint64_t group = op->params[WT_P_GROUP] > 0 ? (uint64_t)op->params[WT_P_GROUP] : 1;
    switch (op->kind) {
    case WT_OP_CONV: total += element_count(out) * kernel * (in->dims[3] / group); break;
    case WT_OP_CONV_TRANSPOSE: total += element_count(in) * kernel * (out->dims[3] / group); break;
    case WT_OP_FC: total += element_count(out) * (element_count(in) / wt_fc_rows(out)); break;
    case WT_OP_F_MATMUL: total += element_count(out) * in->dims[in->rank - 1]; break;
    default: break;
    }
  }
  return total;
}

const char *wt_model_metadata(const wt_model *model, size_t *size) {
  const int present = model != NULL && model->metadata != NULL;
  if (size != NULL) *size = present ? (size_t)model->metadata_size : 0;
  return present ? (const char *)model->metadata : NULL;
}

uint32_t wt_model_input(const wt_model *model, uint32_t index) {
  return model && index < model->input_count ? model->inputs[index] : WT_NO_TENSOR;
}

uint32_t wt_model_output(const wt_model *model, uint32_t index) {
  return model && index < model->output_count ? model->outputs[index] : WT_NO_TENSOR;
}
