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
LAB_POINTS='
module_loads                             5
node_is_world_rw_char_device             3
write_then_read_same_fd                  3
bytes_come_out_in_order_across_opens     3
read_consumes_what_it_returns            3
write_is_cut_short_when_nearly_full      3
wraps_around_the_end                     3
is_not_seekable                          3
bad_pointer_gives_efault_and_keeps_data  3
partial_copy_keeps_the_rest              3
readers_take_turns                       3
writers_take_turns                       3
many_readers_and_writers_lose_nothing    3
nonblocking_read_on_empty_is_eagain      3
nonblocking_write_on_full_is_eagain      3
seed_program_sequence                    3
fcntl_nonblock_takes_effect              3
read_on_empty_sleeps_until_data          4
write_on_full_sleeps_until_room          4
sleepers_are_interruptible               3
signal_interrupts_read_with_eintr        4
signal_interrupts_write_with_eintr       3
sa_restart_restarts_the_read             3
several_readers_one_byte_one_winner      3
woken_reader_rechecks_under_the_lock     3
write_that_fills_the_fifo_wakes_reader   3
nonblocking_read_while_a_reader_sleeps   2
cat_waits_for_echo                       3
fifo_size_param                          2
module_unloads                           5
kernel_log_clean                         5
'

# shellcheck source=../../../grading/guest/autograde.sh
. "$(dirname "$0")/../../../grading/guest/autograde.sh"
lab_grade
