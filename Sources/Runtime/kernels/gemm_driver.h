#ifndef WT_GEMM_DRIVER_H
#define WT_GEMM_DRIVER_H
/* The GEMM driver shared by every SIMD kernel set: conv (any group, any window) and FC as
 * Y[pixels][M] = im2col(X)[pixels][K] · W[M][K]ᵀ, in row panels of WT_GEMM_MR pixels packed
 * into scratch (zx at padded taps), times blocks of output channels read from the packed
 * weights (packing.h) by an ISA micro-kernel that also requantizes and clamps. */

#include "packing.h"
#include "ref/ref_kernels.h"

#define WT_GEMM_MR 4u

/* One micro-kernel call: `rows` pixels (any count; the kernel walks them WT_GEMM_MR at a time,
 * so requantization constants load once per call) × `columns` ≤ nr output channels. */
typedef struct {
  size_t rows, columns, depth_groups;
  const void *panel;        /* ⌈rows/4⌉ panels of [depth_groups][WT_GEMM_MR][4] activations, uint8 or int16 */
  const int8_t *weights;    /* the tile's first channel in its 16-channel block, first depth group;
                               depth group q + 1 is WT_PACK_TILE bytes on */
  size_t block_stride;      /* bytes from one 16-channel block to the next */
  const int32_t *bias, *multiplier, *shift; /* `columns` entries each */
  int32_t output_zero_point, act_min, act_max;
  uint8_t *y;               /* row r, channel j at y[r · y_stride + j] */
  size_t y_stride;
} wt_gemm_tile;

typedef struct {
  size_t nr;  /* output channels per call: 8 or a multiple of 16 */
  /* Turns the uint8 panel of `count` bytes into the form `run` reads (NULL: uint8 as is).
   * Writes to `out`, which has room for 2 · count bytes. */
  void (*prepare)(const uint8_t *panel, size_t count, void *out);
  void (*run)(const wt_gemm_tile *tile);
} wt_gemm_ukernel;

void wt_qu8_gemm_conv(const wt_op_call *call, const wt_gemm_ukernel *ukernel);
void wt_qu8_gemm_fc(const wt_op_call *call, const wt_gemm_ukernel *ukernel);

#endif
