#ifndef WT_CPU_FEATURES_H
#define WT_CPU_FEATURES_H
/* What the float kernels' C files share: the AVX2 path's availability and the run-time check
 * that picks it (each public function calls its __avx2 variant when it is true, else its
 * __scalar one). */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define WT_HAVE_AVX2_PATH 1
#endif

static inline int wt_has_avx2_fma(void) {
#ifdef WT_HAVE_AVX2_PATH
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

#endif
