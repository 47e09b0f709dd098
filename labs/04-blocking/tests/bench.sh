#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Lab 04 bench: stream a verified byte pattern through /dev/blkfifo, loaded
# with fifo_size=4096, and through a named pipe whose capacity is set to
# 4096 bytes, at 64, 512 and 4096-byte writes, and time both.
#
# Run by `make bench` (grading/bench) inside the VM, with blkfifo.ko in
# the lab's directory and fifo_bench (userspace/bench/fifo_bench.c) on the
# PATH. Natively, as root:
#   BENCH_MODULE_DIR=DIR BENCH_PROG=build/userspace/bench/fifo_bench \
#       sh labs/04-blocking/tests/bench.sh [fifo_bench options]
# The arguments go to fifo_bench (e.g. -n 1 -b 65536 for a quick run).
# Output: fifo_bench's TAP (see fifo_bench.c), after a line
# "# blkfifo fifo_size=N"; "Bail out! ..." when the module does not load
# or unload. Exits with fifo_bench's status, or 1.
set -eu

BENCH_FIFO_SIZE=4096
case $0 in
*/*) here=$(cd "${0%/*}" && pwd) ;;
*) here=$(pwd) ;;
esac
: "${BENCH_MODULE_DIR:=${here%/*}}"
: "${BENCH_PROG:=fifo_bench}"
fifo=${TMPDIR:-/tmp}/fifo_bench.$$

if [ -d /sys/module/blkfifo ]; then
	echo "Bail out! blkfifo is already loaded: rmmod it first"
	exit 1
fi
if ! out=$(insmod "$BENCH_MODULE_DIR/blkfifo.ko" \
	fifo_size="$BENCH_FIFO_SIZE" 2>&1); then
	echo "Bail out! insmod blkfifo.ko fifo_size=$BENCH_FIFO_SIZE failed: $out"
	exit 1
fi
read -r size </sys/module/blkfifo/parameters/fifo_size
echo "# blkfifo fifo_size=$size"
read -r clock </sys/devices/system/clocksource/clocksource0/current_clocksource
echo "# clocksource $clock"

status=0
"$BENCH_PROG" -p "$BENCH_FIFO_SIZE" -m "$fifo" "$@" \
	blkfifo=/dev/blkfifo "fifo=$fifo" || status=$?

if ! out=$(rmmod blkfifo 2>&1); then
	echo "Bail out! rmmod blkfifo failed: $out"
	exit 1
fi
exit "$status"
