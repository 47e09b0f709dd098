#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
# Lab 06 classroom demo: a process that never reads until the driver
# sends it SIGIO. Run by `make demo LAB=06` in the VM (see
# grading/guest/demo.sh).
set -eu

DEMO_MODULE=asyncfifo
# shellcheck source=../../grading/guest/demo.sh
. "$(dirname "$0")/../../grading/guest/demo.sh"

demo_title "Lab 06: asynchronous notification with SIGIO (/dev/asyncfifo0)"
demo_load ndevices=2

demo_step "A listener asks for SIGIO on /dev/asyncfifo0" \
	"fcntl(F_SETOWN), then O_ASYNC: the driver's ->fasync() runs" \
	"('O_ASYNC on'); then it waits in sigsuspend(), in no read at all:" \
	"the view shows nobody on the device's wait queues"
demo_sleeper "demo_sigio 2 /dev/asyncfifo0"
listener=$demo_pid
demo_view "asyncfifo0:readers_waiting 0"

demo_step "A writer writes a line" \
	"the driver's write calls kill_fasync(): SIGIO with POLL_IN" \
	"the handler runs, then the listener reads the line; that read" \
	"makes room, and the driver says so too: SIGIO with POLL_OUT"
demo_run "echo 'first line' >/dev/asyncfifo0"
demo_wait_asleep "$listener"
demo_log

demo_step "Another write, to the other device /dev/asyncfifo1" \
	"no signal: the listener asked only for asyncfifo0"
demo_run "echo elsewhere >/dev/asyncfifo1"
demo_wait_asleep "$listener"
demo_task "$listener"
demo_view "asyncfifo1:10/64" "asyncfifo0: 0/64"

demo_step "A second line on /dev/asyncfifo0" \
	"a second SIGIO; the listener reads it and exits;" \
	"at its close, ->fasync() takes it off the list ('O_ASYNC off')"
demo_run "echo 'second line' >/dev/asyncfifo0"
wait "$listener"
demo_log
demo_say "asyncfifo1 still holds its line:"
demo_run "head -c 10 /dev/asyncfifo1"

demo_unload
demo_end
