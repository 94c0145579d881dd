# Whittle — build, test and demo. Every target installs the Debian packages it needs.
SWIFT_FLAGS := -c release -Xswiftc -enable-testing
BIN := .build/release/compress
SHARED := ../shared
APT_PACKAGES := libopenblas-dev libonnx-dev libprotobuf-dev zlib1g-dev libturbojpeg0-dev libpng-dev \
	python3-venv python3-wheel python3-numpy python3-pytest

.PHONY: deps build test python-test runtime-fuzz fuzz fuzz-corpus kernel-test neon-test ocr-fixtures decoding-fixtures demo bench bench-search clean

# The C runtime's sources, for the C-only test programs (SwiftPM builds its own copy).
RUNTIME_SOURCES := $(wildcard Sources/Runtime/*.c Sources/Runtime/kernels/*.c Sources/Runtime/kernels/*/*.c)
SANITIZE := -std=c99 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -Wall -Wextra -Werror \
	-ISources/Runtime/include -ISources/Runtime

# Installs the Debian packages of $(1) that are missing; silent when everything is there.
define install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

deps:
	$(call install,$(APT_PACKAGES))

# One build of everything, tests included, so `make demo` and `make test` share it.
build: deps
	swift build $(SWIFT_FLAGS) --build-tests

test: build runtime-fuzz fuzz kernel-test neon-test ocr-fixtures decoding-fixtures python-test
	swift test $(SWIFT_FLAGS) --skip-build --disable-swift-testing

# The Python package (python/): installed into a venv over Debian's Python, numpy and pytest
# (the system's /usr/bin/python3, whatever python3 PATH finds first), tested against the
# command line.
PY_VENV := .build/python-venv
python-test: build
	/usr/bin/python3 -m venv --system-site-packages $(PY_VENV)
	$(PY_VENV)/bin/pip install -q --no-build-isolation --no-deps --force-reinstall ./python
	WHITTLE_COMPRESS=$(CURDIR)/$(BIN) $(PY_VENV)/bin/python -m pytest -q -p no:cacheprovider python/tests

# The OCR tests' images (printed words, for the PP-OCR models), rendered by the project's script
# with a pinned Pillow so the pixels are the same on every machine; not committed.
PILLOW_VERSION := 13.0.0
PILLOW := python3 -c "import PIL, sys; sys.exit(PIL.__version__ != '$(PILLOW_VERSION)')" 2>/dev/null || python3 -m pip install -q pillow==$(PILLOW_VERSION)
ocr-fixtures:
	@$(PILLOW)
	python3 Tests/Fixtures/ocr/make_text_images.py .build/ocr-fixtures

# The images Pillow decodes in its own way (CMYK JPEG, 16-bit PNGs, a truncated JPEG) with
# Pillow's pixels, for DatasetsTests; not committed.
decoding-fixtures:
	@$(PILLOW)
	python3 Tests/Fixtures/decoding/make_decoding_images.py .build/decoding-fixtures

# The C loader against corrupted .wtm files, built with AddressSanitizer and UBSan: an int8
# model, a ternary one (packed 2-bit codes, unpacked by the interpreter) and one with a float
# island (Tests/Fixtures/island).
FUZZ := .build/fuzz_wtm
FUZZ_MODEL := .build/fuzz-mnist
runtime-fuzz: build decoding-fixtures
	cc $(SANITIZE) Tests/RuntimeFuzz/fuzz_wtm.c $(RUNTIME_SOURCES) -lm -pthread -o $(FUZZ)
	@if [ -d $(SHARED)/data/mnist ]; then \
		for bits in int8 ternary; do \
			$(BIN) $(SHARED)/models/mnist/mnist-pytorch-opset11.onnx --data $(SHARED)/data/mnist --prep mnist --bits $$bits \
				--bits-everywhere --calibration-count 20 -o $(FUZZ_MODEL)-$$bits.wtm --json >/dev/null && \
			$(FUZZ) $(FUZZ_MODEL)-$$bits.wtm 1000 || exit 1; \
		done; \
		$(BIN) Tests/Fixtures/island/island.onnx --data $(SHARED)/data/mnist --prep mnist --calibration-count 20 \
			-o $(FUZZ_MODEL)-island.wtm --json >/dev/null && $(FUZZ) $(FUZZ_MODEL)-island.wtm 1000 || exit 1; \
	else echo "($(SHARED)/data is absent: skipping the runtime fuzz test)"; fi

# libFuzzer against the .wtm loader and interpreter (Tests/Fuzz/fuzz_wtm_target.c), the ONNX
# importer (Sources/fuzz-import) and the data-file decoders (Sources/fuzz-data), the Swift ones
# built with ASan and coverage in .build/fuzz (their release builds replay the corpus first, as
# the optimizer sees it), FUZZ_SECONDS each, starting from the
# committed corpus (Tests/Fuzz/corpus, which holds every input that once crashed), with a fixed
# seed so that make test repeats itself (FUZZ_SEED=0: a random one). A finding stops the run and
# leaves its input in .build/fuzz-findings; the long campaigns and how to reproduce a finding:
# Tests/Fuzz/README.md.
FUZZ_SECONDS := 60
CLANG_RT := $(shell clang -print-resource-dir)/lib/linux
FUZZ_WORK := .build/fuzz-work
FUZZ_SEED := 1
# Runs per target: about FUZZ_SECONDS each on a 2-core machine; a count, not a time, so that a
# run on any machine tries the same inputs (FUZZ_RUNS="-1 -1 -1": until FUZZ_SECONDS pass).
FUZZ_RUNS := 250000 30000 60000
# The data decoders' seeds are read where they are, never committed: the photos in ../shared (when
# it is there), the images make decoding-fixtures writes (CMYK, 16-bit, truncated) and the .npy/.npz fixtures.
FUZZ_DATA_SEEDS = $(wildcard $(SHARED)/data/package-samples) .build/decoding-fixtures Tests/Fixtures/datasets
FUZZ_FLAGS = -max_total_time=$(FUZZ_SECONDS) -seed=$(FUZZ_SEED) -rss_limit_mb=4096 -timeout=30 -print_final_stats=1 \
	-artifact_prefix=.build/fuzz-findings/
FUZZ_INSTRUMENT := -fsanitize-coverage=inline-8bit-counters,pc-table,trace-cmp
fuzz: build decoding-fixtures
	clang $(SANITIZE) -fsanitize=fuzzer -fuse-ld=lld Tests/Fuzz/fuzz_wtm_target.c $(RUNTIME_SOURCES) -lm -pthread \
		-o .build/fuzz_wtm_target
	for product in fuzz-import fuzz-data; do \
		swift build --build-path .build/fuzz -c debug --product $$product --sanitize address \
			-Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table -Xcc $(FUZZ_INSTRUMENT) -Xcxx $(FUZZ_INSTRUMENT) \
			-Xlinker -u -Xlinker LLVMFuzzerRunDriver -Xlinker $(CLANG_RT)/libclang_rt.fuzzer_no_main-x86_64.a -Xlinker -lstdc++ \
			|| exit 1; \
	done
	@mkdir -p $(FUZZ_WORK)/wtm $(FUZZ_WORK)/onnx $(FUZZ_WORK)/data .build/fuzz-findings
	.build/release/fuzz-import Tests/Fuzz/corpus/onnx
	.build/release/fuzz-data $(FUZZ_DATA_SEEDS)
	.build/fuzz_wtm_target $(FUZZ_WORK)/wtm Tests/Fuzz/corpus/wtm $(FUZZ_FLAGS) -runs=$(word 1,$(FUZZ_RUNS)) -max_len=65536 \
		2>.build/fuzz-wtm.log || \
		{ tail -n 60 .build/fuzz-wtm.log; exit 1; }
	@grep -E "^(Done|stat::number_of_executed_units)" .build/fuzz-wtm.log
	SWIFT_BACKTRACE=enable=no .build/fuzz/debug/fuzz-import $(FUZZ_WORK)/onnx Tests/Fuzz/corpus/onnx $(FUZZ_FLAGS) -runs=$(word 2,$(FUZZ_RUNS)) -max_len=200000 \
		2>.build/fuzz-onnx.log || { tail -n 60 .build/fuzz-onnx.log; exit 1; }
	@grep -E "^(Done|stat::number_of_executed_units)" .build/fuzz-onnx.log
	SWIFT_BACKTRACE=enable=no .build/fuzz/debug/fuzz-data $(FUZZ_WORK)/data $(FUZZ_DATA_SEEDS) $(FUZZ_FLAGS) -runs=$(word 3,$(FUZZ_RUNS)) -max_len=65536 \
		2>.build/fuzz-data.log || { tail -n 60 .build/fuzz-data.log; exit 1; }
	@grep -E "^(Done|stat::number_of_executed_units)" .build/fuzz-data.log

# The seed models (Tests/Fuzz/make_seeds.py, with a pinned onnx) and their .wtm files, written
# into the committed corpus; calibrated on ../shared's photos, with three made-up class names so
# that the metadata stays small and holds nothing of ../shared.
ONNX_VERSION := 1.23.2
fuzz-corpus: build
	@python3 -c "import onnx, sys; sys.exit(onnx.__version__ != '$(ONNX_VERSION)')" 2>/dev/null || python3 -m pip install -q onnx==$(ONNX_VERSION)
	python3 Tests/Fuzz/make_seeds.py Tests/Fuzz/corpus/onnx
	@printf 'first\nsecond\nthird\n' > .build/fuzz-seed-labels.txt
	@for model in conv_family transposed_and_matmul runtime_ops quantized opset9_upgrade; do for bits in int8 int4 ternary; do \
		$(BIN) Tests/Fuzz/corpus/onnx/$$model.onnx --data $(SHARED)/data/imagenet-train --prep torch --calibration-count 4 \
			--labels .build/fuzz-seed-labels.txt \
			--bits $$bits --bits-everywhere -o Tests/Fuzz/corpus/wtm/$$model-$$bits.wtm --json >/dev/null || exit 1; done; done
	$(BIN) Tests/Fixtures/island/island.onnx --data $(SHARED)/data/mnist --prep mnist --calibration-count 4 \
		-o Tests/Fuzz/corpus/wtm/island-int8.wtm --json >/dev/null

# Every SIMD kernel set the CPU runs against the reference, bit for bit, buffers against guard
# pages, under the sanitizers (Tests/KernelTests/kernel_test.c).
KERNEL_TEST := .build/kernel_test
kernel-test:
	cc $(SANITIZE) Tests/KernelTests/kernel_test.c $(RUNTIME_SOURCES) -lm -pthread -o $(KERNEL_TEST)
	$(KERNEL_TEST) 2000

# The runtime cross-built for aarch64 (Sources/Runtime/Makefile) and run under qemu, on a CPU
# with the dot-product extension (-cpu max) and one without (cortex-a53): the kernel tests, then
# the bundled model (in int8, and with int4 weights), whose output must be bit-identical to the
# x86 run; and the model exported
# as C sources (--emit-c), built warning-free for both targets, giving the same bytes.
NEON_PACKAGES := gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
QEMU := qemu-aarch64 -L /usr/aarch64-linux-gnu
NEON := .build/neon
FIRMWARE_FLAGS := -std=c99 -Wall -Wextra -Werror -ISources/Runtime/include
neon-test: build
	$(call install,$(NEON_PACKAGES))
	@$(MAKE) --no-print-directory -s -C Sources/Runtime ARCH=aarch64
	@$(MAKE) --no-print-directory -s -C Sources/Runtime ARCH=host
	@for cpu in max cortex-a53; do echo "qemu -cpu $$cpu:"; $(QEMU) -cpu $$cpu .build/runtime-aarch64/kernel_test 500 || exit 1; done
	@if [ -d $(SHARED)/data/imagenet-calib ]; then \
		rm -rf $(NEON) && mkdir -p $(NEON) && \
		$(BIN) models/efficientnet-lite0-fp32.onnx --data $(SHARED)/data/imagenet-calib --prep tf --calibration-count 20 \
			-o $(NEON)/lite0.wtm --emit-c $(NEON)/c --json >/dev/null && \
		.build/runtime-host/wtm_run $(NEON)/lite0.wtm $(NEON)/x86.bin && \
		for cpu in max cortex-a53; do \
			$(QEMU) -cpu $$cpu .build/runtime-aarch64/wtm_run $(NEON)/lite0.wtm $(NEON)/$$cpu.bin && \
			cmp $(NEON)/x86.bin $(NEON)/$$cpu.bin || exit 1; \
		done && echo "EfficientNet-Lite0: aarch64 (qemu -cpu max and cortex-a53) and x86 outputs are bit-identical" && \
		$(BIN) models/efficientnet-lite0-fp32.onnx --data $(SHARED)/data/imagenet-calib --prep tf --calibration-count 20 --bits int4 \
			-o $(NEON)/lite0-int4.wtm --json >/dev/null && \
		.build/runtime-host/wtm_run $(NEON)/lite0-int4.wtm $(NEON)/x86-int4.bin && \
		$(QEMU) -cpu cortex-a53 .build/runtime-aarch64/wtm_run $(NEON)/lite0-int4.wtm $(NEON)/a53-int4.bin && \
		cmp $(NEON)/x86-int4.bin $(NEON)/a53-int4.bin && \
		echo "EfficientNet-Lite0 with int4 weights (unpacked by the interpreter): aarch64 and x86 outputs are bit-identical" && \
		cc $(FIRMWARE_FLAGS) $(NEON)/c/main.c $(NEON)/c/model.c .build/runtime-host/libwhittle_runtime.a -lm -pthread -o $(NEON)/model-x86 && \
		aarch64-linux-gnu-gcc $(FIRMWARE_FLAGS) $(NEON)/c/main.c $(NEON)/c/model.c .build/runtime-aarch64/libwhittle_runtime.a \
			-lm -pthread -o $(NEON)/model-aarch64 && \
		$(NEON)/model-x86 $(NEON)/c-x86.bin && $(QEMU) -cpu cortex-a53 $(NEON)/model-aarch64 $(NEON)/c-aarch64.bin && \
		cmp $(NEON)/x86.bin $(NEON)/c-x86.bin && cmp $(NEON)/x86.bin $(NEON)/c-aarch64.bin && \
		echo "EfficientNet-Lite0 as C sources (--emit-c): builds with -Wall -Wextra -Werror for x86-64 and aarch64, same output bytes"; \
	else echo "($(SHARED)/data is absent: skipping the aarch64-vs-x86 model comparison and the C export)"; fi

# The main job on the bundled model: int8 .wtm under a 6 MB weight budget, then the C runtime
# on a sample photo (a cup of coffee: ImageNet class 967, espresso). Without ../shared, the job calibrates without
# data (ZeroQ, from the bundled BatchNorm statistics) and stops at the .wtm.
demo: build
	$(BIN) inspect models/efficientnet-lite0-fp32.onnx
	@if [ -d $(SHARED)/data/imagenet-calib ]; then \
		mkdir -p out && $(BIN) models/efficientnet-lite0-fp32.onnx --budget 6MB --data $(SHARED)/data/imagenet-calib --prep tf \
			-o out/efficientnet-lite0-int8.wtm --report out/efficientnet-lite0-int8.json && \
		$(BIN) run out/efficientnet-lite0-int8.wtm --input $(SHARED)/data/package-samples/coffee.png --top 3; \
	else echo "($(SHARED)/data is absent: calibrating without data, on inputs distilled from the bundled BatchNorm statistics, about 2 minutes)"; \
		mkdir -p out && $(BIN) models/efficientnet-lite0-fp32.onnx --budget 6MB --bn-statistics models/efficientnet-lite0-bn-statistics.npz \
			-o out/efficientnet-lite0-int8.wtm --report out/efficientnet-lite0-int8.json; fi

# Float Engine vs ONNX Runtime fp32, a training step vs PyTorch's, then int8 runtime vs ONNX Runtime int8 and the GEMM
# micro-kernels vs their instruction mix's peak, then llvm-mca's estimate of the NEON loops.
bench: build
	python3 bench/engine_vs_ort.py
	python3 bench/train_vs_torch.py
	python3 bench/int8_vs_ort.py
	python3 bench/busy_threads.py
	python3 bench/qdq_in_ort.py
	python3 bench/neon_mca.py

# The bit-width search's methods against the uniform plans on Lite0, MobileNetV2 and ResNet-20
# (about an hour on two cores), the built-in EMQ proxy evolved again (half an hour), and the
# width search's methods against a uniform width multiplier (about an hour).
bench-search: build
	python3 bench/bit_search.py --ms
	python3 bench/evolve_proxy.py
	python3 bench/width_search.py

clean:
	rm -rf .build
