/* AVX-512 VNNI kernels: the GEMM micro-kernel (8 pixels × 32 channels, vpdpbusd on ZMM) and
 * depthwise convolution 32 channels at a time. Same arithmetic as the AVX2 and AVX-VNNI sets,
 * twice the lanes, and masked loads and stores at the channel edges. */
#if defined(__x86_64__) || defined(_M_X64)
#include <string.h>

#include "../kernel_set.h"
#include "../packing.h"
#include "../parallel.h"
#include "../window.h"
#include "requantize_avx512.h"
#include "x86_kernels.h"

static inline __mmask16 lanes16(size_t count) { return (__mmask16)(count >= 16 ? 0xffffu : (1u << count) - 1); }
static inline __mmask32 lanes32(size_t count) { return count >= 32 ? 0xffffffffu : (1u << count) - 1; }

static inline int32_t load32(const uint8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* Requantizes and stores one pixel's accumulators: channels [0, 16) and, with `two`, [16, 32). */
typedef struct {
  wt_requant_avx512 rq0, rq1;
  __m512i bias0, bias1, zy, low, high, zy16;
  __m256i low8, high8;
  __mmask16 store0;
  __mmask32 store;
} tile_constants;

static inline WT_AVX512 void store_pixel(const tile_constants *c, uint8_t *y, __m512i first, __m512i second, int two,
                                        int clamped) {
  const __m512i q0 = wt_requantize_avx512(_mm512_add_epi32(first, c->bias0), &c->rq0, clamped);
  if (two)
    _mm256_mask_storeu_epi8(y, c->store,
                            wt_output32_avx512(q0, wt_requantize_avx512(_mm512_add_epi32(second, c->bias1), &c->rq1, clamped), c->zy16,
                                               c->low8, c->high8));
  else
    _mm_mask_storeu_epi8(y, c->store0, wt_output16_avx512(q0, c->zy, c->low, c->high));
}

/* 8 pixels (two 4-pixel panels) at a time while they last, then 4. Accumulators are named
 * (a: channels 0-15, b: 16-31, per pixel) so they stay in the 32 ZMM registers. */
#define WT_DPBUSD_ROW(r, panel_, q_)                                                              \
  do {                                                                                            \
    const __m512i x = _mm512_set1_epi32(load32((panel_) + (q_) * WT_GEMM_MR * 4 + ((r) % 4) * 4)); \
    a##r = _mm512_dpbusd_epi32(a##r, x, u);                                                       \
    if (two) b##r = _mm512_dpbusd_epi32(b##r, x, v);                                              \
  } while (0)

static inline __attribute__((always_inline)) WT_AVX512 void gemm_4x32(const wt_gemm_tile *t, int two, int clamped) {
  const size_t columns0 = t->columns < 16 ? t->columns : 16, columns1 = t->columns > 16 ? t->columns - 16 : 0;
  const size_t panel_bytes = t->depth_groups * WT_GEMM_MR * 4;
  const int8_t *first_block = t->weights, *second_block = two ? t->weights + t->block_stride : t->weights;
  tile_constants c;
  c.rq0 = wt_requant_avx512_load(t->multiplier, t->shift, columns0);
  c.rq1 = two ? wt_requant_avx512_load(t->multiplier + 16, t->shift + 16, columns1) : c.rq0;
  c.bias0 = _mm512_maskz_loadu_epi32(lanes16(columns0), t->bias);
  c.bias1 = two ? _mm512_maskz_loadu_epi32(lanes16(columns1), t->bias + 16) : c.bias0;
  c.zy = _mm512_set1_epi32(t->output_zero_point), c.low = _mm512_set1_epi32(t->act_min), c.high = _mm512_set1_epi32(t->act_max);
  c.zy16 = _mm512_set1_epi16((short)t->output_zero_point);
  c.low8 = _mm256_set1_epi8((char)t->act_min), c.high8 = _mm256_set1_epi8((char)t->act_max);
  c.store0 = lanes16(columns0), c.store = lanes32(t->columns);
  const uint8_t *panel = (const uint8_t *)t->panel;
  size_t first = 0;
  for (; first + 8 <= t->rows; first += 8, panel += 2 * panel_bytes) {
    const uint8_t *p0 = panel, *p1 = panel + panel_bytes;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    __m512i b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0;
    for (size_t q = 0; q < t->depth_groups; q++) {
      const __m512i u = _mm512_loadu_si512((const void *)(first_block + q * WT_PACK_TILE));
      const __m512i v = two ? _mm512_loadu_si512((const void *)(second_block + q * WT_PACK_TILE)) : u;
      WT_DPBUSD_ROW(0, p0, q); WT_DPBUSD_ROW(1, p0, q); WT_DPBUSD_ROW(2, p0, q); WT_DPBUSD_ROW(3, p0, q);
      WT_DPBUSD_ROW(4, p1, q); WT_DPBUSD_ROW(5, p1, q); WT_DPBUSD_ROW(6, p1, q); WT_DPBUSD_ROW(7, p1, q);
    }
    uint8_t *y = t->y + first * t->y_stride;
    store_pixel(&c, y, a0, b0, two, clamped), store_pixel(&c, y + t->y_stride, a1, b1, two, clamped);
    store_pixel(&c, y + 2 * t->y_stride, a2, b2, two, clamped), store_pixel(&c, y + 3 * t->y_stride, a3, b3, two, clamped);
    store_pixel(&c, y + 4 * t->y_stride, a4, b4, two, clamped), store_pixel(&c, y + 5 * t->y_stride, a5, b5, two, clamped);
    store_pixel(&c, y + 6 * t->y_stride, a6, b6, two, clamped), store_pixel(&c, y + 7 * t->y_stride, a7, b7, two, clamped);
  }
  for (; first < t->rows; first += WT_GEMM_MR, panel += panel_bytes) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (size_t q = 0; q < t->depth_groups; q++) {
      const __m512i u = _mm512_loadu_si512((const void *)(first_block + q * WT_PACK_TILE));
      const __m512i v = two ? _mm512_loadu_si512((const void *)(second_block + q * WT_PACK_TILE)) : u;
      WT_DPBUSD_ROW(0, panel, q); WT_DPBUSD_ROW(1, panel, q); WT_DPBUSD_ROW(2, panel, q); WT_DPBUSD_ROW(3, panel, q);
    }
    const __m512i first_half[WT_GEMM_MR] = {a0, a1, a2, a3}, second_half[WT_GEMM_MR] = {b0, b1, b2, b3};
    const size_t rows = t->rows - first < WT_GEMM_MR ? t->rows - first : WT_GEMM_MR;
    for (size_t r = 0; r < rows; r++) store_pixel(&c, t->y + (first + r) * t->y_stride, first_half[r], second_half[r], two, clamped);
  }
}
#undef WT_DPBUSD_ROW

/* One copy per case, each with its branches fixed: 16 or 32 channels; a clamp at or above the
 * zero point (wt_round_product_avx512) or not. */
WT_AVX512 void wt_qu8_gemm_8x32c4__avx512vnni(const wt_gemm_tile *t) {
  const int clamped = wt_clamps_negatives(t->act_min, t->output_zero_point);
  if (t->columns > 16) {
    if (clamped) gemm_4x32(t, 1, 1); else gemm_4x32(t, 1, 0);
  } else {
    if (clamped) gemm_4x32(t, 0, 1); else gemm_4x32(t, 0, 0);
  }
}

/* ---- depthwise: taps in pairs as in dwconv_avx2.c, 32 channels per step. Unpacking bytes
 * works within 128-bit lanes, so one vector holds channels [0-7 | 16-23] and the other
 * [8-15 | 24-31]; bias and constants are arranged to match, and the two are put back in
 * order before requantization. */
#define MAX_TAPS 25u
#define MAX_PAIRS ((MAX_TAPS + 1) / 2)

typedef struct {
  const uint8_t *x;
  uint8_t *y;
  wt_window w;
  size_t count;
  __m512i w_a[MAX_PAIRS], w_b[MAX_PAIRS], bias_a, bias_b, zy;
  wt_requant_avx512 rq0, rq1;
  __m256i zx, low, high;
  __mmask32 mask;
} dw_block;

/* Channels [0, 32) of one output pixel from its taps' rows (NULL: a padded row). */
static inline __attribute__((always_inline)) WT_AVX512 void dw_pixel(const dw_block *b, size_t kh, size_t kw, const uint8_t *const *rows,
                                                                      ptrdiff_t ix0, uint8_t *y, int inside, int clamped) {
  const size_t taps = kh * kw, pairs = (taps + 1) / 2;
  __m512i acc_a = b->bias_a, acc_b = b->bias_b;
  WT_UNROLL
  for (size_t i = 0; i < pairs; i++) {
    __m256i x[2];
    WT_UNROLL
    for (size_t j = 0; j < 2; j++) {
      const size_t t = 2 * i + j;
      const ptrdiff_t ix = ix0 + (ptrdiff_t)((t % kw) * b->w.dilation_w);
      if (t >= taps) {
        x[j] = b->zx;
      } else if (inside) {
        x[j] = _mm256_loadu_si256((const __m256i *)(const void *)(rows[t / kw] + (size_t)ix * b->w.channels));
      } else {
        const uint8_t *row = rows[t / kw];
        x[j] = row == NULL || ix < 0 || ix >= (ptrdiff_t)b->w.width
                   ? b->zx
                   : _mm256_mask_loadu_epi8(b->zx, b->mask, row + (size_t)ix * b->w.channels);
      }
    }
    acc_a = _mm512_add_epi32(acc_a, _mm512_madd_epi16(_mm512_cvtepu8_epi16(_mm256_unpacklo_epi8(x[0], x[1])), b->w_a[i]));
    acc_b = _mm512_add_epi32(acc_b, _mm512_madd_epi16(_mm512_cvtepu8_epi16(_mm256_unpackhi_epi8(x[0], x[1])), b->w_b[i]));
  }
  const __m512i low16 = _mm512_shuffle_i64x2(acc_a, acc_b, _MM_SHUFFLE(1, 0, 1, 0));
  const __m512i high16 = _mm512_shuffle_i64x2(acc_a, acc_b, _MM_SHUFFLE(3, 2, 3, 2));
  _mm256_mask_storeu_epi8(y, b->mask,
                          wt_output32_avx512(wt_requantize_avx512(low16, &b->rq0, clamped), wt_requantize_avx512(high16, &b->rq1, clamped), b->zy,
                                             b->low, b->high));
}

static inline __attribute__((always_inline)) WT_AVX512 void dw_run(const dw_block *b, size_t kh, size_t kw, size_t oy0, size_t oy1,
                                                                    int clamped) {
  for (size_t n = 0; n < b->w.batch; n++)
    for (size_t oy = oy0; oy < oy1; oy++) {
      const uint8_t *rows[MAX_TAPS];
      int rows_inside = b->count == 32;
      for (size_t ky = 0; ky < kh; ky++) {
        const ptrdiff_t iy = (ptrdiff_t)(oy * b->w.stride_h + ky * b->w.dilation_h) - (ptrdiff_t)b->w.pad_top;
        rows[ky] = iy < 0 || iy >= (ptrdiff_t)b->w.height ? NULL : b->x + (n * b->w.height + (size_t)iy) * b->w.width * b->w.channels;
        rows_inside &= rows[ky] != NULL;
      }
      uint8_t *y = b->y + (n * b->w.out_h + oy) * b->w.out_w * b->w.channels;
      for (size_t ox = 0; ox < b->w.out_w; ox++) {
        const ptrdiff_t ix0 = (ptrdiff_t)(ox * b->w.stride_w) - (ptrdiff_t)b->w.pad_left;
        const int inside = rows_inside && ix0 >= 0 && ix0 + (ptrdiff_t)((kw - 1) * b->w.dilation_w) < (ptrdiff_t)b->w.width;
        if (inside)
          dw_pixel(b, kh, kw, rows, ix0, y + ox * b->w.channels, 1, clamped);
        else
          dw_pixel(b, kh, kw, rows, ix0, y + ox * b->w.channels, 0, clamped);
      }
    }
}

/* Copies for the common windows, each with and without a clamp at or above the zero point. */
static WT_AVX512 void dw_3x3(const dw_block *b, size_t oy0, size_t oy1, int clamped) {
  if (clamped) dw_run(b, 3, 3, oy0, oy1, 1); else dw_run(b, 3, 3, oy0, oy1, 0);
}
static WT_AVX512 void dw_5x5(const dw_block *b, size_t oy0, size_t oy1, int clamped) {
  if (clamped) dw_run(b, 5, 5, oy0, oy1, 1); else dw_run(b, 5, 5, oy0, oy1, 0);
}
static WT_AVX512 void dw_any(const dw_block *b, size_t kh, size_t kw, size_t oy0, size_t oy1) { dw_run(b, kh, kw, oy0, oy1, 0); }

/* The op, split into tasks of one 32-channel block × one band of output rows. */
typedef struct {
  const wt_op_call *call;
  dw_block geometry;
  wt_bands bands;
} dw_job;

static WT_AVX512 void dw_task(void *context, size_t task, size_t thread) {
  (void)thread;
  const dw_job *job = (const dw_job *)context;
  const wt_op *op = job->call->op;
  const uint8_t *weights = job->call->weights;
  const int32_t *bias = wt_op_int32s(job->call, WT_B_BIAS);
  const int32_t *mult = wt_op_int32s(job->call, WT_B_MULTIPLIER);
  const int32_t *shift = wt_op_int32s(job->call, WT_B_SHIFT);
  dw_block b = job->geometry;
  const size_t kh = b.w.kh, kw = b.w.kw, taps = kh * kw, c = task / job->bands.count * 32;
  b.count = b.w.channels - c < 32 ? b.w.channels - c : 32;
  b.mask = lanes32(b.count);
  b.x = job->call->x[0] + c;
  b.y = job->call->y + c;
  for (size_t i = 0; i < (taps + 1) / 2; i++) {
    const __m256i wa = _mm256_maskz_loadu_epi8(b.mask, weights + 2 * i * b.w.channels + c);
    const __m256i wb = 2 * i + 1 < taps ? _mm256_maskz_loadu_epi8(b.mask, weights + (2 * i + 1) * b.w.channels + c) : _mm256_setzero_si256();
    b.w_a[i] = _mm512_cvtepi8_epi16(_mm256_unpacklo_epi8(wa, wb));
    b.w_b[i] = _mm512_cvtepi8_epi16(_mm256_unpackhi_epi8(wa, wb));
  }
  const size_t count0 = b.count < 16 ? b.count : 16, count1 = b.count > 16 ? b.count - 16 : 0;
  const __m512i bias0 = _mm512_maskz_loadu_epi32(lanes16(count0), bias + c);
  const __m512i bias1 = _mm512_maskz_loadu_epi32(lanes16(count1), bias + c + (count1 > 0 ? 16 : 0));
  b.bias_a = _mm512_shuffle_i64x2(bias0, bias1, _MM_SHUFFLE(1, 0, 1, 0));
  b.bias_b = _mm512_shuffle_i64x2(bias0, bias1, _MM_SHUFFLE(3, 2, 3, 2));
  b.rq0 = wt_requant_avx512_load(mult + c, shift + c, count0);
  b.rq1 = wt_requant_avx512_load(mult + c + (count1 > 0 ? 16 : 0), shift + c + (count1 > 0 ? 16 : 0), count1);
  size_t oy0, oy1;
  wt_band_rows(&job->bands, task % job->bands.count, &oy0, &oy1);
  const int clamped = wt_clamps_negatives(op->act_min, job->call->out->zero_point);
  if (kh == 3 && kw == 3)
    dw_3x3(&b, oy0, oy1, clamped);
  else if (kh == 5 && kw == 5)
    dw_5x5(&b, oy0, oy1, clamped);
  else
    dw_any(&b, kh, kw, oy0, oy1);
}

/* ---- depthwise with vpdpbusd: each input row is rearranged once into "quads", the bytes of
 * four neighbouring columns per channel ([x(ix) x(ix+1) x(ix+2) x(ix+3)] per channel), so one
 * vpdpbusd does four taps of a kernel row for 16 channels, with no shuffles per output pixel.
 * A row of quads is kept in a ring of kh rows and serves every output row that reads it.
 *
 * Unpacking works within 128-bit lanes, so accumulator a holds channels 16L + 4a + (0…3) in
 * lane L; the bias and requantization constants are permuted the same way, and the lane-wise
 * packs of the output put the channels back in order. A block of more than 32 channels fills
 * the four lanes with 64 channels of one pixel; a block of at most 32 fills lanes 0–1 with
 * one pixel and lanes 2–3 with the next (the quads are stored accumulator-major, so the two
 * pixels' quads are adjacent and one load takes both).
 *
 * Taken for dilation 1, stride_w 1 or 2, kw ≤ 8 and kh ≤ 7; the rest go by pairs (dw_task). */
#define QUAD_KH 7u
#define QUAD_GROUPS 2u /* quads per kernel row: kw ≤ 8 */
#define QUAD_CHUNK 16u /* output columns per pass */
#define QUAD_POSITIONS (QUAD_CHUNK + 5u)

typedef struct {
  const uint8_t *x;
  uint8_t *y;
  wt_window w;
  size_t lanes; /* 128-bit lanes per pixel: 4 (64 channels) or 2 (32 channels, two pixels) */
  __mmask64 mask;
  __m512i weights[QUAD_KH][QUAD_GROUPS][4]; /* [ky][quad][accumulator], taps past kw zero */
  __m512i bias[4], zy16, zx, low, high;
  wt_requant_avx512 rq[4];
} dq_block;

/* The quads of four columns, as the accumulators' lanes read them. */
static inline WT_AVX512 void interleave4(__m512i a, __m512i b, __m512i c, __m512i d, __m512i out[4]) {
  const __m512i ab_lo = _mm512_unpacklo_epi8(a, b), ab_hi = _mm512_unpackhi_epi8(a, b);
  const __m512i cd_lo = _mm512_unpacklo_epi8(c, d), cd_hi = _mm512_unpackhi_epi8(c, d);
  out[0] = _mm512_unpacklo_epi16(ab_lo, cd_lo);
  out[1] = _mm512_unpackhi_epi16(ab_lo, cd_lo);
  out[2] = _mm512_unpacklo_epi16(ab_hi, cd_hi);
  out[3] = _mm512_unpackhi_epi16(ab_hi, cd_hi);
}

/* Column ix of a row (NULL: padding): the block's channels, the input zero point outside. */
static inline WT_AVX512 __m512i dq_column(const dq_block *b, const uint8_t *row, ptrdiff_t ix) {
  if (row == NULL || ix < 0 || ix >= (ptrdiff_t)b->w.width) return b->zx;
  return _mm512_mask_loadu_epi8(b->zx, b->mask, row + (size_t)ix * b->w.channels);
}

/* A ring row: quads[a][q] of 16·lanes bytes, position q starting at column ix0 + q·step. */
static inline WT_AVX512 void dq_row(const dq_block *b, const uint8_t *row, ptrdiff_t ix0, size_t step, size_t count, uint8_t *quads) {
  const size_t bytes = 16 * b->lanes;
  for (size_t q = 0; q < count; q++) {
    const ptrdiff_t ix = ix0 + (ptrdiff_t)(q * step);
    __m512i v[4];
    interleave4(dq_column(b, row, ix), dq_column(b, row, ix + 1), dq_column(b, row, ix + 2), dq_column(b, row, ix + 3), v);
    for (size_t a = 0; a < 4; a++) {
      uint8_t *at = quads + (a * QUAD_POSITIONS + q) * bytes;
      if (b->lanes == 4)
        _mm512_storeu_si512((void *)at, v[a]);
      else
        _mm256_storeu_si256((__m256i *)(void *)at, _mm512_castsi512_si256(v[a]));
    }
  }
}

static inline __attribute__((always_inline)) WT_AVX512 void dq_run(const dq_block *b, size_t kh, size_t groups, size_t step,
                                                                    size_t oy0, size_t oy1, int clamped) {
  __m512i ring[QUAD_KH][4 * QUAD_POSITIONS]; /* per row: quads[a][q] as dq_row writes them */
  ptrdiff_t held[QUAD_KH];
  const size_t shift = 4 / step;                       /* positions between a kernel row's quads */
  const size_t bytes = 16 * b->lanes, pixels = 4 / b->lanes; /* per vector */
  const __mmask32 store = (__mmask32)(b->mask & 0xffffffffu);
  for (size_t n = 0; n < b->w.batch; n++)
    for (size_t ox0 = 0; ox0 < b->w.out_w; ox0 += QUAD_CHUNK) {
      const size_t columns = b->w.out_w - ox0 < QUAD_CHUNK ? b->w.out_w - ox0 : QUAD_CHUNK;
      const size_t positions = columns + pixels - 1 + (groups - 1) * shift;
      const ptrdiff_t ix0 = (ptrdiff_t)(ox0 * step) - (ptrdiff_t)b->w.pad_left;
      for (size_t i = 0; i < kh; i++) held[i] = PTRDIFF_MIN;
      for (size_t oy = oy0; oy < oy1; oy++) {
        const uint8_t *rows[QUAD_KH];
        for (size_t ky = 0; ky < kh; ky++) {
          const ptrdiff_t iy = (ptrdiff_t)(oy * b->w.stride_h + ky) - (ptrdiff_t)b->w.pad_top;
          const size_t slot = (size_t)((iy % (ptrdiff_t)kh + (ptrdiff_t)kh) % (ptrdiff_t)kh);
          if (held[slot] != iy) {
            const uint8_t *row = iy < 0 || iy >= (ptrdiff_t)b->w.height ? NULL : b->x + (n * b->w.height + (size_t)iy) * b->w.width * b->w.channels;
            dq_row(b, row, ix0, step, positions, (uint8_t *)ring[slot]);
            held[slot] = iy;
          }
          rows[ky] = (const uint8_t *)ring[slot];
        }
        uint8_t *y = b->y + ((n * b->w.out_h + oy) * b->w.out_w + ox0) * b->w.channels;
        for (size_t j = 0; j < columns; j += pixels) {
          __m512i acc[4] = {b->bias[0], b->bias[1], b->bias[2], b->bias[3]};
          WT_UNROLL
          for (size_t ky = 0; ky < kh; ky++)
            WT_UNROLL
            for (size_t g = 0; g < groups; g++)
              WT_UNROLL
              for (size_t a = 0; a < 4; a++) {
                const __m512i x = _mm512_loadu_si512((const void *)(rows[ky] + (a * QUAD_POSITIONS + j + g * shift) * bytes));
                acc[a] = _mm512_dpbusd_epi32(acc[a], x, b->weights[ky][g][a]);
              }
          __m512i q[4];
          WT_UNROLL
          for (size_t a = 0; a < 4; a++) q[a] = wt_requantize_avx512(acc[a], &b->rq[a], clamped);
          /* Lane L of packs(q0, q1) holds channels 16L + 0…7 of its pixel, of packs(q2, q3) 16L + 8…15. */
          const __m512i w01 = _mm512_adds_epi16(_mm512_packs_epi32(q[0], q[1]), b->zy16);
          const __m512i w23 = _mm512_adds_epi16(_mm512_packs_epi32(q[2], q[3]), b->zy16);
          const __m512i out = _mm512_max_epu8(_mm512_min_epu8(_mm512_packus_epi16(w01, w23), b->high), b->low);
          if (b->lanes == 4) {
            _mm512_mask_storeu_epi8(y + j * b->w.channels, b->mask, out);
          } else {
            _mm256_mask_storeu_epi8(y + j * b->w.channels, store, _mm512_castsi512_si256(out));
            if (j + 1 < columns) _mm256_mask_storeu_epi8(y + (j + 1) * b->w.channels, store, _mm512_extracti64x4_epi64(out, 1));
          }
        }
      }
    }
}

/* Copies for the common windows (3×3 and 5×5 at strides 1 and 2), each with and without a
 * clamp at or above the zero point. */
static WT_AVX512 void dq_3x3(const dq_block *b, size_t step, size_t oy0, size_t oy1, int clamped) {
  if (step == 1) {
    if (clamped) dq_run(b, 3, 1, 1, oy0, oy1, 1); else dq_run(b, 3, 1, 1, oy0, oy1, 0);
  } else {
    if (clamped) dq_run(b, 3, 1, 2, oy0, oy1, 1); else dq_run(b, 3, 1, 2, oy0, oy1, 0);
  }
}
static WT_AVX512 void dq_5x5(const dq_block *b, size_t step, size_t oy0, size_t oy1, int clamped) {
  if (step == 1) {
    if (clamped) dq_run(b, 5, 2, 1, oy0, oy1, 1); else dq_run(b, 5, 2, 1, oy0, oy1, 0);
  } else {
    if (clamped) dq_run(b, 5, 2, 2, oy0, oy1, 1); else dq_run(b, 5, 2, 2, oy0, oy1, 0);
  }
}
static WT_AVX512 void dq_any(const dq_block *b, size_t step, size_t oy0, size_t oy1) {
  dq_run(b, b->w.kh, (b->w.kw + 3) / 4, step, oy0, oy1, 0);
}

/* Tasks of one block × one band of output rows: blocks of 64 channels, the last of at most
 * 32 when the channels leave 32 or fewer (32 alone, the rest of 96). */
typedef struct {
  const wt_op_call *call;
  wt_window w;
  wt_bands bands;
} dq_job;

static WT_AVX512 void dq_task(void *context, size_t task, size_t thread) {
  (void)thread;
  const dq_job *job = (const dq_job *)context;
  const wt_op *op = job->call->op;
  const int8_t *weights = (const int8_t *)job->call->weights;
  const int32_t *bias = wt_op_int32s(job->call, WT_B_BIAS);
  const int32_t *mult = wt_op_int32s(job->call, WT_B_MULTIPLIER);
  const int32_t *shift = wt_op_int32s(job->call, WT_B_SHIFT);
  const wt_window w = job->w;
  const size_t c = task / job->bands.count * 64, count = w.channels - c < 64 ? w.channels - c : 64;
  dq_block b = {
      .x = job->call->x[0] + c, .y = job->call->y + c, .w = w, .lanes = count > 32 ? 4 : 2,
      .mask = count >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << count) - 1,
      .zy16 = _mm512_set1_epi16((short)job->call->out->zero_point), .zx = _mm512_set1_epi8((char)job->call->in[0]->zero_point),
      .low = _mm512_set1_epi8((char)op->act_min), .high = _mm512_set1_epi8((char)op->act_max),
  };
  /* Weights as the quads: with two pixels per vector, the block's 32 channels in both halves. */
  const __m512i zero = _mm512_setzero_si512();
  for (size_t ky = 0; ky < w.kh; ky++)
    for (size_t g = 0; g < (w.kw + 3) / 4; g++) {
      __m512i tap[4];
      for (size_t i = 0; i < 4; i++) {
        const size_t kx = 4 * g + i;
        const int8_t *from = weights + (ky * w.kw + kx) * w.channels + c;
        tap[i] = kx >= w.kw        ? zero
                 : b.lanes == 4 ? _mm512_maskz_loadu_epi8(b.mask, from)
                                : _mm512_broadcast_i64x4(_mm256_maskz_loadu_epi8((__mmask32)b.mask, from));
      }
      interleave4(tap[0], tap[1], tap[2], tap[3], b.weights[ky][g]);
    }
  /* Accumulator a, lane L, element i is channel 16·(L mod lanes) + 4a + i. */
  int32_t bias_p[64], mult_p[64], shift_p[64];
  for (size_t a = 0; a < 4; a++)
    for (size_t l = 0; l < 4; l++)
      for (size_t i = 0; i < 4; i++) {
        const size_t channel = 16 * (l % b.lanes) + 4 * a + i, at = 16 * a + 4 * l + i;
        const int valid = channel < count;
        bias_p[at] = valid ? bias[c + channel] : 0;
        mult_p[at] = valid ? mult[c + channel] : 0;
        shift_p[at] = valid ? shift[c + channel] : 0;
      }
  for (size_t a = 0; a < 4; a++) {
    b.bias[a] = _mm512_loadu_si512((const void *)(bias_p + 16 * a));
    b.rq[a] = wt_requant_avx512_load(mult_p + 16 * a, shift_p + 16 * a, 16);
  }
  size_t oy0, oy1;
  wt_band_rows(&job->bands, task % job->bands.count, &oy0, &oy1);
  const int clamped = wt_clamps_negatives(op->act_min, job->call->out->zero_point);
  if (w.kh == 3 && w.kw == 3)
    dq_3x3(&b, w.stride_w, oy0, oy1, clamped);
  else if (w.kh == 5 && w.kw == 5)
    dq_5x5(&b, w.stride_w, oy0, oy1, clamped);
  else
    dq_any(&b, w.stride_w, oy0, oy1);
}

/* Whether the quad path takes a window. */
static int dq_takes(const wt_window *w) {
  return w->dilation_h == 1 && w->dilation_w == 1 && (w->stride_w == 1 || w->stride_w == 2) && w->kw <= 4 * QUAD_GROUPS &&
         w->kh <= QUAD_KH;
}

WT_AVX512 void wt_qu8_dwconv__avx512vnni(const wt_op_call *call) {
  const wt_op *op = call->op;
  const wt_tensor *in = call->in[0], *out = call->out;
  if ((size_t)op->params[WT_P_KH] * (size_t)op->params[WT_P_KW] > MAX_TAPS) {
    wt_qu8_conv__ref(call);
    return;
  }
  const wt_window w = wt_window_of(op, in, out);
  const wt_bands bands = wt_row_bands(out->dims[1], call->pool);
  if (dq_takes(&w)) {
    const dq_job quads = {.call = call, .w = w, .bands = bands};
    wt_parallel_for(call->pool, (in->dims[3] + 63) / 64 * bands.count, dq_task, (void *)&quads);
    return;
  }
  const dw_job job = {
      .call = call,
      .bands = bands,
      .geometry = {
          .w = w, .zy = _mm512_set1_epi16((short)out->zero_point),
          .low = _mm256_set1_epi8((char)op->act_min), .high = _mm256_set1_epi8((char)op->act_max),
          .zx = _mm256_set1_epi8((char)in->zero_point),
      },
  };
  wt_parallel_for(call->pool, (in->dims[3] + 31) / 32 * bands.count, dw_task, (void *)&job);
}

/* ---- add: the AVX2 recipe on 32 bytes at a time; the tail goes through the reference. */
WT_AVX512 void wt_qu8_add__avx512vnni(const wt_op_call *call) {
  const wt_op *op = call->op;
  const int32_t *p = op->params;
  const size_t count = call->out->byte_size;
  const int32_t mults[3] = {p[WT_P_ADD_MULT_A], p[WT_P_ADD_MULT_B], p[WT_P_ADD_MULT]};
  const int32_t shifts[3] = {p[WT_P_ADD_SHIFT_A], p[WT_P_ADD_SHIFT_B], p[WT_P_ADD_SHIFT]};
  wt_requant_avx512 r[3];
  for (int k = 0; k < 3; k++) {
    int32_t m[16], s[16];
    for (int i = 0; i < 16; i++) m[i] = mults[k], s[i] = shifts[k];
    r[k] = wt_requant_avx512_load(m, s, 16);
  }
  const __m512i za = _mm512_set1_epi32(call->in[0]->zero_point), zb = _mm512_set1_epi32(call->in[1]->zero_point);
  const __m512i zy16 = _mm512_set1_epi16((short)call->out->zero_point);
  const __m256i low = _mm256_set1_epi8((char)op->act_min), high = _mm256_set1_epi8((char)op->act_max);
  const __m128i left = _mm_cvtsi32_si128(p[WT_P_ADD_LEFT_SHIFT]);
  size_t i = 0;
  for (; i + 32 <= count; i += 32) {
    __m512i sums[2];
    for (int h = 0; h < 2; h++) {
      const __m512i a = _mm512_sll_epi32(
          _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(call->x[0] + i + 16 * h))), za), left);
      const __m512i b = _mm512_sll_epi32(
          _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(call->x[1] + i + 16 * h))), zb), left);
      sums[h] = wt_requantize_avx512(_mm512_add_epi32(wt_requantize_avx512(a, &r[0], 0), wt_requantize_avx512(b, &r[1], 0)), &r[2], 0);
    }
    _mm256_storeu_si256((__m256i *)(void *)(call->y + i), wt_output32_avx512(sums[0], sums[1], zy16, low, high));
  }
  wt_qu8_add_range__ref(call, i);
}

static const wt_gemm_ukernel avx512vnni = {.nr = 32, .prepare = NULL, .run = wt_qu8_gemm_8x32c4__avx512vnni};

void wt_qu8_conv__avx512vnni(const wt_op_call *call) {
  if (wt_conv_is_depthwise(call->op, call->in[0], call->out))
    wt_qu8_dwconv__avx512vnni(call);
  else
    wt_qu8_gemm_conv(call, &avx512vnni);
}

void wt_qu8_fc__avx512vnni(const wt_op_call *call) { wt_qu8_gemm_fc(call, &avx512vnni); }

const wt_kernel_set wt_kernel_set_avx512vnni = {
    .name = "avx512vnni",
    .by_kind = {[WT_OP_CONV] = wt_qu8_conv__avx512vnni, [WT_OP_FC] = wt_qu8_fc__avx512vnni,
                [WT_OP_ADD] = wt_qu8_add__avx512vnni,   [WT_OP_MUL] = wt_qu8_mul__avx2,
                [WT_OP_LUT] = wt_qu8_lut__ref,          [WT_OP_MAX_POOL] = wt_qu8_maxpool__avx2,
                [WT_OP_MEAN] = wt_qu8_mean__avx2,        [WT_OP_CONCAT] = wt_qu8_concat__ref,
                [WT_OP_RESHAPE] = wt_qu8_reshape__ref,  [WT_OP_SOFTMAX] = wt_qu8_softmax__ref,
                [WT_OP_SLICE] = wt_qu8_slice__ref,     [WT_OP_PAD] = wt_qu8_pad__ref,
                [WT_OP_RESIZE] = wt_qu8_resize__ref,   [WT_OP_CONV_TRANSPOSE] = wt_qu8_conv_transpose__ref},
};
#endif
