# SPDX-License-Identifier: GPL-2.0
"""autograde.sh's handling of a test that stops the tests
(userspace/tests_stop.h): the stop is the test named in LABKIT_STOP_FILE,
whether the guest reads that file before or after the result of an
earlier test (the parse loop reads the harness's output at its own pace:
on a busy machine the stopping test may have written the file long
before the loop reads the line before it). Runs the shell functions with
the host's sh; no VM."""

import os
import shutil
import subprocess
import tempfile
import unittest

from labkit import paths

AUTOGRADE = os.path.join(paths.TOP, "grading", "guest", "autograde.sh")

STOP_WHY = "the driver keeps a closed file on its list"


@unittest.skipUnless(shutil.which("sh"), "needs a POSIX sh")
class StopRequest(unittest.TestCase):

    def parse(self, tap, stop_test):
        """Run _lab_parse_tap on TAP with LABKIT_STOP_FILE naming
        STOP_TEST already (None: no stop); return its output lines and
        what it left in tests-stop."""
        with tempfile.TemporaryDirectory(prefix="labkit-unit-") as work:
            stop = os.path.join(work, "stop-request")
            with open(stop, "w", encoding="utf-8") as f:
                if stop_test:
                    f.write(f"{stop_test}\n{STOP_WHY}\n")
            with open(os.path.join(work, "testprog-pid"), "w",
                      encoding="utf-8"):
                pass
            script = (f". '{AUTOGRADE}'\n"
                      f"_lab_work='{work}'\n"
                      f"_lab_done='{work}/done'\n: >\"$_lab_done\"\n"
                      f"LABKIT_STOP_FILE='{stop}'\n"
                      "LAB=unit\n_lab_count=0\n"
                      "_lab_plan_first=1\n_lab_plan_second=1\n"
                      "_lab_plan_third=1\n"
                      "_lab_parse_tap\n")
            proc = subprocess.run(["sh", "-c", script], input=tap,
                                  text=True, capture_output=True,
                                  check=False)
            self.assertEqual("", proc.stderr)
            try:
                with open(os.path.join(work, "tests-stop"),
                          encoding="utf-8") as f:
                    stopped = f.read().splitlines()
            except FileNotFoundError:
                stopped = []
        return proc.stdout.splitlines(), stopped

    def test_the_stop_read_after_an_earlier_result_is_the_named_tests(self):
        out, stopped = self.parse("ok 1 first\n", "second")
        self.assertIn("ok 1 first", out)
        self.assertIn("not ok 2 second", out)
        self.assertEqual(["second", STOP_WHY], stopped)
        self.assertFalse(any("error" in line for line in out), out)

    def test_a_stopping_test_whose_result_is_out_is_not_reported_twice(self):
        out, stopped = self.parse("ok 1 first\nnot ok 2 fx.second\n",
                                  "second")
        self.assertEqual(["ok 1 first", "not ok 2 second"],
                         [line for line in out if not line.startswith("#")])
        self.assertEqual(["second", STOP_WHY], stopped)

    def test_a_stop_found_at_the_end_of_the_output(self):
        out, stopped = self.parse("", "first")
        self.assertIn("not ok 1 first", out)
        self.assertEqual(["first", STOP_WHY], stopped)

    def test_no_stop(self):
        out, stopped = self.parse("ok 1 first\nok 2 second\n", None)
        self.assertEqual(["ok 1 first", "ok 2 second"], out)
        self.assertEqual([], stopped)


if __name__ == "__main__":
    unittest.main()
