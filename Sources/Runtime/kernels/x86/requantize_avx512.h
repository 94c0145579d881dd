#ifndef WT_REQUANTIZE_AVX512_H
#define WT_REQUANTIZE_AVX512_H
/* wt_requantize on 16 int32 lanes with AVX-512, bit for bit the reference. AVX-512 has signed
 * 64-bit shifts, so no magnitudes are needed:
 * - SaturatingRoundingDoublingHighMul is trunc((p + nudge) / 2^31) with nudge 2^30 for p ≥ 0 and
 *   1 − 2^30 below; for p < 0, trunc(X / 2^31) = floor((X + 2^31 − 1) / 2^31), so both signs
 *   give h = floor((p + 2^30) / 2^31).
 * - RoundingDivideByPOT by r ≥ 1 rounds half away from zero: floor((h + half) / 2^r) for h ≥ 0,
 *   floor((h + half − 1) / 2^r) for h < 0 (half = 2^(r−1)); r = 0 leaves h.
 * - floor(floor(x) + c) / 2^r = floor((x + c) / 2^r) for integer c, so one add and one
 *   arithmetic shift of the 64-bit product do both:
 *   (p + 2^30 + half·2^31 − [p < −2^30]·[r ≥ 1]·2^31) >> (31 + r)   (h < 0 ⟺ p < −2^30).
 * Example: a = −3, m = 2^30, r = 1: p = −3·2^30; (−3·2^30 + 2^30 + 2^31 − 2^31) >> 32 = −1,
 * the reference's −1 (h = −1, then −1/2 rounded away from zero). */

#include <immintrin.h>
#include <stdint.h>

#define WT_AVX512 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))

typedef struct {
  __m512i multiplier, multiplier_odd; /* m in the low half of each 64-bit lane */
  __m512i offset_even, offset_odd;    /* 2^30 + half·2^31 */
  __m512i minus_even, minus_odd;      /* [r ≥ 1]·2^31 */
  __m512i shift_even, shift_odd;      /* 31 + r */
  __m512i left;
  int any_left;
} wt_requant_avx512;

/* Constants of `count` ≤ 16 channels; lanes past count are zero and read nothing. */
static inline WT_AVX512 wt_requant_avx512 wt_requant_avx512_load(const int32_t *multiplier, const int32_t *shift, size_t count) {
  const __mmask16 valid = (__mmask16)(count >= 16 ? 0xffff : (1u << count) - 1);
  const __m512i zero = _mm512_setzero_si512();
  const __m512i s = _mm512_maskz_loadu_epi32(valid, shift), m = _mm512_maskz_loadu_epi32(valid, multiplier);
  const __m512i left = _mm512_max_epi32(s, zero), right = _mm512_max_epi32(_mm512_sub_epi32(zero, s), zero);
  const __m512i half = _mm512_srli_epi32(_mm512_sllv_epi32(_mm512_set1_epi32(1), right), 1);
  const __m512i rounds = _mm512_min_epi32(right, _mm512_set1_epi32(1)); /* [r ≥ 1] */
  const __m512i base = _mm512_set1_epi64((int64_t)1 << 30), low32 = _mm512_set1_epi64(0xffffffffLL);
  wt_requant_avx512 q = {
      m, _mm512_srli_epi64(m, 32),
      _mm512_add_epi64(_mm512_slli_epi64(_mm512_and_si512(half, low32), 31), base),
      _mm512_add_epi64(_mm512_slli_epi64(_mm512_srli_epi64(half, 32), 31), base),
      _mm512_slli_epi64(_mm512_and_si512(rounds, low32), 31), _mm512_slli_epi64(_mm512_srli_epi64(rounds, 32), 31),
      _mm512_add_epi64(_mm512_and_si512(right, low32), _mm512_set1_epi64(31)),
      _mm512_add_epi64(_mm512_srli_epi64(right, 32), _mm512_set1_epi64(31)),
      left, _mm512_test_epi32_mask(left, left) != 0,
  };
  return q;
}

/* The rounding of one 64-bit product lane set (even or odd lanes).
 *
 * `negatives_clamped` (a constant, so the unused branch compiles away): the caller's clamp
 * starts at or above the output zero point (a ReLU folded in), so every q ≤ 0 becomes the same
 * byte. The correction for negative products is then skipped: without it a product p < 0 still
 * gives q ≤ 0, since p + 2^30 + half·2^31 < 2^30 + 2^(30+r) ≤ 2^(31+r) (half = 0 when r = 0).
 * Example: p = −3·2^30, r = 1: q = −1 with the correction, 0 without; both clamp to the same byte. */
static inline WT_AVX512 __m512i wt_round_product_avx512(__m512i p, __m512i offset, __m512i minus, __m512i shift,
                                                        int negatives_clamped) {
  const __m512i sum = _mm512_add_epi64(p, offset);
  if (negatives_clamped) return _mm512_srav_epi64(sum, shift);
  const __mmask8 below = _mm512_cmplt_epi64_mask(p, _mm512_set1_epi64(-((int64_t)1 << 30)));
  return _mm512_srav_epi64(_mm512_mask_sub_epi64(sum, below, sum, minus), shift);
}

static inline WT_AVX512 __m512i wt_requantize_avx512(__m512i a, const wt_requant_avx512 *q, int negatives_clamped) {
  if (q->any_left) { /* a << left, saturating to int32 */
    const __m512i shifted = _mm512_sllv_epi32(a, q->left);
    const __mmask16 exact = _mm512_cmpeq_epi32_mask(_mm512_srav_epi32(shifted, q->left), a);
    a = _mm512_mask_blend_epi32(exact, _mm512_xor_si512(_mm512_set1_epi32(INT32_MAX), _mm512_srai_epi32(a, 31)), shifted);
  }
  const __m512i even = wt_round_product_avx512(_mm512_mul_epi32(a, q->multiplier), q->offset_even, q->minus_even, q->shift_even,
                                               negatives_clamped);
  /* The odd lanes move to the even positions and back with in-lane shuffles (shuffle port),
   * leaving the shift port to the rounding shifts. */
  const __m512i odd = wt_round_product_avx512(_mm512_mul_epi32(_mm512_shuffle_epi32(a, (_MM_PERM_ENUM)0xF5), q->multiplier_odd),
                                              q->offset_odd, q->minus_odd, q->shift_odd, negatives_clamped);
  return _mm512_mask_shuffle_epi32(even, 0xAAAA, odd, (_MM_PERM_ENUM)0xA0);
}

/* clamp(zy + q, low, high) for 32 requantized lanes (two vectors) as 32 bytes in order.
 * Saturating packs and adds give the reference's result: zy and the bounds lie in 0…255. */
static inline WT_AVX512 __m256i wt_output32_avx512(__m512i q0, __m512i q1, __m512i zero_point16, __m256i low, __m256i high) {
  /* packs interleaves 128-bit lanes: [q0 0-3, q1 0-3 | q0 4-7, q1 4-7 | …]; put q0's first. */
  const __m512i order = _mm512_set_epi64(7, 5, 3, 1, 6, 4, 2, 0);
  const __m512i words = _mm512_adds_epi16(_mm512_permutexvar_epi64(order, _mm512_packs_epi32(q0, q1)), zero_point16);
  const __m256i bytes = _mm512_cvtusepi16_epi8(_mm512_max_epi16(words, _mm512_setzero_si512()));
  return _mm256_max_epu8(_mm256_min_epu8(bytes, high), low);
}

/* clamp(zy + q, low, high) for 16 requantized lanes, as 16 bytes. q is bounded first so the
 * sum cannot overflow; the bounds lie in 0…255. */
static inline WT_AVX512 __m128i wt_output16_avx512(__m512i q, __m512i zero_point, __m512i low, __m512i high) {
  q = _mm512_max_epi32(_mm512_min_epi32(q, _mm512_set1_epi32(1024)), _mm512_set1_epi32(-1024));
  return _mm512_cvtepi32_epi8(_mm512_max_epi32(_mm512_min_epi32(_mm512_add_epi32(q, zero_point), high), low));
}

#endif
