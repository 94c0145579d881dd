// A thin C shim over libonnx: parse bytes, call one libonnx entry point, serialize, and turn
// every C++ exception into an error string. Each call runs in a forked child process, because
// libonnx can also crash outright on a malformed model (its version converter dereferences
// null on some corrupted graphs); the parent then reports the crash as an error.
#include "connx.h"

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
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

bool write_all(int fd, const char *data, size_t size) {
  while (size > 0) {
    ssize_t written = write(fd, data, size);
    if (written <= 0) return false;
    data += written;
    size -= static_cast<size_t>(written);
  }
  return true;
}

// Runs `job` in a child process. The job returns 0 and fills `result`, or non-zero and fills
// it with an error message; the child sends a status byte and the text through a pipe.
int isolated(const std::function<int(std::string &)> &job, std::string &result) {
  int fds[2];
  if (pipe(fds) != 0) return (result = "could not create a pipe for libonnx", 1);
  pid_t child = fork();
  if (child < 0) {
    close(fds[0]);
    close(fds[1]);
    return (result = "could not fork for libonnx", 1);
  }
  if (child == 0) {
    close(fds[0]);
    std::string text;
    int status;
    try {
      status = job(text);
    } catch (const std::exception &e) {
      status = 1;
      text = e.what();
    } catch (...) {
      status = 1;
      text = "unknown libonnx error";
    }
    char byte = static_cast<char>(status);
    bool ok = write_all(fds[1], &byte, 1) && write_all(fds[1], text.data(), text.size());
    close(fds[1]);
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  std::string received;
  char buffer[1 << 16];
  ssize_t got;
  while ((got = read(fds[0], buffer, sizeof buffer)) > 0) received.append(buffer, static_cast<size_t>(got));
  close(fds[0]);
  int wait_status = 0;
  while (waitpid(child, &wait_status, 0) < 0 && errno == EINTR) {}
  if (WIFSIGNALED(wait_status)) {
    result = "libonnx crashed on this model (signal " + std::to_string(WTERMSIG(wait_status)) + ")";
    return 1;
  }
  if (received.empty()) return (result = "libonnx stopped without an answer", 1);
  result = received.substr(1);
  return received[0];
}

int finish(int status, const std::string &text, void **out, size_t *out_size, char **error) {
  if (status != 0) return fail(error, text);
  if (!out) return 0;
  void *data = std::malloc(text.size() ? text.size() : 1);
  if (!data) return fail(error, "out of memory");
  std::memcpy(data, text.data(), text.size());
  *out = data;
  *out_size = text.size();
  return 0;
}

}  // namespace

extern "C" int connx_check(const void *bytes, size_t size, char **error) {
  std::string text;
  int status = isolated([&](std::string &result) {
    onnx::ModelProto model;
    if (!parse(bytes, size, model)) return (result = "not a valid ONNX protobuf", 1);
    onnx::checker::check_model(model);
    return 0;
  }, text);
  return finish(status, text, nullptr, nullptr, error);
}

extern "C" int connx_infer_shapes(const void *bytes, size_t size, void **out, size_t *out_size,
                                  char **error) {
  std::string text;
  int status = isolated([&](std::string &result) {
    onnx::ModelProto model;
    if (!parse(bytes, size, model)) return (result = "not a valid ONNX protobuf", 1);
    onnx::shape_inference::InferShapes(model);
    return model.SerializeToString(&result) ? 0 : (result = "could not serialize the model", 1);
  }, text);
  return finish(status, text, out, out_size, error);
}

extern "C" int connx_convert_version(const void *bytes, size_t size, int target_opset, void **out,
                                     size_t *out_size, char **error) {
  std::string text;
  int status = isolated([&](std::string &result) {
    onnx::ModelProto model;
    if (!parse(bytes, size, model)) return (result = "not a valid ONNX protobuf", 1);
    onnx::ModelProto converted = onnx::version_conversion::ConvertVersion(model, target_opset);
    return converted.SerializeToString(&result) ? 0 : (result = "could not serialize the model", 1);
  }, text);
  return finish(status, text, out, out_size, error);
}

extern "C" int connx_max_ir_version(void) { return onnx::Version::IR_VERSION; }

extern "C" int connx_max_opset(void) {
  const auto &map = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto it = map.find(onnx::ONNX_DOMAIN);
  return it == map.end() ? 0 : it->second.second;
}

extern "C" void connx_free(void *pointer) { std::free(pointer); }
