#ifndef WT_REF_KERNELS_H
#define WT_REF_KERNELS_H
/* Reference kernels: slow, obvious, the oracle every optimized kernel and the Swift QuantSim
 * must equal bit for bit. Activations are uint8 NHWC, weights int8 levels, accumulators int32.
 * The contract they share with the other sets is in kernels/kernel.h. */

#include "../kernel.h"

void wt_qu8_conv__ref(const wt_op_call *call);
void wt_qu8_fc__ref(const wt_op_call *call);
void wt_qu8_add__ref(const wt_op_call *call);
/* Elements [first, count) of an add: the tail a SIMD kernel leaves. */
void wt_qu8_add_range__ref(const wt_op_call *call, size_t first);
void wt_qu8_mul__ref(const wt_op_call *call);
/* Elements [first, count) of a mul. */
void wt_qu8_mul_range__ref(const wt_op_call *call, size_t first);
void wt_qu8_lut__ref(const wt_op_call *call);
void wt_qu8_maxpool__ref(const wt_op_call *call);
void wt_qu8_mean__ref(const wt_op_call *call);
void wt_qu8_concat__ref(const wt_op_call *call);
void wt_qu8_reshape__ref(const wt_op_call *call);
void wt_qu8_softmax__ref(const wt_op_call *call);
void wt_qu8_slice__ref(const wt_op_call *call);
void wt_qu8_pad__ref(const wt_op_call *call);
void wt_qu8_resize__ref(const wt_op_call *call);
void wt_qu8_conv_transpose__ref(const wt_op_call *call);

#endif
