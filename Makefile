# vexil: one entry point.
#   make          the C library (static and shared) and the `vexil` command
#   make test     every test: C (under ASan+UBSan), Python, Node
#   make demo     evaluate flags and export events from C, Python and JS
#   make bench    side-by-side benchmarks
#   make fuzz     libFuzzer targets (clang), FUZZ_SECONDS each
# Set-up is part of the targets: `make deps` installs missing Debian packages.

CC ?= cc
PYTHON ?= python3
BUILD ?= build
FUZZ_SECONDS ?= 60

WARN := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wvla
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -pthread \
               -Icsrc/include -Icsrc $(WARN)
REL_CFLAGS := $(BASE_CFLAGS) -O2 -g
ASAN_CFLAGS := $(BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=undefined
LIBS := -lcjson -lyaml -lcurl -lcrypto -pthread -lm

LIB_SRC := $(sort $(wildcard csrc/*.c csrc/exporters/*.c))
CLI_SRC := $(sort $(wildcard csrc/cli/*.c))
REL_OBJ := $(LIB_SRC:%.c=$(BUILD)/rel/%.o)
ASAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/asan/%.o)
HEADERS := $(wildcard csrc/*.h csrc/include/*.h csrc/exporters/*.h)

C_TESTS := $(sort $(wildcard tests/c/test_*.c))
C_TEST_BINS := $(C_TESTS:tests/c/%.c=$(BUILD)/tests/%)

.PHONY: all lib cli deps test test-c test-python test-node demo bench fuzz clean

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

$(BUILD)/tests/%: tests/c/%.c tests/c/test.h tests/c/httpd.h $(BUILD)/libvexil-asan.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -Itests/c -o $@ $< $(BUILD)/libvexil-asan.a $(LIBS)

test: deps test-c test-python test-node

test-c: $(C_TEST_BINS) $(BUILD)/vexil-asan
	@set -e; for t in $(C_TEST_BINS); do \
	  echo "== $$t"; \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  VX_CLI=$(BUILD)/vexil-asan $$t; \
	done

# Python: a venv of the project's own, so the system Python stays untouched.
PYVENV ?= $(BUILD)/pyvenv

$(PYVENV)/bin/python:
	$(PYTHON) -m venv $(PYVENV)
	$(PYVENV)/bin/pip install -q --upgrade pip

test-python: lib $(PYVENV)/bin/python
	$(PYVENV)/bin/pip install -q '.[test]'
	$(PYVENV)/bin/python -m pytest -q tests/python

clean:
	rm -rf $(BUILD)
