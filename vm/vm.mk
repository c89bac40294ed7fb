# vm/vm.mk: VM mode's build, test and benchmark rules (included by the Makefile).
#   $(BUILD)/berth-vm-init   the guest's static init (vm/guest/ + berth's set-up code)
#   make test-vm             the pure cgroup-v2 suites inside a throwaway VM
#   make bench-vm            bench/vm-boot.sh

VM_INIT := $(BUILD)/berth-vm-init
# berth's own set-up code, linked into the guest init unchanged.
VM_GUEST_SRCS := $(wildcard vm/guest/*.c) runtime/process.c runtime/caps.c \
	runtime/seccomp.c runtime/seccomp_cache.c runtime/spec.c runtime/process_tables.c \
	runtime/sync.c \
	cgroups/resources.c $(filter-out common/idmap.c,$(wildcard common/*.c))
VM_GUEST_OBJS := $(VM_GUEST_SRCS:%.c=$(BUILD)/guest/%.o)
VM_GUEST_LIBS := -l:libseccomp.a -l:libcap.a -l:libyajl_s.a
VM_DEBS := qemu-system-x86 linux-image-amd64 squashfs-tools cpio
# Suites that need a pure cgroup v2 host, run by `make test-vm`.
# Until the cgroups suite exists, a smoke suite checks the VM's promises.
VM_SUITES ?= $(or $(wildcard tests/cgroups-v2.bats),tests/fixtures/vm-smoke.bats)

DEBS += $(VM_DEBS)
comma := ,

.PHONY: vm-init test-vm bench-vm
all: $(VM_INIT)
vm-init: $(VM_INIT)

# A static binary: the sanitizers of `make asan` cannot be linked statically.
VM_GUEST_CFLAGS = $(filter-out -fsanitize%,$(CFLAGS))
VM_GUEST_LDFLAGS = $(filter-out -fsanitize% -Wl$(comma)--as-needed,$(LDFLAGS))

$(BUILD)/guest/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (guest)"
	$(Q)$(CC) $(VM_GUEST_CFLAGS) -c -o $@ $<

$(VM_INIT): $(VM_GUEST_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) -static $(VM_GUEST_LDFLAGS) -o $@ $^ $(VM_GUEST_LIBS)

-include $(VM_GUEST_OBJS:.o=.d)

# A throwaway VM with a pure cgroup v2 hierarchy runs the given suites.
test-vm: all
	tests/run-in-vm.sh $(VM_SUITES)

bench-vm: all example
	bench/vm-boot.sh
