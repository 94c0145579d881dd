# Whittle — build, test and demo. Every target installs the Debian packages it needs.
SWIFT_FLAGS := -c release -Xswiftc -enable-testing
BIN := .build/release/compress
SHARED := ../shared
APT_PACKAGES := libopenblas-dev libonnx-dev libprotobuf-dev zlib1g-dev libturbojpeg0-dev libpng-dev

.PHONY: deps build test demo bench clean

# Installs what is missing, once; silent when everything is there.
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# One build of everything, tests included, so `make demo` and `make test` share it.
build: deps
	swift build $(SWIFT_FLAGS) --build-tests

test: build
	swift test $(SWIFT_FLAGS) --skip-build --disable-swift-testing

demo: build
	$(BIN) inspect models/efficientnet-lite0-fp32.onnx
	@if [ -f $(SHARED)/data/package-samples/coffee.png ]; then \
		$(BIN) run models/efficientnet-lite0-fp32.onnx --input $(SHARED)/data/package-samples/coffee.png --prep tf --top 3; \
	else echo "($(SHARED)/data is absent: skipping the sample image)"; fi

bench: build
	python3 bench/engine_vs_ort.py

clean:
	rm -rf .build
