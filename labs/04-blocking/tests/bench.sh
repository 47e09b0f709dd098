#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
# Lab 04 bench: stream a verified byte pattern through /dev/blkfifo, loaded
# with fifo_size=4096, and through a named pipe whose capacity is set to
# 4096 bytes, and time both.
#
# Run by `make bench` (grading/bench) inside the VM, with blkfifo.ko in
# the lab's directory and fifo_bench (userspace/bench/fifo_bench.c) on the
# PATH. Natively, as root:
#   BENCH_MODULE_DIR=DIR BENCH_PROG=build/userspace/bench/fifo_bench \
#       sh labs/04-blocking/tests/bench.sh [fifo_bench options]
# The arguments go to fifo_bench (e.g. -n 1 -b 65536 for a quick run).
# Output and status: see grading/guest/fifo-bench.sh.
set -eu

case $0 in
*/*) here=$(cd "${0%/*}" && pwd) ;;
*) here=$(pwd) ;;
esac
: "${BENCH_MODULE_DIR:=${here%/*}}"

# shellcheck source=../../../grading/guest/fifo-bench.sh
. "$here/../../../grading/guest/fifo-bench.sh"
status=0
bench_module_vs_fifo blkfifo fifo_size 4096 blkfifo=/dev/blkfifo "$@" ||
	status=$?
exit "$status"
