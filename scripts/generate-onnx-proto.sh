#!/usr/bin/env bash
# Regenerates Sources/ONNXProto/onnx.pb.swift from Debian libonnx-dev's onnx.proto (ONNX 1.12)
# with protoc and protoc-gen-swift from swift-protobuf 1.39.0 (the version Package.swift uses).
# The output is committed; the build never runs this script.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
proto=${ONNX_PROTO:-/usr/include/onnx/onnx.proto}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v protoc >/dev/null || apt-get install -y -qq protobuf-compiler libonnx-dev
# The plugin comes from the swift-protobuf checkout the package itself resolves.
(cd "$root" && swift package resolve)
plugin_src="$root/.build/checkouts/swift-protobuf"
(cd "$plugin_src" && swift build -c release --product protoc-gen-swift --scratch-path "$work/build")

cp "$proto" "$work/onnx.proto"
protoc --plugin=protoc-gen-swift="$work/build/release/protoc-gen-swift" \
  --swift_opt=Visibility=Public --swift_out="$work" -I "$work" "$work/onnx.proto"
cp "$work/onnx.pb.swift" "$root/Sources/ONNXProto/onnx.pb.swift"
echo "wrote Sources/ONNXProto/onnx.pb.swift from $proto"
