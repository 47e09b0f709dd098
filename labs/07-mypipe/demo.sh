#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
# Lab 07 classroom demo: the open rendezvous of the two ends, EOF when the
# last writer leaves, SIGPIPE when no reader is left, and an end opened
# the wrong way. Run by `make demo LAB=07` in the VM (see
# grading/guest/demo.sh).
set -eu

DEMO_MODULE=mypipe
# shellcheck source=../../grading/guest/demo.sh
. "$(dirname "$0")/../../grading/guest/demo.sh"

IN=/dev/mypipe/mypipe_in
OUT=/dev/mypipe/mypipe_out

demo_title "Lab 07: a pipe with two ends ($IN, $OUT)"
demo_load pipe_size=4096
demo_run "ls -l /dev/mypipe"

demo_step "A reader opens the read end, before any writer" \
	"open() itself sleeps, as for a named pipe: state S in the open" \
	"the driver logs nothing yet: the open has not returned;" \
	"the view: one task waiting in open(), no writer"
demo_sleeper "cat $OUT >/tmp/got"
reader=$demo_pid
demo_view "mypipe:openers_waiting 1" "mypipe:writers 0"

demo_step "A writer opens the write end and writes a line" \
	"both opens complete (the rendezvous), the reader gets the line" \
	"when the writer closes, the reader's read returns 0: EOF, cat ends"
demo_run "echo 'hello through mypipe' >$IN"
status=0
wait "$reader" || status=$?
demo_say "the reader (cat) ended with status $status after EOF"
demo_run "cat /tmp/got"
demo_log

demo_step "The reader leaves while a writer still writes" \
	"head reads 5 bytes and exits; the writer's next write gets SIGPIPE" \
	"and dies with status 141 (128 + 13), as with a named pipe;" \
	"the bytes left go with the last close: the view shows it empty"
echo "  \$ yes >$IN &"
yes >"$IN" &
writer=$!
demo_run "head -c 5 $OUT; echo"
status=0
wait "$writer" || status=$?
demo_say "the writer (yes) ended with status $status"
dmesg -c >/dev/null # thousands of 'wrote' lines: not worth showing
demo_view "mypipe:readers 0" "mypipe:writers 0" "mypipe: 0/4096"

demo_step "Reading from the write end" \
	"each end only goes one way: the open fails (EACCES)"
demo_run "cat $IN"

demo_unload
demo_end
