#ifndef WT_KERNEL_SET_H
#define WT_KERNEL_SET_H
/* A kernel set: one function per op kind, chosen once per interpreter (interpreter.c). */

#include "ref/ref_kernels.h"

typedef void (*wt_kernel)(const wt_op_call *call);

typedef struct {
  const char *name;
  wt_kernel by_kind[WT_OP_KIND_COUNT]; /* index = wt_op_kind */
} wt_kernel_set;

extern const wt_kernel_set wt_kernel_set_ref;

/* The optimized sets this CPU runs, fastest first (the reference is not among them); writes
 * up to `capacity` and returns how many there are. */
size_t wt_kernel_sets_supported(const wt_kernel_set **sets, size_t capacity);
#if defined(__x86_64__) || defined(_M_X64)
extern const wt_kernel_set wt_kernel_set_avx2;
extern const wt_kernel_set wt_kernel_set_avxvnni;
extern const wt_kernel_set wt_kernel_set_avx512vnni;
#endif
#if defined(__aarch64__)
extern const wt_kernel_set wt_kernel_set_neondot;
extern const wt_kernel_set wt_kernel_set_neon;
#endif

#endif
