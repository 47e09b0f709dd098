# SPDX-License-Identifier: GPL-2.0
"""Output floods: a test or a module that prints without end must not
bloat a report (results.OUTPUT_LINES, results.OUTPUT_CHARS)."""

import unittest

from labkit import results
from labkit.verdicts import Verdict

from .support import run, transcript

FAILURE = "not ok 4 echo_then_cat\n"


def with_diagnostics(lines):
    """The skeleton's transcript with LINES added to echo_then_cat's
    reasons, after its own two."""
    text = transcript("complete_skeleton.ktap")
    at = text.index(FAILURE)
    return text[:at] + "".join(f"# {line}\n" for line in lines) + text[at:]


class FloodedTestOutput(unittest.TestCase):

    def test_many_lines_are_cut_to_the_limit_with_a_note(self):
        flood = [f"line {i}" for i in range(50000)]
        output = run(with_diagnostics(flood)).test("echo_then_cat").output
        self.assertEqual(results.OUTPUT_LINES + 1, len(output),
                         "kept lines plus one note")
        self.assertEqual("line 0", output[2])
        left = 50000 + 2 - results.OUTPUT_LINES  # + the test's own 2
        self.assertEqual(f"[... {left} more lines not shown]", output[-1])

    def test_a_very_long_line_is_cut(self):
        output = run(with_diagnostics(["x" * (1 << 20)])).test(
            "echo_then_cat").output
        self.assertEqual(1024, len(output[2]), "one line, cut to 1024")

    def test_long_lines_are_cut_to_the_character_limit(self):
        output = run(with_diagnostics(["y" * 5000] * 100)).test(
            "echo_then_cat").output
        size = sum(len(line) + 1 for line in output[:-1])
        self.assertLessEqual(size, results.OUTPUT_CHARS)
        self.assertRegex(output[-1], r"^\[\.\.\. \d+ more lines not shown\]$")

    def test_flood_does_not_change_the_score(self):
        flooded = run(with_diagnostics(["z" * 3000] * 2000))
        self.assertEqual(15, flooded.score)

    def test_kernel_log_flood_is_cut(self):
        text = transcript("complete_solution.ktap")
        self.assertTrue(text.endswith(" flatbuf: removed\n"),
                        "the transcript ends in its kernel log")
        log = "".join(f"#   [ {i}.0] flatbuf: spam {i}\n"
                      for i in range(100000))
        result = run(text + log)
        self.assertLessEqual(len(result.kernel_log), results.OUTPUT_LINES + 1)
        self.assertEqual(110, result.score)

    def test_huge_crash_report_is_cut(self):
        detail = "\n".join(f"[ {i}.0] stack frame {i}" for i in range(9000))
        result = run(transcript("crash_mid_test.ktap"), Verdict.CRASH, detail)
        self.assertLessEqual(len(result.detail.splitlines()),
                             results.OUTPUT_LINES + 1)
        output = result.test("write_when_full_fails_with_enospc").output
        self.assertLessEqual(len(output), results.OUTPUT_LINES + 2)


if __name__ == "__main__":
    unittest.main()
