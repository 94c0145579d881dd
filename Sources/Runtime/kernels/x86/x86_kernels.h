#ifndef WT_X86_KERNELS_H
#define WT_X86_KERNELS_H
/* x86-64 kernels. Each function is compiled for its ISA by target attributes, so one binary
 * runs everywhere; the interpreter only calls them when cpuid says the CPU has the ISA. */

#include "../gemm_driver.h"

/* Unrolls the next loop fully when its trip count is a constant (the 3×3 and 5×5 copies of
 * the depthwise loops), so taps' offsets become constants and vectors stay in registers. */
#if defined(__clang__)
/* The generic-window copies cannot be unrolled; that is expected, not worth a warning. */
#pragma clang diagnostic ignored "-Wpass-failed"
#define WT_UNROLL _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#define WT_UNROLL _Pragma("GCC unroll 32")
#else
#define WT_UNROLL
#endif

void wt_qu8_conv__avx2(const wt_op_call *call);    /* depthwise or GEMM (vpmaddwd) */
void wt_qu8_fc__avx2(const wt_op_call *call);
void wt_qu8_conv__avxvnni(const wt_op_call *call); /* depthwise (AVX2) or GEMM (vpdpbusd) */
void wt_qu8_fc__avxvnni(const wt_op_call *call);
void wt_qu8_dwconv__avx2(const wt_op_call *call);  /* any depthwise window up to 25 taps */
void wt_qu8_add__avx2(const wt_op_call *call);
void wt_qu8_mul__avx2(const wt_op_call *call);
void wt_qu8_mean__avx2(const wt_op_call *call);
/* The GEMM micro-kernels (gemm_driver.h): MR × NR pixels × channels, depth in groups of 4. */
void wt_qu8_gemm_4x8c4__avx2(const wt_gemm_tile *tile);     /* panel int16 (wt_widen_panel__avx2) */
void wt_qu8_gemm_6x16c4__avxvnni(const wt_gemm_tile *tile); /* panel uint8 */
void wt_widen_panel__avx2(const uint8_t *panel, size_t count, void *out);
void wt_qu8_gemm_8x32c4__avx512vnni(const wt_gemm_tile *tile); /* panel uint8 */
void wt_qu8_conv__avx512vnni(const wt_op_call *call);            /* depthwise or GEMM (vpdpbusd on ZMM) */
void wt_qu8_fc__avx512vnni(const wt_op_call *call);
void wt_qu8_dwconv__avx512vnni(const wt_op_call *call);
void wt_qu8_add__avx512vnni(const wt_op_call *call);
void wt_qu8_maxpool__avx2(const wt_op_call *call);

#endif
