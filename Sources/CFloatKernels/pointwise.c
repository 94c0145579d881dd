/* A matrix product with the convolution epilogue fused, for products of small depth. */
#include "cpu_features.h"
#include "float_kernels.h"

static void wt_f32_product__scalar(const float *weights, size_t rows, size_t depth, const float *input,
                                   size_t columns, const float *bias, const float *addend, float low, float high,
                                   float *output) {
  for (size_t r = 0; r < rows; r++) {
    float *out = output + r * columns;
    for (size_t j = 0; j < columns; j++) out[j] = bias ? bias[r] : 0;
    for (size_t k = 0; k < depth; k++) {
      const float w = weights[r * depth + k];
      const float *x = input + k * columns;
      for (size_t j = 0; j < columns; j++) out[j] += w * x[j];
    }
    for (size_t j = 0; j < columns; j++) out[j] = wt_clamp(out[j] + (addend ? addend[r * columns + j] : 0), low, high);
  }
}

#ifdef WT_HAVE_AVX2_PATH
#define WT_CHUNK_BYTES 131072

/* bias + addend, clamped, stored: eight columns, or the first `count` of them. */
__attribute__((target("avx2,fma")))
static inline void wt_finish8(__m256 v, const float *add, float *out, size_t count, __m256 vlow, __m256 vhigh) {
  if (count >= 8) {
    if (add) v = _mm256_add_ps(v, _mm256_loadu_ps(add));
    _mm256_storeu_ps(out, _mm256_min_ps(vhigh, _mm256_max_ps(vlow, v))); /* in this order a NaN passes through */
  } else {
    const __m256i mask = wt_tail_mask(count);
    if (add) v = _mm256_add_ps(v, _mm256_maskload_ps(add, mask));
    _mm256_maskstore_ps(out, mask, _mm256_min_ps(vhigh, _mm256_max_ps(vlow, v)));
  }
}

/* Six rows (indices r[0..5], possibly repeated) by 16 columns from column j: every column load
 * feeds six multiply-adds and every weight broadcast two, the twelve sums in registers (fifteen
 * of sixteen in use; four rows by 24 columns needs all sixteen, and clang then spills). Fewer
 * than 16 columns (`count`) use masked loads, so nothing past the row's end is read. */
__attribute__((target("avx2,fma")))
static inline void wt_product_tile(const float *weights, size_t depth, const float *input, size_t columns,
                                   const size_t r[6], const float *bias, const float *addend, __m256 vlow,
                                   __m256 vhigh, float *output, size_t j, size_t count) {
  const float *w0 = weights + r[0] * depth, *w1 = weights + r[1] * depth, *w2 = weights + r[2] * depth;
  const float *w3 = weights + r[3] * depth, *w4 = weights + r[4] * depth, *w5 = weights + r[5] * depth;
  __m256 a0, b0, a1, b1, a2, b2, a3, b3, a4, b4, a5, b5;
  a0 = b0 = _mm256_set1_ps(bias ? bias[r[0]] : 0);
  a1 = b1 = _mm256_set1_ps(bias ? bias[r[1]] : 0);
  a2 = b2 = _mm256_set1_ps(bias ? bias[r[2]] : 0);
  a3 = b3 = _mm256_set1_ps(bias ? bias[r[3]] : 0);
  a4 = b4 = _mm256_set1_ps(bias ? bias[r[4]] : 0);
  a5 = b5 = _mm256_set1_ps(bias ? bias[r[5]] : 0);
  const int full = count >= 16;
  const __m256i m0 = wt_tail_mask(count), m1 = wt_tail_mask(count > 8 ? count - 8 : 0);
  const float *x = input + j;
  for (size_t k = 0; k < depth; k++, x += columns) {
    __m256 x0, x1, w;
    if (full) {
      x0 = _mm256_loadu_ps(x), x1 = _mm256_loadu_ps(x + 8);
    } else {
      x0 = _mm256_maskload_ps(x, m0), x1 = _mm256_maskload_ps(x + 8, m1);
    }
    w = _mm256_broadcast_ss(w0 + k), a0 = _mm256_fmadd_ps(w, x0, a0), b0 = _mm256_fmadd_ps(w, x1, b0);
    w = _mm256_broadcast_ss(w1 + k), a1 = _mm256_fmadd_ps(w, x0, a1), b1 = _mm256_fmadd_ps(w, x1, b1);
    w = _mm256_broadcast_ss(w2 + k), a2 = _mm256_fmadd_ps(w, x0, a2), b2 = _mm256_fmadd_ps(w, x1, b2);
    w = _mm256_broadcast_ss(w3 + k), a3 = _mm256_fmadd_ps(w, x0, a3), b3 = _mm256_fmadd_ps(w, x1, b3);
    w = _mm256_broadcast_ss(w4 + k), a4 = _mm256_fmadd_ps(w, x0, a4), b4 = _mm256_fmadd_ps(w, x1, b4);
    w = _mm256_broadcast_ss(w5 + k), a5 = _mm256_fmadd_ps(w, x0, a5), b5 = _mm256_fmadd_ps(w, x1, b5);
  }
  const __m256 sums[6][2] = {{a0, b0}, {a1, b1}, {a2, b2}, {a3, b3}, {a4, b4}, {a5, b5}};
  for (int i = 0; i < 6; i++) {
    const float *add = addend ? addend + r[i] * columns + j : NULL;
    float *out = output + r[i] * columns + j;
    wt_finish8(sums[i][0], add, out, count, vlow, vhigh);
    if (count > 8) wt_finish8(sums[i][1], add ? add + 8 : NULL, out + 8, count - 8, vlow, vhigh);
  }
}

/* Columns in chunks of about 128 KB of input, which stay in L2 while every group of six rows
 * reads them 16 columns at a time. Without chunks, planes a multiple of 1 KB apart (12,544
 * floats at 112×112) put a column tile's rows into a few L1 sets: Lite0's 16 → 96 layer at
 * 112×112 took 1.7 ms against 1.2 ms as SGEMM and its epilogue (four rows by 24 columns,
 * gcc); in chunks 0.76 ms. When the rows are not a multiple of six, the last group ends at the
 * last row and recomputes rows the one before it wrote (the same values); fewer than six rows
 * repeat the last one. */
__attribute__((target("avx2,fma")))
static void wt_f32_product__avx2(const float *weights, size_t rows, size_t depth, const float *input, size_t columns,
                                 const float *bias, const float *addend, float low, float high, float *output) {
  const __m256 vlow = _mm256_set1_ps(low), vhigh = _mm256_set1_ps(high);
  size_t chunk = WT_CHUNK_BYTES / (depth * sizeof(float)) / 16 * 16;
  if (chunk < 16) chunk = 16;
  for (size_t start = 0; start < columns; start += chunk) {
    const size_t end = start + chunk < columns ? start + chunk : columns;
    for (size_t done = 0; done < rows; done += 6) {
      const size_t first = done + 6 <= rows ? done : (rows >= 6 ? rows - 6 : 0);
      size_t r[6];
      for (size_t i = 0; i < 6; i++) r[i] = first + i < rows ? first + i : rows - 1;
      for (size_t j = start; j < end; j += 16) {
        wt_product_tile(weights, depth, input, columns, r, bias, addend, vlow, vhigh, output, j, end - j);
      }
    }
  }
}
#endif

void wt_f32_product(const float *weights, size_t rows, size_t depth, const float *input, size_t columns,
                    const float *bias, const float *addend, float low, float high, float *output) {
#ifdef WT_HAVE_AVX2_PATH
  if (wt_has_avx2_fma()) {
    wt_f32_product__avx2(weights, rows, depth, input, columns, bias, addend, low, high, output);
    return;
  }
#endif
  wt_f32_product__scalar(weights, rows, depth, input, columns, bias, addend, low, high, output);
}
