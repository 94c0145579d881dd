#ifndef WT_REQUANTIZE_AVX2_H
#define WT_REQUANTIZE_AVX2_H
/* wt_requantize (kernel.h) on 8 int32 lanes, bit for bit, with per-lane multiplier and
 * shift. Only x86-64 translation units include this; every function carries the AVX2 target.
 *
 * The reference rounds twice: SaturatingRoundingDoublingHighMul, t = (p + nudge) / 2^31
 * truncated (p = a·m, nudge ±2^30), then RoundingDivideByPOT by r, round half away from zero.
 * With m ≥ 0 (the loader checks) both are sign(a) times a rounding of |a|, and
 * floor((floor(X / 2^31) + h) / 2^r) = floor((X + h·2^31) / 2^(31+r)), so
 *   result = sign(a) · ((|a|·m + 2^30 − [a < 0] + h·2^31) >> (31 + r)),  h = 2^r / 2 rounded down,
 * one 64-bit add and one variable shift per lane. Example: a = −3, m = 2^30 (×0.5), r = 1:
 * (3·2^30 + 2^30 − 1 + 2^31) >> 32 = (2^32 + 2^31 − 1) >> 32 = 1, so −1. The reference: t =
 * (−3·2^30 + 1 − 2^30) / 2^31 = −1.99… → −1, then −1 / 2 = −0.5, half away from zero → −1. */

#include <immintrin.h>
#include <stdint.h>

#define WT_AVX2 __attribute__((target("avx2,fma")))

/* Per-lane constants, even and odd lanes apart for the 32×32→64 multiplies. */
typedef struct {
  __m256i multiplier, multiplier_odd; /* m in the low half of each 64-bit lane */
  __m256i offset_even, offset_odd;    /* 2^30 + h·2^31 */
  __m256i shift_even, shift_odd;      /* 31 + r */
  __m256i left;                       /* the left shift (shift > 0) */
  int any_left;
} wt_requant_avx2;

static inline WT_AVX2 wt_requant_avx2 wt_requant_avx2_load(const int32_t *multiplier, const int32_t *shift) {
  const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
  const __m256i s = _mm256_loadu_si256((const __m256i *)(const void *)shift);
  const __m256i left = _mm256_max_epi32(s, zero), right = _mm256_max_epi32(_mm256_sub_epi32(zero, s), zero);
  /* h·2^31 + 2^30 = ((2^r >> 1) << 31) + 2^30, built in 64-bit lanes from each 32-bit half. */
  const __m256i half = _mm256_srli_epi32(_mm256_sllv_epi32(one, right), 1);
  const __m256i base = _mm256_set1_epi64x((int64_t)1 << 30), low32 = _mm256_set1_epi64x(0xffffffffLL);
  const __m256i m = _mm256_loadu_si256((const __m256i *)(const void *)multiplier);
  wt_requant_avx2 q = {
      m, _mm256_srli_epi64(m, 32),
      _mm256_add_epi64(_mm256_slli_epi64(_mm256_and_si256(half, low32), 31), base),
      _mm256_add_epi64(_mm256_slli_epi64(_mm256_srli_epi64(half, 32), 31), base),
      _mm256_add_epi64(_mm256_and_si256(right, low32), _mm256_set1_epi64x(31)),
      _mm256_add_epi64(_mm256_srli_epi64(right, 32), _mm256_set1_epi64x(31)),
      left, !_mm256_testz_si256(left, left),
  };
  return q;
}

static inline WT_AVX2 wt_requant_avx2 wt_requant_avx2_broadcast(int32_t multiplier, int32_t shift) {
  int32_t m[8], s[8];
  for (int i = 0; i < 8; i++) m[i] = multiplier, s[i] = shift;
  return wt_requant_avx2_load(m, s);
}

/* `negatives_clamped` (a constant, so the unused branch compiles away): the caller's clamp
 * starts at or above the output zero point (a ReLU folded in), so every q ≤ 0 becomes the same
 * byte, and a negative a, whose q is ≤ 0, may be rounded as 0: no signs to carry. */
static inline WT_AVX2 __m256i wt_requantize_avx2(__m256i a, const wt_requant_avx2 *q, int negatives_clamped) {
  const __m256i zero = _mm256_setzero_si256();
  if (q->any_left) { /* a << left, saturating to int32 */
    const __m256i shifted = _mm256_sllv_epi32(a, q->left);
    const __m256i exact = _mm256_cmpeq_epi32(_mm256_srav_epi32(shifted, q->left), a);
    a = _mm256_blendv_epi8(_mm256_xor_si256(_mm256_set1_epi32(INT32_MAX), _mm256_srai_epi32(a, 31)), shifted, exact);
  }
  if (negatives_clamped) {
    const __m256i positive = _mm256_max_epi32(a, zero);
    const __m256i even = _mm256_srlv_epi64(_mm256_add_epi64(_mm256_mul_epu32(positive, q->multiplier), q->offset_even), q->shift_even);
    const __m256i odd = _mm256_srlv_epi64(
        _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(positive, 32), q->multiplier_odd), q->offset_odd), q->shift_odd);
    return _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  }
  const __m256i negative = _mm256_cmpgt_epi32(zero, a);
  const __m256i magnitude = _mm256_abs_epi32(a); /* INT32_MIN gives 2^31, read unsigned */
  /* −[a < 0] as a 64-bit −1 or 0 per lane. */
  const __m256i minus_even = _mm256_shuffle_epi32(negative, 0xA0), minus_odd = _mm256_shuffle_epi32(negative, 0xF5);
  const __m256i even = _mm256_srlv_epi64(
      _mm256_add_epi64(_mm256_add_epi64(_mm256_mul_epu32(magnitude, q->multiplier), q->offset_even), minus_even), q->shift_even);
  const __m256i odd = _mm256_srlv_epi64(
      _mm256_add_epi64(_mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(magnitude, 32), q->multiplier_odd), q->offset_odd),
                       minus_odd),
      q->shift_odd);
  return _mm256_sign_epi32(_mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA), a);
}

/* clamp(zy + q, low, high) for 16 requantized lanes, as 16 bytes in lane order. Saturating
 * packs and adds give the reference's result: zy and the clamp bounds lie in 0…255. */
static inline WT_AVX2 __m128i wt_output16_avx2(__m256i q0, __m256i q1, __m256i zero_point16, __m128i low, __m128i high) {
  const __m256i words = _mm256_adds_epi16(_mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xD8), zero_point16);
  const __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
  return _mm_max_epu8(_mm_min_epu8(bytes, high), low);
}

#endif
