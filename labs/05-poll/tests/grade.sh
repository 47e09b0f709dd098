#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
# Lab 05 autograder: loads pollfifo.ko, runs test_pollfifo, checks the
# kernel log, unloads, and scores out of 100. Run by `make test LAB=05`
# inside the grading VM, or natively as root by `make native LAB=05`.
# The shared logic is in grading/guest/autograde.sh.
set -eu

LAB=05-poll
LAB_MODULES=pollfifo
LAB_TESTPROG=test_pollfifo
# The whole test program's limit: three times its run time on a loaded
# host and more (at host load 33-38 on 2 cores, Lab 05 took 47 s of VM
# time and Lab 06 41-59 s; a driver whose .poll waits for a lock, 121 s).
LAB_TEST_TIMEOUT=300
LAB_POINTS='
module_loads                             5
# Labs 02-04, on /dev/pollfifo0
node_is_world_rw_char_device             1
write_then_read_same_fd                  1
bytes_come_out_in_order_across_opens     1
read_consumes_what_it_returns            1
write_is_cut_short_when_nearly_full      1
wraps_around_the_end                     1
is_not_seekable                          1
bad_pointer_gives_efault_and_keeps_data  1
partial_copy_keeps_the_rest              1
readers_take_turns                       1
writers_take_turns                       1
many_readers_and_writers_lose_nothing    1
nonblocking_read_on_empty_is_eagain      1
nonblocking_write_on_full_is_eagain      1
seed_program_sequence                    1
fcntl_nonblock_takes_effect              1
read_on_empty_sleeps_until_data          1
write_on_full_sleeps_until_room          1
sleepers_are_interruptible               1
signal_interrupts_read_with_eintr        1
signal_interrupts_write_with_eintr       1
sa_restart_restarts_the_read             1
sa_restart_restarts_the_write             1
several_readers_one_byte_one_winner      1
woken_reader_rechecks_under_the_lock     1
write_that_fills_the_fifo_wakes_reader   1
nonblocking_read_while_a_reader_sleeps   1
cat_waits_for_echo                       1
fifo_size_param                          1
# Lab 05: many minors, poll, select, epoll
every_minor_has_a_node                      3
minors_are_independent                      3
poll_reports_exactly_the_minors_written     4
full_minor_is_not_writable                  3
poll_waits_for_a_write                      4
poll_waits_for_room                         3
select_sees_readable_and_writable           2
epoll_level_triggered                       2
epoll_edge_triggered_reports_each_write     3
seed_two_device_poll_program                3
sleepers_are_woken_only_by_their_own_minor  4
one_event_wakes_every_poller                2
frozen_copy_holds_up_only_its_own_minor     2
poll_answers_while_a_read_and_a_write_are_frozen 2
matches_the_model                           8
ndevices_param                              3
unload_leaves_nothing_behind                2
fifo_size_limits_are_2_and_65536            1
unload_removes_the_debugfs_view             1
unload_gives_back_the_buffer                1
module_unloads                           5
kernel_log_clean                         5
'

# shellcheck source=../../../grading/guest/autograde.sh
. "$(dirname "$0")/../../../grading/guest/autograde.sh"
lab_grade
