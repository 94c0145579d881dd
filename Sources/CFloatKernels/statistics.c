/* Calibration statistics: min/max and histogram binning of activation values. */
#include "cpu_features.h"
#include "float_kernels.h"

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
