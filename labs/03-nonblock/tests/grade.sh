#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
# Lab 03 autograder: loads nbfifo.ko, runs test_nbfifo, checks the kernel
# log, unloads, and reports each test's result: the host scores them with
# tests/points. Run by `make test LAB=03` inside the grading VM, or
# natively as root by `make native LAB=03`.
# The shared logic is in grading/guest/autograde.sh.
set -eu

LAB=03-nonblock
LAB_MODULES=nbfifo
LAB_TESTPROG=test_nbfifo
# A driver that leaves a lock held makes every later test wait a few
# seconds before it fails (and a hung call waits for its test's timeout):
# room for all of them.
LAB_TEST_TIMEOUT=300

# shellcheck source=../../../grading/guest/autograde.sh
. "$(dirname "$0")/../../../grading/guest/autograde.sh"
lab_grade
