# SPDX-License-Identifier: GPL-2.0
# Out-of-tree build of ssif_bmc.ko, plus the project's two commands.
#   make [KDIR=/path/to/kernel/build] [KUNIT=1]   build ssif_bmc.ko
#   make demo                                     build all, boot the AST2600, serve ipmitool
#   make test                                     the whole test suite

KDIR ?= $(shell bash scripts/kdir.sh)
export CONFIG_SSIF_BMC_RUST ?= m

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) ARCH=arm CROSS_COMPILE=arm-linux-gnueabihf- modules

clippy:
	$(MAKE) -C $(KDIR) M=$(CURDIR) ARCH=arm CROSS_COMPILE=arm-linux-gnueabihf- KUNIT=1 CLIPPY=1 modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) ARCH=arm CROSS_COMPILE=arm-linux-gnueabihf- clean

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

.PHONY: all modules clippy clean demo test
