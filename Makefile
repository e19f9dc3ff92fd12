# vexil: one entry point.
#   make          the C library (static and shared) and the `vexil` command
#   make test     every test: C (under ASan+UBSan), Python, Node
#   make demo     evaluate flags and export events from C, Python and JS
#   make bench    side-by-side benchmarks
#   make fuzz     libFuzzer targets (clang), FUZZ_SECONDS each
#   make test-tsan the C tests under ThreadSanitizer (not part of `make test`)
# Set-up is part of the targets: `make deps` installs missing Debian packages.

CC ?= cc
PYTHON ?= python3
BUILD ?= out
FUZZ_SECONDS ?= 60
PYVENV ?= $(BUILD)/pyvenv

WARN := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wvla
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -pthread \
               -Icsrc/include -Icsrc $(WARN)
REL_CFLAGS := $(BASE_CFLAGS) -O2 -g
ASAN_CFLAGS := $(BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=undefined
TSAN_CFLAGS := $(BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer -fsanitize=thread
LIBS := -lcjson -lyaml -lcurl -lcrypto -lsnappy -lz -lzstd -pthread -lm

# Every .c under csrc/ but the command's own: new subsystem folders are picked up.
LIB_SRC := $(sort $(shell find csrc -name '*.c' -not -path 'csrc/cli/*'))
CLI_SRC := $(sort $(wildcard csrc/cli/*.c))
REL_OBJ := $(LIB_SRC:%.c=$(BUILD)/rel/%.o)
ASAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/asan/%.o)
TSAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/tsan/%.o)
HEADERS := $(sort $(shell find csrc -name '*.h'))

C_TESTS := $(sort $(wildcard tests/c/test_*.c))
C_TEST_BINS := $(C_TESTS:tests/c/%.c=$(BUILD)/tests/%)
# fork() from a multithreaded process is outside what TSan supports.
TSAN_TEST_BINS := $(filter-out %/test_fork,$(C_TESTS:tests/c/%.c=$(BUILD)/tests-tsan/%))

.PHONY: all lib cli deps test test-c test-servers test-tsan test-python test-node node-build demo bench bench-c bench-python bench-node bench-azblob fuzz clean

all: lib cli

lib: $(BUILD)/libvexil.a $(BUILD)/libvexil.so
cli: $(BUILD)/vexil

deps:
	@scripts/install-deps.sh

$(BUILD)/rel/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/asan/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -c $< -o $@

$(BUILD)/tsan/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_CFLAGS) -c $< -o $@

$(BUILD)/libvexil-tsan.a: $(TSAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tests-tsan/%: tests/c/%.c tests/c/test.h tests/c/httpd.h tests/c/servers.h $(BUILD)/libvexil-tsan.a
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_CFLAGS) -Itests/c -o $@ $< $(BUILD)/libvexil-tsan.a $(LIBS)

$(BUILD)/libvexil.a: $(REL_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libvexil.so: $(REL_OBJ)
	$(CC) -shared -o $@ $^ $(LIBS) -Wl,-soname,libvexil.so

$(BUILD)/libvexil-asan.a: $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/vexil: $(CLI_SRC) $(BUILD)/libvexil.a
	$(CC) $(REL_CFLAGS) $(CFLAGS) -o $@ $(CLI_SRC) $(BUILD)/libvexil.a $(LIBS)

$(BUILD)/vexil-asan: $(CLI_SRC) $(BUILD)/libvexil-asan.a
	$(CC) $(ASAN_CFLAGS) -o $@ $(CLI_SRC) $(BUILD)/libvexil-asan.a $(LIBS)

$(BUILD)/tests/%: tests/c/%.c tests/c/test.h tests/c/httpd.h tests/c/servers.h $(BUILD)/libvexil-asan.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -Itests/c -o $@ $< $(BUILD)/libvexil-asan.a $(LIBS)

test: deps test-c test-servers test-python test-node

# The real local servers of the cloud and streaming tests (tests/servers/),
# installed into ${XDG_CACHE_HOME:-~/.cache}/vexil once, so the suites only
# start them.
test-servers: $(PYVENV)/bin/python
	$(PYVENV)/bin/python tests/servers/cli.py install --all

test-c: $(C_TEST_BINS) $(BUILD)/vexil-asan
	@set -e; for t in $(C_TEST_BINS); do \
	  echo "== $$t"; \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  VX_CLI=$(BUILD)/vexil-asan $$t; \
	done

# ThreadSanitizer: halt on the first report, so a race fails the run.
test-tsan: $(TSAN_TEST_BINS) $(BUILD)/vexil
	@set -e; for t in $(TSAN_TEST_BINS); do \
	  echo "== $$t"; \
	  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:die_after_fork=0 VX_CLI=$(BUILD)/vexil $$t; \
	done

# Benchmarks (bench/): C first, then the bindings side by side with their peers.
$(BUILD)/bench/%: bench/%.c $(BUILD)/libvexil.a
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libvexil.a $(LIBS)

bench-c: $(BUILD)/bench/bench_eval $(BUILD)/bench/bench_pipeline $(BUILD)/bench/bench_formats
	$(BUILD)/bench/bench_eval
	$(BUILD)/bench/bench_pipeline
	$(BUILD)/bench/bench_formats

bench-python: lib $(PYVENV)/bin/python
	$(PYVENV)/bin/pip install -q .
	$(PYVENV)/bin/python bench/bench_python.py

# The Azure Blob exporter next to GOFF's on one Azurite (bench/peers/goff_azblob).
bench-azblob: $(BUILD)/bench/bench_azblob $(PYVENV)/bin/python
	$(PYVENV)/bin/pip install -q azure-storage-blob
	$(PYVENV)/bin/python bench/bench_azblob.py

bench: deps bench-c bench-python bench-node bench-azblob

# libFuzzer targets (clang), each run for FUZZ_SECONDS with a corpus under out/.
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -pthread -Icsrc/include -Icsrc \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(LIBS)

fuzz:
	@VX_WITH_CLANG=1 scripts/install-deps.sh
	$(MAKE) $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(BUILD)/fuzz/corpus-$$t; \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  seeds=; case $$t in fuzz_config|fuzz_yaml) seeds=tests/c/data/golden;; esac; \
	  $(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    $(BUILD)/fuzz/corpus-$$t $$seeds 2>&1 | grep -E "stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY" || true; \
	done

# The demo: the same flag file evaluated from C, Python and JavaScript, with
# events exported by C, Python and JS exporters.
DEMO_OUT := $(BUILD)/demo

$(BUILD)/demo-c: examples/c/demo.c $(BUILD)/libvexil.a
	$(CC) $(REL_CFLAGS) -o $@ $< $(BUILD)/libvexil.a $(LIBS)

demo: deps all $(BUILD)/demo-c $(PYVENV)/bin/python
	@rm -rf $(DEMO_OUT) && mkdir -p $(DEMO_OUT)
	@echo "== the vexil command"
	$(BUILD)/vexil eval --config examples/flags.yaml --flag banner-color \
	  --context '{"targetingKey":"ada","email":"ada@example.com"}' \
	  --export-file $(DEMO_OUT)/events-cli
	@echo "== C"
	$(BUILD)/demo-c examples/flags.yaml $(DEMO_OUT)/events-c
	@echo "== Python"
	$(PYVENV)/bin/pip install -q .
	$(PYVENV)/bin/python examples/python/demo.py examples/flags.yaml $(DEMO_OUT)/events-py
	@echo "== JavaScript"
	$(MAKE) --no-print-directory node-build
	node examples/node/demo.js examples/flags.yaml $(DEMO_OUT)/events-js
	@echo "== events written"
	@find $(DEMO_OUT) -type f | sort

# Python: a venv of the project's own, so the system Python stays untouched.

$(PYVENV)/bin/python:
	$(PYTHON) -m venv $(PYVENV)
	$(PYVENV)/bin/pip install -q --upgrade pip

test-python: lib $(PYVENV)/bin/python
	$(PYVENV)/bin/pip install -q '.[test]'
	$(PYVENV)/bin/python -m pytest -q tests/python

# Node: `npm install` builds the addon (node-gyp, into build/Release).
node-build:
	npm install --no-audit --no-fund --loglevel=error

test-node: node-build
	node --test tests/node/

bench-node: node-build
	node bench/bench_node.js

clean:
	rm -rf $(BUILD) build
