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
# A driver that leaves a lock held makes every later test wait a few
# seconds before it fails (and a hung call waits for its test's timeout):
# room for all of them.
LAB_TEST_TIMEOUT=300
LAB_POINTS='
module_loads                                    5
node_is_world_rw_char_device                    2
write_then_read_same_fd                         2
read_empty_returns_zero                         3
bytes_come_out_in_order_across_opens            2
read_consumes_what_it_returns                   3
write_is_cut_short_when_nearly_full             2
write_when_full_fails_with_enospc               3
wraps_around_the_end                            2
is_not_seekable                                 2
bad_pointer_gives_efault_and_keeps_data         2
partial_copy_keeps_the_rest                     2
readers_take_turns                              3
writers_take_turns                              3
many_readers_and_writers_lose_nothing           3
cat_and_echo_on_the_device                      2
zero_length_calls_return_zero                   2
sizes_around_the_capacity                       2
read_stops_at_an_unmapped_page                  3
write_stops_at_an_unmapped_page                 3
opens_and_closes_leave_the_fifo_alone           2
last_close_keeps_the_bytes                      2
bad_buffer_is_efault_whatever_o_nonblock_says   2
signal_ends_a_wait_for_the_readers_lock         3
signal_ends_a_wait_for_the_writers_lock         3
sa_restart_resumes_a_wait_for_a_lock            2
empty_is_checked_under_the_readers_lock         2
full_is_checked_under_the_writers_lock          2
reader_and_writer_do_not_wait_for_each_other    3
zero_length_calls_do_not_wait_for_the_lock      2
matches_the_model                               7
matches_the_model_across_processes              6
unload_leaves_nothing_behind                    2
load_and_unload_log_no_error                    1
module_unloads                                  5
kernel_log_clean                                5
'

# shellcheck source=../../../grading/guest/autograde.sh
. "$(dirname "$0")/../../../grading/guest/autograde.sh"
lab_grade
