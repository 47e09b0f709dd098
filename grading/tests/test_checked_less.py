# SPDX-License-Identifier: GPL-2.0
"""labkit/checked_less.py: the lines in which a test says it checked less
than its rule, which make check does not accept from a solution's run on
the kit's kernels. Canned output, no VM."""

import unittest

from labkit import checked_less, kernels

RUN = """\
KTAP version 1
# plan works_the_moment_its_node_appears
#  RUN           reload.works_the_moment_its_node_appears ...
# works_the_moment_its_node_appears: (this kernel has no inotify, so the early caller looks for the node every millisecond and may come after init has gone on: the test shows less)
#            OK  reload.works_the_moment_its_node_appears
ok 1 works_the_moment_its_node_appears
# userspace/alloc_failures_expect.h:36:a_failed_allocation_fails_the_load_or_open:(this kernel cannot make allocations fail (no /proc/thread-self/fail-nth): the kit's debug kernel checks this rule, KVER=debug)
ok 2 a_failed_allocation_fails_the_load_or_open
# unload_gives_back_the_buffer: (could not leave 64 bytes in /dev/fifodev: No space left on device; the unload is checked with what it holds)
ok 3 unload_gives_back_the_buffer
# every_way_out: (12 opens of /dev/fifodev, all but the last with one allocation made to fail)
ok 4 every_way_out
"""


class CheckedLess(unittest.TestCase):
    def test_a_missing_kernel_feature_is_found_on_every_kernel(self):
        for kver in ("6.12.118+deb12-amd64", kernels.DEBUG):
            found = checked_less.lines(RUN, kver)
            self.assertTrue(any("no inotify" in line for line in found))
            self.assertTrue(any("could not leave" in line
                                for line in found))

    def test_no_fault_injection_is_a_gap_only_on_the_debug_kernel(self):
        self.assertFalse(any("fail-nth" in line for line in
                             checked_less.lines(RUN, "6.1.0-57-amd64")))
        self.assertTrue(any("fail-nth" in line for line in
                            checked_less.lines(RUN, kernels.DEBUG)))

    def test_what_a_test_did_is_not_taken_for_less(self):
        found = checked_less.lines(RUN, kernels.DEBUG)
        self.assertEqual(3, len(found))
        self.assertFalse(any("12 opens" in line for line in found))

    def test_result_lines_are_not_read(self):
        self.assertEqual([], checked_less.lines(
            "ok 1 x (this kernel is fine)\n", kernels.DEBUG))


if __name__ == "__main__":
    unittest.main()
