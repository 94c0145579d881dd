#include "gemm_driver.h"

#include <string.h>

#include "parallel.h"
#include "window.h"

/* A GEMM over an NHWC input: an FC is a 1×1 conv on [N,1,1,K]. */
typedef struct {
  const uint8_t *x;
  wt_window w;
  size_t in_per_group;
  int32_t zx;
} geometry;

/* Writes one pixel's im2col row (depth bytes, zx at padded taps) to `row`. A window row that
 * lies wholly inside the input (dilation 1) is one contiguous run of kw · C/g bytes when the
 * conv has one group. */
static void gather_row(const geometry *g, size_t group, size_t pixel, uint8_t *row) {
  const size_t cg = g->in_per_group, pixels_per_image = g->w.out_h * g->w.out_w;
  const size_t n = pixel / pixels_per_image, oy = pixel % pixels_per_image / g->w.out_w, ox = pixel % g->w.out_w;
  const ptrdiff_t ix0 = (ptrdiff_t)(ox * g->w.stride_w) - (ptrdiff_t)g->w.pad_left;
  const int whole_rows = g->w.dilation_w == 1 && cg == g->w.channels && ix0 >= 0 && ix0 + (ptrdiff_t)g->w.kw <= (ptrdiff_t)g->w.width;
  for (size_t ky = 0; ky < g->w.kh; ky++) {
    const ptrdiff_t iy = (ptrdiff_t)(oy * g->w.stride_h + ky * g->w.dilation_h) - (ptrdiff_t)g->w.pad_top;
    const int row_inside = iy >= 0 && iy < (ptrdiff_t)g->w.height;
    const uint8_t *line = row_inside ? g->x + (n * g->w.height + (size_t)iy) * g->w.width * g->w.channels + group * cg : NULL;
    if (whole_rows && row_inside) {
      memcpy(row, line + (size_t)ix0 * g->w.channels, g->w.kw * cg);
      row += g->w.kw * cg;
      continue;
    }
    for (size_t kx = 0; kx < g->w.kw; kx++, row += cg) {
      const ptrdiff_t ix = ix0 + (ptrdiff_t)(kx * g->w.dilation_w);
      const int padded = !row_inside || ix < 0 || ix >= (ptrdiff_t)g->w.width;
      const uint8_t *src = padded ? NULL : line + (size_t)ix * g->w.channels;
      if (cg >= 16) { /* a library call pays off */
        if (padded) memset(row, g->zx, cg); else memcpy(row, src, cg);
      } else {
        for (size_t c = 0; c < cg; c++) row[c] = padded ? (uint8_t)g->zx : src[c];
      }
    }
  }
}

/* Packs pixels [first, first + rows) of group g as panel[q][r][j] = x̃ at depth 4q + j (0 past
 * the depth and for rows past `rows`). A 1×1 stride-1 unpadded conv reads rows in place; any
 * other window gathers each row into `gathered` (WT_GEMM_MR rows of depth_groups · 4 bytes). */
static void pack_panel(const geometry *g, size_t group, size_t first, size_t rows, size_t depth_groups, uint8_t *gathered,
                       uint8_t *panel) {
  const size_t depth = g->w.kh * g->w.kw * g->in_per_group, whole = depth / 4, row_bytes = depth_groups * 4;
  const int in_place = g->w.kh == 1 && g->w.kw == 1 && g->w.stride_h == 1 && g->w.stride_w == 1 && g->w.pad_top == 0 && g->w.pad_left == 0;
  const uint8_t *src[WT_GEMM_MR];
  for (size_t r = 0; r < WT_GEMM_MR; r++) {
    uint8_t *row = gathered + r * row_bytes;
    if (r >= rows) {
      memset(row, 0, row_bytes);
      src[r] = row;
    } else if (in_place) {
      src[r] = g->x + (first + r) * g->w.channels + group * g->in_per_group;
    } else {
      gather_row(g, group, first + r, row);
      src[r] = row;
    }
  }
  /* Depth-major: each group of 4 depths of the 4 rows is 16 contiguous bytes. */
  for (size_t q = 0; q < whole; q++)
    for (size_t r = 0; r < WT_GEMM_MR; r++) memcpy(panel + (q * WT_GEMM_MR + r) * 4, src[r] + 4 * q, 4);
  if (whole < depth_groups)
    for (size_t r = 0; r < WT_GEMM_MR; r++) {
      uint8_t tail[4] = {0};
      memcpy(tail, src[r] + 4 * whole, depth - 4 * whole);
      memcpy(panel + (whole * WT_GEMM_MR + r) * 4, tail, 4);
    }
}

/* One GEMM op, split into tasks of one packed chunk of one group each. */
typedef struct {
  const wt_op_call *call;
  const wt_gemm_ukernel *uk;
  const geometry *g;
  size_t pixels, out_per_group, out_c, depth, depth_groups, chunk, chunks;
} gemm_job;

static void gemm_task(void *context, size_t task, size_t thread) {
  const gemm_job *job = (const gemm_job *)context;
  const wt_op_call *call = job->call;
  const wt_op *op = call->op;
  const size_t group = task / job->chunks, first = task % job->chunks * job->chunk;
  const size_t rows = job->pixels - first < job->chunk ? job->pixels - first : job->chunk, dg = job->depth_groups;
  /* This thread's scratch (packing.h): the uint8 panels, the int16 panels when the kernel
   * wants them, one panel's gathered rows. */
  const size_t chunk_bytes = job->chunk * dg * 4;
  uint8_t *panel = (uint8_t *)call->scratch + thread * call->scratch_stride;
  void *prepared = job->uk->prepare != NULL ? panel + wt_round_up(chunk_bytes, 64) : panel;
  uint8_t *gathered = panel + wt_round_up(chunk_bytes, 64) + wt_round_up(2 * chunk_bytes, 64);
  for (size_t r = 0; r < rows; r += WT_GEMM_MR)
    pack_panel(job->g, group, first + r, rows - r < WT_GEMM_MR ? rows - r : WT_GEMM_MR, dg, gathered, panel + r * dg * 4);
  if (job->uk->prepare != NULL) job->uk->prepare(panel, wt_round_up(rows, WT_GEMM_MR) * dg * 4, prepared);
  const int8_t *weights = (const int8_t *)(call->data + op->blobs[WT_B_WEIGHTS].offset) +
                          group * wt_packed_group_size(job->out_per_group, job->depth);
  const int32_t *bias = (const int32_t *)(const void *)(call->data + op->blobs[WT_B_BIAS].offset);
  const int32_t *mult = (const int32_t *)(const void *)(call->data + op->blobs[WT_B_MULTIPLIER].offset);
  const int32_t *shift = (const int32_t *)(const void *)(call->data + op->blobs[WT_B_SHIFT].offset);
  const size_t block_stride = dg * WT_PACK_NR * WT_PACK_KR;
  for (size_t m = 0; m < job->out_per_group; m += job->uk->nr) {
    const size_t oc = group * job->out_per_group + m;
    const wt_gemm_tile tile = {
        .rows = rows,
        .columns = job->out_per_group - m < job->uk->nr ? job->out_per_group - m : job->uk->nr,
        .depth_groups = dg,
        .panel = prepared,
        .weights = weights + m / WT_PACK_NR * block_stride,
        .block_stride = block_stride,
        .bias = bias + oc,
        .multiplier = mult + oc,
        .shift = shift + oc,
        .output_zero_point = call->out->zero_point,
        .act_min = op->act_min,
        .act_max = op->act_max,
        .y = call->y + first * job->out_c + oc,
        .y_stride = job->out_c,
    };
    job->uk->run(&tile);
  }
}

static void run_gemm(const wt_op_call *call, const wt_gemm_ukernel *uk, const geometry *g, size_t groups, size_t pixels,
                     size_t out_per_group) {
  const size_t depth = g->w.kh * g->w.kw * g->in_per_group, chunk = wt_panel_rows(depth);
  const gemm_job job = {
      .call = call, .uk = uk, .g = g, .pixels = pixels, .out_per_group = out_per_group, .out_c = out_per_group * groups,
      .depth = depth, .depth_groups = (depth + 3) / 4, .chunk = chunk, .chunks = (pixels + chunk - 1) / chunk,
  };
  wt_parallel_for(call->pool, groups * job.chunks, gemm_task, (void *)&job);
}

void wt_qu8_gemm_conv(const wt_op_call *call, const wt_gemm_ukernel *ukernel) {
  const wt_tensor *in = call->in[0], *out = call->out;
  const size_t groups = (size_t)call->op->params[WT_P_GROUP];
  const geometry g = {.x = call->x[0], .w = wt_window_of(call->op, in, out), .in_per_group = in->dims[3] / groups, .zx = in->zero_point};
  run_gemm(call, ukernel, &g, groups, (size_t)out->dims[0] * out->dims[1] * out->dims[2], out->dims[3] / groups);
}

void wt_qu8_gemm_fc(const wt_op_call *call, const wt_gemm_ukernel *ukernel) {
  const size_t batch = call->out->dims[0], depth = call->in[0]->byte_size / batch;
  const geometry g = {
      .x = call->x[0],
      .w = {.batch = batch, .height = 1, .width = 1, .channels = depth, .out_h = 1, .out_w = 1, .kh = 1, .kw = 1, .stride_h = 1,
            .stride_w = 1, .dilation_h = 1, .dilation_w = 1},
      .in_per_group = depth,
      .zx = call->in[0]->zero_point,
  };
  run_gemm(call, ukernel, &g, 1, batch, call->out->dims[1]);
}
