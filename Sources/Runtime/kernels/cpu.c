#include "cpu.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <stdint.h>

static uint64_t xgetbv0(void) {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return ((uint64_t)edx << 32) | eax;
}

/* Bit 0: AVX2+FMA usable; bit 1: AVX-VNNI; bit 2: AVX-512 F/BW/VL/VNNI. Computed on every
 * call: cpuid is cheap and the interpreter asks once per init. */
static int features(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
  if (!osxsave || !avx || !fma || (xgetbv0() & 6) != 6) return 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !((b >> 5) & 1)) return 0;
  int result = 1;
  const int avx512 = ((b >> 16) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1) && ((c >> 11) & 1) && (xgetbv0() & 0xe6) == 0xe6;
  if (avx512) result |= 4;
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && ((a >> 4) & 1)) result |= 2;
  return result;
}

int wt_cpu_has_avx2(void) { return features() & 1; }
int wt_cpu_has_avxvnni(void) { return (features() & 3) == 3; }
int wt_cpu_has_avx512vnni(void) { return (features() & 5) == 5; }
#else
int wt_cpu_has_avx2(void) { return 0; }
int wt_cpu_has_avxvnni(void) { return 0; }
int wt_cpu_has_avx512vnni(void) { return 0; }
#endif

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>

int wt_cpu_has_neon(void) { return 1; }
int wt_cpu_has_dotprod(void) { return (getauxval(AT_HWCAP) & (1ul << 20)) != 0; } /* HWCAP_ASIMDDP */
#elif defined(__aarch64__)
int wt_cpu_has_neon(void) { return 1; }
int wt_cpu_has_dotprod(void) { return 0; } /* no hwcaps to ask: the fallback is exact too */
#else
int wt_cpu_has_neon(void) { return 0; }
int wt_cpu_has_dotprod(void) { return 0; }
#endif
