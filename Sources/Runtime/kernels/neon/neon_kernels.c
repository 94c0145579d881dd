/* NEON kernels (aarch64): the GEMM micro-kernels, 4 pixels × 8 channels, with `sdot` where the
 * CPU has the dot-product extension and `smull`/`sadalp` where it does not. Both are exact:
 * the panel is made signed (x − 128, an xor), products are s8 × s8, and 128 · Σw per channel
 * puts the offset back. Requantization is TFLite's NEON recipe (vqrdmulh, then a fixed-up
 * rounding shift), bit for bit the reference. Depthwise convolution widens to int16 and
 * accumulates with vmlal_s16, 16 channels at a time; add, mul, mean and max pool are vectorized
 * too. Lookup tables, Concat, Reshape and Softmax use the reference kernels. */
#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>

#include "../gemm_driver.h"
#include "../kernel_set.h"
#include "../packing.h"
#include "../parallel.h"
#include "../window.h"

#define WT_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))

/* wt_requantize on 4 lanes. vqrdmulh is (2ab + 2^31) >> 32 = floor((ab + 2^30) / 2^31), the
 * reference's SaturatingRoundingDoublingHighMul for every sign; adding −1 to negative values
 * before the rounding right shift makes its round-half-up round half away from zero. */
typedef struct {
  int32x4_t multiplier, left, minus_right;
} requant;

static inline requant load_requant(const int32_t *multiplier, const int32_t *shift) {
  const int32x4_t s = vld1q_s32(shift), zero = vdupq_n_s32(0);
  const requant r = {vld1q_s32(multiplier), vmaxq_s32(s, zero), vminq_s32(s, zero)};
  return r;
}

static inline int32x4_t requantize(int32x4_t x, const requant *r) {
  const int32x4_t high = vqrdmulhq_s32(vqshlq_s32(x, r->left), r->multiplier);
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(high, r->minus_right), 31);
  return vrshlq_s32(vqaddq_s32(high, fixup), r->minus_right);
}

/* The constants of channels [0, 8) of a tile, zero-padded past `columns`. */
typedef struct {
  int32x4_t bias[2];
  requant rq[2];
  int16x8_t zero_point;
  uint8x8_t low, high;
} tile_constants;

static tile_constants load_constants(const wt_gemm_tile *t) {
  int32_t bias[8] = {0}, mult[8] = {0}, shift[8] = {0};
  const size_t n = t->columns < 8 ? t->columns : 8;
  memcpy(bias, t->bias, n * 4);
  memcpy(mult, t->multiplier, n * 4);
  memcpy(shift, t->shift, n * 4);
  tile_constants c;
  for (int h = 0; h < 2; h++) {
    c.bias[h] = vld1q_s32(bias + 4 * h);
    c.rq[h] = load_requant(mult + 4 * h, shift + 4 * h);
  }
  c.zero_point = vdupq_n_s16((int16_t)t->output_zero_point);
  c.low = vdup_n_u8((uint8_t)t->act_min);
  c.high = vdup_n_u8((uint8_t)t->act_max);
  return c;
}

/* Requantizes one pixel's 8 sums (x − 128 already corrected) and stores `columns` bytes. */
static inline void store_pixel(const tile_constants *c, int32x4_t lo, int32x4_t hi, uint8_t *y, size_t columns) {
  const int16x8_t words = vqaddq_s16(vcombine_s16(vqmovn_s32(requantize(vaddq_s32(lo, c->bias[0]), &c->rq[0])),
                                                  vqmovn_s32(requantize(vaddq_s32(hi, c->bias[1]), &c->rq[1]))),
                                     c->zero_point);
  const uint8x8_t bytes = vmax_u8(vmin_u8(vqmovun_s16(words), c->high), c->low);
  if (columns >= 8) {
    vst1_u8(y, bytes);
  } else {
    uint8_t out[8];
    vst1_u8(out, bytes);
    memcpy(y, out, columns);
  }
}

/* x − 128: the panel as int8, so both kernels multiply signed bytes. */
static void to_signed(const uint8_t *panel, size_t count, void *out) {
  uint8_t *dst = (uint8_t *)out;
  size_t i = 0;
  for (; i + 16 <= count; i += 16) vst1q_u8(dst + i, veorq_u8(vld1q_u8(panel + i), vdupq_n_u8(0x80)));
  for (; i < count; i++) dst[i] = panel[i] ^ 0x80;
}

WT_DOTPROD static void gemm_4x8c4__neondot(const wt_gemm_tile *t) {
  const tile_constants c = load_constants(t);
  /* 128 · Σk w[m][k] per channel: the offset the signed panel took away. */
  int32x4_t sum0 = vdupq_n_s32(0), sum1 = sum0;
  for (size_t q = 0; q < t->depth_groups; q++) {
    sum0 = vdotq_s32(sum0, vld1q_s8(t->weights + q * WT_PACK_TILE), vdupq_n_s8(1));
    sum1 = vdotq_s32(sum1, vld1q_s8(t->weights + q * WT_PACK_TILE + 16), vdupq_n_s8(1));
  }
  sum0 = vshlq_n_s32(sum0, 7), sum1 = vshlq_n_s32(sum1, 7);
  const int8_t *panel = (const int8_t *)t->panel;
  for (size_t first = 0; first < t->rows; first += WT_GEMM_MR, panel += t->depth_groups * WT_GEMM_MR * 4) {
    int32x4_t a0 = sum0, a1 = sum0, a2 = sum0, a3 = sum0, b0 = sum1, b1 = sum1, b2 = sum1, b3 = sum1;
    const int8_t *w = t->weights, *x = panel;
    for (size_t q = 0; q < t->depth_groups; q++, w += WT_PACK_TILE, x += 16) {
      const int8x16_t u = vld1q_s8(w), v = vld1q_s8(w + 16), p = vld1q_s8(x);
      a0 = vdotq_laneq_s32(a0, u, p, 0), b0 = vdotq_laneq_s32(b0, v, p, 0);
      a1 = vdotq_laneq_s32(a1, u, p, 1), b1 = vdotq_laneq_s32(b1, v, p, 1);
      a2 = vdotq_laneq_s32(a2, u, p, 2), b2 = vdotq_laneq_s32(b2, v, p, 2);
      a3 = vdotq_laneq_s32(a3, u, p, 3), b3 = vdotq_laneq_s32(b3, v, p, 3);
    }
    const int32x4_t lo[WT_GEMM_MR] = {a0, a1, a2, a3}, hi[WT_GEMM_MR] = {b0, b1, b2, b3};
    const size_t rows = t->rows - first < WT_GEMM_MR ? t->rows - first : WT_GEMM_MR;
    for (size_t r = 0; r < rows; r++) store_pixel(&c, lo[r], hi[r], t->y + (first + r) * t->y_stride, t->columns);
  }
}

/* Without the dot product: each pixel's 4 bytes duplicated over the lanes, vmull_s8 against 2
 * channels × 4 depths, vpadalq_s16 into 2 partial sums per channel, folded by vpaddq_s32. */
static void gemm_4x8c4__neon(const wt_gemm_tile *t) {
  const tile_constants c = load_constants(t);
  int32x4_t sum0 = vdupq_n_s32(0), sum1 = sum0;
  for (size_t q = 0; q < t->depth_groups; q++) {
    sum0 = vpadalq_s16(sum0, vpaddlq_s8(vld1q_s8(t->weights + q * WT_PACK_TILE)));
    sum1 = vpadalq_s16(sum1, vpaddlq_s8(vld1q_s8(t->weights + q * WT_PACK_TILE + 16)));
  }
  sum0 = vshlq_n_s32(sum0, 7), sum1 = vshlq_n_s32(sum1, 7);
  const int8_t *panel = (const int8_t *)t->panel;
  for (size_t first = 0; first < t->rows; first += WT_GEMM_MR, panel += t->depth_groups * WT_GEMM_MR * 4) {
    /* Named accumulators (pixel r: channels 0-1, 2-3, 4-5, 6-7), so they stay in registers. */
    int32x4_t a0 = vdupq_n_s32(0), b0 = a0, c0 = a0, d0 = a0, a1 = a0, b1 = a0, c1 = a0, d1 = a0;
    int32x4_t a2 = a0, b2 = a0, c2 = a0, d2 = a0, a3 = a0, b3 = a0, c3 = a0, d3 = a0;
    const int8_t *w = t->weights, *x = panel;
    for (size_t q = 0; q < t->depth_groups; q++, w += WT_PACK_TILE, x += 16) {
      const int8x16_t u = vld1q_s8(w), v = vld1q_s8(w + 16);
      const int32x4_t p = vreinterpretq_s32_s8(vld1q_s8(x));
#define WT_ROW(r)                                                                        \
  do {                                                                                   \
    const int8x16_t xr = vreinterpretq_s8_s32(vdupq_laneq_s32(p, r));                   \
    a##r = vpadalq_s16(a##r, vmull_s8(vget_low_s8(u), vget_low_s8(xr)));                \
    b##r = vpadalq_s16(b##r, vmull_high_s8(u, xr));                                     \
    c##r = vpadalq_s16(c##r, vmull_s8(vget_low_s8(v), vget_low_s8(xr)));                \
    d##r = vpadalq_s16(d##r, vmull_high_s8(v, xr));                                     \
  } while (0)
      WT_ROW(0);
      WT_ROW(1);
      WT_ROW(2);
      WT_ROW(3);
#undef WT_ROW
    }
    const int32x4_t lo[WT_GEMM_MR] = {vpaddq_s32(a0, b0), vpaddq_s32(a1, b1), vpaddq_s32(a2, b2), vpaddq_s32(a3, b3)};
    const int32x4_t hi[WT_GEMM_MR] = {vpaddq_s32(c0, d0), vpaddq_s32(c1, d1), vpaddq_s32(c2, d2), vpaddq_s32(c3, d3)};
    const size_t rows = t->rows - first < WT_GEMM_MR ? t->rows - first : WT_GEMM_MR;
    for (size_t r = 0; r < rows; r++)
      store_pixel(&c, vaddq_s32(lo[r], sum0), vaddq_s32(hi[r], sum1), t->y + (first + r) * t->y_stride, t->columns);
  }
}

/* ---- depthwise: per tap, 16 channels of u8 input and s8 weights widened to int16 and
 * multiplied into four int32x4 sums with vmlal_s16 (exact: |x·w| < 2^15 · 2^8). Channel blocks
 * are split with bands of rows into tasks, as on x86. */
#define MAX_TAPS 25u

typedef struct {
  const wt_op_call *call;
  wt_window w;
  wt_bands bands;
} dw_job;

/* Bytes [0, count) of 16 from p, zero-filled past count, never reading past them. */
static inline uint8x16_t load16(const uint8_t *p, size_t count) {
  if (count >= 16) return vld1q_u8(p);
  uint8_t copy[16] = {0};
  memcpy(copy, p, count);
  return vld1q_u8(copy);
}

static void dw_task(void *context, size_t task, size_t thread) {
  (void)thread;
  const dw_job *job = (const dw_job *)context;
  const wt_op_call *call = job->call;
  const wt_op *op = call->op;
  const wt_window *g = &job->w;
  const size_t taps = g->kh * g->kw, c = task / job->bands.count * 16;
  const size_t count = g->channels - c < 16 ? g->channels - c : 16;
  const uint8_t *weights = call->weights;
  int32_t bias[16] = {0}, mult[16] = {0}, shift[16] = {0};
  memcpy(bias, wt_op_bytes(call, WT_B_BIAS) + 4 * c, count * 4);
  memcpy(mult, wt_op_bytes(call, WT_B_MULTIPLIER) + 4 * c, count * 4);
  memcpy(shift, wt_op_bytes(call, WT_B_SHIFT) + 4 * c, count * 4);
  int16x8_t w_lo[MAX_TAPS], w_hi[MAX_TAPS];
  for (size_t t = 0; t < taps; t++) {
    const int8x16_t w = vreinterpretq_s8_u8(load16(weights + t * g->channels + c, count));
    w_lo[t] = vmovl_s8(vget_low_s8(w)), w_hi[t] = vmovl_s8(vget_high_s8(w));
  }
  requant rq[4];
  int32x4_t b[4];
  for (int i = 0; i < 4; i++) rq[i] = load_requant(mult + 4 * i, shift + 4 * i), b[i] = vld1q_s32(bias + 4 * i);
  const uint8x16_t zx = vdupq_n_u8((uint8_t)call->in[0]->zero_point);
  const int16x8_t zy = vdupq_n_s16((int16_t)call->out->zero_point);
  const uint8x16_t low = vdupq_n_u8((uint8_t)op->act_min), high = vdupq_n_u8((uint8_t)op->act_max);
  size_t oy0, oy1;
  wt_band_rows(&job->bands, task % job->bands.count, &oy0, &oy1);
  for (size_t n = 0; n < g->batch; n++)
    for (size_t oy = oy0; oy < oy1; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++) {
        int32x4_t acc[4] = {b[0], b[1], b[2], b[3]};
        for (size_t ky = 0; ky < g->kh; ky++) {
          const ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
          for (size_t kx = 0; kx < g->kw; kx++) {
            const ptrdiff_t ix = (ptrdiff_t)(ox * g->stride_w + kx * g->dilation_w) - (ptrdiff_t)g->pad_left;
            const uint8x16_t x = iy < 0 || iy >= (ptrdiff_t)g->height || ix < 0 || ix >= (ptrdiff_t)g->width
                                     ? zx
                                     : load16(call->x[0] + ((n * g->height + (size_t)iy) * g->width + (size_t)ix) * g->channels + c, count);
            const int16x8_t x_lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(x)));
            const int16x8_t x_hi = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(x)));
            const size_t t = ky * g->kw + kx;
            acc[0] = vmlal_s16(acc[0], vget_low_s16(x_lo), vget_low_s16(w_lo[t]));
            acc[1] = vmlal_high_s16(acc[1], x_lo, w_lo[t]);
            acc[2] = vmlal_s16(acc[2], vget_low_s16(x_hi), vget_low_s16(w_hi[t]));
            acc[3] = vmlal_high_s16(acc[3], x_hi, w_hi[t]);
          }
        }
        const int16x8_t lo = vqaddq_s16(vcombine_s16(vqmovn_s32(requantize(acc[0], &rq[0])), vqmovn_s32(requantize(acc[1], &rq[1]))), zy);
        const int16x8_t hi = vqaddq_s16(vcombine_s16(vqmovn_s32(requantize(acc[2], &rq[2])), vqmovn_s32(requantize(acc[3], &rq[3]))), zy);
        const uint8x16_t bytes = vmaxq_u8(vminq_u8(vcombine_u8(vqmovun_s16(lo), vqmovun_s16(hi)), high), low);
        uint8_t *y = call->y + ((n * g->out_h + oy) * g->out_w + ox) * g->channels + c;
        if (count == 16) {
          vst1q_u8(y, bytes);
        } else {
          uint8_t copy[16];
          vst1q_u8(copy, bytes);
          memcpy(y, copy, count);
        }
      }
}

static void dwconv__neon(const wt_op_call *call) {
  dw_job job = {.call = call, .w = wt_window_of(call->op, call->in[0], call->out)};
  if (job.w.kh * job.w.kw > MAX_TAPS) {
    wt_qu8_conv__ref(call);
    return;
  }
  job.bands = wt_row_bands(job.w.out_h, call->pool);
  wt_parallel_for(call->pool, (job.w.channels + 15) / 16 * job.bands.count, dw_task, &job);
}

/* ---- add, mul, mean and max pool; tails go through the reference. */
static requant broadcast_requant(int32_t multiplier, int32_t shift) {
  const int32_t m[4] = {multiplier, multiplier, multiplier, multiplier}, s[4] = {shift, shift, shift, shift};
  return load_requant(m, s);
}

static void add__neon(const wt_op_call *call) {
  const wt_op *op = call->op;
  const int32_t *p = op->params;
  const requant ra = broadcast_requant(p[WT_P_ADD_MULT_A], p[WT_P_ADD_SHIFT_A]);
  const requant rb = broadcast_requant(p[WT_P_ADD_MULT_B], p[WT_P_ADD_SHIFT_B]);
  const requant ry = broadcast_requant(p[WT_P_ADD_MULT], p[WT_P_ADD_SHIFT]);
  const int32x4_t left = vdupq_n_s32(p[WT_P_ADD_LEFT_SHIFT]);
  const int16x8_t za = vdupq_n_s16((int16_t)call->in[0]->zero_point), zb = vdupq_n_s16((int16_t)call->in[1]->zero_point);
  const int16x8_t zy = vdupq_n_s16((int16_t)call->out->zero_point);
  const uint8x16_t low = vdupq_n_u8((uint8_t)op->act_min), high = vdupq_n_u8((uint8_t)op->act_max);
  const size_t count = call->out->byte_size;
  size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    const uint8x16_t a = vld1q_u8(call->x[0] + i), b = vld1q_u8(call->x[1] + i);
    /* (x − z) in int16, then each quarter widened to int32 and shifted left. */
    const int16x8_t da[2] = {vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(a))), za),
                             vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(a))), za)};
    const int16x8_t db[2] = {vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(b))), zb),
                             vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(b))), zb)};
    int16x8_t words[2];
    for (int h = 0; h < 2; h++) {
      int32x4_t sums[2];
      for (int q = 0; q < 2; q++) {
        const int32x4_t xa = vshlq_s32(q == 0 ? vmovl_s16(vget_low_s16(da[h])) : vmovl_high_s16(da[h]), left);
        const int32x4_t xb = vshlq_s32(q == 0 ? vmovl_s16(vget_low_s16(db[h])) : vmovl_high_s16(db[h]), left);
        sums[q] = requantize(vaddq_s32(requantize(xa, &ra), requantize(xb, &rb)), &ry);
      }
      words[h] = vqaddq_s16(vcombine_s16(vqmovn_s32(sums[0]), vqmovn_s32(sums[1])), zy);
    }
    vst1q_u8(call->y + i, vmaxq_u8(vminq_u8(vcombine_u8(vqmovun_s16(words[0]), vqmovun_s16(words[1])), high), low));
  }
  wt_qu8_add_range__ref(call, i);
}

/* The second operand is the same shape or [N,1,1,C]; broadcast runs vectors when 8 divides C. */
static void mul__neon(const wt_op_call *call) {
  const wt_op *op = call->op;
  const size_t count = call->out->byte_size, same = call->in[1]->byte_size == count;
  const size_t channels = call->out->dims[call->out->rank - 1], plane = count / call->out->dims[0];
  const requant rq = broadcast_requant(op->params[WT_P_MULT], op->params[WT_P_SHIFT]);
  const int16x8_t za = vdupq_n_s16((int16_t)call->in[0]->zero_point), zb = vdupq_n_s16((int16_t)call->in[1]->zero_point);
  const int16x8_t zy = vdupq_n_s16((int16_t)call->out->zero_point);
  const uint8x8_t low = vdup_n_u8((uint8_t)op->act_min), high = vdup_n_u8((uint8_t)op->act_max);
  size_t i = 0;
  if (same || channels % 8 == 0)
    for (; i + 8 <= count; i += 8) {
      const size_t j = same ? i : (i / plane) * channels + i % channels;
      const int16x8_t a = vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(vld1_u8(call->x[0] + i))), za);
      const int16x8_t b = vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(vld1_u8(call->x[1] + j))), zb);
      const int32x4_t lo = requantize(vmull_s16(vget_low_s16(a), vget_low_s16(b)), &rq);
      const int32x4_t hi = requantize(vmull_high_s16(a, b), &rq);
      const int16x8_t words = vqaddq_s16(vcombine_s16(vqmovn_s32(lo), vqmovn_s32(hi)), zy);
      vst1_u8(call->y + i, vmax_u8(vmin_u8(vqmovun_s16(words), high), low));
    }
  wt_qu8_mul_range__ref(call, i);
}

/* Mean over H and W, 8 channels at a time summed in int32 (the loader bounds H·W by 2^23). */
static void mean__neon(const wt_op_call *call) {
  const wt_op *op = call->op;
  const wt_tensor *in = call->in[0];
  const size_t plane = (size_t)in->dims[1] * in->dims[2], channels = in->dims[3];
  const requant rq = broadcast_requant(op->params[WT_P_MULT], op->params[WT_P_SHIFT]);
  const int32x4_t offset = vdupq_n_s32((int32_t)plane * in->zero_point);
  const int16x8_t zy = vdupq_n_s16((int16_t)call->out->zero_point);
  const uint8x8_t low = vdup_n_u8((uint8_t)op->act_min), high = vdup_n_u8((uint8_t)op->act_max);
  for (size_t n = 0; n < in->dims[0]; n++)
    for (size_t c = 0; c < channels; c += 8) {
      const size_t count = channels - c < 8 ? channels - c : 8;
      int32x4_t lo = vdupq_n_s32(0), hi = lo;
      for (size_t i = 0; i < plane; i++) {
        uint8_t bytes[8] = {0};
        memcpy(bytes, call->x[0] + (n * plane + i) * channels + c, count);
        const uint16x8_t v = vmovl_u8(vld1_u8(bytes));
        lo = vreinterpretq_s32_u32(vaddw_u16(vreinterpretq_u32_s32(lo), vget_low_u16(v)));
        hi = vreinterpretq_s32_u32(vaddw_high_u16(vreinterpretq_u32_s32(hi), v));
      }
      const int16x8_t words = vqaddq_s16(vcombine_s16(vqmovn_s32(requantize(vsubq_s32(lo, offset), &rq)),
                                                      vqmovn_s32(requantize(vsubq_s32(hi, offset), &rq))),
                                         zy);
      uint8_t out[8];
      vst1_u8(out, vmax_u8(vmin_u8(vqmovun_s16(words), high), low));
      memcpy(call->y + n * channels + c, out, count);
    }
}

static void maxpool__neon(const wt_op_call *call) {
  const wt_op *op = call->op;
  const wt_window g = wt_window_of(op, call->in[0], call->out);
  const uint8x16_t low = vdupq_n_u8((uint8_t)op->act_min), high = vdupq_n_u8((uint8_t)op->act_max);
  for (size_t n = 0; n < g.batch; n++)
    for (size_t oy = 0; oy < g.out_h; oy++)
      for (size_t ox = 0; ox < g.out_w; ox++) {
        const uint8_t *pixels[64];
        const size_t valid = wt_window_pixels(&g, call->x[0], n, oy, ox, pixels, 64);
        if (valid > 64) { /* windows past 64 taps: the reference */
          wt_qu8_maxpool__ref(call);
          return;
        }
        for (size_t c = 0; c < g.channels; c += 16) {
          const size_t count = g.channels - c < 16 ? g.channels - c : 16;
          uint8x16_t best = vdupq_n_u8(0);
          for (size_t t = 0; t < valid; t++) best = vmaxq_u8(best, load16(pixels[t] + c, count));
          uint8_t out[16];
          vst1q_u8(out, vmaxq_u8(vminq_u8(best, high), low));
          memcpy(call->y + ((n * g.out_h + oy) * g.out_w + ox) * g.channels + c, out, count);
        }
      }
}

static const wt_gemm_ukernel neondot = {.nr = 8, .prepare = to_signed, .run = gemm_4x8c4__neondot};
static const wt_gemm_ukernel neon = {.nr = 8, .prepare = to_signed, .run = gemm_4x8c4__neon};

static void conv__neondot(const wt_op_call *call) {
  if (wt_conv_is_depthwise(call->op, call->in[0], call->out))
    dwconv__neon(call);
  else
    wt_qu8_gemm_conv(call, &neondot);
}
static void fc__neondot(const wt_op_call *call) { wt_qu8_gemm_fc(call, &neondot); }
static void conv__neon(const wt_op_call *call) {
  if (wt_conv_is_depthwise(call->op, call->in[0], call->out))
    dwconv__neon(call);
  else
    wt_qu8_gemm_conv(call, &neon);
}
static void fc__neon(const wt_op_call *call) { wt_qu8_gemm_fc(call, &neon); }

const wt_kernel_set wt_kernel_set_neondot = {
    .name = "neondot",
    .by_kind = {[WT_OP_CONV] = conv__neondot,          [WT_OP_FC] = fc__neondot,
                [WT_OP_ADD] = add__neon,               [WT_OP_MUL] = mul__neon,
                [WT_OP_LUT] = wt_qu8_lut__ref,         [WT_OP_MAX_POOL] = maxpool__neon,
                [WT_OP_MEAN] = mean__neon,       [WT_OP_CONCAT] = wt_qu8_concat__ref,
                [WT_OP_RESHAPE] = wt_qu8_reshape__ref, [WT_OP_SOFTMAX] = wt_qu8_softmax__ref,
                [WT_OP_SLICE] = wt_qu8_slice__ref,     [WT_OP_PAD] = wt_qu8_pad__ref,
                [WT_OP_RESIZE] = wt_qu8_resize__ref,   [WT_OP_CONV_TRANSPOSE] = wt_qu8_conv_transpose__ref},
};

const wt_kernel_set wt_kernel_set_neon = {
    .name = "neon",
    .by_kind = {[WT_OP_CONV] = conv__neon,             [WT_OP_FC] = fc__neon,
                [WT_OP_ADD] = add__neon,               [WT_OP_MUL] = mul__neon,
                [WT_OP_LUT] = wt_qu8_lut__ref,         [WT_OP_MAX_POOL] = maxpool__neon,
                [WT_OP_MEAN] = mean__neon,       [WT_OP_CONCAT] = wt_qu8_concat__ref,
                [WT_OP_RESHAPE] = wt_qu8_reshape__ref, [WT_OP_SOFTMAX] = wt_qu8_softmax__ref,
                [WT_OP_SLICE] = wt_qu8_slice__ref,     [WT_OP_PAD] = wt_qu8_pad__ref,
                [WT_OP_RESIZE] = wt_qu8_resize__ref,   [WT_OP_CONV_TRANSPOSE] = wt_qu8_conv_transpose__ref},
};
#endif
