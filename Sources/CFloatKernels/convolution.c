/* The Engine's convolution loops: depthwise rows, the phase-plane fill, the SGEMM epilogue. */
#include "cpu_features.h"
#include "float_kernels.h"

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
  if (ox + 8 <= out_width)
    _mm256_storeu_ps(out + ox, v);
  else
    _mm256_maskstore_ps(out + ox, wt_tail_mask(out_width - ox), v);
}

/* Output rows oy..oy + 3 of at most eight outputs each: each weight broadcast feeds four FMAs. */
__attribute__((target("avx2,fma")))
static inline void wt_dw_rows4x8(const float *row, ptrdiff_t row_step, const ptrdiff_t *offsets, const float *weights,
                                 size_t taps, __m256 vbias, __m256 vlow, __m256 vhigh, float *out, size_t out_width) {
  __m256 a0 = vbias, a1 = vbias, a2 = vbias, a3 = vbias;
  for (size_t t = 0; t < taps; t++) {
    const __m256 w = _mm256_broadcast_ss(weights + t);
    const float *at = row + offsets[t];
    a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(at), a0);
    a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(at + row_step), a1);
    a2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(at + 2 * row_step), a2);
    a3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(at + 3 * row_step), a3);
  }
  wt_store8(out, 0, out_width, a0, vlow, vhigh);
  wt_store8(out + out_width, 0, out_width, a1, vlow, vhigh);
  wt_store8(out + 2 * out_width, 0, out_width, a2, vlow, vhigh);
  wt_store8(out + 3 * out_width, 0, out_width, a3, vlow, vhigh);
}

/* Output rows oy and oy + 1, sixteen columns at a time: each weight broadcast feeds four FMAs. */
__attribute__((target("avx2,fma")))
static inline void wt_dw_rows2x16(const float *row0, ptrdiff_t row_step, const ptrdiff_t *offsets, const float *weights,
                                  size_t taps, __m256 vbias, __m256 vlow, __m256 vhigh, float *out0, size_t out_width) {
  const float *row1 = row0 + row_step;
  float *out1 = out0 + out_width;
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

/* Tiles of two rows by sixteen columns, or of four rows by eight columns when rows hold at most
 * eight outputs (7×7 planes), so no FMA works on columns past the row's end. When the row count
 * is not a multiple of the tile's, the last tile ends at the last row and recomputes a few rows
 * the one before it wrote (the same values): a lone row would be one chain of dependent FMAs,
 * 25 long for a 5×5 kernel. Planes shorter than a tile go row by row. */
__attribute__((target("avx2,fma")))
static void wt_f32_dwconv_rows__avx2(const float *source, ptrdiff_t row_step, const ptrdiff_t *offsets,
                                     const float *weights, size_t taps, float bias, float low,
                                     float high, size_t out_height, size_t out_width, float *output) {
  const __m256 vlow = _mm256_set1_ps(low), vhigh = _mm256_set1_ps(high), vbias = _mm256_set1_ps(bias);
  const size_t tile = out_width <= 8 ? 4 : 2;
  if (out_height >= tile) {
    for (size_t done = 0; done < out_height; done += tile) {
      const size_t oy = done + tile <= out_height ? done : out_height - tile;
      const float *row = source + (ptrdiff_t)oy * row_step;
      if (tile == 4)
        wt_dw_rows4x8(row, row_step, offsets, weights, taps, vbias, vlow, vhigh, output + oy * out_width, out_width);
      else
        wt_dw_rows2x16(row, row_step, offsets, weights, taps, vbias, vlow, vhigh, output + oy * out_width, out_width);
    }
    return;
  }
  for (size_t oy = 0; oy < out_height; oy++) {
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

static void wt_f32_copy_row__scalar(const float *row, size_t count, float *target) {
  for (size_t i = 0; i < count; i++) target[i] = row[i];
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

/* Eight floats at a time; the tail with a masked store, so the padding after the row stays. */
__attribute__((target("avx2")))
static void wt_f32_copy_row__avx2(const float *row, size_t count, float *target) {
  size_t i = 0;
  for (; i + 8 <= count; i += 8) _mm256_storeu_ps(target + i, _mm256_loadu_ps(row + i));
  if (i < count) {
    const __m256i mask = wt_tail_mask(count - i);
    _mm256_maskstore_ps(target + i, mask, _mm256_maskload_ps(row + i, mask));
  }
}
#endif

void wt_f32_fill_phases(const float *plane, size_t height, size_t width, size_t top, size_t left, size_t stride,
                        size_t row_stride, size_t phase_size, float *phases) {
#ifdef WT_HAVE_AVX2_PATH
  const int avx2 = wt_has_avx2_fma();
#endif
  for (size_t y = 0; y < height; y++) {
    const float *line = plane + y * width;
    float *target = phases + (y + top) * row_stride;
    if (stride == 1) {
#ifdef WT_HAVE_AVX2_PATH
      if (avx2) { wt_f32_copy_row__avx2(line, width, target + left); continue; }
#endif
      wt_f32_copy_row__scalar(line, width, target + left);
    } else if (stride == 2) {
      /* padded column c = column + left goes to phase c % 2 at c / 2 */
      float *even = left % 2 == 0 ? target : target + phase_size;
      float *odd = left % 2 == 0 ? target + phase_size : target;
#ifdef WT_HAVE_AVX2_PATH
      if (avx2) { wt_f32_deinterleave2__avx2(line, width, even + left / 2, odd + (left + 1) / 2); continue; }
#endif
      wt_f32_deinterleave2__scalar(line, width, even + left / 2, odd + (left + 1) / 2);
    } else {
      for (size_t column = 0; column < width; column++) {
        const size_t padded = column + left;
        target[(padded % stride) * phase_size + padded / stride] = line[column];
      }
    }
  }
}

static void wt_f32_bias_clamp__scalar(float *values, size_t rows, size_t count, size_t stride, const float *bias,
                                      const float *addend, float low, float high) {
  for (size_t r = 0; r < rows; r++) {
    float *row = values + r * stride;
    const float *add = addend ? addend + r * stride : NULL;
    const float b = bias ? bias[r] : 0;
    for (size_t i = 0; i < count; i++) row[i] = wt_clamp(add ? row[i] + b + add[i] : row[i] + b, low, high);
  }
}

#ifdef WT_HAVE_AVX2_PATH
__attribute__((target("avx2")))
static void wt_f32_bias_clamp__avx2(float *values, size_t rows, size_t count, size_t stride, const float *bias,
                                    const float *addend, float low, float high) {
  const __m256 vlow = _mm256_set1_ps(low), vhigh = _mm256_set1_ps(high);
  for (size_t r = 0; r < rows; r++) {
    float *row = values + r * stride;
    const float *add = addend ? addend + r * stride : NULL;
    const float b = bias ? bias[r] : 0;
    const __m256 vb = _mm256_set1_ps(b);
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
      __m256 v = _mm256_add_ps(_mm256_loadu_ps(row + i), vb);
      if (add) v = _mm256_add_ps(v, _mm256_loadu_ps(add + i));
      _mm256_storeu_ps(row + i, _mm256_min_ps(vhigh, _mm256_max_ps(vlow, v)));
    }
    for (; i < count; i++) row[i] = wt_clamp(add ? row[i] + b + add[i] : row[i] + b, low, high);
  }
}
#endif

void wt_f32_bias_clamp(float *values, size_t rows, size_t count, size_t stride, const float *bias, const float *addend,
                       float low, float high) {
#ifdef WT_HAVE_AVX2_PATH
  if (wt_has_avx2_fma()) {
    wt_f32_bias_clamp__avx2(values, rows, count, stride, bias, addend, low, high);
    return;
  }
#endif
  wt_f32_bias_clamp__scalar(values, rows, count, stride, bias, addend, low, high);
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
