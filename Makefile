# Unikernel network stack: build, run and test. See README.md.
# Everything the build needs is installed by `make deps` from Debian packages.

SHELL := /bin/bash
.DEFAULT_GOAL := all
BUILD := build
CACHE := cache

# ---------------------------------------------------------------- host (tests) build
HOST_CC := gcc
HOST_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer \
  -fsanitize=address,undefined -fno-sanitize-recover=all -I. -DHOST_BUILD
HOST_LDFLAGS := -fsanitize=address,undefined

# Portable sources: compile for the kernel and for the host (unit tests, fuzzing,
# instruction counts). net/ knows no hardware; these kernel files know none either.
PORTABLE_SRCS := $(wildcard net/*.c) kernel/sched.c kernel/promise.c kernel/log.c \
  kernel/counters.c kernel/cmdline.c kernel/pagealloc.c drivers/virtqueue.c
PORTABLE_ASM := kernel/switch.S
PORTABLE_SRCS := $(wildcard $(PORTABLE_SRCS))

# For scripts that build their own host binary from them (tests/bench/echo_cost.sh).
.PHONY: portable-srcs
portable-srcs:
	@echo $(PORTABLE_SRCS) $(PORTABLE_ASM)

HOST_OBJS := $(PORTABLE_SRCS:%.c=$(BUILD)/host/%.o) $(PORTABLE_ASM:%.S=$(BUILD)/host/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)
# What the unit tests link besides the portable sources: every other file of
# tests/unit/ (the host platform, the fake NIC, the fixtures, the stack harness,
# the virtio-net device model) and the driver's data path, which is kernel-only
# source that the device model runs on the host.
VQ_CHECK_SRCS := $(wildcard tests/unit/vq_check_*.c) tests/unit/virtq_model_tu.c
UNIT_SUPPORT_SRCS := $(filter-out $(UNIT_SRCS) $(VQ_CHECK_SRCS),$(wildcard tests/unit/*.c)) \
  drivers/vnet_datapath.c
UNIT_SUPPORT_OBJS := $(UNIT_SUPPORT_SRCS:%.c=$(BUILD)/host/%.o)
UNIT_LIBS := $(BUILD)/host/libunit.a $(BUILD)/host/libportable.a

$(BUILD)/host/%.o: %.c $(MAKEFILE_LIST)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/host/%.o: %.S
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/host/libportable.a: $(HOST_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/host/libunit.a: $(UNIT_SUPPORT_OBJS)
	@rm -f $@
	ar rcs $@ $^

# Archives: a test takes only the members it uses (a test that compiles a
# source in to reach its private parts does not get that source twice).
$(BUILD)/unit/%: tests/unit/%.c $(UNIT_LIBS)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -MMD -MP $< $(UNIT_EXTRA) -Wl,--start-group $(UNIT_LIBS) \
	  -Wl,--end-group -lcmocka $(HOST_LDFLAGS) -o $@

# The interleaving checker (tests/unit/vq_check*.c) links its own virtqueue.c
# with the model's access hooks (tests/unit/virtq_model_tu.c: VIRTQ_MODEL
# defined), ahead of libportable.a's plain copy; no other test gets them.
VQ_CHECK_OBJS := $(patsubst %.c,$(BUILD)/host/%.o,$(VQ_CHECK_SRCS))
$(BUILD)/unit/test_virtq_interleave: $(VQ_CHECK_OBJS)
$(BUILD)/unit/test_virtq_interleave: UNIT_EXTRA := $(VQ_CHECK_OBJS)

.PHONY: unit
unit: $(UNIT_BINS)


# ---------------------------------------------------------------- fuzzing (clang libFuzzer)
FUZZ_CC := clang
FUZZ_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer -I. \
  -DHOST_BUILD -DFUZZING -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SUPPORT_SRCS := tests/unit/host_plat.c tests/unit/fake_netif.c tests/unit/net_fixtures.c \
  $(wildcard tests/fuzz/support_*.c)
FUZZ_OBJS := $(PORTABLE_SRCS:%.c=$(BUILD)/fuzzobj/%.o) $(PORTABLE_ASM:%.S=$(BUILD)/fuzzobj/%.o) \
  $(FUZZ_SUPPORT_SRCS:%.c=$(BUILD)/fuzzobj/%.o)
FUZZ_SECONDS ?= 60

$(BUILD)/fuzzobj/%.o: %.c Makefile
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

# The harnesses' shared checkers, fakes and reference code are not what is
# fuzzed: no coverage feedback (nor its cost) from them.
$(BUILD)/fuzzobj/tests/%.o: FUZZ_CFLAGS += \
  -fno-sanitize-coverage=inline-8bit-counters,indirect-calls,trace-cmp,pc-table

$(BUILD)/fuzzobj/%.o: %.S
	@mkdir -p $(@D)
	$(FUZZ_CC) -c $< -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -fsanitize=fuzzer $< $(FUZZ_OBJS) -o $@

.SECONDARY: $(FUZZ_OBJS)

# The seed corpora come from the unit tests' fixtures (a plain host program).
$(BUILD)/fuzz/gen_seeds: tests/fuzz/gen_seeds.c tests/unit/net_fixtures.c
	@mkdir -p $(@D)
	$(HOST_CC) -std=gnu11 -Wall -Wextra -Werror -O1 -I. -DHOST_BUILD $^ -o $@

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS) $(BUILD)/fuzz/gen_seeds
# Each harness for FUZZ_SECONDS (default 60), corpus kept in build/fuzz/corpus-<name>,
# seeded by gen_seeds (unit-test fixtures, tests/bench/gen_frames.py's frames) and the fixed crash
# inputs in tests/fuzz/regress/<name>/; crashes land in build/fuzz/artifacts/<name>/.
# make test runs each for a fixed number of inputs (tests/qemu/fuzz_smoke.sh).
fuzz:
	@$(MAKE) -s deps
	@$(MAKE) -s fuzz-build
	./tests/fuzz/run.sh time $(FUZZ_SECONDS) $(FUZZ_BINS)

# ---- soak: the long floods and mixed soak (make test runs the short version)
SOAK_SECONDS ?= 600
.PHONY: soak
soak:
	@$(MAKE) -s deps
	@$(MAKE) -s $(BUILD)/kernel.elf
	FLOOD_LONG=1 SOAK_SECONDS=$(SOAK_SECONDS) ./tests/qemu/flood.sh

# ---- stress: fresh guests, every load kind on every device variant, STRESS_RUNS
# times (make test runs one short round); any wedge or watchdog recovery fails.
STRESS_RUNS ?= 20
STRESS_SECS ?= 4
.PHONY: stress
stress:
	@$(MAKE) -s deps
	@$(MAKE) -s $(BUILD)/kernel.elf
	STRESS_RUNS=$(STRESS_RUNS) STRESS_SECS=$(STRESS_SECS) ./tests/qemu/stress.sh

# ---------------------------------------------------------------- kernel build
NEWLIB := $(CACHE)/newlib
NEWLIB_STAMP := $(NEWLIB)/lib/libc.a
GCC_INC := $(shell gcc -print-file-name=include)
LIBGCC := $(shell gcc -print-libgcc-file-name)
UNDEFS := -U__linux__ -U__linux -Ulinux -U__unix__ -U__unix -Uunix -U__gnu_linux__
# -flto: inlining across files leaves fewer, longer basic blocks, and under
# TCG each block's first run costs a translation (about 18 % fewer blocks on
# the boot path; docs/qemu-facts.md).
K_CFLAGS := -std=gnu11 -O2 -flto -flto-partition=one -g -ffreestanding -fno-pie -fno-pic -mno-red-zone \
  -mcmodel=small -fno-omit-frame-pointer -fstack-protector-strong -mstack-protector-guard=global \
  -fno-asynchronous-unwind-tables -Wall -Wextra -Werror \
  -nostdinc -isystem $(NEWLIB)/include -isystem $(GCC_INC) $(UNDEFS) -I. -DKERNEL_BUILD
K_ASFLAGS := -ffreestanding -fno-pie -I. -DKERNEL_BUILD
K_SRCS := $(wildcard kernel/*.c drivers/*.c net/*.c)
K_ASM := boot/boot.S kernel/isr.S kernel/switch.S
K_OBJS := $(K_SRCS:%.c=$(BUILD)/k/%.o) $(K_ASM:%.S=$(BUILD)/k/%.o)
K_LIBS := -Wl,--start-group $(NEWLIB)/lib/libc.a $(NEWLIB)/lib/libm.a $(LIBGCC) -Wl,--end-group
# The link goes through gcc for the link-time optimisation, with the compile flags.
K_LDFLAGS := $(K_CFLAGS) -nostdlib -static -no-pie -Wl,-T,linker/kernel.ld \
  -Wl,--build-id=none -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack
CMDLINE ?=
PCAP ?=
NICS ?= 1

.PHONY: all kernel iso
all: kernel
kernel: $(BUILD)/kernel.elf
iso: $(BUILD)/kernel.iso

# newlib: rebuilt only when its recipe changes.
$(NEWLIB_STAMP): kernel/newlib.sh
	@command -v gcc >/dev/null && [ -f /usr/src/newlib/newlib-3.3.0.tar.xz ] || $(MAKE) deps
	./kernel/newlib.sh $(NEWLIB)

$(BUILD)/k/%.o: %.c $(NEWLIB_STAMP) Makefile
	@mkdir -p $(@D)
	gcc $(K_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/k/%.o: %.S Makefile
	@mkdir -p $(@D)
	gcc $(K_ASFLAGS) -c $< -o $@

# Two links: the second adds the symbol table made from the first (no function moves).
$(BUILD)/kernel64.elf: $(K_OBJS) linker/kernel.ld kernel/ksyms.sh
	gcc $(K_LDFLAGS) -o $@.pass1 $(K_OBJS) $(K_LIBS)
	./kernel/ksyms.sh $@.pass1 > $(BUILD)/k/ksyms.S
	gcc $(K_ASFLAGS) -c $(BUILD)/k/ksyms.S -o $(BUILD)/k/ksyms.o
	gcc $(K_LDFLAGS) -o $@ $(K_OBJS) $(BUILD)/k/ksyms.o $(K_LIBS)
	@cmp -s <(nm $@.pass1 | grep -i ' t ') <(nm $@ | grep -i ' t ') || \
	  { echo "ksyms: functions moved between links" >&2; exit 1; }

# QEMU -kernel wants a 32-bit ELF container (docs/qemu-facts.md); GRUB takes it too.
$(BUILD)/kernel.elf: $(BUILD)/kernel64.elf
	objcopy -O elf32-i386 --strip-debug $< $@
	@echo "kernel: $@ ($$(stat -c %s $@) bytes; text+data $$(size $< | awk 'NR==2{print $$1+$$2}') bytes)"

$(BUILD)/%.iso: $(BUILD)/kernel.elf boot/grub.cfg.in
	@command -v grub-mkrescue >/dev/null && command -v xorriso >/dev/null || $(MAKE) deps
	rm -rf $(BUILD)/iso-$*
	mkdir -p $(BUILD)/iso-$*/boot/grub
	cp $(BUILD)/kernel.elf $(BUILD)/iso-$*/boot/kernel.elf
	sed 's|@CMDLINE@|$(if $(filter kernel,$*),$(CMDLINE),mode=$*)|' boot/grub.cfg.in \
	  > $(BUILD)/iso-$*/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(BUILD)/iso-$* >$(BUILD)/iso-$*.log 2>&1 || \
	  { cat $(BUILD)/iso-$*.log; exit 1; }

# ---------------------------------------------------------------- run and test
# make run: the unikernel on a tap inside a network namespace (tests/netns-run.sh);
# NICS=2 gives it a second NIC on tap1 (10.0.1.1/24), PCAP=file.pcap captures
# every frame (file-net1.pcap for net1).
.PHONY: run test
run:
	@$(MAKE) -s deps
	@$(MAKE) -s $(BUILD)/kernel.elf
	PCAP="$(PCAP)" NICS="$(NICS)" ./tests/netns-run.sh $(CMDLINE)

# make test: every tier; ends with "N passed, N failed, N skipped". Each test has
# a time limit; SKIP_QEMU=1 skips the QEMU tier, TESTS_ONLY="..." picks tests
# (tests/run.sh).
test:
	@$(MAKE) -s deps
	@$(MAKE) -s $(BUILD)/kernel.elf $(BUILD)/selftest.iso unit
	./tests/run.sh

# make bench: the unikernel against a reference Linux guest and its own frame
# reflector (tests/bench/README.md); writes build/bench/report.md and plots.
.PHONY: bench
bench:
	@$(MAKE) -s deps
	@$(MAKE) -s $(BUILD)/kernel.elf $(BUILD)/kernel.iso
	./tests/bench/run.sh $(BENCH_ARGS)

# make density: DENSITY_N unikernel guests (-m 4) on one bridge in a namespace
# made for the run, then DENSITY_LINUX_N reference Linux guests the same way
# (0: none); every guest answers ping, the unikernels ping their neighbours from
# their consoles; idle CPU and QEMU memory per guest, side by side
# (tests/bench/density.py; report in build/density/report.md).
DENSITY_N ?= 32
DENSITY_LINUX_N ?= 8
.PHONY: density
density:
	@$(MAKE) -s deps
	@$(MAKE) -s $(BUILD)/kernel.elf
	@if [ "$(DENSITY_LINUX_N)" != 0 ]; then /usr/bin/python3 tests/bench/build_linux_guest.py --no-iso || exit 1; fi
	DENSITY_N=$(DENSITY_N) DENSITY_LINUX_N=$(DENSITY_LINUX_N) /usr/bin/python3 tests/bench/density.py

# ---------------------------------------------------------------- set-up
# dnsmasq-base: Debian's dnsmasq without the system service the dnsmasq package
# starts; the DHCP tests and the bench start their own in their namespaces.
DEB_PACKAGES := gcc make binutils python3 qemu-system-x86 grub-pc-bin grub-common xorriso \
  mtools newlib-source libcmocka-dev iproute2 iputils-ping iputils-arping tcpdump \
  python3-scapy clang valgrind python3-matplotlib libc6-dev libvirt-daemon \
  libvirt-daemon-driver-qemu libvirt-clients wrk curl dnsmasq-base socat netcat-openbsd
.PHONY: deps
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing $$missing"; \
	  [ "$$(id -u)" = 0 ] || { echo "deps: run as root to install: $$missing" >&2; exit 1; }; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends $$missing; \
	else echo "deps: all present"; fi

.PHONY: clean distclean
clean:
	rm -rf $(BUILD)
distclean: clean
	rm -rf $(CACHE)

-include $(shell find $(BUILD) -name "*.d" 2>/dev/null)
