# SPDX-License-Identifier: GPL-2.0
# ripmi: build ripmi.ko out of tree and run its tests.
#
#   make                    build ripmi.ko against the cached debug kernel (built if missing)
#   make RIPMI_TEST=1       the test build: adds the KUnit suites, the KCS register model and
#                           the dispatch benchmark (scripts/vm, check, fuzz, bench-dispatch use it)
#   make KDIR=/path/to/kbuild   build against another Rust-enabled kernel build tree
#   make check              host tests + VM tests (the README's test command)
#   make fuzz               ioctl fuzzer, 1,000,000 operations in the VM (scripts/fuzz; FUZZ_OPS=N)
#   make bench              C stack vs ripmi round-trip benchmark (scripts/bench; numbers, not a test)
#   make bench-dispatch     receiver lookup: RCU table vs C-style list, in-kernel (numbers, not a test)
#   make CLIPPY=1           build with clippy
#   make fmt / fmt-check    rustfmt
#   make rust-analyzer      generate rust-project.json
#   make clean

VARIANT ?= debug
ifeq ($(origin KDIR),undefined)
KDIR_AUTO := 1
KDIR := $(shell scripts/build-kernel $(VARIANT) --print-dir)
endif
# With the cached kernels, objects go to the cache so the work tree stays clean;
# with a user-supplied KDIR, kbuild's usual in-tree output is kept.
# Each work tree gets its own object directory, so several trees can build against one cache,
# and the test build (RIPMI_TEST=1) one of its own beside the shipped build's.
RIPMI_TEST ?=
MO ?= $(if $(KDIR_AUTO),$(KDIR)-ripmi/$(shell echo $(CURDIR) | md5sum | cut -c1-8)$(if $(filter 1,$(RIPMI_TEST)),-test),$(CURDIR))
LLVM ?= -19
export RUSTUP_TOOLCHAIN ?= 1.95.0

KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) MO=$(MO) LLVM=$(LLVM) RIPMI_TEST=$(RIPMI_TEST)

.PHONY: all modules kernel print-ko check fuzz bench bench-dispatch host-test fmt fmt-check clippy rust-analyzer clean setup

all: modules

modules: $(if $(KDIR_AUTO),kernel)
	@mkdir -p $(MO)
	$(KMAKE) modules
	@echo "built $(MO)/src/ripmi.ko"

print-ko:
	@echo $(MO)/src/ripmi.ko

kernel:
	@scripts/build-kernel $(VARIANT) >/dev/null

setup:
	scripts/setup

check:
	scripts/check

FUZZ_OPS ?= 1000000
fuzz: ; scripts/fuzz --ops $(FUZZ_OPS)

bench: ; scripts/bench

bench-dispatch: ; scripts/bench-dispatch

host-test:
	cd tests/host && cargo test --quiet

fmt:
	rustfmt --edition 2021 src/*.rs src/*/*.rs 2>/dev/null || rustfmt --edition 2021 src/*.rs
	cd tests/host && cargo fmt

fmt-check:
	rustfmt --edition 2021 --check $(wildcard src/*.rs src/*/*.rs)
	cd tests/host && cargo fmt --check

clippy: $(if $(KDIR_AUTO),kernel)
	@mkdir -p $(MO)
	$(KMAKE) CLIPPY=1 modules

rust-analyzer:
	$(KMAKE) rust-analyzer

clean:
	-$(KMAKE) clean
