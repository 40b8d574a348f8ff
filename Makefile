# SPDX-License-Identifier: GPL-2.0
#
# sch_pspat top-level Makefile.
#
#   make deps            install packages and the two guest kernels (root)
#   make plugin-deps     only what `make tc-plugin` and `make deb` need, for a
#                        real machine
#   make [KVER=6.1]      build sch_pspat.ko for one kernel (6.1, 6.12 or host)
#                        into $(KMOD_DIR)/$(KVER) (default build/kmod; the
#                        VM takes the same directory from PSPAT_KMOD_DIR)
#   make modules-all     build it for both guest kernels
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
#                        (bench/results/, docs/performance.md)
#   make lint            sparse + checkpatch on kmod/, clang-format on C++
#   make clean
#
# Every output lives under build/.

TOP   := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
B     := $(TOP)/build
KVER  ?= 6.1
JOBS  ?= $(shell nproc)

# KVER=6.1|6.12: the Debian kernels fetched by `make deps`;
# KVER=host: the running kernel (/lib/modules/$(uname -r)/build);
# or KDIR=/path/to/kernel/build with any KVER name.
ifeq ($(KVER),host)
KDIR  ?= /lib/modules/$(shell uname -r)/build
else
KDIR  ?= $(firstword $(wildcard $(B)/kernels/$(KVER)/root/lib/modules/*/build))
endif
KMOD_DIR ?= $(B)/kmod
# Kernel builds are W=1 by default; check.sh fails on any warning.
W     ?= 1
KOUT  := $(KMOD_DIR)/$(KVER)
KSRC  := Kbuild $(shell find kmod include -name '*.[ch]' -o -name Kbuild)

.PHONY: all module modules-all deps plugin-deps user test-user check demo bench-iffq \
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
module:
	@test -n "$(KDIR)" || { echo "no headers for KVER=$(KVER): run 'make deps'" >&2; exit 1; }
	@mkdir -p $(KOUT)
	@rsync -a --delete --include='*/' --include='*.[ch]' --include=Kbuild \
		--exclude='*' kmod include $(KOUT)/
	@cp -p Kbuild dkms.conf $(KOUT)/
	$(MAKE) -C $(KDIR) M=$(KOUT) W=$(W) modules
	@echo "built $(KOUT)/sch_pspat.ko"

modules-all:
	$(MAKE) KVER=6.1 module
	$(MAKE) KVER=6.12 module

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

.PHONY: bench
bench:
	$(TOP)/scripts/bench.sh

lint:
	$(TOP)/scripts/lint.sh

clean:
	rm -rf $(B)/kmod $(B)/user $(B)/user-* $(B)/vm $(B)/check $(B)/tc-plugin
