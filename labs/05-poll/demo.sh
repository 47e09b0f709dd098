#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
# Lab 05 classroom demo: one process sleeps in poll() on several minors
# at once and wakes up for whichever gets data. Run by `make demo LAB=05`
# in the VM (see grading/guest/demo.sh).
set -eu

DEMO_MODULE=pollfifo
# shellcheck source=../../grading/guest/demo.sh
. "$(dirname "$0")/../../grading/guest/demo.sh"

demo_title "Lab 05: poll() over eight minors (/dev/pollfifo0 ... 7)"
demo_load ndevices=8
demo_run "ls /dev/pollfifo*"

demo_step "A poller watches four of the devices: 0, 3, 5 and 6" \
	"one process asleep for all four: state S in poll, not in a read" \
	"each device's ->poll() put it on that device's two wait queues" \
	"(poll_wait() on both): the view counts it on each of the four"
demo_sleeper "demo_poll 3 /dev/pollfifo0 /dev/pollfifo3 /dev/pollfifo5 /dev/pollfifo6"
poller=$demo_pid
demo_view "pollfifo0:readers_waiting 1" "pollfifo3:writers_waiting 1" \
	"pollfifo1:readers_waiting 0"

demo_step "Data arrives on /dev/pollfifo3" \
	"the write wakes the poller; it finds pollfifo3 readable, reads it" \
	"and goes back to sleep on all four"
demo_run "echo three >/dev/pollfifo3"
demo_wait_asleep "$poller"
demo_log

demo_step "Data arrives on a device nobody watches, /dev/pollfifo1" \
	"the poller sleeps on: pollfifo1's wait queue has no poller on it"
demo_run "echo one >/dev/pollfifo1"
demo_wait_asleep "$poller"
demo_task "$poller"
demo_log
demo_view "pollfifo1: 4/64" "pollfifo3: 0/64" "pollfifo3:readers_waiting 1"

demo_step "Data arrives on two watched devices, one after the other" \
	"the poller reads 5 and 6, in one wake-up or two (the writes may" \
	"both land before it runs), then exits: it was told to read 3 times"
demo_run "echo five >/dev/pollfifo5; echo six >/dev/pollfifo6"
wait "$poller"
demo_log
demo_say "pollfifo1 still holds its line:"
demo_run "head -c 4 /dev/pollfifo1"

demo_unload
demo_end
