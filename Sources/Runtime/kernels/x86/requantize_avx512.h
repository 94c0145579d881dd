#ifndef WT_REQUANTIZE_AVX512_H
#define WT_REQUANTIZE_AVX512_H
/* wt_requantize on 16 int32 lanes with AVX-512: the formula of requantize_avx2.h,
 *   sign(a) · ((|a|·m + 2^30 − [a < 0] + h·2^31) >> (31 + r)),
 * with mask registers for the sign and the blends. Bit for bit the reference. */

#include <immintrin.h>
#include <stdint.h>

#define WT_AVX512 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))

typedef struct {
  __m512i multiplier, multiplier_odd, offset_even, offset_odd, shift_even, shift_odd, left;
  int any_left;
} wt_requant_avx512;

/* Constants of `count` ≤ 16 channels; lanes past count are zero and read nothing. */
static inline WT_AVX512 wt_requant_avx512 wt_requant_avx512_load(const int32_t *multiplier, const int32_t *shift, size_t count) {
  const __mmask16 valid = (__mmask16)(count >= 16 ? 0xffff : (1u << count) - 1);
  const __m512i zero = _mm512_setzero_si512();
  const __m512i s = _mm512_maskz_loadu_epi32(valid, shift), m = _mm512_maskz_loadu_epi32(valid, multiplier);
  const __m512i left = _mm512_max_epi32(s, zero), right = _mm512_max_epi32(_mm512_sub_epi32(zero, s), zero);
  const __m512i half = _mm512_srli_epi32(_mm512_sllv_epi32(_mm512_set1_epi32(1), right), 1);
  const __m512i base = _mm512_set1_epi64((int64_t)1 << 30), low32 = _mm512_set1_epi64(0xffffffffLL);
  wt_requant_avx512 q = {
      m, _mm512_srli_epi64(m, 32),
      _mm512_add_epi64(_mm512_slli_epi64(_mm512_and_si512(half, low32), 31), base),
      _mm512_add_epi64(_mm512_slli_epi64(_mm512_srli_epi64(half, 32), 31), base),
      _mm512_add_epi64(_mm512_and_si512(right, low32), _mm512_set1_epi64(31)),
      _mm512_add_epi64(_mm512_srli_epi64(right, 32), _mm512_set1_epi64(31)),
      left, _mm512_test_epi32_mask(left, left) != 0,
  };
  return q;
}

static inline WT_AVX512 __m512i wt_requantize_avx512(__m512i a, const wt_requant_avx512 *q) {
  const __m512i zero = _mm512_setzero_si512();
  if (q->any_left) { /* a << left, saturating to int32 */
    const __m512i shifted = _mm512_sllv_epi32(a, q->left);
    const __mmask16 exact = _mm512_cmpeq_epi32_mask(_mm512_srav_epi32(shifted, q->left), a);
    a = _mm512_mask_blend_epi32(exact, _mm512_xor_si512(_mm512_set1_epi32(INT32_MAX), _mm512_srai_epi32(a, 31)), shifted);
  }
  const __mmask16 negative = _mm512_cmplt_epi32_mask(a, zero);
  const __m512i magnitude = _mm512_abs_epi32(a);
  /* −[a < 0] as a 64-bit −1 per lane: the sign bits of each half, spread by shuffles. */
  const __m512i minus = _mm512_srai_epi32(a, 31);
  const __m512i minus_even = _mm512_shuffle_epi32(minus, (_MM_PERM_ENUM)0xA0), minus_odd = _mm512_shuffle_epi32(minus, (_MM_PERM_ENUM)0xF5);
  const __m512i even = _mm512_srlv_epi64(
      _mm512_add_epi64(_mm512_add_epi64(_mm512_mul_epu32(magnitude, q->multiplier), q->offset_even), minus_even), q->shift_even);
  const __m512i odd = _mm512_srlv_epi64(
      _mm512_add_epi64(_mm512_add_epi64(_mm512_mul_epu32(_mm512_srli_epi64(magnitude, 32), q->multiplier_odd), q->offset_odd),
                       minus_odd),
      q->shift_odd);
  const __m512i result = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  return _mm512_mask_sub_epi32(result, negative, zero, result);
}

/* clamp(zy + q, low, high) for 16 requantized lanes, as 16 bytes. q is bounded first so the
 * sum cannot overflow; the bounds lie in 0…255. */
static inline WT_AVX512 __m128i wt_output16_avx512(__m512i q, __m512i zero_point, __m512i low, __m512i high) {
  q = _mm512_max_epi32(_mm512_min_epi32(q, _mm512_set1_epi32(1024)), _mm512_set1_epi32(-1024));
  return _mm512_cvtepi32_epi8(_mm512_max_epi32(_mm512_min_epi32(_mm512_add_epi32(q, zero_point), high), low));
}

#endif
