#ifndef WT_WINDOW_H
#define WT_WINDOW_H
/* The geometry of a window op (conv, pool) on NHWC tensors, read once from its records and
 * shared by the kernels that walk windows. */

#include <stddef.h>

#include "whittle_runtime.h"

typedef struct {
  size_t batch, height, width, channels, out_h, out_w;
  size_t kh, kw, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
} wt_window;

static inline wt_window wt_window_of(const wt_op *op, const wt_tensor *in, const wt_tensor *out) {
  const int32_t *p = op->params;
  const wt_window w = {
      .batch = in->dims[0], .height = in->dims[1], .width = in->dims[2], .channels = in->dims[3],
      .out_h = out->dims[1], .out_w = out->dims[2],
      .kh = (size_t)p[WT_P_KH], .kw = (size_t)p[WT_P_KW], .stride_h = (size_t)p[WT_P_STRIDE_H],
      .stride_w = (size_t)p[WT_P_STRIDE_W], .dilation_h = (size_t)p[WT_P_DILATION_H],
      .dilation_w = (size_t)p[WT_P_DILATION_W], .pad_top = (size_t)p[WT_P_PAD_TOP], .pad_left = (size_t)p[WT_P_PAD_LEFT],
  };
  return w;
}

/* The input pixels (pointers to their channels) of output pixel (n, oy, ox)'s window that lie
 * inside the input, up to `capacity`; returns how many there are, which may exceed capacity
 * (the caller then falls back). Pooling kernels take the max over them. */
static inline size_t wt_window_pixels(const wt_window *w, const uint8_t *x, size_t n, size_t oy, size_t ox,
                                      const uint8_t **pixels, size_t capacity) {
  size_t count = 0;
  for (size_t ky = 0; ky < w->kh; ky++) {
    const ptrdiff_t iy = (ptrdiff_t)(oy * w->stride_h + ky * w->dilation_h) - (ptrdiff_t)w->pad_top;
    if (iy < 0 || iy >= (ptrdiff_t)w->height) continue;
    for (size_t kx = 0; kx < w->kw; kx++) {
      const ptrdiff_t ix = (ptrdiff_t)(ox * w->stride_w + kx * w->dilation_w) - (ptrdiff_t)w->pad_left;
      if (ix < 0 || ix >= (ptrdiff_t)w->width) continue;
      if (count < capacity) pixels[count] = x + ((n * w->height + (size_t)iy) * w->width + (size_t)ix) * w->channels;
      count++;
    }
  }
  return count;
}

#endif
