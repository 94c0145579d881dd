#ifndef WT_CPU_FEATURES_H
#define WT_CPU_FEATURES_H
/* What the float kernels' C files share: the AVX2 path's availability and the run-time check
 * that picks it (each public function calls its __avx2 variant when it is true, else its
 * __scalar one). The check runs cpuid once per file and is a load after that: the kernels call
 * it per row or per channel. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define WT_HAVE_AVX2_PATH 1
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
