# SPDX-License-Identifier: GPL-2.0
# The kit's one entry point. `make help` lists the targets.

LAB ?=
SRC ?= labs
KVER ?=
RESULTS ?=
STRICT ?=
STEP ?=
SUB ?=
SUBS ?=
JUNIT ?=
JOBS ?=
SEED ?=
PYTHON ?= python3

# Arguments of grading/run-lab, from the variables above.
RUN_LAB_ARGS = $(if $(LAB),--lab $(LAB)) --src $(SRC) \
	$(if $(KVER),--kver $(KVER)) $(if $(RESULTS),--results $(RESULTS)) \
	$(if $(STRICT),--strict)

# Arguments of grading/grade and grade-batch.
GRADE_ARGS = $(foreach lab,$(LAB),--lab $(lab)) $(if $(KVER),--kver $(KVER))

# The student kit (make dist-student) has no solutions/: the targets that
# need them depend on have-solutions, which stops them with one line, and
# make help leaves them out there.
HAVE_SOLUTIONS := $(wildcard solutions/*/Kbuild)

.DEFAULT_GOAL := help

help: ## list the targets and their variables
	@echo "Character-device driver lab kit. Targets:"
	@awk -F':.*## ' -v all=$(if $(HAVE_SOLUTIONS),1,0) \
		'/^[a-z-]+:.*## / && (all || !/have-solutions/) { printf "  make %-13s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo "Variables: LAB=NN (one lab; default all), SRC=labs|solutions|DIR"
	@echo "  (the tree to grade; default labs), KVER=release (default: newest"
	@echo "  kernel in the cache or with headers; make grade and grade-batch:"
	@echo "  the debug kernel when built; KVER=debian: Debian's newest,"
	@echo "  KVER=debug: the debug kernel), RESULTS=file.json (Gradescope),"
	@echo "  STRICT=1 (exit 1 unless every lab scores full marks), SEED=N (make"
	@echo "  test: the model-based tests' seed, instead of the graded ones)."
	@echo "Examples: make test LAB=01$(if $(HAVE_SOLUTIONS),; make test SRC=solutions; make check)"

deps: ## install the tools (apt-get, sudo if not root) and fetch the kernels into the cache (quick when all is there)
	@tools/install-deps

test: deps ## build LAB from SRC and grade it in a throwaway VM
	@$(if $(SEED),LABKIT_SEED=$(SEED)) $(PYTHON) grading/run-lab $(RUN_LAB_ARGS)

native: ## grade LAB on this machine's own kernel, no VM (root; can crash it)
	@$(PYTHON) grading/run-lab --native $(RUN_LAB_ARGS)

demo: deps ## LAB=04..07: the lab's narrated classroom demo in a VM (STEP=1: pause at each step)
	$(if $(LAB),,$(error make demo needs LAB=NN, e.g. make demo LAB=04))
	@$(PYTHON) grading/demo --lab $(LAB) $(if $(STEP),--step) $(if $(KVER),--kver $(KVER))

grade: deps ## grade one submission, SUB=dir|archive (LAB=, RESULTS=, JUNIT=)
	$(if $(SUB),,$(error make grade needs SUB=path/to/submission, a directory or an archive))
	@$(PYTHON) grading/grade $(GRADE_ARGS) $(if $(RESULTS),--json $(RESULTS)) \
		$(if $(JUNIT),--junit $(JUNIT)) '$(SUB)'

grade-batch: deps ## grade a class, SUBS="a.tgz b/ ..." (JOBS=, LAB=), into build/grades
	$(if $(SUBS),,$(error make grade-batch needs SUBS="submission ...", one per student))
	@$(PYTHON) grading/grade-batch $(GRADE_ARGS) $(if $(JOBS),-j $(JOBS)) $(SUBS)

check: have-solutions deps ## the kit's own checks on every usable kernel (solutions, skeletons, mutants, style)
	@$(PYTHON) grading/check $(if $(KVER),--kver $(KVER)) $(if $(LAB),--lab $(LAB))

check-quick: have-solutions deps ## the developers' tier of make check: unit tests, style, docs, reports current, every solution and skeleton on one kernel (minutes)
	@$(PYTHON) grading/check --quick $(if $(KVER),--kver $(KVER)) $(if $(LAB),--lab $(LAB))

unit: have-solutions ## the grader's own unit tests, no VM (seconds)
	@$(PYTHON) -m unittest discover -s grading/tests -t grading

mutation: have-solutions deps ## LAB=NN: mechanical mutants of the solution, graded; prints the survivors
	$(if $(LAB),,$(error make mutation needs LAB=NN, e.g. make mutation LAB=01))
	@$(PYTHON) grading/mutate --lab $(LAB) $(if $(KVER),--kver $(KVER)) \
		$(if $(THEN_KVER),--then-kver $(THEN_KVER)) \
		$(if $(JOBS),-j $(JOBS)) $(if $(LIMIT),--limit $(LIMIT))

skeletons: have-solutions ## regenerate labs/*/ module sources from solutions/, and tests/known-bugs from the mutants
	@tools/mkskeleton
	@tools/mkhints

measure: have-solutions deps ## time VM cycles and the edit-test loop (numbers for docs/speed.md)
	@$(PYTHON) grading/measure-speed $(if $(KVER),--kver $(KVER))

bench: have-solutions deps ## Labs 04 and 07 (or LAB=): blkfifo and mypipe vs a native FIFO, MB/s
	@$(PYTHON) grading/bench $(if $(KVER),--kver $(KVER)) $(if $(LAB),--lab $(LAB))

docs: have-solutions deps ## the reference site: doxygen into build/docs/html (fails on any warning)
	@tools/mkdocpages
	@doxygen docs/Doxyfile
	@echo "docs: open build/docs/html/index.html"

dist-student: have-solutions ## the student kit, build/dist/chardev-labkit-student.tar.gz (no solutions)
	@$(PYTHON) grading/dist student

gradescope: have-solutions deps ## Gradescope's build/gradescope/autograder.zip (LAB=NN: that lab only; DEBUG_KERNEL=1: graded on the debug kernel)
	@$(PYTHON) grading/dist gradescope $(if $(LAB),--lab $(LAB)) $(if $(filter-out 0,$(DEBUG_KERNEL)),--debug-kernel)

container-deps: have-solutions ## what make check-container needs: podman, runc, debootstrap, uidmap, slirp4netns, fuse-overlayfs (apt-get, sudo if not root)
	@tools/install-deps --container

check-container: have-solutions container-deps ## build the container's base image (if missing) and image, and grade Lab 01's solution in it: full marks or fail
	@tools/check-container

debug-kernel: deps ## build the debug kernel (lockdep, KASAN...) into the cache, once; KVER=debug then grades on it
	@tools/build-debug-kernel $(if $(JOBS),-j $(JOBS))

.PHONY: debug-kernel

have-solutions:
	$(if $(HAVE_SOLUTIONS),,$(error make $(MAKECMDGOALS) needs the reference solutions in solutions/, which this student kit leaves out))

clean: ## remove build output (the cache in ~/.cache/chardev-labkit stays)
	rm -rf build

clean-cache: ## remove everything the kit put in its cache: kernels, kernel tools, snapshots, the debug kernel
	@cd grading && $(PYTHON) -c 'from labkit import kcache; gone = kcache.clean(); print("removed", *gone) if gone else print("the cache was empty")'

clean-snapshots: ## remove the booted-VM snapshots from the cache (the next runs boot and save new ones)
	@cd grading && $(PYTHON) -c 'from labkit import snapshot; print(f"removed {snapshot.remove_all()} snapshot files")'

.PHONY: help deps test native demo grade grade-batch check check-quick unit mutation skeletons measure bench docs \
	dist-student gradescope have-solutions clean clean-snapshots clean-cache \
	container-deps check-container
