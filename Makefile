# SPDX-License-Identifier: GPL-2.0
#
# sch_pspat top-level Makefile.
#
#   make deps            install packages, the guest kernels 6.1, 6.12 and 7.3
#                        and the Debian 13 build root of 7.3 (root)
#   make plugin-deps     only what `make tc-plugin` and `make deb` need, for a
#                        real machine
#   make [KVER=6.1]      build sch_pspat.ko for one kernel (6.1, 6.12, 7.3 or host;
#                        7.3 builds in the Debian 13 build root, as root)
#                        into $(KMOD_DIR)/$(KVER) (default build/kmod; the
#                        VM takes the same directory from PSPAT_KMOD_DIR)
#   make modules-all     build it for every guest kernel (6.1, 6.12, 7.3)
#   make user            build the C++20 userspace (tests, benchmarks, tools)
#   make tc-plugin       build/tc-plugin/q_pspat.so, tc's pspat options (TC_LIB_DIR)
#   make insn-plugin     build/qemu-insn/: QEMU plugin counting guest instructions
#                        (scripts/insn-count, docs/insn-count.md); fetches its header
#   make test-user       userspace tests: plain, ThreadSanitizer, ASan+UBSan
#   make check           everything: deps, builds, userspace tests, selftests
#                        on both kernels in QEMU; ends with "N passed, N failed"
#   make debug-kernel    build the KASAN/lockdep/kmemleak guest kernel (long;
#                        cached; docs/debug-kernel.md); then KVER=debug works
#   make check-debug     every selftest on the debug kernel + kmemleak scan
#   make install         module (KVER=host: running kernel) into extra/, tc
#                        plugin, bpftrace scripts, man page tc-pspat(8)
#                        (PREFIX, TC_LIB_DIR); root
#   make uninstall       remove what install put there
#   make deb             Debian packages sch-pspat-dkms and sch-pspat-tools in
#                        build/deb/, lintian clean (scripts/deb.sh)
#   make demo            the demo scenario in a VM
#   make bench-iffq      IFFQ versus other SPSC queues (Google Benchmark)
#   make bench           pspat against stock qdiscs in a VM, ~20 min
#                        (bench/results/, docs/performance.md), after
#                        bench-insn
#   make bench-insn      instructions and LOCK ops per packet under the
#                        counting plugin, ~5 min (bench/results/insn.md)
#   make lint            sparse + checkpatch on kmod/, clang-format on C++
#   make clean
#
# Every output lives under build/.

TOP   := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
B     := $(TOP)/build
KVER  ?= 6.1
JOBS  ?= $(shell nproc)

# KVER=6.1|6.12|7.3: the Debian kernels fetched by `make deps`;
# KVER=host: the running kernel (/lib/modules/$(uname -r)/build);
# or KDIR=/path/to/kernel/build with any KVER name.
# A kernel with a build root (build/kernels/<series>/buildroot, 7.3: its
# headers want gcc-14) is built inside it (scripts/in-buildroot, root only);
# KDIR is then the headers' path in the build root.
BROOT := $(if $(filter host,$(KVER)),,$(wildcard $(B)/kernels/$(KVER)/buildroot))
ifeq ($(KVER),host)
KDIR  ?= /lib/modules/$(shell uname -r)/build
else ifneq ($(BROOT),)
KDIR  ?= /usr/src/linux-headers-$(shell cat $(B)/kernels/$(KVER)/release)
else
KDIR  ?= $(firstword $(wildcard $(B)/kernels/$(KVER)/root/lib/modules/*/build))
endif
KMOD_DIR ?= $(B)/kmod
# Kernel builds are W=1 by default; check.sh fails on any warning.
W     ?= 1
KOUT  := $(KMOD_DIR)/$(KVER)
KSRC  := Kbuild $(shell find kmod include -name '*.[ch]' -o -name Kbuild)

.PHONY: all module modules-all deps plugin-deps user test-user check demo bench-iffq bench-insn \
	install uninstall deb lint clean help debug-kernel check-debug tc-plugin

all: module

help:
	@sed -n 's/^#   //p' $(TOP)/Makefile

deps:
	$(TOP)/scripts/deps.sh

# What the tc plugin alone needs (g++, the iproute2 source): no QEMU, kernels.
plugin-deps:
	$(TOP)/scripts/deps.sh --plugin-only

# Mirror the sources into the per-kernel output directory (rsync keeps
# mtimes, so kbuild rebuilds only what changed), then run kbuild there.
# KVER=host without headers: name the package that has them. The kbuild
# line starts with '+': $(MAKE) hides in $(KBUILD), so without it make
# -jN would not share its jobserver with kbuild (which then runs -j1).
KBUILD = $(if $(BROOT),$(TOP)/scripts/in-buildroot $(BROOT) -b $(KOUT) --) $(MAKE)
module:
	@test -n "$(KDIR)" || { echo "no headers for KVER=$(KVER): run 'make deps'" >&2; exit 1; }
	@test "$(KVER)" != host -o -e "$(KDIR)/Makefile" || { \
		echo "no headers for the running kernel $$(uname -r) in $(KDIR):" \
			"install linux-headers-$$(uname -r) (apt-get install linux-headers-$$(uname -r))" >&2; exit 1; }
	@test -z "$(BROOT)" -o -e "$(BROOT)$(KDIR)/Makefile" || \
		{ echo "no headers in $(BROOT)$(KDIR): run 'make deps'" >&2; exit 1; }
	@mkdir -p $(KOUT)
	@rsync -a --delete --include='*/' --include='*.[ch]' --include=Kbuild \
		--exclude='*' kmod include $(KOUT)/
	@cp -p Kbuild dkms.conf $(KOUT)/
	+$(KBUILD) -C $(KDIR) M=$(KOUT) W=$(W) modules
	@echo "built $(KOUT)/sch_pspat.ko"

# The Debian kernels, and 7.3 once `make deps` fetched it.
MODULE_KERNELS := 6.1 6.12 $(if $(wildcard $(B)/kernels/7.3/release),7.3)
modules-all:
	$(foreach k,$(MODULE_KERNELS),$(MAKE) KVER=$(k) module &&) true

user:
	cmake -S $(TOP) -B $(B)/user -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(B)/user -j $(JOBS)

tc-plugin:
	$(MAKE) -C $(TOP)/tc-plugin OUT=$(B)/tc-plugin

# Benchmarks only: not part of deps or check.
.PHONY: insn-plugin
insn-plugin:
	$(TOP)/scripts/insn-deps.sh
	$(MAKE) -C $(TOP)/tools/qemu-insn OUT=$(B)/qemu-insn QEMU_PLUGIN_INC=$(B)/qemu-plugin

test-user:
	$(TOP)/scripts/test-user.sh

check:
	$(TOP)/scripts/check.sh

debug-kernel:
	$(TOP)/scripts/debug-kernel.sh

check-debug:
	$(TOP)/scripts/check-debug.sh

# install builds for the running kernel unless KVER is given.
IKVER = $(if $(filter command line,$(origin KVER)),$(KVER),host)
install:
	$(MAKE) KVER=$(IKVER) KMOD_DIR=$(B)/kmod-install PSPAT_TEST_MODULES=n module
	$(MAKE) tc-plugin
	KVER=$(IKVER) $(TOP)/scripts/install.sh install

uninstall:
	KVER=$(IKVER) $(TOP)/scripts/install.sh uninstall

deb:
	$(TOP)/scripts/deb.sh

demo:
	$(TOP)/scripts/demo.sh

bench-iffq: user
	$(B)/user/bench/iffq/bench_iffq

.PHONY: bench bench-insn
bench: bench-insn
	$(TOP)/scripts/bench.sh

bench-insn:
	$(TOP)/scripts/bench-insn.sh

lint:
	$(TOP)/scripts/lint.sh

clean:
	rm -rf $(B)/kmod $(B)/user $(B)/user-* $(B)/vm $(B)/check $(B)/tc-plugin
