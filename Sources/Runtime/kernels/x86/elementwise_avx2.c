/* Add, mul, mean and max pool with AVX2; the tails (fewer than one vector) go through the
 * reference. */
#if defined(__x86_64__) || defined(_M_X64)
#include "../kernel_set.h"
#include "requantize_avx2.h"
#include "x86_kernels.h"
#include "../window.h"

#include <string.h>

WT_AVX2 void wt_qu8_add__avx2(const wt_op_call *call) {
  const wt_op *op = call->op;
  const int32_t *p = op->params;
  const int32_t za = call->in[0]->zero_point, zb = call->in[1]->zero_point, zy = call->out->zero_point;
  const size_t count = call->out->byte_size;
  const wt_requant_avx2 ra = wt_requant_avx2_broadcast(p[WT_P_ADD_MULT_A], p[WT_P_ADD_SHIFT_A]);
  const wt_requant_avx2 rb = wt_requant_avx2_broadcast(p[WT_P_ADD_MULT_B], p[WT_P_ADD_SHIFT_B]);
  const wt_requant_avx2 ry = wt_requant_avx2_broadcast(p[WT_P_ADD_MULT], p[WT_P_ADD_SHIFT]);
  const __m128i left = _mm_cvtsi32_si128(p[WT_P_ADD_LEFT_SHIFT]);
  const __m256i va = _mm256_set1_epi32(za), vb = _mm256_set1_epi32(zb), vy = _mm256_set1_epi16((short)zy);
  const __m128i low = _mm_set1_epi8((char)op->act_min), high = _mm_set1_epi8((char)op->act_max);
  size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    __m256i sums[2];
    for (int h = 0; h < 2; h++) {
      const __m256i a = _mm256_sll_epi32(
          _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(call->x[0] + i + 8 * h))), va), left);
      const __m256i b = _mm256_sll_epi32(
          _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(call->x[1] + i + 8 * h))), vb), left);
      sums[h] = wt_requantize_avx2(_mm256_add_epi32(wt_requantize_avx2(a, &ra, 0), wt_requantize_avx2(b, &rb, 0)), &ry, 0);
    }
    _mm_storeu_si128((__m128i *)(void *)(call->y + i), wt_output16_avx2(sums[0], sums[1], vy, low, high));
  }
  wt_qu8_add_range__ref(call, i);
}

/* The second operand is the same shape or [N,1,1,C]; broadcast runs vectors when 8 divides C,
 * so 8 neighbours share one image and read 8 neighbouring channels. */
WT_AVX2 void wt_qu8_mul__avx2(const wt_op_call *call) {
  const wt_op *op = call->op;
  const size_t count = call->out->byte_size, same = call->in[1]->byte_size == count;
  const size_t channels = call->out->dims[call->out->rank - 1], plane = count / call->out->dims[0];
  const wt_requant_avx2 rq = wt_requant_avx2_broadcast(op->params[WT_P_MULT], op->params[WT_P_SHIFT]);
  const __m256i za = _mm256_set1_epi32(call->in[0]->zero_point), zb = _mm256_set1_epi32(call->in[1]->zero_point);
  const __m256i zy = _mm256_set1_epi16((short)call->out->zero_point);
  const __m128i low = _mm_set1_epi8((char)op->act_min), high = _mm_set1_epi8((char)op->act_max);
  size_t i = 0;
  if (same || channels % 8 == 0)
    for (; i + 8 <= count; i += 8) {
      const size_t j = same ? i : (i / plane) * channels + i % channels;
      const __m256i a = _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(call->x[0] + i))), za);
      const __m256i b = _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(call->x[1] + j))), zb);
      const __m256i q = wt_requantize_avx2(_mm256_mullo_epi32(a, b), &rq, 0);
      _mm_storel_epi64((__m128i *)(void *)(call->y + i), wt_output16_avx2(q, q, zy, low, high));
    }
  wt_qu8_mul_range__ref(call, i);
}

/* Mean over H and W: 8 channels at a time summed in int32 (the loader bounds H·W by 2^23). */
WT_AVX2 void wt_qu8_mean__avx2(const wt_op_call *call) {
  const wt_op *op = call->op;
  const wt_tensor *in = call->in[0];
  const size_t plane = (size_t)in->dims[1] * in->dims[2], channels = in->dims[3];
  const wt_requant_avx2 rq = wt_requant_avx2_broadcast(op->params[WT_P_MULT], op->params[WT_P_SHIFT]);
  const __m256i offset = _mm256_set1_epi32((int32_t)plane * in->zero_point);
  const __m256i zy = _mm256_set1_epi16((short)call->out->zero_point);
  const __m128i low = _mm_set1_epi8((char)op->act_min), high = _mm_set1_epi8((char)op->act_max);
  for (size_t n = 0; n < in->dims[0]; n++)
    for (size_t c = 0; c < channels; c += 8) {
      const size_t count = channels - c < 8 ? channels - c : 8;
      __m256i sum = _mm256_setzero_si256();
      for (size_t i = 0; i < plane; i++) {
        uint8_t bytes[8] = {0};
        const uint8_t *x = call->x[0] + (n * plane + i) * channels + c;
        const __m128i v = count == 8 ? _mm_loadl_epi64((const __m128i *)(const void *)x)
                                     : (memcpy(bytes, x, count), _mm_loadl_epi64((const __m128i *)(const void *)bytes));
        sum = _mm256_add_epi32(sum, _mm256_cvtepu8_epi32(v));
      }
      const __m256i q = wt_requantize_avx2(_mm256_sub_epi32(sum, offset), &rq, 0);
      uint8_t out[16];
      _mm_storeu_si128((__m128i *)(void *)out, wt_output16_avx2(q, q, zy, low, high));
      memcpy(call->y + n * channels + c, out, count);
    }
}

WT_AVX2 void wt_qu8_maxpool__avx2(const wt_op_call *call) {
  const wt_op *op = call->op;
  const wt_window w = wt_window_of(op, call->in[0], call->out);
  const __m256i low = _mm256_set1_epi8((char)op->act_min), high = _mm256_set1_epi8((char)op->act_max);
  for (size_t n = 0; n < w.batch; n++)
    for (size_t oy = 0; oy < w.out_h; oy++)
      for (size_t ox = 0; ox < w.out_w; ox++) {
        const uint8_t *pixels[64];
        const size_t valid = wt_window_pixels(&w, call->x[0], n, oy, ox, pixels, 64);
        if (valid > 64) { /* windows past 64 taps: the reference */
          wt_qu8_maxpool__ref(call);
          return;
        }
        uint8_t *y = call->y + ((n * w.out_h + oy) * w.out_w + ox) * w.channels;
        size_t c = 0;
        for (; c + 32 <= w.channels; c += 32) {
          __m256i best = _mm256_setzero_si256();
          for (size_t t = 0; t < valid; t++) best = _mm256_max_epu8(best, _mm256_loadu_si256((const __m256i *)(const void *)(pixels[t] + c)));
          _mm256_storeu_si256((__m256i *)(void *)(y + c), _mm256_max_epu8(_mm256_min_epu8(best, high), low));
        }
        for (; c < w.channels; c++) {
          int32_t best = 0;
          for (size_t t = 0; t < valid; t++) best = pixels[t][c] > best ? pixels[t][c] : best;
          y[c] = wt_clamp_u8(best, op->act_min, op->act_max);
        }
      }
}

const wt_kernel_set wt_kernel_set_avx2 = {
    .name = "avx2",
    .by_kind = {[WT_OP_CONV] = wt_qu8_conv__avx2,       [WT_OP_FC] = wt_qu8_fc__avx2,
                [WT_OP_ADD] = wt_qu8_add__avx2,         [WT_OP_MUL] = wt_qu8_mul__avx2,
                [WT_OP_LUT] = wt_qu8_lut__ref,          [WT_OP_MAX_POOL] = wt_qu8_maxpool__avx2,
                [WT_OP_MEAN] = wt_qu8_mean__avx2,        [WT_OP_CONCAT] = wt_qu8_concat__ref,
                [WT_OP_RESHAPE] = wt_qu8_reshape__ref,  [WT_OP_SOFTMAX] = wt_qu8_softmax__ref,
                [WT_OP_SLICE] = wt_qu8_slice__ref,     [WT_OP_PAD] = wt_qu8_pad__ref,
                [WT_OP_RESIZE] = wt_qu8_resize__ref,   [WT_OP_CONV_TRANSPOSE] = wt_qu8_conv_transpose__ref},
};

const wt_kernel_set wt_kernel_set_avxvnni = {
    .name = "avxvnni",
    .by_kind = {[WT_OP_CONV] = wt_qu8_conv__avxvnni,    [WT_OP_FC] = wt_qu8_fc__avxvnni,
                [WT_OP_ADD] = wt_qu8_add__avx2,         [WT_OP_MUL] = wt_qu8_mul__avx2,
                [WT_OP_LUT] = wt_qu8_lut__ref,          [WT_OP_MAX_POOL] = wt_qu8_maxpool__avx2,
                [WT_OP_MEAN] = wt_qu8_mean__avx2,        [WT_OP_CONCAT] = wt_qu8_concat__ref,
                [WT_OP_RESHAPE] = wt_qu8_reshape__ref,  [WT_OP_SOFTMAX] = wt_qu8_softmax__ref,
                [WT_OP_SLICE] = wt_qu8_slice__ref,     [WT_OP_PAD] = wt_qu8_pad__ref,
                [WT_OP_RESIZE] = wt_qu8_resize__ref,   [WT_OP_CONV_TRANSPOSE] = wt_qu8_conv_transpose__ref},
};
#endif
