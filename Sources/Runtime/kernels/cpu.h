#ifndef WT_CPU_H
#define WT_CPU_H
/* What the CPU runs, read once from cpuid (x86) and cached; false everywhere else. */

int wt_cpu_has_avx2(void);    /* AVX2 and FMA, with the OS saving YMM state */
int wt_cpu_has_avxvnni(void); /* AVX2 plus AVX-VNNI (vpdpbusd on YMM) */
int wt_cpu_has_avx512vnni(void); /* AVX2 plus AVX-512 F, BW, VL and VNNI, with the OS saving ZMM state */

#endif
