# SPDX-License-Identifier: GPL-2.0
# ripmi: build ripmi.ko out of tree and run its tests.
#
#   make                    build ripmi.ko against the cached debug kernel (built if missing)
#   make RIPMI_TEST=1       the test build: adds the KUnit suites, the KCS register model and
#                           the dispatch benchmark (scripts/vm, check, fuzz, bench-dispatch use it)
#   make KDIR=/path/to/kbuild   build against another Rust-enabled kernel build tree
#   make install            install the built ripmi.ko for KDIR's kernel and run depmod
#                           (to updates/src/ripmi.ko; INSTALL_MOD_PATH, INSTALL_MOD_DIR as kbuild)
#   make install-modprobe-conf  install dist/modprobe.d/ripmi.conf (ripmi instead of ipmi_si)
#   make uninstall          remove what the two install targets put in place, then depmod
#   make dkms-source        copy the module's sources to DKMS_SOURCE_TREE/ripmi-VERSION (dkms.conf)
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
# (Silent here: `make` reports a missing setup through the kernel target; install-modprobe-conf
# and dkms-source need no kernel.)
KDIR := $(shell scripts/build-kernel $(VARIANT) --print-dir 2>/dev/null)
endif
# With the cached kernels, objects go to the cache so the work tree stays clean;
# with a user-supplied KDIR, kbuild's usual in-tree output is kept.
# Each work tree gets its own object directory, so several trees can build against one cache,
# and the test build (RIPMI_TEST=1) one of its own beside the shipped build's.
RIPMI_TEST ?=
# RIPMI_KAPI=1: export the in-kernel IPMI API (Documentation/kernel-api.rst); its own objects too.
RIPMI_KAPI ?=
MO ?= $(if $(KDIR_AUTO),$(KDIR)-ripmi/$(shell echo $(CURDIR) | md5sum | cut -c1-8)$(if $(filter 1,$(RIPMI_TEST)),-test)$(if $(filter 1,$(RIPMI_KAPI)),-kapi),$(CURDIR))
LLVM ?= -19
export RUSTUP_TOOLCHAIN ?= 1.95.0
# dkms appends CC=clang LD=ld.lld (unversioned) to its make command for a clang-built kernel;
# dkms.conf's LLVM= already names the kernel's tools, so those two are not passed to kbuild.
ifeq ($(RIPMI_DKMS)$(if $(LLVM),y),1y)
MAKEOVERRIDES := $(filter-out CC=% LD=%,$(MAKEOVERRIDES))
endif

KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) MO=$(MO) LLVM=$(LLVM) RIPMI_TEST=$(RIPMI_TEST) RIPMI_KAPI=$(RIPMI_KAPI)

.PHONY: install install-modprobe-conf uninstall dkms-source print-version
.PHONY: all modules kernel print-ko check fuzz bench bench-dispatch host-test fmt fmt-check clippy rust-analyzer clean setup

all: modules

modules: $(if $(KDIR_AUTO),kernel)
	@mkdir -p $(MO)
	+$(KMAKE) modules
	@echo "built $(MO)/src/ripmi.ko"

print-ko:
	@echo $(MO)/src/ripmi.ko

kernel:
	@scripts/build-kernel $(VARIANT) >/dev/null

# Installing. The version lives in dkms.conf; the kernel release is KDIR's.
RIPMI_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' $(CURDIR)/dkms.conf)
KRELEASE = $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
INSTALL_MOD_DIR ?= updates
MODLIB = $(INSTALL_MOD_PATH)/lib/modules/$(KRELEASE)
# kbuild keeps the module's path under the M= tree (src/), so: updates/src/ripmi.ko.
INSTALLED_KO = $(MODLIB)/$(INSTALL_MOD_DIR)/src/ripmi.ko
MODPROBE_CONF := dist/modprobe.d/ripmi.conf
DKMS_SOURCE_TREE ?= /usr/src
# depmod for KDIR's kernel, in INSTALL_MOD_PATH when given (kbuild's own depmod is skipped when
# the build tree has no System.map, as distribution header trees have none).
DEPMOD_CMD = depmod -a $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) \
	$(if $(wildcard $(KDIR)/System.map),-e -F $(KDIR)/System.map) $(KRELEASE)

print-version:
	@echo $(RIPMI_VERSION)

# Installs the ripmi.ko built by `make` (it does not build: run `make` first, as yourself).
install:
	@test -n "$(KRELEASE)" || { echo "no kernel release in $(KDIR)/include/config/kernel.release" >&2; exit 1; }
	@test -f $(MO)/src/ripmi.ko || { echo "$(MO)/src/ripmi.ko is not built: run 'make$(if $(KDIR_AUTO),, KDIR=$(KDIR))' first" >&2; exit 1; }
	$(KMAKE) INSTALL_MOD_PATH=$(INSTALL_MOD_PATH) INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) DEPMOD=true modules_install
	$(DEPMOD_CMD)
	@echo "installed $(INSTALLED_KO)"

# The modprobe.d snippet that lets ripmi, not ipmi_si, take the BMC (Documentation/discovery.rst).
install-modprobe-conf:
	@test -f $(MODPROBE_CONF) || { echo "$(MODPROBE_CONF) is missing" >&2; exit 1; }
	install -D -m 0644 $(MODPROBE_CONF) $(INSTALL_MOD_PATH)/etc/modprobe.d/ripmi.conf

uninstall:
	@test -n "$(KRELEASE)" || { echo "no kernel release in $(KDIR)/include/config/kernel.release" >&2; exit 1; }
	rm -f $(INSTALLED_KO) $(INSTALLED_KO).* $(INSTALL_MOD_PATH)/etc/modprobe.d/ripmi.conf
	$(DEPMOD_CMD)

# What DKMS needs to rebuild the module (dkms.conf, the Makefile, Kbuild files, src/ sources),
# without build outputs, tests or tools: then `dkms install ripmi/$(RIPMI_VERSION)`.
dkms-source:
	@test -n "$(RIPMI_VERSION)" || { echo "no PACKAGE_VERSION in dkms.conf" >&2; exit 1; }
	rm -rf $(DKMS_SOURCE_TREE)/ripmi-$(RIPMI_VERSION)
	mkdir -p $(DKMS_SOURCE_TREE)/ripmi-$(RIPMI_VERSION)
	cp dkms.conf Makefile Kbuild Kconfig rust-toolchain.toml $(DKMS_SOURCE_TREE)/ripmi-$(RIPMI_VERSION)/
	find src \( -name '*.rs' -o -name Kbuild -o -name '*.[ch]' \) ! -name '*.mod.c' \
		-exec cp --parents {} $(DKMS_SOURCE_TREE)/ripmi-$(RIPMI_VERSION)/ \;
	@echo "copied to $(DKMS_SOURCE_TREE)/ripmi-$(RIPMI_VERSION)"

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
	+$(KMAKE) CLIPPY=1 modules

rust-analyzer:
	$(KMAKE) rust-analyzer

clean:
	-$(KMAKE) clean
