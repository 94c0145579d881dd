#ifndef WHITTLE_RUNTIME_H
#define WHITTLE_RUNTIME_H
/* The Whittle runtime: C99, no Swift, no malloc anywhere. This header is its one public face.
 *
 * The caller owns the model bytes and the arena (TFLite Micro's way):
 *
 *   wt_model model;
 *   if (wt_model_load(&model, bytes, size) != WT_OK) ...;          // validates everything
 *   static uint8_t arena[...];                                       // wt_model_arena_size(&model)
 *   wt_interpreter it;
 *   wt_interpreter_init(&it, &model, arena, sizeof arena);
 *   memcpy(wt_tensor_data(&it, wt_model_input(&model, 0)), image, n);  // uint8, NHWC
 *   wt_invoke(&it);
 *   const uint8_t *scores = wt_tensor_data(&it, wt_model_output(&model, 0));
 *
 * The .wtm format is documented in docs/wtm-format.md; the records below are its layout. */

#include <stddef.h>
#include <stdint.h>

#define WT_FORMAT_VERSION 7
#define WT_MAGIC "WTM\x1a"
#define WT_ALIGNMENT 64u
#define WT_MAX_INPUTS 4u
#define WT_MAX_RANK 6u /* uint8 tensors: 4 at most */
#define WT_OP_PARAMS 12u
#define WT_OP_BLOBS 4u
#define WT_NO_TENSOR 0xffffffffu

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  WT_OK = 0,
  WT_ERROR_TRUNCATED,      /* the bytes end before the header, a section or a record does */
  WT_ERROR_MAGIC,          /* not a .wtm file */
  WT_ERROR_VERSION,        /* a format version this runtime does not read */
  WT_ERROR_CHECKSUM,       /* the payload's CRC32 does not match the header */
  WT_ERROR_SECTION,        /* a section is missing, repeated, misaligned or out of the file */
  WT_ERROR_TENSOR,         /* a tensor record is invalid (type, rank, dims, arena range) */
  WT_ERROR_OP,             /* an op record is invalid (kind, tensor index, shapes, parameters) */
  WT_ERROR_BLOB,           /* an op's constant data lies outside the data section or has the wrong size */
  WT_ERROR_ARENA,          /* the arena given is too small */
  WT_ERROR_ARGUMENT,       /* a null pointer or an index out of range */
  WT_ERROR_UNSUPPORTED,    /* this CPU cannot run the kernel set asked for */
  WT_ERROR_LIFETIME        /* tensors live at once share arena bytes, or an op uses a tensor outside its lifetime */
} wt_status;

/* TENSORS, OPS, IO and DATA appear once each; METADATA (UTF-8 JSON the runtime does not read: how
 * inputs are prepared, class names, provenance) at most once. */
typedef enum {
  WT_SECTION_TENSORS = 1,
  WT_SECTION_OPS = 2,
  WT_SECTION_IO = 3,
  WT_SECTION_DATA = 4,
  WT_SECTION_METADATA = 5
} wt_section_kind;

/* Element types. Activations are uint8 (asymmetric), weights int8 (symmetric per channel). A float
 * island (ops without an integer kernel, run as the ONNX graph runs them) holds float32 values in the
 * graph's own layout: NCHW for 4-D, ranks up to WT_MAX_RANK. */
typedef enum { WT_TYPE_U8 = 1, WT_TYPE_F32 = 2 } wt_type;

/* Weight schemes: how a conv or FC op's weights are stored. One table, `wt_schemes`, mirrored by
 * Swift's `Scheme` (Sources/Graph/Scheme.swift) and tested to agree. A weight is a signed level
 * in [min, max] times its output channel's scale (folded into the requantization); levels are
 * stored as two's complement in `bits` bits, packed from the low bits of each byte up, in the
 * order of the int8 layouts (kernels/packing.h). Ternary is 2-bit codes of {−1, 0, +1}: int2
 * has the extra level −2. Example: a 16×4 GEMM tile of 64 weights is 64 bytes in int8, 32 in
 * int4, 16 in int2 or ternary. */
typedef enum { WT_SCHEME_INT8 = 0, WT_SCHEME_INT4, WT_SCHEME_INT2, WT_SCHEME_TERNARY, WT_SCHEME_COUNT } wt_scheme_id;

typedef struct {
  const char *name; /* "int8", "int4", "int2", "ternary" */
  uint32_t bits;    /* stored bits per weight: 8, 4, 2, 2 */
  int32_t min, max; /* the levels: [−127, 127], [−8, 7], [−2, 1], [−1, 1] */
} wt_scheme;

/* Indexed by wt_scheme_id. */
extern const wt_scheme wt_schemes[WT_SCHEME_COUNT];

/* Bytes that `count` weights take in `scheme`, the last byte partly used; 0 for an unknown scheme.
 * Example: 100 int4 weights take 50 bytes, 9 ternary weights 3. */
size_t wt_scheme_bytes(uint32_t scheme, size_t count);
/* The `count` levels packed at a known `scheme`'s bits, sign-extended to int8. Example: int4
 * byte 0x3F holds [−1, 3]; ternary byte 0x71 holds [1, 0, −1, 1]. */
void wt_scheme_unpack(uint32_t scheme, const uint8_t *packed, size_t count, int8_t *levels);

typedef enum {
  WT_OP_CONV = 1,        /* grouped 2-D convolution, NHWC; blobs: weights (the levels of the op's scheme in the int8
                            layout of kernels/packing.h, packed at the scheme's bits), bias i32 [M] with the input zero
                            point folded in, multiplier i32 [M], shift i32 [M] */
  WT_OP_FC = 2,          /* fully connected: out [N, M] or [B, T, M], each of its N (B·T) rows reading an equal share of the
                            input, K values ([N, K], [N,1,1,K] or [B, T, K]); blobs: weights (as conv's), bias, multiplier,
                            shift */
  WT_OP_ADD = 3,         /* elementwise sum of two same-shape tensors, TFLite's integer recipe */
  WT_OP_MUL = 4,         /* product; the second input is the same shape or [N,1,1,C] */
  WT_OP_LUT = 5,         /* y = table[x]; blob: 256 bytes (Relu, Clip, Sigmoid, HardSigmoid, HardSwish …), or 256 per
                            channel (the last dim), one table after another (a per-channel affine constant) */
  WT_OP_MAX_POOL = 6,    /* padded positions are skipped */
  WT_OP_MEAN = 7,        /* mean over H and W: [N,H,W,C] → [N,1,1,C] or [N,C] */
  WT_OP_CONCAT = 8,      /* along the last (channel) axis; all operands share scale and zero point */
  WT_OP_RESHAPE = 9,     /* byte copy between shapes of equal element count, uint8 or float32 */
  WT_OP_SOFTMAX = 10,    /* along the last axis; blob: u32 [256] exp table; output scale 1/256, zero point 0 */
  WT_OP_SLICE = 11,      /* y[i] = x[start + i · step] along each of the 4 dims (unused dims: start 0, step 1);
                            steps may be negative; operands share scale and zero point */
  WT_OP_PAD = 12,        /* y = x placed at offset `before` in each dim, the rest filled with the byte WT_P_PAD_VALUE
                            (a constant pad); operands share scale and zero point */
  WT_OP_RESIZE = 13,     /* nearest-neighbour resize of H and W, NHWC: y[n][i][j] = x[n][rows[i]][columns[j]]; blobs:
                            rows i32 [H'], columns i32 [W']; operands share scale and zero point */
  WT_OP_CONV_TRANSPOSE = 14, /* transposed 2-D convolution, NHWC, geometry as conv (out = (in − 1)·stride − pads +
                            dilation·(k − 1) + 1 + an output padding below stride); blobs: weights [M][kh][kw][C/group]
                            (levels of the op's scheme, packed at its bits), bias i32 [M] without the zero point folded
                            in, multiplier, shift */
  /* Float islands: float32 tensors, one implementation in every kernel set (kernels/float). */
  WT_OP_DEQUANTIZE = 15, /* uint8 → float32: scale · (q − zero point); a 4-D NHWC input becomes NCHW */
  WT_OP_QUANTIZE = 16,   /* float32 → uint8: clamp(round half to even(x / scale) + zero point), NaN → 0; NCHW → NHWC */
  WT_OP_F_UNARY = 17,    /* y = f(x): f is params[WT_P_F_FUNCTION] (wt_float_function), its constants params[1] and [2]
                            as float bits */
  WT_OP_F_BINARY = 18,   /* y = f(a, b) broadcast as numpy does (dims aligned right); with one input tensor the other
                            operand is the constant blob WT_B_CONSTANT (float32, dims in params, first when
                            params[WT_P_F_CONSTANT_FIRST]) */
  WT_OP_F_MATMUL = 19,   /* y[…, m, n] = Σ_k a[…, m, k] · b[…, k, n] + bias[n], k ascending, batch dims broadcast; b
                            the second input or the constant blob; blob WT_B_BIAS float32 [N] or empty */
  WT_OP_F_REDUCE_MEAN = 20, /* mean over the axes of the bit mask params[0] (the sum in row-major order, then one
                               division); the output holds the kept dims in order */
  WT_OP_F_SOFTMAX = 21,  /* along axis params[0]: exp(x − max) / Σ exp(x − max) */
  WT_OP_F_TRANSPOSE = 22, /* y's dim i is x's dim params[i] */
  WT_OP_F_SLICE = 23,    /* y[i] = x[start + i · step] per dim: starts params[0 … 5], steps params[6 … 11] */
  WT_OP_F_CONCAT = 24,   /* along axis params[0] */
  WT_OP_F_POOL = 25      /* 2-D pool, NCHW, geometry as conv's in params; params[WT_P_POOL_KIND]: wt_pool_kind */
} wt_op_kind;
#define WT_OP_KIND_COUNT 26u /* one past the last wt_op_kind */
#define WT_OP_FIRST_FLOAT WT_OP_DEQUANTIZE /* float-island ops are the kinds from here on */

/* WT_OP_F_UNARY's functions; a and b are params[1] and [2] as float bits. */
typedef enum {
  WT_F_RELU = 0, WT_F_SIGMOID, WT_F_SQRT, WT_F_ERF, WT_F_EXP, WT_F_TANH,
  WT_F_CLIP,         /* min(max(x, a), b) */
  WT_F_HARD_SIGMOID, /* max(0, min(1, a·x + b)) */
  WT_F_HARD_SWISH,   /* x · max(0, min(1, x / 6 + 0.5)) */
  WT_F_UNARY_COUNT
} wt_float_function;
/* WT_OP_F_BINARY's functions. */
typedef enum { WT_F_ADD = 0, WT_F_SUB, WT_F_MUL, WT_F_DIV, WT_F_POW, WT_F_BINARY_COUNT } wt_float_binary;
typedef enum { WT_POOL_MAX = 0, WT_POOL_AVERAGE, WT_POOL_AVERAGE_WITH_PADS } wt_pool_kind;

/* Conv and pool geometry in `params`. */
enum { WT_P_KH, WT_P_KW, WT_P_STRIDE_H, WT_P_STRIDE_W, WT_P_PAD_TOP, WT_P_PAD_LEFT, WT_P_PAD_BOTTOM,
       WT_P_PAD_RIGHT, WT_P_DILATION_H, WT_P_DILATION_W, WT_P_GROUP };
/* Add: each input is rescaled to a common scale after a left shift, then requantized. */
enum { WT_P_ADD_LEFT_SHIFT, WT_P_ADD_MULT_A, WT_P_ADD_SHIFT_A, WT_P_ADD_MULT_B, WT_P_ADD_SHIFT_B, WT_P_ADD_MULT,
       WT_P_ADD_SHIFT };
/* Slice: WT_P_SLICE_START + d and WT_P_SLICE_STEP + d for dim d; Pad: WT_P_PAD_BEFORE + d, and the fill byte. */
enum { WT_P_SLICE_START = 0, WT_P_SLICE_STEP = 4 };
enum { WT_P_PAD_BEFORE = 0, WT_P_PAD_VALUE = 4 };
/* Float islands. Unary: the function and its constants; binary: the function, whether the constant comes first, its
 * rank and dims; matmul: the constant's rank and dims (WT_P_F_RANK on); pool: the kind after conv's geometry. */
enum { WT_P_F_FUNCTION = 0, WT_P_F_A = 1, WT_P_F_B = 2, WT_P_F_CONSTANT_FIRST = 1, WT_P_F_RANK = 2, WT_P_F_DIMS = 3 };
enum { WT_P_F_MATMUL_RANK = 0, WT_P_F_MATMUL_DIMS = 1 };
enum { WT_P_POOL_KIND = 11 };
/* Mul and Mean: one requantization. */
enum { WT_P_MULT, WT_P_SHIFT };
/* Blob slots. */
enum { WT_B_WEIGHTS, WT_B_BIAS, WT_B_MULTIPLIER, WT_B_SHIFT };
enum { WT_B_TABLE = 0 };
enum { WT_B_ROWS = 0, WT_B_COLUMNS = 1 };
enum { WT_B_CONSTANT = 0 }; /* float ops' constant operand; matmul's bias is WT_B_BIAS */

/* 64 bytes at offset 0. */
typedef struct {
  char magic[4];
  uint32_t version;
  uint32_t header_size;    /* sizeof(wt_header) */
  uint32_t section_count;  /* entries in the section table, which follows the header */
  uint64_t file_size;
  uint32_t payload_crc32;  /* CRC-32 (IEEE, as zlib) of bytes [header_size, file_size) */
  uint32_t arena_size;     /* bytes the tensors need, planned at export (kernel scratch comes on top) */
  uint32_t reserved[8];
} wt_header;

typedef struct {
  uint32_t kind;   /* wt_section_kind */
  uint32_t count;  /* records in the section (bytes for DATA) */
  uint64_t offset; /* from the start of the file, a multiple of WT_ALIGNMENT */
  uint64_t size;
} wt_section;

typedef struct {
  uint32_t type;                /* wt_type */
  uint32_t rank;                /* 1 … WT_MAX_RANK (uint8: 1 … 4); 4-D uint8 tensors are NHWC, float32 ones NCHW */
  uint32_t dims[WT_MAX_RANK];   /* unused dims are 1 */
  float scale;                  /* real = scale · (q − zero_point); float32 tensors: 1 and 0 */
  int32_t zero_point;
  uint32_t arena_offset;        /* where the tensor lives in the arena */
  uint32_t byte_size;           /* product of dims × element size (1 or 4) */
  /* The steps the tensor is live over, both included: step 0 is the model's input, step i + 1 op
   * i. live_from is the step that writes it (0 for a model input), live_to the last step that
   * reads it (op count + 1 for a model output); live_from > live_to: never used. */
  uint32_t live_from, live_to;
} wt_tensor;

typedef struct {
  uint32_t offset; /* from the start of the DATA section */
  uint32_t size;   /* bytes; 0 when the slot is unused */
} wt_blob;

typedef struct {
  uint32_t kind;                /* wt_op_kind */
  uint32_t input_count;
  uint32_t inputs[WT_MAX_INPUTS]; /* tensor indices; WT_NO_TENSOR past input_count */
  uint32_t output;
  int32_t act_min, act_max;     /* the output clamp, quantized (folds Relu/Clip) */
  int32_t params[WT_OP_PARAMS];
  wt_blob blobs[WT_OP_BLOBS];
  uint32_t scheme;              /* wt_scheme_id of a conv's or FC's weights; WT_SCHEME_INT8 for every other op */
  uint32_t reserved[2];
} wt_op;

/* IO section: input count, the input tensor indices, output count, the output indices (u32 each). */

typedef struct {
  const uint8_t *bytes;
  size_t size;
  const wt_header *header;
  const wt_tensor *tensors;
  uint32_t tensor_count;
  const wt_op *ops;
  uint32_t op_count;
  const uint32_t *inputs;
  uint32_t input_count;
  const uint32_t *outputs;
  uint32_t output_count;
  const uint8_t *data;
  uint64_t data_size;
  size_t unpacked_size; /* int8 slots of the largest op whose weights are stored narrower: they are unpacked there,
                           after the tensors in the arena, before the op runs */
  size_t scratch_size;  /* kernel scratch per thread, placed after the unpacked weights */
  const uint8_t *metadata; /* the METADATA section's bytes, NULL when the file has none */
  uint64_t metadata_size;
} wt_model;

/* Kernel sets. AUTO is the fastest this CPU runs, unless the environment variable WT_KERNELS
 * names one ("ref", "avx2", "avxvnni", "avx512vnni", "neon", "neondot"). */
typedef enum {
  WT_KERNELS_AUTO = 0,
  WT_KERNELS_REF,
  WT_KERNELS_AVX2,
  WT_KERNELS_AVXVNNI,
  WT_KERNELS_AVX512VNNI,
  WT_KERNELS_NEON,    /* aarch64: smull/sadalp */
  WT_KERNELS_NEONDOT  /* aarch64 with the dot-product extension: sdot */
} wt_kernels;

/* A pool of threads convolutions are split across (POSIX hosts; building with WT_NO_THREADS
 * leaves one thread). Creating it allocates and starts threads; running allocates nothing. */
typedef struct wt_threadpool wt_threadpool;
#define WT_MAX_THREADS 16u

typedef struct {
  const wt_model *model;
  uint8_t *arena;
  size_t arena_size;
  const void *kernels;  /* the kernel set in use */
  wt_threadpool *pool;  /* NULL: the caller's thread only */
} wt_interpreter;

/* "whittle-runtime MAJOR.MINOR (wtm format N)", a static string. */
const char *wt_runtime_version(void);
/* A sentence naming the status, a static string. */
const char *wt_status_string(wt_status status);

/* Checks every offset, size, index and count in `bytes` and points `model` into them. The
 * bytes must be 8-byte aligned (malloc's are) and stay alive and unchanged while the model is used. */
wt_status wt_model_load(wt_model *model, const void *bytes, size_t size);
/* Arena bytes to give wt_interpreter_init: the planned tensors, the unpacked weights of one
 * low-bit op, and the kernels' scratch. */
size_t wt_model_arena_size(const wt_model *model);
/* The same for running on `threads` threads: each has its own scratch. */
size_t wt_model_arena_size_threads(const wt_model *model, unsigned threads);
/* Multiply-accumulates one run performs (convolutions, transposed ones and fully connected ops):
 * the work a caller may bound before running a model it did not make. 0 for a NULL model. */
uint64_t wt_model_macs(const wt_model *model);
uint32_t wt_model_input(const wt_model *model, uint32_t index);
/* The METADATA section (UTF-8 JSON, not NUL-terminated) and its size; NULL and 0 when absent. */
const char *wt_model_metadata(const wt_model *model, size_t *size);
uint32_t wt_model_output(const wt_model *model, uint32_t index);

/* The arena must be 16-byte aligned (malloc's is). Uses the AUTO kernel set. */
wt_status wt_interpreter_init(wt_interpreter *interpreter, const wt_model *model, void *arena, size_t arena_size);
/* Chooses the kernel set; WT_ERROR_UNSUPPORTED when this CPU lacks it (the set in use stays). */
wt_status wt_interpreter_set_kernels(wt_interpreter *interpreter, wt_kernels kernels);
/* `threads` (1 … WT_MAX_THREADS) counts the caller; NULL when threads cannot start. */
wt_threadpool *wt_threadpool_create(unsigned threads);
void wt_threadpool_destroy(wt_threadpool *pool);
unsigned wt_threadpool_threads(const wt_threadpool *pool);
/* Splits convolutions over `pool` (NULL: one thread). WT_ERROR_ARENA when the arena given to
 * wt_interpreter_init is smaller than wt_model_arena_size_threads for the pool's threads. */
wt_status wt_interpreter_set_threadpool(wt_interpreter *interpreter, wt_threadpool *pool);
/* "ref", "avx2", "avxvnni", "avx512vnni", "neon" or "neondot". */
const char *wt_interpreter_kernels_name(const wt_interpreter *interpreter);
/* Runs every op in order. Allocates nothing. */
wt_status wt_invoke(wt_interpreter *interpreter);
/* Runs ops [first, end): for per-op timing. */
wt_status wt_invoke_range(wt_interpreter *interpreter, uint32_t first, uint32_t end);
/* The tensor's bytes in the arena, or NULL for an index out of range. */
uint8_t *wt_tensor_data(const wt_interpreter *interpreter, uint32_t tensor);

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32). */
uint32_t wt_crc32(const void *bytes, size_t size);

#ifdef __cplusplus
}
#endif
#endif
