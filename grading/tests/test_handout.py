# SPDX-License-Identifier: GPL-2.0
"""Handouts and points files (labkit.handout): reading the points a
handout's table of tests states, and naming what disagrees. The kit's own
handouts are checked by make check (check_handouts)."""

import unittest

from labkit import handout

TABLE = """\
| Test | Points | Checks |
|---|---|---|
| `module_loads`, `module_unloads`, `kernel_log_clean` | 5 each | as in every lab |
| the shared FIFO tests (56) | 0.5 each | Labs 02-04 |
| `matches_the_model` | 8 | the model |
| `a_half` | 0.5 | a half |

| Rule | Tests |
|---|---|
| 1 Node | `matches_the_model`, `a_half` |
"""


class WhatAHandoutStates(unittest.TestCase):

    def test_single_rows_and_each_rows_words_and_rules_left_alone(self):
        self.assertEqual([("module_loads", 5, 3), ("module_unloads", 5, 3),
                          ("kernel_log_clean", 5, 3),
                          ("matches_the_model", 8, 5), ("a_half", 0.5, 6)],
                         handout.stated(TABLE))

    def test_a_pair_without_each_is_not_read_as_each(self):
        self.assertEqual([], handout.stated("| `a`, `b` | 5 | both |\n"))

    def test_agreeing_tables_have_no_mismatch(self):
        table = [("module_loads", 5), ("module_unloads", 5),
                 ("kernel_log_clean", 5), ("matches_the_model", 8),
                 ("a_half", 0.5), ("shared", 76.5)]
        self.assertEqual([], handout.mismatches(TABLE, table, "R"))

    def test_other_points_and_unknown_names_are_named(self):
        table = [("module_loads", 5), ("module_unloads", 5),
                 ("kernel_log_clean", 5), ("matches_the_model", 9)]
        self.assertEqual(
            ["R:5: matches_the_model has 8 points in the handout, 9 in "
             "the points file",
             "R:6: a_half has 0.5 points in the handout but is not in the "
             "points file"],
            handout.mismatches(TABLE, table, "R"))


if __name__ == "__main__":
    unittest.main()
