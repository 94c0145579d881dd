/* x86 GEMM micro-kernels (gemm_driver.h): 4 pixels × 8 channels with AVX2 (int16 panel,
 * vpmovsxbw + vpmaddwd) and 6 × 16 with AVX-VNNI (vpdpbusd). Both are exact: no intermediate
 * saturates (docs/kernels.md says why vpmaddubsw is not used). */
#if defined(__x86_64__) || defined(_M_X64)
#include <string.h>

#include "../gemm_driver.h"
#include "requantize_avx2.h"
#include "x86_kernels.h"

/* The constants of channels [column, column + 8) of a tile, copied and zero-padded when fewer
 * remain, so no read passes a blob's end. */
typedef struct {
  __m256i bias;
  wt_requant_avx2 rq;
} block_constants;

static inline WT_AVX2 block_constants load_block(const wt_gemm_tile *t, size_t column, size_t columns) {
  block_constants b;
  if (columns >= 8) {
    b.bias = _mm256_loadu_si256((const __m256i *)(const void *)(t->bias + column));
    b.rq = wt_requant_avx2_load(t->multiplier + column, t->shift + column);
    return b;
  }
  int32_t bias[8] = {0}, multiplier[8] = {0}, shift[8] = {0};
  memcpy(bias, t->bias + column, columns * 4);
  memcpy(multiplier, t->multiplier + column, columns * 4);
  memcpy(shift, t->shift + column, columns * 4);
  b.bias = _mm256_loadu_si256((const __m256i *)(const void *)bias);
  b.rq = wt_requant_avx2_load(multiplier, shift);
  return b;
}

/* The output zero point and clamp, broadcast. */
typedef struct {
  __m256i zero_point;
  __m128i low, high;
} output_constants;

static inline WT_AVX2 output_constants load_output(const wt_gemm_tile *t) {
  output_constants o = {_mm256_set1_epi16((short)t->output_zero_point), _mm_set1_epi8((char)t->act_min),
                        _mm_set1_epi8((char)t->act_max)};
  return o;
}

/* One block's accumulators requantized (bias added first). */
static inline WT_AVX2 __m256i requantize_block(__m256i acc, const block_constants *b, int clamped) {
  return wt_requantize_avx2(_mm256_add_epi32(acc, b->bias), &b->rq, clamped);
}

/* Offsets, clamps and stores one pixel's requantized channels [0, columns) (16 at most). */
static inline WT_AVX2 void store_row(uint8_t *y, __m256i q0, __m256i q1, const output_constants *o, size_t columns) {
  const __m128i bytes = wt_output16_avx2(q0, q1, o->zero_point, o->low, o->high);
  if (columns >= 16) {
    _mm_storeu_si128((__m128i *)(void *)y, bytes);
  } else if (columns == 8) {
    _mm_storel_epi64((__m128i *)(void *)y, bytes);
  } else {
    uint8_t out[16];
    _mm_storeu_si128((__m128i *)(void *)out, bytes);
    memcpy(y, out, columns);
  }
}

/* One pixel's 4 depth values, unaligned. */
static inline int64_t load64(const int16_t *p) {
  int64_t v;
  memcpy(&v, p, 8);
  return v;
}

static inline int32_t load32(const uint8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* int16 panel: each pixel's 4 depth values broadcast as one 64-bit word; each 8×4 weight tile
 * widened to two vectors of 4 channels × 4 depths; vpmaddwd leaves two partial sums per
 * channel, folded by vphaddd at the end. Accumulators are named, not an array, so every
 * compiler keeps them in registers. */
static inline __attribute__((always_inline)) WT_AVX2 void gemm_4x8(const wt_gemm_tile *t, int clamped) {
  const block_constants b = load_block(t, 0, t->columns);
  const output_constants o = load_output(t);
  const int16_t *panel = (const int16_t *)t->panel;
  for (size_t first = 0; first < t->rows; first += WT_GEMM_MR, panel += t->depth_groups * WT_GEMM_MR * 4) {
    __m256i lo0 = _mm256_setzero_si256(), lo1 = lo0, lo2 = lo0, lo3 = lo0, hi0 = lo0, hi1 = lo0, hi2 = lo0, hi3 = lo0;
    const int16_t *a = panel;
    const int8_t *w = t->weights;
    for (size_t q = 0; q < t->depth_groups; q++, a += WT_GEMM_MR * 4, w += WT_PACK_TILE) {
      const __m256i w_lo = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)w));
      const __m256i w_hi = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(w + 16)));
      const __m256i x0 = _mm256_set1_epi64x(load64(a)), x1 = _mm256_set1_epi64x(load64(a + 4));
      const __m256i x2 = _mm256_set1_epi64x(load64(a + 8)), x3 = _mm256_set1_epi64x(load64(a + 12));
      lo0 = _mm256_add_epi32(lo0, _mm256_madd_epi16(x0, w_lo)), hi0 = _mm256_add_epi32(hi0, _mm256_madd_epi16(x0, w_hi));
      lo1 = _mm256_add_epi32(lo1, _mm256_madd_epi16(x1, w_lo)), hi1 = _mm256_add_epi32(hi1, _mm256_madd_epi16(x1, w_hi));
      lo2 = _mm256_add_epi32(lo2, _mm256_madd_epi16(x2, w_lo)), hi2 = _mm256_add_epi32(hi2, _mm256_madd_epi16(x2, w_hi));
      lo3 = _mm256_add_epi32(lo3, _mm256_madd_epi16(x3, w_lo)), hi3 = _mm256_add_epi32(hi3, _mm256_madd_epi16(x3, w_hi));
    }
    /* hadd gives channels [0 1 4 5 | 2 3 6 7]; the permute puts them in order. */
    const __m256i acc[WT_GEMM_MR] = {
        _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo0, hi0), 0xD8), _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo1, hi1), 0xD8),
        _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo2, hi2), 0xD8), _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo3, hi3), 0xD8)};
    const size_t rows = t->rows - first < WT_GEMM_MR ? t->rows - first : WT_GEMM_MR;
    for (size_t r = 0; r < rows; r++) {
      const __m256i q = requantize_block(acc[r], &b, clamped);
      store_row(t->y + (first + r) * t->y_stride, q, q, &o, t->columns);
    }
  }
}

/* One copy with and without a clamp at or above the zero point (wt_requantize_avx2). */
WT_AVX2 void wt_qu8_gemm_4x8c4__avx2(const wt_gemm_tile *t) {
  if (wt_clamps_negatives(t->act_min, t->output_zero_point)) gemm_4x8(t, 1); else gemm_4x8(t, 0);
}

WT_AVX2 void wt_widen_panel__avx2(const uint8_t *panel, size_t count, void *out) {
  int16_t *dst = (int16_t *)out;
  size_t i = 0;
  for (; i + 16 <= count; i += 16)
    _mm256_storeu_si256((__m256i *)(void *)(dst + i), _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(panel + i))));
  for (; i < count; i++) dst[i] = panel[i];
}

/* uint8 panel: each pixel's 4 depth bytes broadcast as one dword; vpdpbusd sums the 4 products
 * of each channel straight into its int32 lane. The two halves of a 16-channel weight tile are
 * the two 8-channel blocks (packing pads every block to 16 channels, so both are readable).
 *
 * Tiles of 6 pixels × 16 channels: 12 accumulators, enough independent vpdpbusd to cover its
 * latency (5 cycles, 2 per cycle), where 4 × 16 left the port idle a fifth of the time. Six
 * pixels straddle the 4-pixel panels, so each has its own pointer; rows past the last read the
 * last row again and are not stored. Tails of 4, 7 or 8 pixels take 4 × 16 tiles. */
#define WT_AVXVNNI __attribute__((target("avx2,fma,avxvnni")))
static inline __attribute__((always_inline)) WT_AVXVNNI void vnni_tile(const wt_gemm_tile *t, size_t first, size_t tile_rows,
                                                                      const block_constants *c0, const block_constants *c1,
                                                                      const output_constants *o, int clamped) {
  const size_t panel_bytes = t->depth_groups * WT_GEMM_MR * 4, last = t->rows - 1;
  const uint8_t *p[6];
  for (size_t i = 0; i < tile_rows; i++) {
    const size_t row = first + i <= last ? first + i : last;
    p[i] = (const uint8_t *)t->panel + row / WT_GEMM_MR * panel_bytes + row % WT_GEMM_MR * 4;
  }
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  __m256i b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0;
  const int8_t *w = t->weights;
  for (size_t q = 0, at = 0; q < t->depth_groups; q++, at += WT_GEMM_MR * 4, w += WT_PACK_TILE) {
    const __m256i u = _mm256_loadu_si256((const __m256i *)(const void *)w);
    const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(w + 32));
    const __m256i x0 = _mm256_set1_epi32(load32(p[0] + at)), x1 = _mm256_set1_epi32(load32(p[1] + at));
    a0 = _mm256_dpbusd_avx_epi32(a0, x0, u), b0 = _mm256_dpbusd_avx_epi32(b0, x0, v);
    a1 = _mm256_dpbusd_avx_epi32(a1, x1, u), b1 = _mm256_dpbusd_avx_epi32(b1, x1, v);
    const __m256i x2 = _mm256_set1_epi32(load32(p[2] + at)), x3 = _mm256_set1_epi32(load32(p[3] + at));
    a2 = _mm256_dpbusd_avx_epi32(a2, x2, u), b2 = _mm256_dpbusd_avx_epi32(b2, x2, v);
    a3 = _mm256_dpbusd_avx_epi32(a3, x3, u), b3 = _mm256_dpbusd_avx_epi32(b3, x3, v);
    if (tile_rows > 4) {
      const __m256i x4 = _mm256_set1_epi32(load32(p[4] + at)), x5 = _mm256_set1_epi32(load32(p[5] + at));
      a4 = _mm256_dpbusd_avx_epi32(a4, x4, u), b4 = _mm256_dpbusd_avx_epi32(b4, x4, v);
      a5 = _mm256_dpbusd_avx_epi32(a5, x5, u), b5 = _mm256_dpbusd_avx_epi32(b5, x5, v);
    }
  }
  const __m256i first_half[6] = {a0, a1, a2, a3, a4, a5}, second_half[6] = {b0, b1, b2, b3, b4, b5};
  const size_t rows = t->rows - first < tile_rows ? t->rows - first : tile_rows;
  for (size_t r = 0; r < rows; r++) {
    const __m256i q0 = requantize_block(first_half[r], c0, clamped);
    store_row(t->y + (first + r) * t->y_stride, q0, t->columns > 8 ? requantize_block(second_half[r], c1, clamped) : q0, o,
              t->columns);
  }
}

static inline __attribute__((always_inline)) WT_AVXVNNI void gemm_6x16(const wt_gemm_tile *t, int clamped) {
  const block_constants c0 = load_block(t, 0, t->columns);
  const block_constants c1 = t->columns > 8 ? load_block(t, 8, t->columns - 8) : c0;
  const output_constants o = load_output(t);
  for (size_t first = 0; first < t->rows;) {
    const size_t left = t->rows - first;
    if (left == 5 || left == 6 || left > 8) { /* 8 = 4 + 4 and 7 = 4 + 3 waste less than 6 + 2 and 6 + 1 */
      vnni_tile(t, first, 6, &c0, &c1, &o, clamped);
      first += 6;
    } else {
      vnni_tile(t, first, 4, &c0, &c1, &o, clamped);
      first += 4;
    }
  }
}

WT_AVXVNNI void wt_qu8_gemm_6x16c4__avxvnni(const wt_gemm_tile *t) {
  if (wt_clamps_negatives(t->act_min, t->output_zero_point)) gemm_6x16(t, 1); else gemm_6x16(t, 0);
}

static const wt_gemm_ukernel avx2 = {.nr = 8, .prepare = wt_widen_panel__avx2, .run = wt_qu8_gemm_4x8c4__avx2};
static const wt_gemm_ukernel avxvnni = {.nr = 16, .prepare = NULL, .run = wt_qu8_gemm_6x16c4__avxvnni};

void wt_qu8_conv__avx2(const wt_op_call *call) {
  if (wt_conv_is_depthwise(call->op, call->in[0], call->out))
    wt_qu8_dwconv__avx2(call);
  else
    wt_qu8_gemm_conv(call, &avx2);
}

void wt_qu8_fc__avx2(const wt_op_call *call) { wt_qu8_gemm_fc(call, &avx2); }

void wt_qu8_conv__avxvnni(const wt_op_call *call) {
  if (wt_conv_is_depthwise(call->op, call->in[0], call->out))
    wt_qu8_dwconv__avx2(call);
  else
    wt_qu8_gemm_conv(call, &avxvnni);
}

void wt_qu8_fc__avxvnni(const wt_op_call *call) { wt_qu8_gemm_fc(call, &avxvnni); }
#endif
