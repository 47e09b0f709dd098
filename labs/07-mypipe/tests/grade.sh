#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
# Lab 07 autograder: loads mypipe.ko, runs test_mypipe, checks the kernel
# log, unloads, and reports each test's result: the host scores them with
# tests/points. Run by `make test LAB=07` inside the grading VM, or
# natively as root by `make native LAB=07`.
# The shared logic is in grading/guest/autograde.sh.
set -eu

LAB=07-mypipe
LAB_MODULES=mypipe
LAB_TESTPROG=test_mypipe
LAB_TEST_TIMEOUT=480

# shellcheck source=../../../grading/guest/autograde.sh
. "$(dirname "$0")/../../../grading/guest/autograde.sh"
lab_grade
