#ifndef WT_CPU_FEATURES_H
#define WT_CPU_FEATURES_H
/* What the float kernels' C files share: the clamp, the tail mask, the AVX2 path's
 * availability and the run-time check that picks it (each public function calls its __avx2 variant when it is true, else its
 * __scalar one). The check runs cpuid once per file and is a load after that: the kernels call
 * it per row or per channel. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define WT_HAVE_AVX2_PATH 1
#endif
#include <stddef.h>

static inline float wt_clamp(float v, float low, float high) {
  return v < low ? low : (v > high ? high : v);
}

#ifdef WT_HAVE_AVX2_PATH
/* The mask of the first `count` (at most 8) lanes, for a row's tail. */
__attribute__((target("avx2")))
static inline __m256i wt_tail_mask(size_t count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif

static inline int wt_has_avx2_fma(void) {
#ifdef WT_HAVE_AVX2_PATH
  static int known; /* 0: not asked yet, 1: no, 2: yes */
  int answer = __atomic_load_n(&known, __ATOMIC_RELAXED);
  if (answer == 0) {
    __builtin_cpu_init();
    answer = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 2 : 1;
    __atomic_store_n(&known, answer, __ATOMIC_RELAXED);
  }
  return answer == 2;
#else
  return 0;
#endif
}

#endif
