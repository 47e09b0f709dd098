# SPDX-License-Identifier: GPL-2.0
"""results.parse and results.from_run on canned autograder transcripts:
complete runs, crashes, hangs, missing results."""

import unittest

from labkit import results
from labkit.verdicts import Status, Verdict

from .support import LAB01_POINTS, run, scores, statuses, transcript

NAMES = [name for name, _ in LAB01_POINTS]


class CompleteRun(unittest.TestCase):
    """A run that reached its end."""

    def test_solution_scores_full_marks_with_every_test_passed(self):
        result = run(transcript("complete_solution.ktap"))
        self.assertEqual(110, result.score, "score of the reference run")
        self.assertEqual(110, result.max_score)
        self.assertEqual({n: Status.PASSED for n in NAMES}, statuses(result))
        self.assertEqual([], result.errors, "no kit error expected")
        self.assertEqual(Verdict.COMPLETE, result.verdict)

    def test_tests_come_in_the_host_tables_order(self):
        result = run(transcript("complete_solution.ktap"))
        self.assertEqual(NAMES, [t.name for t in result.tests])

    def test_kernel_log_section_is_read_without_its_prefix(self):
        result = run(transcript("complete_solution.ktap"))
        self.assertEqual(4, len(result.kernel_log), result.kernel_log)
        self.assertTrue(result.kernel_log[0].startswith("[    2.664100] "),
                        f"got {result.kernel_log[0]!r}")
        self.assertIn("flatbuf: removed", result.kernel_log[-1])

    def test_hidden_tests_get_their_visibility(self):
        result = run(transcript("complete_solution.ktap"))
        self.assertEqual("after_published", result.test(
            "pwrite_pread_keep_the_file_offset").visibility)
        self.assertEqual("hidden", result.test(
            "one_byte_appends_fill_it_exactly").visibility)
        self.assertEqual("visible", result.test("echo_then_cat").visibility)

    def test_skeleton_scores_only_load_unload_and_log(self):
        result = run(transcript("complete_skeleton.ktap"))
        self.assertEqual(15, result.score)
        passed = {n for n, s in statuses(result).items() if s == Status.PASSED}
        self.assertEqual({"module_loads", "module_unloads",
                          "kernel_log_clean"}, passed)

    def test_failure_output_is_the_tests_own_diagnostics_in_order(self):
        test = run(transcript("complete_skeleton.ktap")).test(
            "write_is_cut_short_at_the_end")
        self.assertEqual([
            "labs/01-flat-buffer/tests/test_flatbuf.c:188:write_is_cut_"
            "short_at_the_end:Expected 4 (4) == pwrite(self->fd, "
            "\"ABCDEFGHIJ\", 10, 60) (0)",
            "labs/01-flat-buffer/tests/test_flatbuf.c:189:write_is_cut_"
            "short_at_the_end:at offset 60 only 4 of 10 bytes fit: write "
            "must return 4",
            "labs/01-flat-buffer/tests/test_flatbuf.c:191:write_is_cut_"
            "short_at_the_end:Expected FLATBUF_SIZE (64) == pread(self->fd,"
            " buf, sizeof(buf), 0) (0)",
            "write_is_cut_short_at_the_end: Test terminated by assertion",
        ], test.output)

    def test_harness_bookkeeping_is_left_out_of_failure_output(self):
        result = run(transcript("complete_skeleton.ktap"))
        for test in result.tests:
            for line in test.output:
                self.assertNotRegex(line, r"^\s*(RUN|FAIL|OK)\s|^TAP version"
                                    r"|^1\.\.|^Totals|^Starting",
                                    f"{test.name}: harness noise kept")

    def test_first_failure_after_the_hidden_program_starts_has_own_output(
            self):
        test = run(transcript("complete_skeleton.ktap")).test(
            "pwrite_pread_keep_the_file_offset")
        self.assertEqual(2, len(test.output), test.output)
        self.assertTrue(test.output[0].startswith(
            "grading/hidden/01-flat-buffer/hidden_flatbuf.c:56:"),
            test.output[0])

    def test_crlf_line_ends_parse_like_lf(self):
        plain = run(transcript("complete_skeleton.ktap"))
        crlf = run(transcript("complete_skeleton.ktap").replace("\n",
                                                                "\r\n"))
        self.assertEqual(scores(plain), scores(crlf))
        self.assertEqual(plain.test("echo_then_cat").output,
                         crlf.test("echo_then_cat").output)

    def test_parse_takes_the_tests_and_points_from_the_host_table(self):
        result = results.LabResult("01-flat-buffer", "k", "labs")
        running, last_words = results.parse(
            transcript("complete_solution.ktap"), result, LAB01_POINTS)
        self.assertIsNone(running, "nothing was running at the end")
        self.assertEqual([], last_words)
        self.assertEqual(NAMES, [t.name for t in result.tests])
        self.assertEqual(110, result.score)
        self.assertEqual([], result.errors)

    def test_guest_output_holds_no_points(self):
        text = transcript("complete_solution.ktap")
        self.assertNotIn("# points", text)
        self.assertNotIn("# score", text)

    def test_bail_out_is_a_kit_error(self):
        text = ("KTAP version 1\n# lab 01-flat-buffer\n"
                "Bail out! 01-flat-buffer has no points file "
                "(/kit/labs/01-flat-buffer/tests/points)\n")
        result = run(text)
        self.assertIn("Bail out! 01-flat-buffer has no points file "
                      "(/kit/labs/01-flat-buffer/tests/points)",
                      result.errors)
        self.assertEqual(0, result.score)


class CutShort(unittest.TestCase):
    """Runs that stopped before their end: the tests that finished keep
    their points, the one running carries the reason."""

    def setUp(self):
        self.oops = transcript("crash_oops.txt")

    def test_crash_keeps_the_points_of_finished_tests(self):
        result = run(transcript("crash_mid_test.ktap"), Verdict.CRASH,
                     self.oops)
        finished = NAMES[:NAMES.index("write_when_full_fails_with_enospc")]
        self.assertEqual(sum(p for n, p in LAB01_POINTS if n in finished),
                         result.score, f"points of {finished}")
        for name in finished:
            self.assertEqual(Status.PASSED, result.test(name).status, name)

    def test_crash_report_goes_to_the_test_that_was_running(self):
        result = run(transcript("crash_mid_test.ktap"), Verdict.CRASH,
                     self.oops)
        test = result.test("write_when_full_fails_with_enospc")
        self.assertEqual(Status.FAILED, test.status)
        self.assertEqual("the kernel crashed during this test:",
                         test.output[0])
        self.assertIn("RIP: 0010:flatbuf_write+0x5e/0xd0 [flatbuf]",
                      "\n".join(test.output))

    def test_crash_marks_later_tests_not_run(self):
        result = run(transcript("crash_mid_test.ktap"), Verdict.CRASH,
                     self.oops)
        for name in NAMES[NAMES.index("o_trunc_empties_the_buffer"):]:
            test = result.test(name)
            self.assertEqual((Status.FAILED, 0), (test.status, test.score),
                             name)
            self.assertEqual(["not run: the kernel crashed before this "
                              "test"], test.output, name)

    def test_crash_is_not_a_kit_error(self):
        result = run(transcript("crash_mid_test.ktap"), Verdict.CRASH,
                     self.oops)
        self.assertEqual([], result.errors)

    def test_parse_names_the_test_that_was_running(self):
        result = results.LabResult("01-flat-buffer", "k", "labs")
        running, _ = results.parse(transcript("crash_mid_test.ktap"),
                                   result, LAB01_POINTS)
        self.assertEqual("write_when_full_fails_with_enospc", running)

    def test_crash_report_follows_what_the_running_test_said(self):
        said = ("# test_flatbuf.c:120:write_when_full_fails_with_enospc:"
                "the load worked; the device must then work")
        result = run(transcript("crash_mid_test.ktap") + said + "\n",
                     Verdict.CRASH, self.oops)
        output = result.test("write_when_full_fails_with_enospc").output
        self.assertEqual("the kernel crashed during this test:", output[0])
        self.assertIn("the test's last lines before that:", output)
        self.assertEqual(said[2:], output[-1])
        self.assertNotIn("the test's last lines before that:",
                         run(transcript("crash_mid_test.ktap"),
                             Verdict.CRASH, self.oops).test(
                                 "write_when_full_fails_with_enospc")
                         .output)

    def test_timeout_blames_the_hanging_test(self):
        detail = "the VM was stopped after 150 s; the last console lines " \
                 "were:\n[  150.0] nothing"
        result = run(transcript("timeout_mid_test.ktap"), Verdict.TIMEOUT,
                     detail)
        test = result.test("reader_never_sees_half_a_write")
        self.assertEqual(["this test was running when the VM stopped:",
                          *detail.splitlines()], test.output)
        self.assertEqual(["not run: the VM was stopped before this test"],
                         result.test("module_unloads").output)
        finished = NAMES[:NAMES.index("reader_never_sees_half_a_write")]
        self.assertEqual(sum(p for n, p in LAB01_POINTS if n in finished),
                         result.score, f"points of {finished}")

    def test_flood_blames_the_running_test_like_a_timeout(self):
        result = run(transcript("timeout_mid_test.ktap"), Verdict.FLOOD,
                     "the logs grew past 64 MiB")
        self.assertEqual("this test was running when the VM stopped:",
                         result.test("reader_never_sees_half_a_write")
                         .output[0])
        self.assertEqual(Verdict.FLOOD, result.verdict)

    def test_error_verdict_marks_unreported_tests_not_run(self):
        result = run(transcript("timeout_mid_test.ktap"), Verdict.ERROR,
                     "the guest finished but its results were cut short")
        self.assertEqual(["not run: the VM stopped before this test"],
                         result.test("kernel_log_clean").output)

    def test_crash_during_insmod_blames_module_loads(self):
        result = run(transcript("crash_during_load.ktap"), Verdict.CRASH,
                     self.oops)
        loads = result.test("module_loads")
        self.assertEqual("the kernel crashed during this test:",
                         loads.output[0])
        self.assertEqual(0, result.score)
        self.assertEqual({Status.FAILED}, set(statuses(result).values()))

    def test_empty_output_fails_every_test(self):
        result = run("", Verdict.CRASH, self.oops)
        self.assertEqual(NAMES, [t.name for t in result.tests])
        self.assertEqual(0, result.score)


class MissingResults(unittest.TestCase):
    """A complete run that does not report every test of the table."""

    def test_unreported_tests_fail_and_are_kit_errors(self):
        result = run(transcript("missing_results.ktap"))
        for name in ("echo_then_cat", "o_append_appends"):
            test = result.test(name)
            self.assertEqual((Status.FAILED, 0, ["no result reported"]),
                             (test.status, test.score, test.output), name)
        self.assertEqual(["echo_then_cat: no result reported",
                          "o_append_appends: no result reported"],
                         result.errors)
        self.assertEqual(100, result.score)

    def test_guest_reported_missing_tests_fail_without_kit_error(self):
        result = run(transcript("testprog_timeout.ktap"))
        test = result.test("reader_never_sees_half_a_write")
        self.assertEqual((Status.FAILED, 0), (test.status, test.score))
        self.assertEqual(["the test program did not report this test (it "
                          "crashed, hung or was stopped)"], test.output)
        self.assertEqual([], result.errors)
        self.assertEqual(100, result.score)


if __name__ == "__main__":
    unittest.main()
