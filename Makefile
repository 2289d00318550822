# SPDX-License-Identifier: GPL-2.0
# Out-of-tree build of ssif_bmc.ko, plus the project's two commands.
#   make [KDIR=/path/to/kernel/build] [KUNIT=1]   build ssif_bmc.ko (into MO, in the cache)
#   make demo [SOC=ast2500]                       build all, boot the AST2600 (or AST2500), serve ipmitool
#   make test                                     the whole test suite
#   make compare                                  upstream's C driver beside ours (scripts/compare.sh)
#   make patches                                  the driver as a patch series for the kernel tree, checked

KDIR ?= $(shell bash scripts/kdir.sh)
# Build products go to the cache, never into the repository (a module built in the source
# directory would also make kbuild refuse every later MO= build of it).
MO ?= $(shell bash scripts/kdir.sh --out)/make
# Out of tree there is no Kconfig: build the module (only on these command lines).
KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) MO=$(MO) ARCH=arm CROSS_COMPILE=arm-linux-gnueabihf- \
	CONFIG_SSIF_BMC_RUST=m

all: modules

modules:
	$(KMAKE) modules

clippy:
	$(KMAKE) KUNIT=1 CLIPPY=1 modules

clean:
	$(KMAKE) clean

demo:
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL bash scripts/demo.sh

test:
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL bash scripts/test.sh

.PHONY: all modules clippy clean demo test bench faults compare patches

bench:
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL bash scripts/bench.sh

faults:
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL bash scripts/faults.sh

compare:
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL bash scripts/compare.sh

patches:
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL bash scripts/patches.sh
