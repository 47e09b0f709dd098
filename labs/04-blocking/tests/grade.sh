#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
# Lab 04 autograder: loads blkfifo.ko, runs test_blkfifo, checks the kernel
# log, unloads, and scores out of 100. Run by `make test LAB=04` inside the
# grading VM, or natively as root by `make native LAB=04`.
# The shared logic is in grading/guest/autograde.sh.
set -eu

LAB=04-blocking
LAB_MODULES=blkfifo
LAB_TESTPROG=test_blkfifo
# A driver that leaves a lock held makes every later test wait a few
# seconds before it fails (and a hung call waits for its test's timeout):
# room for all of them.
LAB_TEST_TIMEOUT=300
LAB_POINTS='
module_loads                                    5
node_is_world_rw_char_device                    1
write_then_read_same_fd                         1
bytes_come_out_in_order_across_opens            1
read_consumes_what_it_returns                   1
write_is_cut_short_when_nearly_full             1
wraps_around_the_end                            1
is_not_seekable                                 1
bad_pointer_gives_efault_and_keeps_data         1
partial_copy_keeps_the_rest                     1
readers_take_turns                              1
writers_take_turns                              1
many_readers_and_writers_lose_nothing           1
zero_length_calls_return_zero                   1
sizes_around_the_capacity                       1
read_stops_at_an_unmapped_page                  1
write_stops_at_an_unmapped_page                 1
opens_and_closes_leave_the_fifo_alone           1
last_close_keeps_the_bytes                      1
bad_buffer_is_efault_whatever_o_nonblock_says   1
reader_and_writer_do_not_wait_for_each_other    1
zero_length_calls_do_not_wait_for_the_lock      1
nonblocking_read_on_empty_is_eagain             1
nonblocking_write_on_full_is_eagain             1
seed_program_sequence                           1
fcntl_nonblock_takes_effect                     1
fcntl_nonblock_takes_effect_on_writes           1
o_nonblock_belongs_to_the_open_file             1
read_on_empty_sleeps_until_data                 1
write_on_full_sleeps_until_room                 1
sleepers_are_interruptible                      1
signal_interrupts_read_with_eintr               1
signal_interrupts_write_with_eintr              1
sa_restart_restarts_the_read                    1
sa_restart_restarts_the_write                    1
signal_ends_a_wait_for_the_readers_lock         1
signal_ends_a_wait_for_the_writers_lock         1
sa_restart_resumes_a_wait_for_a_lock            1
woken_reader_waits_for_the_lock_interruptibly   1
woken_writer_waits_for_the_lock_interruptibly   1
empty_is_checked_under_the_readers_lock         2
full_is_checked_under_the_writers_lock          2
several_readers_one_byte_one_winner             1
woken_reader_rechecks_under_the_lock            2
write_that_fills_the_fifo_wakes_reader          1
nonblocking_read_while_a_reader_sleeps          1
one_write_wakes_every_reader_it_can_serve       2
sleeping_readers_are_served_one_by_one          2
one_read_wakes_every_writer_it_can_serve        2
sleeping_writers_are_served_one_by_one          2
woken_calls_transfer_what_they_can              2
readers_are_woken_after_the_bytes_are_in        2
writers_are_woken_after_the_room_is_made        2
every_write_wakes_the_readers                   2
every_read_wakes_the_writers                    2
cat_waits_for_echo                              1
matches_the_model                               6
matches_the_model_across_processes              4
fifo_size_param                                 1
fifo_size_is_read_only_in_sysfs                 1
fifo_size_limits_are_2_and_65536                1
reloaded_with_another_size_matches_the_model    1
unload_leaves_nothing_behind                    1
unload_removes_the_debugfs_view                 1
unload_gives_back_the_buffer                    1
load_and_unload_log_no_error                    1
module_unloads                                  5
kernel_log_clean                                5
'

# shellcheck source=../../../grading/guest/autograde.sh
. "$(dirname "$0")/../../../grading/guest/autograde.sh"
lab_grade
