#include "gemm_driver.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

#include "parallel.h"
#include "window.h"

/* A GEMM over an NHWC input: an FC is a 1×1 conv on [N,1,1,K]. */
typedef struct {
  const uint8_t *x;
  wt_window w;
  size_t in_per_group;
  int32_t zx;
} geometry;

/* memcpy for the short runs of an im2col row (a window row of a 3-channel image is 21 bytes):
 * fixed-size moves the compiler inlines, overlapping at the end, never touching a byte outside
 * [src, src + n) or [dst, dst + n); the library call for long runs. */
static inline void copy_run(uint8_t *dst, const uint8_t *src, size_t n) {
  if (n > 128 || n < 4) {
    memcpy(dst, src, n);
  } else if (n >= 16) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) memcpy(dst + i, src + i, 16);
    if (i < n) memcpy(dst + n - 16, src + n - 16, 16);
  } else if (n >= 8) {
    memcpy(dst, src, 8);
    memcpy(dst + n - 8, src + n - 8, 8);
  } else {
    memcpy(dst, src, 4);
    memcpy(dst + n - 4, src + n - 4, 4);
  }
}

/* Writes the im2col row of output pixel (n, oy, ox) (depth bytes, zx at padded taps) to `row`.
 * A window row that lies wholly inside the input (dilation 1) is one contiguous run of
 * kw · C/g bytes when the conv has one group. The geometry comes by value: read through a
 * pointer, every byte stored to `row` (which may alias anything) would force it to be reloaded. */
static inline __attribute__((always_inline)) void gather_row(const wt_window w, const uint8_t *x, size_t cg, uint8_t zx, size_t n,
                                                             size_t oy, size_t ox, uint8_t *row) {
  const ptrdiff_t ix0 = (ptrdiff_t)(ox * w.stride_w) - (ptrdiff_t)w.pad_left;
  const int whole_rows = w.dilation_w == 1 && cg == w.channels && ix0 >= 0 && ix0 + (ptrdiff_t)w.kw <= (ptrdiff_t)w.width;
  for (size_t ky = 0; ky < w.kh; ky++) {
    const ptrdiff_t iy = (ptrdiff_t)(oy * w.stride_h + ky * w.dilation_h) - (ptrdiff_t)w.pad_top;
    const int row_inside = iy >= 0 && iy < (ptrdiff_t)w.height;
    const uint8_t *line = row_inside ? x + (n * w.height + (size_t)iy) * w.width * w.channels : NULL;
    if (whole_rows && row_inside) {
      copy_run(row, line + (size_t)ix0 * w.channels, w.kw * cg);
      row += w.kw * cg;
      continue;
    }
    for (size_t kx = 0; kx < w.kw; kx++, row += cg) {
      const ptrdiff_t ix = ix0 + (ptrdiff_t)(kx * w.dilation_w);
      const int padded = !row_inside || ix < 0 || ix >= (ptrdiff_t)w.width;
      const uint8_t *src = padded ? NULL : line + (size_t)ix * w.channels;
      if (!padded && cg >= 4) {
        copy_run(row, src, cg);
      } else if (padded && cg >= 16) {
        memset(row, zx, cg);
      } else {
        for (size_t c = 0; c < cg; c++) row[c] = padded ? zx : src[c];
      }
    }
  }
}

/* Whether the GEMM reads its input rows in place: a 1×1 stride-1 unpadded conv, or an FC. */
static int reads_in_place(const geometry *g) {
  return g->w.kh == 1 && g->w.kw == 1 && g->w.stride_h == 1 && g->w.stride_w == 1 && g->w.pad_top == 0 && g->w.pad_left == 0;
}

/* Gathers the im2col rows of pixels [first, first + rows) of group `group`, `row_bytes` apart,
 * walking the output positions (one division per chunk, not per pixel). The whole chunk is
 * gathered before it is packed, so packing reads bytes whose stores have long retired. */
static void gather_rows(const geometry *g, size_t group, size_t first, size_t rows, size_t row_bytes, uint8_t *gathered) {
  const wt_window w = g->w;
  const uint8_t *x = g->x + group * g->in_per_group;
  const size_t cg = g->in_per_group, per_image = w.out_h * w.out_w;
  const uint8_t zx = (uint8_t)g->zx;
  size_t n = first / per_image, oy = first % per_image / w.out_w, ox = first % w.out_w;
  for (size_t r = 0; r < rows; r++) {
    gather_row(w, x, cg, zx, n, oy, ox, gathered + r * row_bytes);
    if (++ox == w.out_w) {
      ox = 0;
      if (++oy == w.out_h) oy = 0, n++;
    }
  }
}

/* panel[q][r] = src[r][4q … 4q + 3] for the 4 rows and q < 4 · vectors: a 4 × 4 transpose of
 * 32-bit words per 16 bytes of each row. Example: rows "A0A1A2A3", "B0B1B2B3", … (Ai = 4 bytes)
 * become A0B0C0D0 A1B1C1D1 A2B2C2D2 A3B3C3D3. */
static void interleave4(const uint8_t *const src[WT_GEMM_MR], size_t vectors, uint8_t *panel) {
#if defined(__SSE2__)
  for (size_t j = 0; j < vectors; j++, panel += 64) {
    const __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(src[0] + 16 * j));
    const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(src[1] + 16 * j));
    const __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(src[2] + 16 * j));
    const __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(src[3] + 16 * j));
    const __m128i ab_low = _mm_unpacklo_epi32(a, b), cd_low = _mm_unpacklo_epi32(c, d);
    const __m128i ab_high = _mm_unpackhi_epi32(a, b), cd_high = _mm_unpackhi_epi32(c, d);
    _mm_storeu_si128((__m128i *)(void *)panel, _mm_unpacklo_epi64(ab_low, cd_low));
    _mm_storeu_si128((__m128i *)(void *)(panel + 16), _mm_unpackhi_epi64(ab_low, cd_low));
    _mm_storeu_si128((__m128i *)(void *)(panel + 32), _mm_unpacklo_epi64(ab_high, cd_high));
    _mm_storeu_si128((__m128i *)(void *)(panel + 48), _mm_unpackhi_epi64(ab_high, cd_high));
  }
#elif defined(__ARM_NEON)
  for (size_t j = 0; j < vectors; j++, panel += 64) {
    uint32x4x4_t rows;
    rows.val[0] = vreinterpretq_u32_u8(vld1q_u8(src[0] + 16 * j));
    rows.val[1] = vreinterpretq_u32_u8(vld1q_u8(src[1] + 16 * j));
    rows.val[2] = vreinterpretq_u32_u8(vld1q_u8(src[2] + 16 * j));
    rows.val[3] = vreinterpretq_u32_u8(vld1q_u8(src[3] + 16 * j));
    vst4q_u32((uint32_t *)(void *)panel, rows); /* stores word i of every row, then word i + 1 */
  }
#else
  for (size_t q = 0; q < 4 * vectors; q++)
    for (size_t r = 0; r < WT_GEMM_MR; r++) memcpy(panel + (q * WT_GEMM_MR + r) * 4, src[r] + 4 * q, 4);
#endif
}

/* Packs 4 rows as panel[q][r][j] = x̃ at depth 4q + j (0 past the depth and for rows past
 * `rows`): pixels [first, first + rows) of group g read in place (`gathered` NULL), or their
 * gathered im2col rows (`gathered`, depth_groups · 4 bytes apart). */
static void pack_panel(const geometry *g, size_t group, size_t first, size_t rows, size_t depth_groups, const uint8_t *gathered,
                       uint8_t *panel) {
  const size_t depth = g->w.kh * g->w.kw * g->in_per_group, whole = depth / 4, row_bytes = depth_groups * 4;
  const uint8_t *src[WT_GEMM_MR];
  for (size_t r = 0; r < WT_GEMM_MR; r++) {
    if (r >= rows)
      src[r] = NULL;
    else if (gathered == NULL)
      src[r] = g->x + (first + r) * g->w.channels + group * g->in_per_group;
    else
      src[r] = gathered + r * row_bytes;
  }
  if (rows < WT_GEMM_MR) { /* a short last panel: the missing rows are zeros */
    memset(panel, 0, depth_groups * WT_GEMM_MR * 4);
    for (size_t q = 0; q < depth_groups; q++)
      for (size_t r = 0; r < rows; r++) {
        const size_t n = depth - 4 * q < 4 ? depth - 4 * q : 4;
        memcpy(panel + (q * WT_GEMM_MR + r) * 4, src[r] + 4 * q, n);
      }
    return;
  }
  /* Depth-major: each group of 4 depths of the 4 rows is 16 contiguous bytes. */
  const size_t vectors = depth / 16; /* whole 16-byte loads that stay inside every row */
  interleave4(src, vectors, panel);
  for (size_t q = 4 * vectors; q < whole; q++)
    for (size_t r = 0; r < WT_GEMM_MR; r++) memcpy(panel + (q * WT_GEMM_MR + r) * 4, src[r] + 4 * q, 4);
  if (whole < depth_groups)
    for (size_t r = 0; r < WT_GEMM_MR; r++)
      for (size_t j = 0; j < 4; j++) panel[(whole * WT_GEMM_MR + r) * 4 + j] = 4 * whole + j < depth ? src[r][4 * whole + j] : 0;
}

/* One GEMM op, split into tasks of one packed chunk of one group each. */
typedef struct {
  const wt_op_call *call;
  const wt_gemm_ukernel *uk;
  const geometry *g;
  size_t pixels, out_per_group, out_c, depth, depth_groups, chunk, chunks;
} gemm_job;

static void gemm_task(void *context, size_t task, size_t thread) {
  const gemm_job *job = (const gemm_job *)context;
  const wt_op_call *call = job->call;
  const wt_op *op = call->op;
  const size_t group = task / job->chunks, first = task % job->chunks * job->chunk;
  const size_t rows = job->pixels - first < job->chunk ? job->pixels - first : job->chunk, dg = job->depth_groups;
  /* This thread's scratch (packing.h): the uint8 panels, the int16 panels when the kernel
   * wants them, the chunk's gathered im2col rows. */
  const size_t chunk_bytes = job->chunk * dg * 4;
  uint8_t *panel = (uint8_t *)call->scratch + thread * call->scratch_stride;
  void *prepared = job->uk->prepare != NULL ? panel + wt_round_up(chunk_bytes, 64) : panel;
  uint8_t *gathered = panel + wt_round_up(chunk_bytes, 64) + wt_round_up(2 * chunk_bytes, 64);
  const int in_place = reads_in_place(job->g);
  if (!in_place) gather_rows(job->g, group, first, rows, dg * 4, gathered);
  for (size_t r = 0; r < rows; r += WT_GEMM_MR)
    pack_panel(job->g, group, first + r, rows - r < WT_GEMM_MR ? rows - r : WT_GEMM_MR, dg, in_place ? NULL : gathered + r * dg * 4,
               panel + r * dg * 4);
  if (job->uk->prepare != NULL) job->uk->prepare(panel, wt_round_up(rows, WT_GEMM_MR) * dg * 4, prepared);
  const int8_t *weights = (const int8_t *)call->weights +
                          group * wt_packed_group_size(job->out_per_group, job->depth);
  const int32_t *bias = wt_op_int32s(call, WT_B_BIAS);
  const int32_t *mult = wt_op_int32s(call, WT_B_MULTIPLIER);
  const int32_t *shift = wt_op_int32s(call, WT_B_SHIFT);
  const size_t block_stride = dg * WT_PACK_TILE;
  for (size_t m = 0; m < job->out_per_group; m += job->uk->nr) {
    const size_t oc = group * job->out_per_group + m;
    const wt_gemm_tile tile = {
        .rows = rows,
        .columns = job->out_per_group - m < job->uk->nr ? job->out_per_group - m : job->uk->nr,
        .depth_groups = dg,
        .panel = prepared,
        .weights = weights + m / WT_PACK_NR * block_stride + m % WT_PACK_NR * WT_PACK_KR,
        .block_stride = block_stride,
        .bias = bias + oc,
        .multiplier = mult + oc,
        .shift = shift + oc,
        .output_zero_point = call->out->zero_point,
        .act_min = op->act_min,
        .act_max = op->act_max,
        .y = call->y + first * job->out_c + oc,
        .y_stride = job->out_c,
    };
    job->uk->run(&tile);
  }
}

static void run_gemm(const wt_op_call *call, const wt_gemm_ukernel *uk, const geometry *g, size_t groups, size_t pixels,
                     size_t out_per_group) {
  const size_t depth = g->w.kh * g->w.kw * g->in_per_group, chunk = wt_panel_rows(depth);
  const gemm_job job = {
      .call = call, .uk = uk, .g = g, .pixels = pixels, .out_per_group = out_per_group, .out_c = out_per_group * groups,
      .depth = depth, .depth_groups = (depth + 3) / 4, .chunk = chunk, .chunks = (pixels + chunk - 1) / chunk,
  };
  wt_parallel_for(call->pool, groups * job.chunks, gemm_task, (void *)&job);
}

void wt_qu8_gemm_conv(const wt_op_call *call, const wt_gemm_ukernel *ukernel) {
  const wt_tensor *in = call->in[0], *out = call->out;
  const size_t groups = (size_t)call->op->params[WT_P_GROUP];
  const geometry g = {.x = call->x[0], .w = wt_window_of(call->op, in, out), .in_per_group = in->dims[3] / groups, .zx = in->zero_point};
  run_gemm(call, ukernel, &g, groups, (size_t)out->dims[0] * out->dims[1] * out->dims[2], out->dims[3] / groups);
}

void wt_qu8_gemm_fc(const wt_op_call *call, const wt_gemm_ukernel *ukernel) {
  const size_t batch = wt_fc_rows(call->out), depth = call->in[0]->byte_size / batch;
  const geometry g = {
      .x = call->x[0],
      .w = {.batch = batch, .height = 1, .width = 1, .channels = depth, .out_h = 1, .out_w = 1, .kh = 1, .kw = 1, .stride_h = 1,
            .stride_w = 1, .dilation_h = 1, .dilation_w = 1},
      .in_per_group = depth,
      .zx = call->in[0]->zero_point,
  };
  run_gemm(call, ukernel, &g, 1, batch, call->out->dims[call->out->rank - 1]);
}
