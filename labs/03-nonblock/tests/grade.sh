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
LAB_POINTS='
module_loads                             5
node_is_world_rw_char_device             4
write_then_read_same_fd                  4
read_empty_returns_zero                  4
bytes_come_out_in_order_across_opens     4
read_consumes_what_it_returns            4
write_is_cut_short_when_nearly_full      4
write_when_full_fails_with_enospc        4
wraps_around_the_end                     4
is_not_seekable                          4
bad_pointer_gives_efault_and_keeps_data  4
partial_copy_keeps_the_rest              4
readers_take_turns                       4
writers_take_turns                       4
many_readers_and_writers_lose_nothing    4
cat_and_echo_on_the_device               4
nonblocking_read_on_empty_is_eagain      8
nonblocking_write_on_full_is_eagain      8
seed_program_sequence                    5
fcntl_nonblock_takes_effect              4
module_unloads                           5
kernel_log_clean                         5
'

# shellcheck source=../../../grading/guest/autograde.sh
. "$(dirname "$0")/../../../grading/guest/autograde.sh"
lab_grade
