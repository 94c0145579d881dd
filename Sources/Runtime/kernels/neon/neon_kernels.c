/* NEON kernels (aarch64): the GEMM micro-kernels, 4 pixels × 8 channels, with `sdot` where the
 * CPU has the dot-product extension and `smull`/`sadalp` where it does not. Both are exact:
 * the panel is made signed (x − 128, an xor), products are s8 × s8, and 128 · Σw per channel
 * puts the offset back. Requantization is TFLite's NEON recipe (vqrdmulh, then a fixed-up
 * rounding shift), bit for bit the reference. Other ops use the reference kernels for now. */
#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>

#include "../gemm_driver.h"
#include "../kernel_set.h"

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
    sum0 = vdotq_s32(sum0, vld1q_s8(t->weights + q * 32), vdupq_n_s8(1));
    sum1 = vdotq_s32(sum1, vld1q_s8(t->weights + q * 32 + 16), vdupq_n_s8(1));
  }
  sum0 = vshlq_n_s32(sum0, 7), sum1 = vshlq_n_s32(sum1, 7);
  const int8_t *panel = (const int8_t *)t->panel;
  for (size_t first = 0; first < t->rows; first += WT_GEMM_MR, panel += t->depth_groups * WT_GEMM_MR * 4) {
    int32x4_t a0 = sum0, a1 = sum0, a2 = sum0, a3 = sum0, b0 = sum1, b1 = sum1, b2 = sum1, b3 = sum1;
    const int8_t *w = t->weights, *x = panel;
    for (size_t q = 0; q < t->depth_groups; q++, w += 32, x += 16) {
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
    sum0 = vpadalq_s16(sum0, vpaddlq_s8(vld1q_s8(t->weights + q * 32)));
    sum1 = vpadalq_s16(sum1, vpaddlq_s8(vld1q_s8(t->weights + q * 32 + 16)));
  }
  sum0 = vshlq_n_s32(sum0, 7), sum1 = vshlq_n_s32(sum1, 7);
  const int8_t *panel = (const int8_t *)t->panel;
  for (size_t first = 0; first < t->rows; first += WT_GEMM_MR, panel += t->depth_groups * WT_GEMM_MR * 4) {
    int32x4_t acc[WT_GEMM_MR][4];
    for (size_t r = 0; r < WT_GEMM_MR; r++)
      for (size_t j = 0; j < 4; j++) acc[r][j] = vdupq_n_s32(0);
    const int8_t *w = t->weights, *x = panel;
    for (size_t q = 0; q < t->depth_groups; q++, w += 32, x += 16) {
      const int8x16_t u = vld1q_s8(w), v = vld1q_s8(w + 16);
      const int32x4_t p = vreinterpretq_s32_s8(vld1q_s8(x));
      for (size_t r = 0; r < WT_GEMM_MR; r++) {
        const int8x16_t xr = vreinterpretq_s8_s32(r == 0 ? vdupq_laneq_s32(p, 0)
                                                  : r == 1 ? vdupq_laneq_s32(p, 1)
                                                  : r == 2 ? vdupq_laneq_s32(p, 2)
                                                           : vdupq_laneq_s32(p, 3));
        acc[r][0] = vpadalq_s16(acc[r][0], vmull_s8(vget_low_s8(u), vget_low_s8(xr)));
        acc[r][1] = vpadalq_s16(acc[r][1], vmull_high_s8(u, xr));
        acc[r][2] = vpadalq_s16(acc[r][2], vmull_s8(vget_low_s8(v), vget_low_s8(xr)));
        acc[r][3] = vpadalq_s16(acc[r][3], vmull_high_s8(v, xr));
      }
    }
    const size_t rows = t->rows - first < WT_GEMM_MR ? t->rows - first : WT_GEMM_MR;
    for (size_t r = 0; r < rows; r++)
      store_pixel(&c, vaddq_s32(vpaddq_s32(acc[r][0], acc[r][1]), sum0), vaddq_s32(vpaddq_s32(acc[r][2], acc[r][3]), sum1),
                  t->y + (first + r) * t->y_stride, t->columns);
  }
}

static const wt_gemm_ukernel neondot = {.nr = 8, .prepare = to_signed, .run = gemm_4x8c4__neondot};
static const wt_gemm_ukernel neon = {.nr = 8, .prepare = to_signed, .run = gemm_4x8c4__neon};

static void conv__neondot(const wt_op_call *call) {
  if (wt_conv_is_depthwise(call->op, call->in[0], call->out))
    wt_qu8_conv__ref(call);
  else
    wt_qu8_gemm_conv(call, &neondot);
}
static void fc__neondot(const wt_op_call *call) { wt_qu8_gemm_fc(call, &neondot); }
static void conv__neon(const wt_op_call *call) {
  if (wt_conv_is_depthwise(call->op, call->in[0], call->out))
    wt_qu8_conv__ref(call);
  else
    wt_qu8_gemm_conv(call, &neon);
}
static void fc__neon(const wt_op_call *call) { wt_qu8_gemm_fc(call, &neon); }

const wt_kernel_set wt_kernel_set_neondot = {
    .name = "neondot",
    .by_kind = {[WT_OP_CONV] = conv__neondot,          [WT_OP_FC] = fc__neondot,
                [WT_OP_ADD] = wt_qu8_add__ref,         [WT_OP_MUL] = wt_qu8_mul__ref,
                [WT_OP_LUT] = wt_qu8_lut__ref,         [WT_OP_MAX_POOL] = wt_qu8_maxpool__ref,
                [WT_OP_MEAN] = wt_qu8_mean__ref,       [WT_OP_CONCAT] = wt_qu8_concat__ref,
                [WT_OP_RESHAPE] = wt_qu8_reshape__ref, [WT_OP_SOFTMAX] = wt_qu8_softmax__ref},
};

const wt_kernel_set wt_kernel_set_neon = {
    .name = "neon",
    .by_kind = {[WT_OP_CONV] = conv__neon,             [WT_OP_FC] = fc__neon,
                [WT_OP_ADD] = wt_qu8_add__ref,         [WT_OP_MUL] = wt_qu8_mul__ref,
                [WT_OP_LUT] = wt_qu8_lut__ref,         [WT_OP_MAX_POOL] = wt_qu8_maxpool__ref,
                [WT_OP_MEAN] = wt_qu8_mean__ref,       [WT_OP_CONCAT] = wt_qu8_concat__ref,
                [WT_OP_RESHAPE] = wt_qu8_reshape__ref, [WT_OP_SOFTMAX] = wt_qu8_softmax__ref},
};
#endif
