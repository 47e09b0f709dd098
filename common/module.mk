# SPDX-License-Identifier: GPL-2.0
# Included by every lab's Makefile: build the lab's module like any
# out-of-tree module, against the running kernel or KDIR=.
#   make                  against /lib/modules/$(uname -r)/build
#   make KDIR=/path/to/kernel/build
#   make clean
# The kit's own loop (make test at the top of the kit) builds and tests
# the module in a throwaway VM instead; see README.md.
KDIR ?= /lib/modules/$(shell uname -r)/build

all:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

.PHONY: all clean
