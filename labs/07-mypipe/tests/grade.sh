#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
# Lab 07 autograder: loads mypipe.ko, runs test_mypipe, checks the kernel
# log, unloads, and scores out of 100. Run by `make test LAB=07` inside the
# grading VM, or natively as root by `make native LAB=07`.
# The shared logic is in grading/guest/autograde.sh.
set -eu

LAB=07-mypipe
LAB_MODULES=mypipe
LAB_TESTPROG=test_mypipe
LAB_TEST_TIMEOUT=480
LAB_POINTS='
# The nodes and their direction
nodes_are_char_devices_under_dev_mypipe          2
wrong_direction_is_refused_with_eacces           2
# Each like_fifo_ test runs one scenario on a named pipe and on mypipe
like_fifo_writer_open_waits_for_reader           3
like_fifo_reader_open_waits_for_writer           3
like_fifo_open_returns_once_the_other_end_was_opened 2
like_fifo_nonblocking_opens                      2
like_fifo_read_returns_what_is_there             2
like_fifo_zero_byte_calls_return_at_once         2
like_fifo_eof_only_after_the_last_writer         3
like_fifo_last_writer_wakes_a_sleeping_reader    3
like_fifo_no_reader_means_sigpipe_and_epipe      3
like_fifo_last_reader_wakes_a_sleeping_writer    3
like_fifo_large_write_keeps_its_count_when_the_reader_leaves 1
like_fifo_nonblocking_calls_get_eagain           2
like_fifo_poll_reports_data_room_and_hangups     3
like_fifo_sleeping_polls_are_woken               2
like_fifo_epoll_edge_triggered_sees_every_write  1
like_fifo_writes_of_pipe_buf_are_atomic          2
like_fifo_pipe_buf_is_the_atomic_limit           2
like_fifo_large_write_completes                  2
like_fifo_signals_end_sleeping_reads             2
like_fifo_signals_end_sleeping_writes_and_opens  2
like_fifo_signals_end_sleeping_small_writes      2
like_fifo_signals_end_sleeping_opens_of_both_ends 2
like_fifo_bytes_are_dropped_when_all_ends_close  1
like_fifo_several_readers_and_writers            1
like_fifo_bad_pointers_get_efault                2
faults_part_way_move_exactly_what_they_report    1
# The semaphore
callers_take_turns_at_the_semaphore              3
signals_end_waits_for_the_semaphore              2
poll_does_not_wait_for_the_semaphore             1
data_path_does_not_log                           1
# Wake-ups, each made certain (frozen copies, tasks seen asleep)
a_write_wakes_readers_also_after_sleeping_for_room 2
a_woken_writer_passes_the_wake_up_on             2
# The course report programs, and volume
echo_and_cat_end_cleanly                         2
report_programs_stream_a_million_numbers         1
four_writers_four_readers_64_mib                 1
# Parameters and unloading
exclusive_param_allows_one_file_per_end          3
exclusive_refused_opens_leave_the_end_free       2
pipe_size_param                                  1
pipe_size_limits_are_4096_and_1048576            1
params_are_read_only_in_sysfs                    1
unload_is_refused_while_an_end_is_open           2
fifty_unloads_leave_nothing_behind               1
unload_gives_back_the_buffer                     1
module_loads                                     5
module_unloads                                   5
kernel_log_clean                                 5
'

# shellcheck source=../../../grading/guest/autograde.sh
. "$(dirname "$0")/../../../grading/guest/autograde.sh"
lab_grade
