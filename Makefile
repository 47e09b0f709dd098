# SPDX-License-Identifier: GPL-2.0
# The kit's one entry point. `make help` lists the targets.

LAB ?=
SRC ?= labs
KVER ?=
RESULTS ?=
PYTHON ?= python3

# Arguments of grading/run-lab, from the variables above.
RUN_LAB_ARGS = $(if $(LAB),--lab $(LAB)) --src $(SRC) \
	$(if $(KVER),--kver $(KVER)) $(if $(RESULTS),--results $(RESULTS))

.DEFAULT_GOAL := help

help: ## list the targets and their variables
	@echo "Character-device driver lab kit. Targets:"
	@awk -F':.*## ' '/^[a-z-]+:.*## / { printf "  make %-10s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo "Variables: LAB=NN (one lab; default all), SRC=labs|solutions|DIR"
	@echo "  (the tree to grade; default labs), KVER=release (default: newest"
	@echo "  installed kernel with headers), RESULTS=file.json (Gradescope)."
	@echo "Examples: make test LAB=01; make test SRC=solutions; make check"

deps: ## install what the kit needs (apt-get; quick when all is there)
	@tools/install-deps

test: deps ## build LAB from SRC and grade it in a throwaway VM
	@$(PYTHON) grading/run-lab $(RUN_LAB_ARGS)

native: ## grade LAB on this machine's own kernel, no VM (root; can crash it)
	@$(PYTHON) grading/run-lab --native $(RUN_LAB_ARGS)

check: deps ## the kit's own checks on every installed kernel (solutions, skeletons, mutants, style)
	@$(PYTHON) grading/check $(if $(KVER),--kver $(KVER)) $(if $(LAB),--lab $(LAB))

skeletons: ## regenerate labs/*/ module sources from solutions/
	@tools/mkskeleton

measure: deps ## time VM cycles and the edit-test loop (numbers for docs/speed.md)
	@$(PYTHON) grading/measure-speed $(if $(KVER),--kver $(KVER))

bench: deps ## Labs 04 and 07 (or LAB=): blkfifo and mypipe vs a native FIFO, MB/s
	@$(PYTHON) grading/bench $(if $(KVER),--kver $(KVER)) $(if $(LAB),--lab $(LAB))

docs: deps ## the reference site: doxygen into build/docs/html (fails on any warning)
	@tools/mkdocpages
	@doxygen docs/Doxyfile
	@echo "docs: open build/docs/html/index.html"

clean: ## remove build output (the cache in ~/.cache/chardev-labkit stays)
	rm -rf build

.PHONY: help deps test native check skeletons measure bench docs clean
