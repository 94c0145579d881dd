/* Kernel tests in the manner of XNNPACK's gemm-microkernel-tester: every SIMD kernel set this
 * CPU runs against the reference kernels, byte for byte, over sweeps of shapes around the tile
 * sizes (pixels around MR = 4, channels around 8 and 16, depth around 4, odd depths), windows,
 * strides, paddings, dilations, groups, zero points, clamps and requantization parameters
 * (left shifts included), adds, muls (broadcast too), means and max pools, every other case
 * split over a pool of three threads. Every buffer a
 * kernel touches (input, weights, bias, multiplier, shift, scratch, output) ends against a
 * PROT_NONE page, so an overread or overwrite crashes.
 *
 *   kernel_test [cases-per-sweep]     exit 0 when every case matched */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kernels/cpu.h"
#include "kernels/kernel_set.h"
#include "kernels/packing.h"
#if defined(__x86_64__)
#include "kernels/x86/requantize_avx2.h"
#include "kernels/x86/requantize_avx512.h"
#endif

/* ---- buffers ending against a guard page, inside one reserved region (blob offsets are 32-bit) */
static uint8_t *region;
static size_t region_size = (size_t)256 << 20, region_used, page;

static void *guarded(size_t size) {
  const size_t span = (size + page - 1) / page * page;
  if (region_used + span + page > region_size) {
    fprintf(stderr, "guarded region exhausted\n");
    exit(2);
  }
  uint8_t *start = region + region_used;
  if (mprotect(start, span, PROT_READ | PROT_WRITE) != 0) {
    perror("mprotect");
    exit(2);
  }
  region_used += span + page; /* the page after stays PROT_NONE */
  return start + span - size;
}

static void release_all(void) {
  mprotect(region, region_used, PROT_NONE);
  region_used = 0;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (uint32_t)(rng >> 16);
}
static int32_t uniform(int32_t low, int32_t high) { return low + (int32_t)(next() % (uint32_t)(high - low + 1)); }

/* ---- one op, its tensors and constants, ready for any kernel set */
typedef struct {
  wt_op op;
  wt_tensor in[2], out;
  uint8_t *x[2];
  size_t scratch_size;
  const char *what;
} op_case;

/* A zeroed case of one op kind with `inputs` operands (kernels read the operands from the
 * call, not the op's tensor indices). */
static op_case new_case(wt_op_kind kind, uint32_t inputs) {
  op_case c;
  memset(&c, 0, sizeof c);
  c.op.kind = kind;
  c.op.input_count = inputs;
  return c;
}

/* Places `bytes` at the end of a guarded buffer and returns its offset from the region start. */
static wt_blob blob(const void *bytes, size_t size) {
  uint8_t *p = guarded(size);
  memcpy(p, bytes, size);
  wt_blob b = {(uint32_t)(p - region), (uint32_t)size};
  return b;
}

static wt_tensor tensor(uint32_t n, uint32_t h, uint32_t w, uint32_t c, uint32_t rank) {
  wt_tensor t;
  memset(&t, 0, sizeof t);
  t.type = WT_TYPE_U8;
  t.rank = rank;
  const uint32_t dims4[4] = {n, h, w, c}, dims2[4] = {n, c, 1, 1};
  memcpy(t.dims, rank == 4 ? dims4 : dims2, sizeof dims4);
  t.byte_size = n * h * w * c;
  t.scale = 1.0f;
  t.zero_point = uniform(0, 3) == 0 ? (uniform(0, 1) ? 0 : 255) : uniform(0, 255);
  return t;
}

static uint8_t *random_bytes(size_t size) {
  uint8_t *p = guarded(size);
  for (size_t i = 0; i < size; i++) p[i] = (uint8_t)next();
  return p;
}

/* Requantization blobs for `channels` outputs of a dot product of `depth` terms: shifts that
 * put typical sums near the uint8 range, sometimes positive (a left shift). */
static void requant_blobs(wt_op *op, size_t channels, size_t depth) {
  int32_t *mult = malloc(channels * 4), *shift = malloc(channels * 4);
  int bits = 0;
  while (((size_t)1 << bits) < depth * 128 * 40) bits++;
  for (size_t c = 0; c < channels; c++) {
    mult[c] = uniform(0, 15) == 0 ? uniform(0, 1 << 20) : (int32_t)((1u << 30) + (next() % (1u << 30)));
    shift[c] = uniform(0, 7) == 0 ? uniform(0, 4) : 8 - bits + uniform(-3, 2);
    if (shift[c] < -31) shift[c] = -31;
  }
  op->blobs[WT_B_MULTIPLIER] = blob(mult, channels * 4);
  op->blobs[WT_B_SHIFT] = blob(shift, channels * 4);
  free(mult);
  free(shift);
}

static void bias_blob(wt_op *op, size_t channels) {
  int32_t *bias = malloc(channels * 4);
  for (size_t c = 0; c < channels; c++) bias[c] = uniform(-(1 << 20), 1 << 20);
  op->blobs[WT_B_BIAS] = blob(bias, channels * 4);
  free(bias);
}

/* The op's output clamp: none, a random one, or a folded ReLU (starting at the output zero point,
 * which the AVX-512 kernels take a shorter rounding path for). */
static void clamp(wt_op *op, int32_t zero_point) {
  const int kind = uniform(0, 3);
  op->act_min = kind == 0 ? uniform(0, 100) : (kind == 1 ? zero_point : 0);
  op->act_max = uniform(0, 3) == 0 ? uniform(op->act_min, 255) : 255;
}

static int failures, cases;
/* Every other case runs on a pool of three threads, each with its own scratch. */
static wt_threadpool *pool;
#define POOL_THREADS 3u

/* Runs the case with the reference and with `set`, compares the outputs. */
static void check(const op_case *c, const wt_kernel_set *set) {
  const size_t out_bytes = c->out.byte_size;
  uint8_t *expected = malloc(out_bytes), *actual = guarded(out_bytes);
  const int threaded = cases % 2 == 1;
  const size_t stride = wt_round_up(c->scratch_size, 64);
  void *scratch = c->scratch_size ? guarded(stride * (threaded ? POOL_THREADS : 1)) : NULL;
  wt_op_call call = {.op = &c->op, .out = &c->out, .data = region, .scratch = scratch, .scratch_stride = stride};
  if (wt_kind_has_weights(c->op.kind)) call.weights = wt_op_bytes(&call, WT_B_WEIGHTS);
  for (uint32_t i = 0; i < c->op.input_count; i++) call.in[i] = &c->in[i], call.x[i] = c->x[i];
  call.y = expected;
  wt_kernel_set_ref.by_kind[c->op.kind](&call);
  call.y = actual;
  call.pool = threaded ? pool : NULL;
  set->by_kind[c->op.kind](&call);
  cases++;
  for (size_t i = 0; i < out_bytes; i++)
    if (expected[i] != actual[i]) {
      if (failures++ < 20)
        fprintf(stderr, "MISMATCH %s [%s] at %zu of %zu: ref %u, %s %u\n", c->what, set->name, i, out_bytes, expected[i], set->name,
                actual[i]);
      break;
    }
  free(expected);
}

/* ---- the sweeps */
static void conv_case(const wt_kernel_set *set, size_t n, size_t h, size_t w, size_t cin, size_t cout, size_t group, size_t kh,
                      size_t kw, size_t stride, size_t dilation, int pad) {
  op_case c = new_case(WT_OP_CONV, 1);
  int32_t *p = c.op.params;
  p[WT_P_KH] = (int32_t)kh, p[WT_P_KW] = (int32_t)kw, p[WT_P_STRIDE_H] = p[WT_P_STRIDE_W] = (int32_t)stride;
  p[WT_P_DILATION_H] = p[WT_P_DILATION_W] = (int32_t)dilation, p[WT_P_GROUP] = (int32_t)group;
  const size_t span_h = dilation * (kh - 1) + 1, span_w = dilation * (kw - 1) + 1;
  p[WT_P_PAD_TOP] = pad ? uniform(0, (int32_t)span_h - 1) : 0, p[WT_P_PAD_BOTTOM] = pad ? uniform(0, (int32_t)span_h - 1) : 0;
  p[WT_P_PAD_LEFT] = pad ? uniform(0, (int32_t)span_w - 1) : 0, p[WT_P_PAD_RIGHT] = pad ? uniform(0, (int32_t)span_w - 1) : 0;
  const long padded_h = (long)h + p[WT_P_PAD_TOP] + p[WT_P_PAD_BOTTOM], padded_w = (long)w + p[WT_P_PAD_LEFT] + p[WT_P_PAD_RIGHT];
  if (padded_h < (long)span_h || padded_w < (long)span_w) return;
  const size_t out_h = (size_t)(padded_h - (long)span_h) / stride + 1, out_w = (size_t)(padded_w - (long)span_w) / stride + 1;
  c.in[0] = tensor((uint32_t)n, (uint32_t)h, (uint32_t)w, (uint32_t)cin, 4);
  c.out = tensor((uint32_t)n, (uint32_t)out_h, (uint32_t)out_w, (uint32_t)cout, 4);
  c.x[0] = random_bytes(c.in[0].byte_size);
  const size_t depth = kh * kw * cin / group;
  const int depthwise = wt_conv_is_depthwise(&c.op, &c.in[0], &c.out);
  const size_t weight_bytes = depthwise ? depth * cout : group * wt_packed_group_size(cout / group, depth);
  int8_t *weights = malloc(weight_bytes);
  memset(weights, 0, weight_bytes);
  for (size_t g = 0; g < (depthwise ? 1 : group); g++)
    for (size_t m = 0; m < (depthwise ? 1 : cout / group); m++)
      for (size_t k = 0; k < (depthwise ? weight_bytes : depth); k++) {
        const int8_t v = (int8_t)(uniform(0, 7) == 0 ? (uniform(0, 1) ? -128 : 127) : uniform(-127, 127));
        if (depthwise)
          weights[k] = v;
        else /* the packed position of w[m][k] (packing.h) */
          weights[g * wt_packed_group_size(cout / group, depth) + wt_packed_index(depth, m, k)] = v;
      }
  c.op.blobs[WT_B_WEIGHTS] = blob(weights, weight_bytes);
  free(weights);
  bias_blob(&c.op, cout);
  requant_blobs(&c.op, cout, depth);
  clamp(&c.op, c.out.zero_point);
  c.scratch_size = depthwise ? 0 : wt_gemm_scratch_size(depth);
  char what[160];
  snprintf(what, sizeof what, "conv n%zu %zux%zux%zu→%zu g%zu k%zux%zu s%zu d%zu pads %d,%d,%d,%d", n, h, w, cin, cout, group, kh, kw,
           stride, dilation, p[WT_P_PAD_TOP], p[WT_P_PAD_LEFT], p[WT_P_PAD_BOTTOM], p[WT_P_PAD_RIGHT]);
  c.what = what;
  check(&c, set);
}

/* `blocks` > 1: in [blocks, batch / blocks, depth] and out [blocks, batch / blocks, outputs], rows of a 3-D input. */
static void fc_case(const wt_kernel_set *set, size_t batch, size_t depth, size_t outputs, size_t blocks) {
  op_case c = new_case(WT_OP_FC, 1);
  c.in[0] = tensor((uint32_t)batch, 1, 1, (uint32_t)depth, 2);
  c.out = tensor((uint32_t)batch, 1, 1, (uint32_t)outputs, 2);
  if (blocks > 1) {
    const uint32_t in3[3] = {(uint32_t)blocks, (uint32_t)(batch / blocks), (uint32_t)depth};
    const uint32_t out3[3] = {(uint32_t)blocks, (uint32_t)(batch / blocks), (uint32_t)outputs};
    memcpy(c.in[0].dims, in3, sizeof in3);
    memcpy(c.out.dims, out3, sizeof out3);
    c.in[0].rank = c.out.rank = 3;
  }
  c.x[0] = random_bytes(c.in[0].byte_size);
  const size_t bytes = wt_packed_group_size(outputs, depth);
  int8_t *weights = calloc(bytes, 1);
  for (size_t m = 0; m < outputs; m++)
    for (size_t k = 0; k < depth; k++)
      weights[wt_packed_index(depth, m, k)] = (int8_t)uniform(-128, 127);
  c.op.blobs[WT_B_WEIGHTS] = blob(weights, bytes);
  free(weights);
  bias_blob(&c.op, outputs);
  requant_blobs(&c.op, outputs, depth);
  clamp(&c.op, c.out.zero_point);
  c.scratch_size = wt_gemm_scratch_size(depth);
  char what[96];
  snprintf(what, sizeof what, "fc batch %zu (in %zu blocks) depth %zu outputs %zu", batch, blocks, depth, outputs);
  c.what = what;
  check(&c, set);
}

static void add_case(const wt_kernel_set *set, size_t count) {
  op_case c = new_case(WT_OP_ADD, 2);
  c.in[0] = tensor(1, 1, 1, (uint32_t)count, 4);
  c.in[1] = tensor(1, 1, 1, (uint32_t)count, 4);
  c.out = tensor(1, 1, 1, (uint32_t)count, 4);
  c.x[0] = random_bytes(count);
  c.x[1] = random_bytes(count);
  int32_t *p = c.op.params;
  p[WT_P_ADD_LEFT_SHIFT] = uniform(0, 1) ? 20 : uniform(0, 22);
  p[WT_P_ADD_MULT_A] = (int32_t)((1u << 30) + next() % (1u << 30)), p[WT_P_ADD_SHIFT_A] = uniform(-8, 0);
  p[WT_P_ADD_MULT_B] = (int32_t)((1u << 30) + next() % (1u << 30)), p[WT_P_ADD_SHIFT_B] = uniform(-8, 0);
  p[WT_P_ADD_MULT] = (int32_t)((1u << 30) + next() % (1u << 30));
  p[WT_P_ADD_SHIFT] = uniform(-24, 1) - p[WT_P_ADD_LEFT_SHIFT] / 2;
  if (p[WT_P_ADD_SHIFT] < -31) p[WT_P_ADD_SHIFT] = -31; /* the loader's bound */
  clamp(&c.op, c.out.zero_point);
  c.what = "add";
  check(&c, set);
}

/* Mul of two same-shape tensors, or by a [N,1,1,C] one (broadcast over H and W). */
static void mul_case(const wt_kernel_set *set, size_t n, size_t h, size_t w, size_t channels, int broadcast) {
  op_case c = new_case(WT_OP_MUL, 2);
  c.in[0] = tensor((uint32_t)n, (uint32_t)h, (uint32_t)w, (uint32_t)channels, 4);
  c.in[1] = broadcast ? tensor((uint32_t)n, 1, 1, (uint32_t)channels, 4) : tensor((uint32_t)n, (uint32_t)h, (uint32_t)w, (uint32_t)channels, 4);
  c.out = tensor((uint32_t)n, (uint32_t)h, (uint32_t)w, (uint32_t)channels, 4);
  c.x[0] = random_bytes(c.in[0].byte_size);
  c.x[1] = random_bytes(c.in[1].byte_size);
  c.op.params[WT_P_MULT] = (int32_t)((1u << 30) + next() % (1u << 30));
  c.op.params[WT_P_SHIFT] = uniform(-14, 1);
  clamp(&c.op, c.out.zero_point);
  c.what = broadcast ? "mul (broadcast)" : "mul";
  check(&c, set);
}

/* Mean over H and W. */
static void mean_case(const wt_kernel_set *set, size_t n, size_t h, size_t w, size_t channels) {
  op_case c = new_case(WT_OP_MEAN, 1);
  c.in[0] = tensor((uint32_t)n, (uint32_t)h, (uint32_t)w, (uint32_t)channels, 4);
  c.out = tensor((uint32_t)n, 1, 1, (uint32_t)channels, 4);
  c.x[0] = random_bytes(c.in[0].byte_size);
  int bits = 0;
  while (((size_t)1 << bits) < h * w * 64) bits++;
  c.op.params[WT_P_MULT] = (int32_t)((1u << 30) + next() % (1u << 30));
  c.op.params[WT_P_SHIFT] = 6 - bits + uniform(-2, 1);
  clamp(&c.op, c.out.zero_point);
  c.what = "mean";
  check(&c, set);
}

static void maxpool_case(const wt_kernel_set *set, size_t h, size_t w, size_t channels, size_t k, size_t stride) {
  op_case c = new_case(WT_OP_MAX_POOL, 1);
  int32_t *p = c.op.params;
  p[WT_P_KH] = p[WT_P_KW] = (int32_t)k, p[WT_P_STRIDE_H] = p[WT_P_STRIDE_W] = (int32_t)stride;
  p[WT_P_DILATION_H] = p[WT_P_DILATION_W] = 1;
  p[WT_P_PAD_TOP] = p[WT_P_PAD_LEFT] = uniform(0, (int32_t)k - 1), p[WT_P_PAD_BOTTOM] = p[WT_P_PAD_RIGHT] = uniform(0, (int32_t)k - 1);
  const long ph = (long)h + p[WT_P_PAD_TOP] + p[WT_P_PAD_BOTTOM], pw = (long)w + p[WT_P_PAD_LEFT] + p[WT_P_PAD_RIGHT];
  if (ph < (long)k || pw < (long)k) return;
  c.in[0] = tensor(1, (uint32_t)h, (uint32_t)w, (uint32_t)channels, 4);
  c.out = tensor(1, (uint32_t)((size_t)(ph - (long)k) / stride + 1), (uint32_t)((size_t)(pw - (long)k) / stride + 1),
                 (uint32_t)channels, 4);
  c.x[0] = random_bytes(c.in[0].byte_size);
  clamp(&c.op, c.out.zero_point);
  c.what = "maxpool";
  check(&c, set);
}

#if defined(__x86_64__)
/* wt_requantize_avx2 against wt_requantize on edge and random values. */
static WT_AVX2 void requantize_sweep(void) {
  const int32_t edges[] = {0, 1, -1, 2, -2, 3, -3, 127, -128, 32767, -32768, 1 << 30, -(1 << 30), INT32_MAX, INT32_MIN, INT32_MAX - 1,
                           INT32_MIN + 1};
  for (int trial = 0; trial < 20000; trial++) {
    int32_t x[8], m[8], s[8];
    for (int i = 0; i < 8; i++) {
      x[i] = trial % 3 == 0 ? edges[next() % (sizeof edges / sizeof edges[0])] : (int32_t)next() >> uniform(0, 31);
      m[i] = uniform(0, 9) == 0 ? (uniform(0, 1) ? 0 : INT32_MAX) : (int32_t)((1u << 30) + next() % (1u << 30));
      s[i] = uniform(-31, 30);
    }
    const wt_requant_avx2 q = wt_requant_avx2_load(m, s);
    int32_t got[8], clamped[8];
    _mm256_storeu_si256((__m256i *)(void *)got, wt_requantize_avx2(_mm256_loadu_si256((const __m256i *)(const void *)x), &q, 0));
    _mm256_storeu_si256((__m256i *)(void *)clamped, wt_requantize_avx2(_mm256_loadu_si256((const __m256i *)(const void *)x), &q, 1));
    cases++;
    for (int i = 0; i < 8; i++) {
      const int32_t want = wt_requantize(x[i], m[i], s[i]);
      /* the clamped form may differ only where both are ≤ 0 (the clamp makes them one byte) */
      if (got[i] != want || (clamped[i] != want && (clamped[i] > 0 || want > 0))) {
        if (failures++ < 20)
          fprintf(stderr, "MISMATCH requantize(%d, %d, %d): ref %d, avx2 %d, avx2 clamped %d\n", x[i], m[i], s[i], want, got[i],
                  clamped[i]);
        break;
      }
    }
  }
}
#endif

#if defined(__x86_64__)
/* wt_requantize_avx512 against wt_requantize, partial channel counts included. */
static WT_AVX512 void requantize512_sweep(void) {
  for (int trial = 0; trial < 10000; trial++) {
    int32_t x[16], m[16], s[16], got[16];
    for (int i = 0; i < 16; i++) {
      x[i] = trial % 3 == 0 ? (int32_t)(next() | 0x80000000u) >> uniform(0, 31) : (int32_t)next() >> uniform(0, 31);
      m[i] = uniform(0, 9) == 0 ? (uniform(0, 1) ? 0 : INT32_MAX) : (int32_t)((1u << 30) + next() % (1u << 30));
      s[i] = uniform(-31, 30);
    }
    const size_t count = (size_t)uniform(1, 16);
    const wt_requant_avx512 q = wt_requant_avx512_load(m, s, count);
    int32_t clamped[16];
    _mm512_storeu_si512(got, wt_requantize_avx512(_mm512_loadu_si512(x), &q, 0));
    _mm512_storeu_si512(clamped, wt_requantize_avx512(_mm512_loadu_si512(x), &q, 1));
    cases++;
    for (size_t i = 0; i < count; i++) {
      const int32_t want = wt_requantize(x[i], m[i], s[i]);
      /* the clamped form may differ only where both are ≤ 0 (the clamp makes them one byte) */
      if (got[i] != want || (clamped[i] != want && (clamped[i] > 0 || want > 0))) {
        if (failures++ < 20)
          fprintf(stderr, "MISMATCH requantize(%d, %d, %d): ref %d, avx512 %d, avx512 clamped %d\n", x[i], m[i], s[i], want, got[i],
                  clamped[i]);
        break;
      }
    }
  }
}
#endif

static void sweep(const wt_kernel_set *set, int random_cases) {
  /* GEMM tile edges: pixels around MR = 4 and past a packed chunk (wt_panel_rows: 8 pixels at
   * depth 1500), outputs around 8 and 16, depth around 4 and beyond. */
  const size_t batches[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 33};
  const size_t depths[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 257, 1500};
  const size_t outputs[] = {1, 2, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 40};
  for (size_t b = 0; b < sizeof batches / sizeof *batches; b++)
    for (size_t d = 0; d < sizeof depths / sizeof *depths; d++)
      for (size_t o = 0; o < sizeof outputs / sizeof *outputs; o++) {
        fc_case(set, batches[b], depths[d], outputs[o], 1);
        release_all();
      }
  /* Rows of a 3-D input: [2, 20, K] (a sequence model's 40 steps) and [3, 3, K]. */
  for (size_t d = 0; d < sizeof depths / sizeof *depths; d++) {
    fc_case(set, 40, depths[d], 25, 2);
    fc_case(set, 9, depths[d], 17, 3);
    release_all();
  }
  /* Convolutions: random geometry, including the depthwise and grouped cases. */
  const size_t kernels[] = {1, 1, 2, 3, 3, 5, 7};
  for (int i = 0; i < random_cases; i++) {
    const size_t k = kernels[next() % 7], kw = uniform(0, 4) == 0 ? kernels[next() % 7] : k;
    const size_t h = (size_t)uniform(1, 12), w = (size_t)uniform(1, 12), n = (size_t)uniform(1, 2);
    const size_t stride = (size_t)uniform(1, 3), dilation = uniform(0, 4) == 0 ? 2 : 1;
    const int kind = uniform(0, 3); /* 0,1: dense; 2: depthwise; 3: grouped */
    size_t cin, cout, group;
    if (kind == 2) {
      cin = cout = group = (size_t)uniform(1, 40);
    } else if (kind == 3) {
      group = (size_t)uniform(2, 4);
      cin = group * (size_t)uniform(1, 9);
      cout = group * (size_t)uniform(1, 20);
    } else {
      group = 1;
      cin = (size_t)uniform(1, 40);
      cout = (size_t)uniform(1, 40);
    }
    conv_case(set, n, h, w, cin, cout, group, k, kw, stride, dilation, uniform(0, 2) != 0);
    release_all();
  }
  /* Depthwise beyond the sizes above: channel blocks of 64 with remainders and rows longer
   * than the 16-column chunks of the AVX-512 VNNI quad path. */
  const size_t depthwise_kernels[] = {2, 3, 3, 5, 5, 7, 9};
  for (int i = 0; i < random_cases / 2; i++) {
    const size_t kh = depthwise_kernels[next() % 7], kw = uniform(0, 3) == 0 ? depthwise_kernels[next() % 7] : kh;
    const size_t channels = uniform(0, 1) ? 16 * (size_t)uniform(1, 10) : (size_t)uniform(1, 150);
    conv_case(set, (size_t)uniform(1, 2), (size_t)uniform(1, 20), (size_t)uniform(1, 40), channels, channels, channels, kh, kw,
              (size_t)uniform(1, 2), uniform(0, 5) == 0 ? 2 : 1, uniform(0, 3) != 0);
    release_all();
  }
  for (int i = 0; i < random_cases; i++) {
    add_case(set, (size_t)uniform(1, 100));
    release_all();
    mul_case(set, (size_t)uniform(1, 2), (size_t)uniform(1, 6), (size_t)uniform(1, 6),
             uniform(0, 1) ? 8 * (size_t)uniform(1, 6) : (size_t)uniform(1, 40), uniform(0, 1));
    release_all();
    mean_case(set, (size_t)uniform(1, 2), (size_t)uniform(1, 9), (size_t)uniform(1, 9), (size_t)uniform(1, 40));
    release_all();
    maxpool_case(set, (size_t)uniform(1, 12), (size_t)uniform(1, 12), (size_t)uniform(1, 70), (size_t)uniform(1, 3),
                 (size_t)uniform(1, 2));
    release_all();
  }
}

int main(int argc, char **argv) {
  const int random_cases = argc > 1 ? atoi(argv[1]) : 2000;
  page = (size_t)sysconf(_SC_PAGESIZE);
  region = mmap(NULL, region_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (region == MAP_FAILED) {
    perror("mmap");
    return 2;
  }
  pool = wt_threadpool_create(POOL_THREADS);
  if (pool == NULL) {
    fprintf(stderr, "cannot start %u threads\n", POOL_THREADS);
    return 2;
  }
#if defined(__x86_64__)
  if (wt_cpu_has_avx2()) requantize_sweep();
  if (wt_cpu_has_avx512vnni()) requantize512_sweep();
#endif
  const wt_kernel_set *sets[8];
  const size_t count = wt_kernel_sets_supported(sets, 8);
  for (size_t i = 0; i < count; i++) sweep(sets[i], random_cases);
  if (count == 0) printf("this CPU runs no optimized kernel set: nothing to compare with the reference\n");
  wt_threadpool_destroy(pool);
  printf("kernel tests: %d cases over %zu kernel sets against ref (every other one on %u threads), %d mismatches\n", cases, count,
         POOL_THREADS, failures);
  return failures == 0 ? 0 : 1;
}
