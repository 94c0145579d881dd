#ifndef WT_FLOAT_OPS_H
#define WT_FLOAT_OPS_H
/* Float islands: the ops a model runs in float32 because they have no integer kernel (ONNX
 * Runtime leaves such ops in float too). One plain C implementation serves every kernel set, and
 * the Swift integer simulation (QuantSim) repeats its arithmetic operation for operation: each sum
 * runs in the order written here, and `-ffp-contract=off` keeps the compiler from fusing a multiply
 * and an add, so both give the same float32 bits. */

#include "../kernel_set.h"

/* Indexed by kind − WT_OP_FIRST_FLOAT. */
extern const wt_kernel wt_float_kernels[WT_OP_KIND_COUNT - WT_OP_FIRST_FLOAT];

/* The loader's checks of a float-island op: tensor types, shapes, parameters and blobs, so its
 * kernel reads and writes only inside its tensors. `in` holds the op's input tensors. */
wt_status wt_check_float_op(const wt_model *m, const wt_op *op, const wt_tensor *const in[WT_MAX_INPUTS], const wt_tensor *out);

/* The loader's helpers the float checks share (loader.c). */
wt_status wt_check_blob(const wt_model *m, const wt_blob *b, uint64_t size, uint32_t align);
int wt_same_dims(const wt_tensor *a, const wt_tensor *b);
uint64_t wt_window_extent(uint32_t in, int32_t kernel, int32_t stride, int32_t pad0, int32_t pad1, int32_t dilation);

#endif
