#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
# Lab 02 autograder: loads fifodev.ko, runs test_fifodev, checks the kernel
# log, unloads, and scores out of 100. Run by `make test LAB=02` inside the
# grading VM, or natively as root by `make native LAB=02`.
# The shared logic is in grading/guest/autograde.sh.
set -eu

LAB=02-kfifo
LAB_MODULES=fifodev
LAB_TESTPROG=test_fifodev
LAB_POINTS='
module_loads                             5
node_is_world_rw_char_device             5
write_then_read_same_fd                  5
read_empty_returns_zero                  5
bytes_come_out_in_order_across_opens     5
read_consumes_what_it_returns            5
write_is_cut_short_when_nearly_full      5
write_when_full_fails_with_enospc        5
wraps_around_the_end                     5
is_not_seekable                          5
bad_pointer_gives_efault_and_keeps_data  5
partial_copy_keeps_the_rest              5
readers_take_turns                      10
writers_take_turns                      10
many_readers_and_writers_lose_nothing    5
cat_and_echo_on_the_device               5
module_unloads                           5
kernel_log_clean                         5
'

# shellcheck source=../../../grading/guest/autograde.sh
. "$(dirname "$0")/../../../grading/guest/autograde.sh"
lab_grade
