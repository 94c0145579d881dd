#ifndef WT_PACKING_H
#define WT_PACKING_H
/* Weight layouts in the DATA section, written by the exporter and read by every kernel set
 * (docs/wtm-format.md). One layout per op shape, so the reference and the SIMD kernels read the
 * same bytes and a .wtm holds its weights once.
 *
 * GEMM layout (FC, and conv unless depthwise): per group, output channels in blocks of
 * WT_PACK_NR = 16 and depth in groups of WT_PACK_KR = 4. Weight w[m][k] of a group with depth K
 * sits at byte ((m / 16) · ceil(K / 4) + k / 4) · 64 + (m % 16) · 4 + k % 4, zeros past the
 * edges. A conv's depth index is k = (ky · kw + kx) · C/g + c. Example: FC with K = 6, M = 3:
 * ceil(6/4) = 2 depth groups of 64 bytes; w[2][5] is at (0·2 + 1)·64 + 2·4 + 1 = 73.
 * One 64-byte tile is one ZMM of `vpdpbusd` weights; 8-channel kernels read its halves. 
 *
 * Depthwise layout (C/g = M/g = 1): w[tap][m], tap = ky · kw + kx, so the channels of one tap
 * are contiguous, as in NHWC activations.
 *
 * Bias: the zero point of the input is folded in. The stored bias is bias − zx · Σk w[m][k], so
 * acc = bias' + Σ x̃ · w, where x̃ is the input byte, or zx at a padded position. */

#include <stddef.h>
#include <stdint.h>

#include "whittle_runtime.h"

#define WT_PACK_NR 16u
#define WT_PACK_KR 4u
static inline size_t wt_round_up(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

/* Pixels a GEMM driver packs at a time (gemm_driver.c): as many 4-pixel panels as fit in 16 KB
 * of uint8 panel, 4 to 32. Example: depth 144 → 16384 / 144 = 113 → 32; depth 1280 → 12. */
static inline size_t wt_panel_rows(size_t depth) {
  const size_t rows = 16384 / wt_round_up(depth, WT_PACK_KR) / 4 * 4;
  return rows < 4 ? 4 : (rows > 32 ? 32 : rows);
}

/* Scratch of a GEMM op: the uint8 panel, the same panel widened to int16, and the gathered
 * im2col rows of the chunk (as many bytes as the panel), each 64-byte aligned. */
static inline size_t wt_gemm_scratch_size(size_t depth) {
  const size_t panel = wt_panel_rows(depth) * wt_round_up(depth, WT_PACK_KR);
  return 2 * wt_round_up(panel, 64) + wt_round_up(2 * panel, 64);
}

/* Bytes of one group's GEMM-packed weights. */
static inline size_t wt_packed_group_size(size_t outputs, size_t depth) {
  return wt_round_up(outputs, WT_PACK_NR) * wt_round_up(depth, WT_PACK_KR);
}

/* Bytes of one depth group of one channel block: the step from depth group q to q + 1. */
#define WT_PACK_TILE (WT_PACK_NR * WT_PACK_KR)

/* Where w[m][k] of a GEMM-packed group of depth `depth` sits. */
static inline size_t wt_packed_index(size_t depth, size_t m, size_t k) {
  const size_t depth_groups = (depth + WT_PACK_KR - 1) / WT_PACK_KR;
  return ((m / WT_PACK_NR) * depth_groups + k / WT_PACK_KR) * WT_PACK_TILE + (m % WT_PACK_NR) * WT_PACK_KR + k % WT_PACK_KR;
}

/* w[m][k] of a GEMM-packed group. */
static inline int8_t wt_packed_weight(const int8_t *group, size_t depth, size_t m, size_t k) {
  return group[wt_packed_index(depth, m, k)];
}

/* Whether a conv op is depthwise: one input and one output channel per group. */
static inline int wt_conv_is_depthwise(const wt_op *op, const wt_tensor *in, const wt_tensor *out) {
  const uint32_t group = (uint32_t)op->params[WT_P_GROUP];
  return in->dims[3] == group && out->dims[3] == group;
}

/* Whether an op kind has weights (and a scheme, and weights the interpreter may unpack). */
/* A fully connected op's rows: every dim of its output but the last, whose size is the op's
 * outputs. Example: out [1, 40, 6625] is 40 rows of 6625 outputs, each reading K = in / 40 values. */
static inline size_t wt_fc_rows(const wt_tensor *out) {
  size_t rows = 1;
  for (uint32_t i = 0; i + 1 < out->rank; i++) rows *= out->dims[i];
  return rows;
}

static inline int wt_kind_has_weights(uint32_t kind) {
  return kind == WT_OP_CONV || kind == WT_OP_FC || kind == WT_OP_CONV_TRANSPOSE;
}

/* Levels the interpreter unpacks from a conv's or FC's weights blob stored at a scheme narrower
 * than int8: the blob's bytes × 8 / bits (a depthwise layout's count rounded up to whole bytes). */
static inline size_t wt_unpacked_count(const wt_op *op) {
  return (size_t)op->blobs[WT_B_WEIGHTS].size * 8u / wt_schemes[op->scheme].bits;
}

#endif
