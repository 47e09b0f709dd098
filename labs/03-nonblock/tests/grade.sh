#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
# Lab 03 autograder: loads nbfifo.ko, runs test_nbfifo, checks the kernel
# log, unloads, and scores out of 100. Run by `make test LAB=03` inside the
# grading VM, or natively as root by `make native LAB=03`.
# The shared logic is in grading/guest/autograde.sh.
set -eu

LAB=03-nonblock
LAB_MODULES=nbfifo
LAB_TESTPROG=test_nbfifo
# A driver that leaves a lock held makes every later test wait a few
# seconds before it fails (and a hung call waits for its test's timeout):
# room for all of them.
LAB_TEST_TIMEOUT=300
LAB_POINTS='
module_loads                                    5
node_is_world_rw_char_device                    1
write_then_read_same_fd                         1
read_empty_returns_zero                         2
bytes_come_out_in_order_across_opens            1
read_consumes_what_it_returns                   2
write_is_cut_short_when_nearly_full             2
write_when_full_fails_with_enospc               2
wraps_around_the_end                            1
is_not_seekable                                 1
bad_pointer_gives_efault_and_keeps_data         1
partial_copy_keeps_the_rest                     1
readers_take_turns                              2
writers_take_turns                              2
many_readers_and_writers_lose_nothing           2
cat_and_echo_on_the_device                      1
zero_length_calls_return_zero                   2
sizes_around_the_capacity                       1
read_stops_at_an_unmapped_page                  2
write_stops_at_an_unmapped_page                 2
opens_and_closes_leave_the_fifo_alone           2
last_close_keeps_the_bytes                      1
bad_buffer_is_efault_whatever_o_nonblock_says   2
signal_ends_a_wait_for_the_readers_lock         2
signal_ends_a_wait_for_the_writers_lock         2
sa_restart_resumes_a_wait_for_a_lock            1
reader_and_writer_do_not_wait_for_each_other    2
zero_length_calls_do_not_wait_for_the_lock      2
nonblocking_read_on_empty_is_eagain             3
nonblocking_write_on_full_is_eagain             3
seed_program_sequence                           2
fcntl_nonblock_takes_effect                     2
fcntl_nonblock_takes_effect_on_writes           3
o_nonblock_belongs_to_the_open_file             3
empty_is_checked_under_the_readers_lock         4
full_is_checked_under_the_writers_lock          4
matches_the_model                               8
matches_the_model_across_processes              8
unload_leaves_nothing_behind                    1
load_and_unload_log_no_error                    1
module_unloads                                  5
kernel_log_clean                                5
'

# shellcheck source=../../../grading/guest/autograde.sh
. "$(dirname "$0")/../../../grading/guest/autograde.sh"
lab_grade
