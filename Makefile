# berth: an OCI container runtime in C.
#   make            build ./berth
#   make deps       install every build and test dependency (Debian packages)
#   make demo       deps + build + run a container from the example bundle
#   make test       deps + build + every test suite
#   make asan       the suites against an ASan+UBSan build
#   make install    PREFIX=/usr/local

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= gcc
BUILD ?= build
PKGS := libseccomp libcap yajl libarchive libcrypto libmnl

# Recursive (=) so that pkg-config runs after `make deps` installed it.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

OPTFLAGS ?= -O2 -g
WARNFLAGS := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2 \
	-Wmissing-prototypes -Wstrict-prototypes -Wvla
override CFLAGS += $(OPTFLAGS) $(WARNFLAGS) -std=gnu11 -D_GNU_SOURCE -I. \
	-fno-strict-aliasing -fstack-protector-strong -MMD -MP $(PKG_CFLAGS) \
	$(EXTRA_CFLAGS)
override LDFLAGS += -Wl,-z,relro,-z,now -Wl,--as-needed $(EXTRA_LDFLAGS)

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0)
GIT_COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
override CFLAGS += -DBERTH_VERSION='"$(VERSION)"' -DBERTH_COMMIT='"$(GIT_COMMIT)"'

MODULES := common cgroups netns image vm runtime
SRCS := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
OBJS := $(SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS := $(filter-out $(BUILD)/runtime/main.o,$(OBJS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# Small programs the bats suites drive (listeners, receivers).
TEST_HELPER_SRCS := $(wildcard tests/helpers/*.c)
TEST_HELPERS := $(TEST_HELPER_SRCS:tests/helpers/%.c=$(BUILD)/tests/helpers/%)

EXAMPLE := $(BUILD)/example
BUSYBOX := /bin/busybox

.PHONY: all deps demo test test-unit test-suites asan install clean example example-image

all: berth

berth: $(BUILD)/berth
	@ln -sf $(BUILD)/berth berth

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/berth: $(OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libberth.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libberth.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libberth.a $(PKG_LIBS)

# Static, without sanitizers: some run inside the busybox rootfs.
$(BUILD)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) -O2 -g $(WARNFLAGS) -std=gnu11 -D_GNU_SOURCE -static -o $@ $<

-include $(OBJS:.o=.d)

# ---- dependencies: Debian packages, installed only when missing ----
BUILD_DEBS := gcc make pkg-config libseccomp-dev libcap-dev libyajl-dev \
	libarchive-dev libssl-dev libmnl-dev busybox-static
TEST_DEBS := bats jq python3 python3-jsonschema golang-github-opencontainers-specs-dev \
	iproute2 util-linux procps hyperfine crun runc time umoci skopeo buildah zstd \
	podman conmon containers-storage fuse-overlayfs uidmap \
	nftables passt slirp4netns iperf3
DEBS := $(BUILD_DEBS) $(TEST_DEBS)

deps:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

include vm/vm.mk

# ---- the example bundle: busybox-static, no network ----
example: $(EXAMPLE)/config.json

EXAMPLE_IMAGE := $(BUILD)/example-image
example-image: $(EXAMPLE_IMAGE)/index.json

$(EXAMPLE_IMAGE)/index.json: tests/fixtures/make-images.sh tests/fixtures/make-rootfs.sh
	tests/fixtures/make-images.sh --example $(EXAMPLE_IMAGE)

$(EXAMPLE)/config.json: config.json.example tests/fixtures/make-rootfs.sh
	tests/fixtures/make-rootfs.sh $(EXAMPLE)/rootfs
	cp config.json.example $@

# The example bundle, then the example image (an OCI layout built locally
# from busybox-static: no registry), then the same bundle in a VM.
demo: deps
	$(MAKE) all example example-image
	@echo "== the example bundle (config.json.example) =="
	./berth --root $(BUILD)/demo-state run --bundle $(EXAMPLE) berth-demo-$$$$
	@echo
	@echo "== the example image: berth run --image $(EXAMPLE_IMAGE):latest =="
	./berth --root $(BUILD)/demo-state run --image $(EXAMPLE_IMAGE):latest --store $(BUILD)/demo-store \
		-- sh -c 'echo "hello from the example image (layers stored in $(BUILD)/demo-store)"; echo "hostname: $$(hostname)"; echo "user: $$(id)"'

	vm/demo.sh $(BUILD)

# ---- tests ----
test: deps
	$(MAKE) all example $(UNIT_BINS) $(TEST_HELPERS)
	tests/run-suites.sh --berth $(CURDIR)/$(BUILD)/berth --unit "$(UNIT_BINS)" \
		--vm-suites "$(VM_SUITES)"

test-unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do $$t || exit 1; done

asan: deps
	$(MAKE) BUILD=build-asan OPTFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" all example build-asan/libberth.a
	$(MAKE) BUILD=build-asan OPTFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" $(UNIT_BINS:$(BUILD)/%=build-asan/%) \
		$(TEST_HELPERS:$(BUILD)/%=build-asan/%)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		tests/run-suites.sh --berth $(CURDIR)/build-asan/berth --example $(CURDIR)/build-asan/example \
		--unit "$(UNIT_BINS:$(BUILD)/%=build-asan/%)"

# berth finds the VM guest init beside itself or in ../libexec/berth.
install: all
	install -D -m 0755 $(BUILD)/berth $(DESTDIR)$(PREFIX)/bin/berth
	install -D -m 0755 $(BUILD)/berth-vm-init $(DESTDIR)$(PREFIX)/libexec/berth/berth-vm-init

clean:
	rm -rf build build-asan berth

# ---- fuzzing: optional tooling, not part of `make test` or `make deps` ----
# Needs clang with libFuzzer (Debian: apt-get install clang). FUZZ_TIME is in
# seconds; new inputs go to $(BUILD)/fuzz/corpus_spec, the seeds stay as they are.
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_CFLAGS = -g -O1 -std=gnu11 -D_GNU_SOURCE -I. -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(PKG_CFLAGS)
FUZZ_SPEC_SRCS = runtime/spec.c $(wildcard common/*.c) $(wildcard cgroups/*.c)

.PHONY: fuzz
fuzz: $(BUILD)/fuzz/fuzz_spec
	@mkdir -p $(BUILD)/fuzz/corpus_spec
	$(BUILD)/fuzz/fuzz_spec -max_total_time=$(FUZZ_TIME) -dict=tests/fuzz/spec.dict \
		$(BUILD)/fuzz/corpus_spec tests/fuzz/corpus_spec

$(BUILD)/fuzz/fuzz_spec: tests/fuzz/fuzz_spec.c $(FUZZ_SPEC_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ $(PKG_LIBS)

# The image documents (index, manifest, config, manifest.json), tar member
# names and whiteouts, references, passwd/group: untrusted input.
FUZZ_IMAGE_SRCS = $(addprefix image/,oci.c paths.c digest.c lazylibs.c ref.c user.c) \
	$(wildcard common/*.c)

.PHONY: fuzz-image
fuzz-image: $(BUILD)/fuzz/fuzz_image
	@mkdir -p $(BUILD)/fuzz/corpus_image
	$(BUILD)/fuzz/fuzz_image -max_total_time=$(FUZZ_TIME) -dict=tests/fuzz/image.dict \
		$(BUILD)/fuzz/corpus_image tests/fuzz/corpus_image

$(BUILD)/fuzz/fuzz_image: tests/fuzz/fuzz_image.c $(FUZZ_IMAGE_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ $(PKG_LIBS)
