#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
# Lab 01 autograder: loads flatbuf.ko, runs test_flatbuf, checks the kernel
# log, unloads, and scores out of 100. Run by `make test LAB=01` inside the
# grading VM; natively (as root, module and test program built) with
#   sudo LAB_TEST_DIR=... sh labs/01-flat-buffer/tests/grade.sh
# The shared logic is in grading/guest/autograde.sh.
set -eu

LAB=01-flat-buffer
LAB_MODULES=flatbuf
LAB_TESTPROG=test_flatbuf
LAB_POINTS='
module_loads                       5
node_is_world_rw_char_device       5
reopen_reads_back_exactly         10
echo_then_cat                      5
read_stops_at_end_of_data          5
read_in_small_chunks_reaches_eof   5
write_is_cut_short_at_the_end     10
write_when_full_fails_with_enospc 10
o_trunc_empties_the_buffer         5
o_append_appends                   5
lseek_moves_within_the_buffer      5
write_past_end_leaves_zero_hole    5
bad_pointer_gives_efault           5
reader_never_sees_half_a_write    10
module_unloads                     5
kernel_log_clean                   5
'

# shellcheck source=../../../grading/guest/autograde.sh
. "$(dirname "$0")/../../../grading/guest/autograde.sh"
lab_grade
