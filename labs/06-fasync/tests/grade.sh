#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
# Lab 06 autograder: loads asyncfifo.ko, runs test_asyncfifo, checks the
# kernel log, unloads, and reports each test's result: the host scores them
# with tests/points. Run by `make test LAB=06` inside the grading VM, or
# natively as root by `make native LAB=06`.
# The shared logic is in grading/guest/autograde.sh.
set -eu

LAB=06-fasync
LAB_MODULES=asyncfifo
LAB_TESTPROG=test_asyncfifo
# The whole test program's limit: three times its run time on a loaded
# host and more (at host load 33-38 on 2 cores, Lab 05 took 47 s of VM
# time and Lab 06 41-59 s; a driver whose .poll waits for a lock, 121 s).
LAB_TEST_TIMEOUT=300

# shellcheck source=../../../grading/guest/autograde.sh
. "$(dirname "$0")/../../../grading/guest/autograde.sh"
lab_grade
