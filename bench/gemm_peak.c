/* GEMM micro-kernel throughput next to the peak of its instruction mix, one core, same run.
 *
 *   gemm_peak [seconds-per-figure]   prints one JSON object
 *
 * Peaks are loops of independent accumulators with nothing but the mix's instructions:
 *   maddubs: vpmaddubsw + vpmaddwd + vpaddd per 32 MACs (what ONNX Runtime's AVX2 kernel runs);
 *   madd:    vpmaddwd + vpaddd per 16 MACs (our AVX2 kernel's arithmetic);
 *   vnni:    vpdpbusd per 32 MACs (our AVX-VNNI kernel's);
 *   vnni512: vpdpbusd on ZMM per 64 MACs (our AVX-512 VNNI kernel's).
 * The micro-kernels run as the GEMM driver calls them, on a panel and weights in L1,
 * requantization included.
 * GOP/s counts a multiply-accumulate as 2 operations. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/cpu.h"
#include "kernels/x86/x86_kernels.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Six independent chains per block, written in assembly so the compiler cannot merge the
 * loop-invariant products: ymm12 = a, ymm13 = b, ymm14 = ones, ymm0-5 products, ymm6-11 sums
 * (vpdpbusd has no separate product: twelve chains, ymm0-11, cover its latency). */
#define SIX(x) x(0, 6) x(1, 7) x(2, 8) x(3, 9) x(4, 10) x(5, 11)
#define MADDUBS(t, acc)                                                                                       \
  "vpmaddubsw %%ymm13, %%ymm12, %%ymm" #t "\n\t vpmaddwd %%ymm14, %%ymm" #t ", %%ymm" #t "\n\t vpaddd %%ymm" #t \
  ", %%ymm" #acc ", %%ymm" #acc "\n\t"
#define MADD(t, acc) "vpmaddwd %%ymm13, %%ymm12, %%ymm" #t "\n\t vpaddd %%ymm" #t ", %%ymm" #acc ", %%ymm" #acc "\n\t"
#define VNNI(t, acc) "vpdpbusd %%ymm13, %%ymm12, %%ymm" #acc "\n\t"
#define VNNI512(t, acc) "vpdpbusd %%zmm13, %%zmm12, %%zmm" #acc "\n\t"
#define CLOBBERS                                                                                                     \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", \
      "xmm14"

/* Every figure is the best of TRIALS runs of seconds / TRIALS each, peaks and kernels alike:
 * the machine is shared, and noise only ever slows a loop down. */
#define TRIALS 5

/* GOP/s of `block` (`macs` multiply-accumulates) repeated for `seconds`. */
#define PEAK(name, isa, block, macs)                                                  \
  static __attribute__((target(isa))) double name(double seconds) {                   \
    double best = 0;                                                                 \
    for (int trial = 0; trial < TRIALS; trial++) {                                   \
      long blocks = 0;                                                               \
      const double start = now();                                                    \
      double elapsed;                                                                \
      do {                                                                           \
        for (int r = 0; r < 1000; r++) __asm__ volatile(block ::: CLOBBERS);         \
        blocks += 1000;                                                              \
      } while ((elapsed = now() - start) < seconds / TRIALS);                        \
      const double gops = 2.0 * (macs) * (double)blocks / elapsed / 1e9;             \
      if (gops > best) best = gops;                                                  \
    }                                                                                \
    return best;                                                                     \
  }

PEAK(peak_maddubs, "avx2", SIX(MADDUBS), 6 * 32)
PEAK(peak_madd, "avx2", SIX(MADD), 6 * 16)
PEAK(peak_vnni, "avx2,avxvnni", SIX(VNNI) VNNI(, 0) VNNI(, 1) VNNI(, 2) VNNI(, 3) VNNI(, 4) VNNI(, 5), 12 * 32)
PEAK(peak_vnni512, "avx512f,avx512vnni", SIX(VNNI512) VNNI512(, 0) VNNI512(, 1) VNNI512(, 2) VNNI512(, 3) VNNI512(, 4) VNNI512(, 5),
     12 * 64)

/* One micro-kernel called as the GEMM driver calls it: one packed chunk of wt_panel_rows(K)
 * pixels (32 at K = 256, 16 at K = 1024) × NR channels × K, requantization included. */
static double kernel_gops(void (*run)(const wt_gemm_tile *), size_t nr, size_t depth, int int16_panel, double seconds) {
  const size_t groups = depth / 4, rows = wt_panel_rows(depth), panel_values = rows * groups * 4;
  void *panel = aligned_alloc(64, wt_round_up(2 * panel_values, 64));
  int8_t *weights = aligned_alloc(64, groups * WT_PACK_TILE * 2); /* two 16-channel blocks */
  int32_t bias[32] = {0}, mult[32], shift[32];
  uint8_t *y = malloc(rows * 32);
  for (size_t i = 0; i < panel_values; i++) {
    if (int16_panel) ((int16_t *)panel)[i] = (int16_t)(i % 251);
    else ((uint8_t *)panel)[i] = (uint8_t)(i % 251);
  }
  for (size_t i = 0; i < groups * WT_PACK_TILE * 2; i++) weights[i] = (int8_t)(i % 255 - 127);
  for (int i = 0; i < 32; i++) mult[i] = 1 << 30, shift[i] = -12;
  const wt_gemm_tile tile = {.rows = rows, .columns = nr, .depth_groups = groups, .panel = panel, .weights = weights,
                             .block_stride = groups * WT_PACK_TILE, .bias = bias, .multiplier = mult, .shift = shift, .act_max = 255,
                             .y = y, .y_stride = 32};
  double best = 0;
  for (int trial = 0; trial < TRIALS; trial++) {
    long calls = 0;
    const double start = now();
    double elapsed;
    do {
      for (int r = 0; r < 100; r++) run(&tile);
      calls += 100;
    } while ((elapsed = now() - start) < seconds / TRIALS);
    const double gops = 2.0 * (double)rows * (double)nr * (double)depth * (double)calls / elapsed / 1e9;
    if (gops > best) best = gops;
  }
  free(panel);
  free(weights);
  free(y);
  return best;
}

int main(int argc, char **argv) {
  const double seconds = argc > 1 ? atof(argv[1]) : 0.5;
  if (!wt_cpu_has_avx2()) {
    printf("{\"error\": \"no AVX2 on this CPU\"}\n");
    return 0;
  }
  printf("{\"peak_maddubs_gops\": %.1f, \"peak_madd_gops\": %.1f", peak_maddubs(seconds), peak_madd(seconds));
  const size_t depths[] = {64, 256, 1024};
  for (int i = 0; i < 3; i++)
    printf(", \"avx2_4x8c4_k%zu_gops\": %.1f", depths[i], kernel_gops(wt_qu8_gemm_4x8c4__avx2, 8, depths[i], 1, seconds));
  if (wt_cpu_has_avxvnni()) {
    printf(", \"peak_vnni_gops\": %.1f", peak_vnni(seconds));
    for (int i = 0; i < 3; i++)
      printf(", \"avxvnni_6x16c4_k%zu_gops\": %.1f", depths[i], kernel_gops(wt_qu8_gemm_6x16c4__avxvnni, 16, depths[i], 0, seconds));
  }
  if (wt_cpu_has_avx512vnni()) {
    printf(", \"peak_vnni512_gops\": %.1f", peak_vnni512(seconds));
    for (int i = 0; i < 3; i++)
      printf(", \"avx512vnni_8x32c4_k%zu_gops\": %.1f", depths[i],
             kernel_gops(wt_qu8_gemm_8x32c4__avx512vnni, 32, depths[i], 0, seconds));
  }
  printf("}\n");
  return 0;
}
