# SPDX-License-Identifier: GPL-2.0
"""The hostile-module suite without a VM (labkit.hostile): the Score: a
patch's header states, exact or a range, in whole numbers or halves, and
how a graded run is judged against it."""

import os
import tempfile
import unittest

from labkit import hostile, mutants
from labkit.verdicts import Verdict

from .support import FakeLab, run_halves, write

PATCH = "--- a/flatbuf.c\n+++ b/flatbuf.c\n"


class HostileTest(unittest.TestCase):

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="labkit-unit-")
        self.addCleanup(self._tmp.cleanup)

    def hostile(self, score, verdict="complete"):
        """A Hostile of a patch whose header states SCORE."""
        path = write(os.path.join(self._tmp.name, "bad-one.patch"),
                     f"Hostile: bad-one\n(what it does)\nVerdict: "
                     f"{verdict}\nScore: {score}\nWithin: 100\n{PATCH}")
        return hostile.Hostile(FakeLab(), path)


class Score(HostileTest):

    def test_exact_scores_and_ranges_of_whole_numbers_and_halves(self):
        for text, want in (("43", (43, 43)), ("5..7", (5, 7)),
                           ("41.5..43", (41.5, 43)), ("99.5", (99.5, 99.5)),
                           ("0..0.5", (0, 0.5))):
            self.assertEqual(want, self.hostile(text).score, text)

    def test_other_scores_are_header_errors(self):
        for text in ("43.25", "1.0", "7..5", "x", "5..", "-1..5", ""):
            with self.assertRaisesRegex(mutants.MutantError,
                                        "needs Verdict:, Score: and "
                                        "Within:", msg=text):
                self.hostile(text)


class Judgement(HostileTest):
    """run_halves() scores 99.5 of 102.5."""

    def wrong(self, score):
        return self.hostile(score).judge([run_halves()], 1.0, None)

    def test_a_half_point_score_within_the_range_is_right(self):
        for score in ("99.5", "99..100", "99.5..102.5", "0.5..99.5"):
            self.assertEqual([], self.wrong(score), score)

    def test_a_score_out_of_the_range_says_so_with_halves(self):
        self.assertEqual(["score 99.5, not 100"], self.wrong("100"))
        self.assertEqual(["score 99.5, not 100 to 102.5"],
                         self.wrong("100..102.5"))
        self.assertEqual(["score 99.5, not 97.5 to 99"],
                         self.wrong("97.5..99"))

    def test_a_bystander_short_of_full_marks_by_a_half(self):
        other = run_halves(failed=("tiny_a",))
        wrong = self.hostile("99.5").judge([run_halves(), other], 1.0,
                                           FakeLab("06-fasync"))
        self.assertEqual(["06-fasync (the reference solution) scored "
                          "102, not full marks, in the same submission "
                          f"({Verdict.COMPLETE})"], wrong)


class Excerpt(unittest.TestCase):
    """What make check shows of a wrongly graded submission's report."""

    def test_tests_that_said_the_same_line_are_folded(self):
        report = ["== Lab 01 ==",
                  "  FAIL 0/5 stuck_one",
                  "         it overstayed its timeout, and ...",
                  "         such a task was in: flatbuf_read+0xe/0x10"]
        for n in range(40):
            report += [f"  FAIL 0/1 later_{n}",
                       "         not counted: the tests were stopped"]
        report += ["  PASS 5/5 module_unloads", "  Kernel log of the run:",
                   "    watchdog: BUG: soft lockup", "score: 0/110"]
        self.assertEqual(report[:6] + [
            "         (and 39 more tests said the same)"] + report[-4:],
            hostile.excerpt("\n".join(report)))

    def test_different_lines_and_longer_outputs_are_kept(self):
        report = ["  FAIL 0/1 a", "         one", "  FAIL 0/1 b",
                  "         two", "  FAIL 0/1 c", "         two",
                  "         three", "  FAIL 0/1 d", "         two"]
        self.assertEqual(report, hostile.excerpt("\n".join(report)))

    def test_at_most_the_limit(self):
        report = "\n".join(f"line {n}" for n in range(100))
        self.assertEqual(hostile.EXCERPT_LINES, len(hostile.excerpt(report)))
        self.assertEqual(["line 0", "line 1"],
                         hostile.excerpt(report, limit=2))


if __name__ == "__main__":
    unittest.main()
