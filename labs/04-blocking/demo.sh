#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
# Lab 04 classroom demo: a reader sleeps on the FIFO's wait queue until a
# writer comes; a writer sleeps until there is room; a signal ends a
# sleep. Run by `make demo LAB=04` in the VM (see grading/guest/demo.sh).
set -eu

DEMO_MODULE=blkfifo
# shellcheck source=../../grading/guest/demo.sh
. "$(dirname "$0")/../../grading/guest/demo.sh"

demo_title "Lab 04: blocking I/O with wait queues (/dev/blkfifo)"
demo_say "A 16-byte FIFO, so that it fills quickly."
demo_load fifo_size=16

demo_step "A reader reads from the empty FIFO" \
	"its state: S (sleeping), in blkfifo_read, on the FIFO's wait queue" \
	"the driver's line 'waits for data'; the view: one reader waiting"
demo_sleeper "head -c 6 /dev/blkfifo >/tmp/got"
reader=$demo_pid
demo_view "blkfifo: 0/16" "blkfifo:readers_waiting 1" \
	"blkfifo:writers_waiting 0"

demo_step "A writer writes 6 bytes" \
	"the writer returns at once: there is room" \
	"the driver's lines: the write, then the reader waking up and reading"
demo_run "printf 'hello\\n' >/dev/blkfifo"
wait "$reader"
demo_log
demo_run "cat /tmp/got"

demo_step "A writer writes 40 bytes into the 16-byte FIFO" \
	"it writes 16, then sleeps in blkfifo_write: 'waits for room'" \
	"the view: the FIFO full, one writer waiting"
demo_sleeper "head -c 40 /dev/zero >/dev/blkfifo"
writer=$demo_pid
demo_view "blkfifo:16/16" "blkfifo:readers_waiting 0" \
	"blkfifo:writers_waiting 1"

demo_step "A reader takes the 40 bytes" \
	"each read makes room and wakes the writer, until all 40 are through"
demo_run "head -c 40 /dev/blkfifo | wc -c"
wait "$writer"
demo_log
demo_view "blkfifo: 0/16" "blkfifo:readers_waiting 0" \
	"blkfifo:writers_waiting 0"

demo_step "A sleeping reader gets a signal" \
	"the read returns -ERESTARTSYS and the process dies of SIGTERM" \
	"(status 143): the sleep was interruptible"
demo_sleeper "head -c 1 /dev/blkfifo >/dev/null"
reader=$demo_pid
demo_run "kill -TERM $reader"
status=0
wait "$reader" || status=$?
demo_say "the reader's exit status: $status"
demo_log

demo_unload
demo_end
