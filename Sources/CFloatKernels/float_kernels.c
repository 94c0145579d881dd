#include "float_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define WT_HAVE_AVX2_PATH 1
#endif

static inline float wt_clamp(float v, float low, float high) {
  return v < low ? low : (v > high ? high : v);
}

static void wt_f32_dwconv_rows__scalar(const float *source, ptrdiff_t row_step, const ptrdiff_t *offsets,
                                       const float *weights, size_t taps, float bias, float low,
                                       float high, size_t out_height, size_t out_width, float *output) {
  for (size_t oy = 0; oy < out_height; oy++) {
    const float *row = source + (ptrdiff_t)oy * row_step;
    float *out = output + oy * out_width;
    for (size_t ox = 0; ox < out_width; ox++) {
      float sum = bias;
      for (size_t t = 0; t < taps; t++) sum += weights[t] * row[offsets[t] + (ptrdiff_t)ox];
      out[ox] = wt_clamp(sum, low, high);
    }
  }
}

#ifdef WT_HAVE_AVX2_PATH
/* Eight outputs of one row starting at ox, clamped and stored (fewer at the row's end). */
__attribute__((target("avx2,fma")))
static inline void wt_store8(float *out, size_t ox, size_t out_width, __m256 v, __m256 vlow, __m256 vhigh) {
  v = _mm256_min_ps(vhigh, _mm256_max_ps(vlow, v)); /* in this order a NaN passes through */
  if (ox + 8 <= out_width) {
    _mm256_storeu_ps(out + ox, v);
  } else {
    float lanes[8];
    _mm256_storeu_ps(lanes, v);
    for (size_t i = 0; ox + i < out_width; i++) out[ox + i] = lanes[i];
  }
}

/* Two output rows at a time, sixteen columns at a time: each weight broadcast feeds four FMAs. */
__attribute__((target("avx2,fma")))
static void wt_f32_dwconv_rows__avx2(const float *source, ptrdiff_t row_step, const ptrdiff_t *offsets,
                                     const float *weights, size_t taps, float bias, float low,
                                     float high, size_t out_height, size_t out_width, float *output) {
  const __m256 vlow = _mm256_set1_ps(low), vhigh = _mm256_set1_ps(high), vbias = _mm256_set1_ps(bias);
  size_t oy = 0;
  for (; oy + 2 <= out_height; oy += 2) {
    const float *row0 = source + (ptrdiff_t)oy * row_step, *row1 = row0 + row_step;
    float *out0 = output + oy * out_width, *out1 = out0 + out_width;
    for (size_t ox = 0; ox < out_width; ox += 16) {
      __m256 a0 = vbias, b0 = vbias, a1 = vbias, b1 = vbias;
      for (size_t t = 0; t < taps; t++) {
        const __m256 w = _mm256_broadcast_ss(weights + t);
        const ptrdiff_t at = offsets[t] + (ptrdiff_t)ox;
        a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(row0 + at), a0);
        b0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(row0 + at + 8), b0);
        a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(row1 + at), a1);
        b1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(row1 + at + 8), b1);
      }
      wt_store8(out0, ox, out_width, a0, vlow, vhigh);
      wt_store8(out1, ox, out_width, a1, vlow, vhigh);
      if (ox + 8 < out_width) {
        wt_store8(out0, ox + 8, out_width, b0, vlow, vhigh);
        wt_store8(out1, ox + 8, out_width, b1, vlow, vhigh);
      }
    }
  }
  for (; oy < out_height; oy++) {
    const float *row = source + (ptrdiff_t)oy * row_step;
    float *out = output + oy * out_width;
    for (size_t ox = 0; ox < out_width; ox += 8) {
      __m256 a = vbias;
      for (size_t t = 0; t < taps; t++) {
        a = _mm256_fmadd_ps(_mm256_broadcast_ss(weights + t), _mm256_loadu_ps(row + offsets[t] + (ptrdiff_t)ox), a);
      }
      wt_store8(out, ox, out_width, a, vlow, vhigh);
    }
  }
}
#endif

static void wt_f32_deinterleave2__scalar(const float *row, size_t count, float *even, float *odd) {
  for (size_t i = 0; i < count; i++) {
    if (i % 2 == 0) even[i / 2] = row[i]; else odd[i / 2] = row[i];
  }
}

#ifdef WT_HAVE_AVX2_PATH
__attribute__((target("avx2")))
static void wt_f32_deinterleave2__avx2(const float *row, size_t count, float *even, float *odd) {
  size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    const __m256 a = _mm256_loadu_ps(row + i), b = _mm256_loadu_ps(row + i + 8);
    // shuffle gives [a0 a2 b0 b2 | a4 a6 b4 b6]; the 64-bit permute restores [a0 a2 a4 a6 b0 b2 b4 b6]
    const __m256 e = _mm256_shuffle_ps(a, b, 0x88), o = _mm256_shuffle_ps(a, b, 0xDD);
    _mm256_storeu_ps(even + i / 2, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8)));
    _mm256_storeu_ps(odd + i / 2, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), 0xD8)));
  }
  wt_f32_deinterleave2__scalar(row + i, count - i, even + i / 2, odd + i / 2);
}
#endif

static int wt_has_avx2_fma(void) {
#ifdef WT_HAVE_AVX2_PATH
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

void wt_f32_deinterleave2(const float *row, size_t count, float *even, float *odd) {
#ifdef WT_HAVE_AVX2_PATH
  if (wt_has_avx2_fma()) {
    wt_f32_deinterleave2__avx2(row, count, even, odd);
    return;
  }
#endif
  wt_f32_deinterleave2__scalar(row, count, even, odd);
}

static void wt_f32_bias_clamp__scalar(float *values, size_t rows, size_t count, size_t stride, const float *bias,
                                      float low, float high) {
  for (size_t r = 0; r < rows; r++) {
    float *row = values + r * stride;
    const float b = bias ? bias[r] : 0;
    for (size_t i = 0; i < count; i++) row[i] = wt_clamp(row[i] + b, low, high);
  }
}

#ifdef WT_HAVE_AVX2_PATH
__attribute__((target("avx2")))
static void wt_f32_bias_clamp__avx2(float *values, size_t rows, size_t count, size_t stride, const float *bias,
                                    float low, float high) {
  const __m256 vlow = _mm256_set1_ps(low), vhigh = _mm256_set1_ps(high);
  for (size_t r = 0; r < rows; r++) {
    float *row = values + r * stride;
    const float b = bias ? bias[r] : 0;
    const __m256 vb = _mm256_set1_ps(b);
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
      const __m256 v = _mm256_add_ps(_mm256_loadu_ps(row + i), vb);
      _mm256_storeu_ps(row + i, _mm256_min_ps(vhigh, _mm256_max_ps(vlow, v)));
    }
    for (; i < count; i++) row[i] = wt_clamp(row[i] + b, low, high);
  }
}
#endif

void wt_f32_bias_clamp(float *values, size_t rows, size_t count, size_t stride, const float *bias, float low,
                       float high) {
#ifdef WT_HAVE_AVX2_PATH
  if (wt_has_avx2_fma()) {
    wt_f32_bias_clamp__avx2(values, rows, count, stride, bias, low, high);
    return;
  }
#endif
  wt_f32_bias_clamp__scalar(values, rows, count, stride, bias, low, high);
}

static void wt_f32_min_max__scalar(const float *values, size_t count, float *low, float *high) {
  float lo = *low, hi = *high;
  for (size_t i = 0; i < count; i++) {
    lo = values[i] < lo ? values[i] : lo;
    hi = values[i] > hi ? values[i] : hi;
  }
  *low = lo, *high = hi;
}

/* The bin of one value; a NaN fails both comparisons and lands in bin 0. */
static inline size_t wt_bin(float v, float origin, float inverse, float last) {
  float p = (v - origin) * inverse;
  p = p > 0 ? p : 0;
  p = p < last ? p : last;
  return (size_t)p;
}

static void wt_f32_histogram__scalar(const float *values, size_t count, float origin, float inverse, size_t bins,
                                     uint32_t *tallies) {
  const float last = (float)(bins - 1);
  for (size_t i = 0; i < count; i++) tallies[(i & 3) * bins + wt_bin(values[i], origin, inverse, last)]++;
}

#ifdef WT_HAVE_AVX2_PATH
__attribute__((target("avx2")))
static void wt_f32_min_max__avx2(const float *values, size_t count, float *low, float *high) {
  __m256 lo = _mm256_set1_ps(*low), hi = _mm256_set1_ps(*high);
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256 v = _mm256_loadu_ps(values + i);
    lo = _mm256_min_ps(v, lo); /* a NaN in v gives the second operand: skipped */
    hi = _mm256_max_ps(v, hi);
  }
  float l[8], h[8];
  _mm256_storeu_ps(l, lo), _mm256_storeu_ps(h, hi);
  for (int j = 0; j < 8; j++) {
    *low = l[j] < *low ? l[j] : *low;
    *high = h[j] > *high ? h[j] : *high;
  }
  wt_f32_min_max__scalar(values + i, count - i, low, high);
}

/* Eight bins at a time computed in vectors (the same float operations as wt_bin), then counted. */
__attribute__((target("avx2")))
static void wt_f32_histogram__avx2(const float *values, size_t count, float origin, float inverse, size_t bins,
                                   uint32_t *tallies) {
  const __m256 vorigin = _mm256_set1_ps(origin), vinverse = _mm256_set1_ps(inverse);
  const __m256 zero = _mm256_setzero_ps(), vlast = _mm256_set1_ps((float)(bins - 1));
  uint32_t *t0 = tallies, *t1 = tallies + bins, *t2 = tallies + 2 * bins, *t3 = tallies + 3 * bins;
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    __m256 p = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(values + i), vorigin), vinverse);
    p = _mm256_min_ps(_mm256_max_ps(p, zero), vlast); /* max(NaN, 0) gives 0 */
    int32_t b[8];
    _mm256_storeu_si256((__m256i *)(void *)b, _mm256_cvttps_epi32(p));
    t0[b[0]]++, t1[b[1]]++, t2[b[2]]++, t3[b[3]]++;
    t0[b[4]]++, t1[b[5]]++, t2[b[6]]++, t3[b[7]]++;
  }
  wt_f32_histogram__scalar(values + i, count - i, origin, inverse, bins, tallies);
}
#endif

void wt_f32_min_max(const float *values, size_t count, float *low, float *high) {
#ifdef WT_HAVE_AVX2_PATH
  if (wt_has_avx2_fma()) {
    wt_f32_min_max__avx2(values, count, low, high);
    return;
  }
#endif
  wt_f32_min_max__scalar(values, count, low, high);
}

void wt_f32_histogram(const float *values, size_t count, float origin, float inverse, size_t bins, uint32_t *tallies) {
#ifdef WT_HAVE_AVX2_PATH
  if (wt_has_avx2_fma()) {
    wt_f32_histogram__avx2(values, count, origin, inverse, bins, tallies);
    return;
  }
#endif
  wt_f32_histogram__scalar(values, count, origin, inverse, bins, tallies);
}

typedef void (*wt_dwconv_fn)(const float *, ptrdiff_t, const ptrdiff_t *, const float *, size_t, float,
                             float, float, size_t, size_t, float *);

static wt_dwconv_fn wt_select_dwconv(void) {
#ifdef WT_HAVE_AVX2_PATH
  if (wt_has_avx2_fma()) return wt_f32_dwconv_rows__avx2;
#endif
  return wt_f32_dwconv_rows__scalar;
}

void wt_f32_dwconv_rows(const float *source, ptrdiff_t row_step, const ptrdiff_t *offsets,
                        const float *weights, size_t taps, float bias, float low, float high,
                        size_t out_height, size_t out_width, float *output) {
  static wt_dwconv_fn selected;
  wt_dwconv_fn kernel = __atomic_load_n(&selected, __ATOMIC_RELAXED);
  if (!kernel) {
    kernel = wt_select_dwconv();
    __atomic_store_n(&selected, kernel, __ATOMIC_RELAXED);
  }
  kernel(source, row_step, offsets, weights, taps, bias, low, high, out_height, out_width, output);
}
