#ifndef CONNX_H
#define CONNX_H
/// C face of Debian's libonnx (1.12: opset <= 17, IR <= 8), working on serialized ModelProto bytes.
/// Every function returns 0 on success. On failure it returns non-zero and sets *error to a
/// malloc'ed message (free it with connx_free); exceptions never cross this boundary. Each call
/// runs libonnx in a forked child, so a model that crashes libonnx is an error here, not a crash.
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Runs onnx::checker::check_model.
int connx_check(const void *bytes, size_t size, char **error);

/// Runs onnx::shape_inference::InferShapes; *out (free with connx_free) holds the new model bytes.
int connx_infer_shapes(const void *bytes, size_t size, void **out, size_t *out_size, char **error);

/// Converts the default-domain opset with onnx::version_conversion::ConvertVersion.
/// Example: an opset-7 SqueezeNet with target_opset 13 comes back with Dropout/Reshape upgraded.
int connx_convert_version(const void *bytes, size_t size, int target_opset,
                          void **out, size_t *out_size, char **error);

/// The highest IR version and default-domain opset this libonnx knows (8 and 17 for 1.12).
int connx_max_ir_version(void);
int connx_max_opset(void);

void connx_free(void *pointer);

#ifdef __cplusplus
}
#endif
#endif
