#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
# Lab 01 autograder: loads flatbuf.ko, runs test_flatbuf, checks the kernel
# log, unloads, and reports each test's result: the host scores them with
# tests/points. Run by `make test LAB=01` inside the grading VM; natively
# (as root, module and test program built) with
#   sudo LAB_TEST_DIR=... sh labs/01-flat-buffer/tests/grade.sh
# The shared logic is in grading/guest/autograde.sh.
set -eu

LAB=01-flat-buffer
LAB_MODULES=flatbuf
LAB_TESTPROG=test_flatbuf
# Every test waiting out its own time limit adds up to about 150 s.
LAB_TEST_TIMEOUT=240

# shellcheck source=../../../grading/guest/autograde.sh
. "$(dirname "$0")/../../../grading/guest/autograde.sh"
lab_grade
