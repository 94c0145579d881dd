/* Depthwise convolution with AVX2: 16 channels at a time, taps taken in pairs so vpmaddwd sums
 * two products per channel exactly (u8 and s8 widened to int16 first). Channel blocks are the
 * outer loop so each block's widened weights and requantization constants are prepared once;
 * 3×3 and 5×5 windows get their own unrolled copy of the pixel loop. */
#if defined(__x86_64__) || defined(_M_X64)
#include <string.h>

#include "../packing.h"
#include "../parallel.h"
#include "../window.h"
#include "requantize_avx2.h"
#include "x86_kernels.h"

#define MAX_TAPS 25u
#define MAX_PAIRS ((MAX_TAPS + 1) / 2)

/* Bytes [0, count) of 16 from p, zero-filled past count, never reading past them. */
static inline WT_AVX2 __m128i load16(const uint8_t *p, size_t count) {
  if (count >= 16) return _mm_loadu_si128((const __m128i *)(const void *)p);
  uint8_t copy[16] = {0};
  memcpy(copy, p, count);
  return _mm_loadu_si128((const __m128i *)(const void *)copy);
}

/* One channel block of a depthwise conv, everything prepared. */
typedef struct {
  const uint8_t *x;
  uint8_t *y;
  wt_window w;
  size_t count;
  __m256i w_lo[MAX_PAIRS], w_hi[MAX_PAIRS], bias_lo, bias_hi, zy;
  wt_requant_avx2 rq_lo, rq_hi;
  __m128i zx, low, high;
} block;

static inline __attribute__((always_inline)) WT_AVX2 void run_block(const block *b, size_t kh, size_t kw, size_t oy0, size_t oy1,
                                                                     int clamped) {
  const size_t taps = kh * kw, pairs = (taps + 1) / 2;
  for (size_t n = 0; n < b->w.batch; n++)
    for (size_t oy = oy0; oy < oy1; oy++) {
      const uint8_t *rows[MAX_TAPS];
      for (size_t ky = 0; ky < kh; ky++) {
        const ptrdiff_t iy = (ptrdiff_t)(oy * b->w.stride_h + ky * b->w.dilation_h) - (ptrdiff_t)b->w.pad_top;
        rows[ky] = iy < 0 || iy >= (ptrdiff_t)b->w.height ? NULL : b->x + (n * b->w.height + (size_t)iy) * b->w.width * b->w.channels;
      }
      uint8_t *y = b->y + (n * b->w.out_h + oy) * b->w.out_w * b->w.channels;
      /* Pixels whose whole window lies inside the input take the fast path: no checks, full
       * 16-channel loads, straight from the rows. */
      int rows_inside = b->count == 16;
      for (size_t ky = 0; ky < kh; ky++) rows_inside &= rows[ky] != NULL;
      const size_t span = (kw - 1) * b->w.dilation_w;
      size_t inside_lo = (b->w.pad_left + b->w.stride_w - 1) / b->w.stride_w, inside_hi = 0;
      if (rows_inside && b->w.width + b->w.pad_left > span) inside_hi = (b->w.width + b->w.pad_left - span - 1) / b->w.stride_w + 1;
      if (inside_hi > b->w.out_w) inside_hi = b->w.out_w;
      if (inside_lo > inside_hi) inside_lo = inside_hi;
      for (size_t ox = inside_lo; ox < inside_hi; ox++) {
        const size_t column = (ox * b->w.stride_w - b->w.pad_left) * b->w.channels, step = b->w.dilation_w * b->w.channels;
        __m256i acc_lo = b->bias_lo, acc_hi = b->bias_hi;
        WT_UNROLL
        for (size_t i = 0; i < pairs; i++) {
          const size_t t0 = 2 * i, t1 = 2 * i + 1;
          const __m128i xa = _mm_loadu_si128((const __m128i *)(const void *)(rows[t0 / kw] + column + (t0 % kw) * step));
          const __m128i xb =
              t1 < taps ? _mm_loadu_si128((const __m128i *)(const void *)(rows[t1 / kw] + column + (t1 % kw) * step)) : b->zx;
          acc_lo = _mm256_add_epi32(acc_lo, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(xa, xb)), b->w_lo[i]));
          acc_hi = _mm256_add_epi32(acc_hi, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpackhi_epi8(xa, xb)), b->w_hi[i]));
        }
        _mm_storeu_si128((__m128i *)(void *)(y + ox * b->w.channels),
                         wt_output16_avx2(wt_requantize_avx2(acc_lo, &b->rq_lo, clamped), wt_requantize_avx2(acc_hi, &b->rq_hi, clamped), b->zy,
                                          b->low, b->high));
      }
      for (size_t ox = 0; ox < b->w.out_w; ox++) {
        if (ox == inside_lo && inside_hi > inside_lo) ox = inside_hi;
        if (ox >= b->w.out_w) break;
        __m128i x[2 * MAX_PAIRS];
        for (size_t kx = 0; kx < kw; kx++) {
          const ptrdiff_t ix = (ptrdiff_t)(ox * b->w.stride_w + kx * b->w.dilation_w) - (ptrdiff_t)b->w.pad_left;
          const int inside = ix >= 0 && ix < (ptrdiff_t)b->w.width;
          for (size_t ky = 0; ky < kh; ky++)
            x[ky * kw + kx] = inside && rows[ky] != NULL ? load16(rows[ky] + (size_t)ix * b->w.channels, b->count) : b->zx;
        }
        x[taps] = b->zx;
        __m256i acc_lo = b->bias_lo, acc_hi = b->bias_hi;
        for (size_t i = 0; i < pairs; i++) {
          acc_lo = _mm256_add_epi32(acc_lo, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(x[2 * i], x[2 * i + 1])), b->w_lo[i]));
          acc_hi = _mm256_add_epi32(acc_hi, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpackhi_epi8(x[2 * i], x[2 * i + 1])), b->w_hi[i]));
        }
        const __m128i bytes = wt_output16_avx2(wt_requantize_avx2(acc_lo, &b->rq_lo, clamped), wt_requantize_avx2(acc_hi, &b->rq_hi, clamped), b->zy,
                                               b->low, b->high);
        uint8_t *out = y + ox * b->w.channels;
        if (b->count == 16) {
          _mm_storeu_si128((__m128i *)(void *)out, bytes);
        } else {
          uint8_t copy[16];
          _mm_storeu_si128((__m128i *)(void *)copy, bytes);
          memcpy(out, copy, b->count);
        }
      }
    }
}

/* Copies for the common windows, each with and without a clamp at or above the zero point. */
static WT_AVX2 void run_3x3(const block *b, size_t oy0, size_t oy1, int clamped) {
  if (clamped) run_block(b, 3, 3, oy0, oy1, 1); else run_block(b, 3, 3, oy0, oy1, 0);
}
static WT_AVX2 void run_5x5(const block *b, size_t oy0, size_t oy1, int clamped) {
  if (clamped) run_block(b, 5, 5, oy0, oy1, 1); else run_block(b, 5, 5, oy0, oy1, 0);
}
static WT_AVX2 void run_any(const block *b, size_t kh, size_t kw, size_t oy0, size_t oy1) { run_block(b, kh, kw, oy0, oy1, 0); }

/* Constants of channels [c, c + count) of 16, zero-padded past count. */
static void copy_constants(const int32_t *from, size_t count, int32_t to[16]) {
  memset(to, 0, 16 * sizeof(int32_t));
  memcpy(to, from, count * sizeof(int32_t));
}

/* The op, split into tasks of one 16-channel block × one band of output rows. */
typedef struct {
  const wt_op_call *call;
  block geometry;
  wt_bands bands;
} job;

static WT_AVX2 void task(void *context, size_t index, size_t thread) {
  (void)thread;
  const job *j = (const job *)context;
  const uint8_t *weights = j->call->weights;
  const int32_t *bias = wt_op_int32s(j->call, WT_B_BIAS);
  const int32_t *mult = wt_op_int32s(j->call, WT_B_MULTIPLIER);
  const int32_t *shift = wt_op_int32s(j->call, WT_B_SHIFT);
  block b = j->geometry;
  const size_t kh = b.w.kh, kw = b.w.kw, taps = kh * kw, c = index / j->bands.count * 16;
  b.count = b.w.channels - c < 16 ? b.w.channels - c : 16;
  b.x = j->call->x[0] + c;
  b.y = j->call->y + c;
  /* Weights of taps 2i and 2i+1 interleaved per channel, [w0a w0b w1a w1b …], as int16. */
  for (size_t i = 0; i < (taps + 1) / 2; i++) {
    const __m128i wa = load16(weights + 2 * i * b.w.channels + c, b.count);
    const __m128i wb = 2 * i + 1 < taps ? load16(weights + (2 * i + 1) * b.w.channels + c, b.count) : _mm_setzero_si128();
    b.w_lo[i] = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(wa, wb));
    b.w_hi[i] = _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(wa, wb));
  }
  int32_t bias16[16], mult16[16], shift16[16];
  copy_constants(bias + c, b.count, bias16);
  copy_constants(mult + c, b.count, mult16);
  copy_constants(shift + c, b.count, shift16);
  b.bias_lo = _mm256_loadu_si256((const __m256i *)(const void *)bias16);
  b.bias_hi = _mm256_loadu_si256((const __m256i *)(const void *)(bias16 + 8));
  b.rq_lo = wt_requant_avx2_load(mult16, shift16);
  b.rq_hi = wt_requant_avx2_load(mult16 + 8, shift16 + 8);
  size_t oy0, oy1;
  wt_band_rows(&j->bands, index % j->bands.count, &oy0, &oy1);
  const int clamped = wt_clamps_negatives(j->call->op->act_min, j->call->out->zero_point);
  if (kh == 3 && kw == 3)
    run_3x3(&b, oy0, oy1, clamped);
  else if (kh == 5 && kw == 5)
    run_5x5(&b, oy0, oy1, clamped);
  else
    run_any(&b, kh, kw, oy0, oy1);
}

WT_AVX2 void wt_qu8_dwconv__avx2(const wt_op_call *call) {
  const wt_op *op = call->op;
  const wt_tensor *in = call->in[0], *out = call->out;
  if ((size_t)op->params[WT_P_KH] * (size_t)op->params[WT_P_KW] > MAX_TAPS) {
    wt_qu8_conv__ref(call);
    return;
  }
  const job j = {
      .call = call,
      .bands = wt_row_bands(out->dims[1], call->pool),
      .geometry = {
          .w = wt_window_of(op, in, out), .zy = _mm256_set1_epi16((short)out->zero_point),
          .zx = _mm_set1_epi8((char)in->zero_point), .low = _mm_set1_epi8((char)op->act_min), .high = _mm_set1_epi8((char)op->act_max),
      },
  };
  wt_parallel_for(call->pool, (in->dims[3] + 15) / 16 * j.bands.count, task, (void *)&j);
}
#endif
