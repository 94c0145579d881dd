#ifndef WT_CPU_H
#define WT_CPU_H
/* What the CPU runs: cpuid on x86-64, the auxiliary vector's hwcaps on aarch64 Linux; false
 * for anything else. */

int wt_cpu_has_avx2(void);    /* AVX2 and FMA, with the OS saving YMM state */
int wt_cpu_has_avxvnni(void); /* AVX2 plus AVX-VNNI (vpdpbusd on YMM) */
int wt_cpu_has_avx512vnni(void); /* AVX2 plus AVX-512 F, BW, VL and VNNI, with the OS saving ZMM state */
int wt_cpu_has_neon(void);       /* aarch64 (Advanced SIMD is part of it) */
int wt_cpu_has_dotprod(void);    /* aarch64 with the dot-product extension (sdot), from the Linux hwcaps */

#endif
