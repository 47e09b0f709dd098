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
# Every test waiting out its own time limit adds up to about 150 s.
LAB_TEST_TIMEOUT=240
LAB_POINTS='
module_loads                                  5
node_is_world_rw_char_device                  2
reopen_reads_back_exactly                     3
echo_then_cat                                 2
read_stops_at_end_of_data                     3
read_in_small_chunks_reaches_eof              3
zero_byte_calls_return_zero                   3
write_is_cut_short_at_the_end                 3
write_when_full_fails_with_enospc             3
overwrite_keeps_length_and_neighbours         3
write_past_end_leaves_zero_hole               3
o_trunc_empties_the_buffer                    3
o_trunc_only_when_opened_for_writing          2
o_append_appends                              3
o_append_finds_the_end_under_the_lock         2
o_nonblock_changes_nothing                    2
positions_are_per_open_file                   3
lseek_moves_within_the_buffer                 3
bad_pointer_gives_efault                      3
partial_copy_stops_at_the_fault               3
reader_never_sees_half_a_write                3
others_wait_while_a_write_holds_the_lock      4
signal_ends_the_wait_for_the_lock             3
others_wait_while_a_read_holds_the_lock       3
sa_restart_restarts_a_wait_for_the_lock       2
matches_the_model                            11
matches_the_model_across_processes            4
unload_removes_node_and_reload_starts_empty   3
module_unloads                                5
kernel_log_clean                              5
'

# shellcheck source=../../../grading/guest/autograde.sh
. "$(dirname "$0")/../../../grading/guest/autograde.sh"
lab_grade
