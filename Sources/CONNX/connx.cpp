// A thin C shim over libonnx: parse bytes, call one libonnx entry point, serialize, and turn
// every C++ exception into an error string.
#include "connx.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "onnx/checker.h"
#include "onnx/defs/schema.h"
#include "onnx/shape_inference/implementation.h"
// SwiftPM defines DEBUG=1 in debug builds; convert.h has a member named DEBUG.
#pragma push_macro("DEBUG")
#undef DEBUG
#include "onnx/version_converter/convert.h"
#pragma pop_macro("DEBUG")

namespace {

char *copy_string(const std::string &text) {
  char *result = static_cast<char *>(std::malloc(text.size() + 1));
  if (result) std::memcpy(result, text.c_str(), text.size() + 1);
  return result;
}

int fail(char **error, const std::string &message) {
  if (error) *error = copy_string(message);
  return 1;
}

bool parse(const void *bytes, size_t size, onnx::ModelProto &model) {
  return size <= static_cast<size_t>(INT32_MAX) && model.ParseFromArray(bytes, static_cast<int>(size));
}

int serialize(const onnx::ModelProto &model, void **out, size_t *out_size, char **error) {
  std::string buffer;
  if (!model.SerializeToString(&buffer)) return fail(error, "could not serialize the model");
  void *data = std::malloc(buffer.size() ? buffer.size() : 1);
  if (!data) return fail(error, "out of memory");
  std::memcpy(data, buffer.data(), buffer.size());
  *out = data;
  *out_size = buffer.size();
  return 0;
}

}  // namespace

extern "C" int connx_check(const void *bytes, size_t size, char **error) {
  try {
    onnx::ModelProto model;
    if (!parse(bytes, size, model)) return fail(error, "not a valid ONNX protobuf");
    onnx::checker::check_model(model);
    return 0;
  } catch (const std::exception &e) {
    return fail(error, e.what());
  } catch (...) {
    return fail(error, "unknown libonnx error");
  }
}

extern "C" int connx_infer_shapes(const void *bytes, size_t size, void **out, size_t *out_size,
                                  char **error) {
  try {
    onnx::ModelProto model;
    if (!parse(bytes, size, model)) return fail(error, "not a valid ONNX protobuf");
    onnx::shape_inference::InferShapes(model);
    return serialize(model, out, out_size, error);
  } catch (const std::exception &e) {
    return fail(error, e.what());
  } catch (...) {
    return fail(error, "unknown libonnx error");
  }
}

extern "C" int connx_convert_version(const void *bytes, size_t size, int target_opset, void **out,
                                     size_t *out_size, char **error) {
  try {
    onnx::ModelProto model;
    if (!parse(bytes, size, model)) return fail(error, "not a valid ONNX protobuf");
    onnx::ModelProto converted = onnx::version_conversion::ConvertVersion(model, target_opset);
    return serialize(converted, out, out_size, error);
  } catch (const std::exception &e) {
    return fail(error, e.what());
  } catch (...) {
    return fail(error, "unknown libonnx error");
  }
}

extern "C" int connx_max_ir_version(void) { return onnx::Version::IR_VERSION; }

extern "C" int connx_max_opset(void) {
  const auto &map = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto it = map.find(onnx::ONNX_DOMAIN);
  return it == map.end() ? 0 : it->second.second;
}

extern "C" void connx_free(void *pointer) { std::free(pointer); }
