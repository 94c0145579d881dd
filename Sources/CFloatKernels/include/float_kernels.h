#ifndef WHITTLE_FLOAT_KERNELS_H
#define WHITTLE_FLOAT_KERNELS_H
/// Float kernels of the Engine's hot loops, in C so they can use AVX2 and FMA where the CPU has
/// them (chosen at run time) while the Swift code stays at the x86-64 baseline.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One output channel of a depthwise convolution over zero-padded phase planes.
///
/// Output (oy, ox) = clamp(bias + Σ_t weights[t] · source[oy·row_step + offsets[t] + ox], low, high)
/// for oy < out_height, ox < out_width. `source` must be readable 16 floats past every
/// offsets[t] + out_width − 1 of every row (the Engine pads its phase rows for that).
///
/// Example: a 3×3 stride-1 kernel over planes of row stride 40 has offsets
/// {0, 1, 2, 40, 41, 42, 80, 81, 82} and row_step 40.
void wt_f32_dwconv_rows(const float *source, ptrdiff_t row_step, const ptrdiff_t *offsets,
                        const float *weights, size_t taps, float bias, float low, float high,
                        size_t out_height, size_t out_width, float *output);

/// One output channel of a depthwise convolution over several images stored [H, W, N], images
/// innermost (`images` floats per pixel), written [out_height, out_width, N].
///
/// Output (oy, ox, n) = clamp(bias + Σ weights[ky·kw + kx] · padded[oy·stride_h + ky·dilation_h,
/// ox·stride_w + kx·dilation_w, n], low, high), where `padded` (scratch of
/// (top + height + bottom)·(left + width + right)·images floats, `pads` = {top, left, bottom,
/// right}) receives the input with zeros around. Each tap is one multiply-add on a vector of
/// images, whatever the plane's size. Example: 7×7 planes of 16 images with a 5×5 kernel and
/// pads 2 take 11·11·16 floats of scratch.
void wt_f32_dwconv_interleaved(const float *input, size_t height, size_t width, size_t images, const float *weights,
                               size_t kh, size_t kw, size_t stride_h, size_t stride_w, size_t dilation_h,
                               size_t dilation_w, const size_t pads[4], float bias, float low, float high,
                               size_t out_height, size_t out_width, float *padded, float *output);

/// Copies one input plane (height × width) into the zero-padded phase planes a depthwise
/// convolution reads: padded column c = column + left of padded row y + top goes to phase
/// c % stride (planes `phase_size` floats apart) at row y + top, column c / stride (rows
/// `row_stride` apart). Only those positions are written, so padding zeroed once stays zero for
/// every plane of the same shape.
/// Example: stride 2, left 1, row {1, 2, 3, 4}: phase 0 gets {·, 2, 4}, phase 1 gets {1, 3}.
void wt_f32_fill_phases(const float *plane, size_t height, size_t width, size_t top, size_t left, size_t stride,
                        size_t row_stride, size_t phase_size, float *phases);

/// The epilogue of a convolution's SGEMM: row r of `values` (rows of `count` floats, `stride`
/// apart) becomes clamp(value + bias[r] + addend, low, high), where `addend` (a residual Add
/// folded into the convolution) has the same layout as `values`. `bias` and `addend` may be NULL.
/// Example: rows {1, −2}, {3, 9}, bias {1, −1}, no addend, clamp [0, 6] → {2, 0}, {2, 6}; with
/// addend rows {1, 1}, {−5, 0} → {3, 0}, {0, 6}.
void wt_f32_bias_clamp(float *values, size_t rows, size_t count, size_t stride, const float *bias, const float *addend,
                       float low, float high);

/// A convolution's matrix product with its epilogue, for products of small depth (the Engine
/// uses SGEMM above a depth of 160): output row r = clamp(bias[r] + Σ_k weights[r·depth + k] ·
/// input row k + addend row r, low, high), every row `columns` floats long, `input` holding
/// `depth` rows. `bias` and `addend` may be NULL.
/// Example: weights {1, 2} (one row, depth 2), input rows {1, 0}, {3, −4}, bias {1}, clamp
/// [0, 6] → {6, 0} (1 + 1 + 6 = 8 clamped to 6, 1 + 0 − 8 = −7 clamped to 0).
void wt_f32_product(const float *weights, size_t rows, size_t depth, const float *input, size_t columns,
                    const float *bias, const float *addend, float low, float high, float *output);

/// The smallest and largest of `count` values, folded into *low and *high (NaNs are skipped).
/// Example: {3, −1, 2} with *low = 0, *high = 0 → *low = −1, *high = 3.
void wt_f32_min_max(const float *values, size_t count, float *low, float *high);

/// Histogram binning: value i adds 1 to tallies[(i % 4) · bins + b], with
/// b = ⌊clamp((v − origin) · inverse, 0, bins − 1)⌋ and NaN in bin 0. Four interleaved tallies
/// keep the increments from waiting on each other when most values share a bin.
/// Example: origin 0, inverse 2, bins 4: the values 0.2, 0.9, 7 land in bins 0, 1, 3.
void wt_f32_histogram(const float *values, size_t count, float origin, float inverse, size_t bins, uint32_t *tallies);

#ifdef __cplusplus
}
#endif
#endif
