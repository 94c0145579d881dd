/* The Engine's convolution loops: depthwise rows, the stride-2 deinterleave, the SGEMM epilogue. */
#include "cpu_features.h"
#include "float_kernels.h"

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


void wt_f32_dwconv_rows(const float *source, ptrdiff_t row_step, const ptrdiff_t *offsets,
                        const float *weights, size_t taps, float bias, float low, float high,
                        size_t out_height, size_t out_width, float *output) {
#ifdef WT_HAVE_AVX2_PATH
  if (wt_has_avx2_fma()) {
    wt_f32_dwconv_rows__avx2(source, row_step, offsets, weights, taps, bias, low, high, out_height, out_width, output);
    return;
  }
#endif
  wt_f32_dwconv_rows__scalar(source, row_step, offsets, weights, taps, bias, low, high, out_height, out_width, output);
}
