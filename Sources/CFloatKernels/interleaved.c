/* Depthwise convolution over images stored innermost ([H, W, N]): the Engine's batch tail. */
#include <string.h>

#include "cpu_features.h"
#include "float_kernels.h"

/* The plane zero-padded into `padded`, rows of (left + width + right)·N floats. */
static void wt_pad_interleaved(const float *input, size_t height, size_t width, size_t images, size_t top, size_t left,
                               size_t bottom, size_t right, float *padded) {
  const size_t row = (left + width + right) * images;
  memset(padded, 0, top * row * sizeof(float));
  for (size_t y = 0; y < height; y++) {
    float *target = padded + (top + y) * row;
    memset(target, 0, left * images * sizeof(float));
    memcpy(target + left * images, input + y * width * images, width * images * sizeof(float));
    memset(target + (left + width) * images, 0, right * images * sizeof(float));
  }
  memset(padded + (top + height) * row, 0, bottom * row * sizeof(float));
}

static void wt_dwconv_interleaved__scalar(const float *padded, size_t row, size_t images, const float *weights,
                                          size_t kh, size_t kw, size_t sh, size_t sw, size_t dh, size_t dw, float bias,
                                          float low, float high, size_t out_height, size_t out_width, float *output) {
  for (size_t oy = 0; oy < out_height; oy++)
    for (size_t ox = 0; ox < out_width; ox++)
      for (size_t n = 0; n < images; n++) {
        float sum = bias;
        for (size_t ky = 0; ky < kh; ky++)
          for (size_t kx = 0; kx < kw; kx++)
            sum += weights[ky * kw + kx] * padded[(oy * sh + ky * dh) * row + (ox * sw + kx * dw) * images + n];
        output[(oy * out_width + ox) * images + n] = sum < low ? low : (sum > high ? high : sum);
      }
}

#ifdef WT_HAVE_AVX2_PATH
/* min(high, max(low, v)): in this order a NaN passes through */
#define WT_STORE(q, v) _mm256_storeu_ps(q, _mm256_min_ps(vhigh, _mm256_max_ps(vlow, v)))

/* Four output pixels of a row (`pixel` floats apart in the input, `images` in the output),
 * sixteen images each: eight independent sums per weight broadcast. */
__attribute__((target("avx2,fma")))
static inline void wt_dw_pixels4x16(const float *at, size_t pixel, size_t row_step, size_t tap_step, size_t kh,
                                    size_t kw, const float *weights, __m256 vbias, __m256 vlow, __m256 vhigh,
                                    float *out, size_t images) {
  __m256 a0 = vbias, b0 = vbias, a1 = vbias, b1 = vbias, a2 = vbias, b2 = vbias, a3 = vbias, b3 = vbias;
  for (size_t ky = 0; ky < kh; ky++) {
    for (size_t kx = 0; kx < kw; kx++) {
      const __m256 w = _mm256_broadcast_ss(weights + ky * kw + kx);
      const float *p = at + ky * row_step + kx * tap_step;
      a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(p), a0);
      b0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(p + 8), b0);
      a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(p + pixel), a1);
      b1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(p + pixel + 8), b1);
      a2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(p + 2 * pixel), a2);
      b2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(p + 2 * pixel + 8), b2);
      a3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(p + 3 * pixel), a3);
      b3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(p + 3 * pixel + 8), b3);
    }
  }
  WT_STORE(out, a0);
  WT_STORE(out + 8, b0);
  WT_STORE(out + images, a1);
  WT_STORE(out + images + 8, b1);
  WT_STORE(out + 2 * images, a2);
  WT_STORE(out + 2 * images + 8, b2);
  WT_STORE(out + 3 * images, a3);
  WT_STORE(out + 3 * images + 8, b3);
}

/* One output pixel, eight images at a time. */
__attribute__((target("avx2,fma")))
static inline void wt_dw_pixel8(const float *at, size_t row_step, size_t tap_step, size_t kh, size_t kw,
                                const float *weights, __m256 vbias, __m256 vlow, __m256 vhigh, float *out,
                                size_t images) {
  for (size_t n = 0; n < images; n += 8) {
    __m256 a = vbias;
    for (size_t ky = 0; ky < kh; ky++)
      for (size_t kx = 0; kx < kw; kx++)
        a = _mm256_fmadd_ps(_mm256_broadcast_ss(weights + ky * kw + kx),
                            _mm256_loadu_ps(at + ky * row_step + kx * tap_step + n), a);
    WT_STORE(out + n, a);
  }
}
#undef WT_STORE

/* Output rows in blocks of four pixels with sixteen images each (the last block of a row ends
 * at its last pixel, recomputing a few of the block before: the same values), else pixel by
 * pixel. Needs `images` a multiple of eight. */
__attribute__((target("avx2,fma")))
static void wt_dwconv_interleaved__avx2(const float *padded, size_t row, size_t images, const float *weights,
                                        size_t kh, size_t kw, size_t sh, size_t sw, size_t dh, size_t dw, float bias,
                                        float low, float high, size_t out_height, size_t out_width, float *output) {
  const __m256 vlow = _mm256_set1_ps(low), vhigh = _mm256_set1_ps(high), vbias = _mm256_set1_ps(bias);
  const size_t row_step = dh * row, tap_step = dw * images;
  const int blocks = images % 16 == 0 && out_width >= 4;
  for (size_t oy = 0; oy < out_height; oy++) {
    const float *line = padded + oy * sh * row;
    float *out = output + oy * out_width * images;
    if (!blocks) {
      for (size_t ox = 0; ox < out_width; ox++)
        wt_dw_pixel8(line + ox * sw * images, row_step, tap_step, kh, kw, weights, vbias, vlow, vhigh,
                     out + ox * images, images);
      continue;
    }
    for (size_t done = 0; done < out_width; done += 4) {
      const size_t ox = done + 4 <= out_width ? done : out_width - 4;
      for (size_t n = 0; n < images; n += 16)
        wt_dw_pixels4x16(line + ox * sw * images + n, sw * images, row_step, tap_step, kh, kw, weights, vbias, vlow,
                         vhigh, out + ox * images + n, images);
    }
  }
}
#endif

void wt_f32_dwconv_interleaved(const float *input, size_t height, size_t width, size_t images, const float *weights,
                               size_t kh, size_t kw, size_t stride_h, size_t stride_w, size_t dilation_h,
                               size_t dilation_w, const size_t pads[4], float bias, float low, float high,
                               size_t out_height, size_t out_width, float *padded, float *output) {
  wt_pad_interleaved(input, height, width, images, pads[0], pads[1], pads[2], pads[3], padded);
  const size_t row = (pads[1] + width + pads[3]) * images;
#ifdef WT_HAVE_AVX2_PATH
  if (images % 8 == 0 && wt_has_avx2_fma()) {
    wt_dwconv_interleaved__avx2(padded, row, images, weights, kh, kw, stride_h, stride_w, dilation_h, dilation_w, bias,
                                low, high, out_height, out_width, output);
    return;
  }
#endif
  wt_dwconv_interleaved__scalar(padded, row, images, weights, kh, kw, stride_h, stride_w, dilation_h, dilation_w, bias,
                                low, high, out_height, out_width, output);
}
