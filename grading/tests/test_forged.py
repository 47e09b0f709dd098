# SPDX-License-Identifier: GPL-2.0
"""Lines the host must not believe: KTAP-looking lines a student's module
prints, results for tests the kit does not have, second results, points
the guest claims that differ from the kit's table."""

import unittest

from labkit.verdicts import Status

from .support import run, scores, statuses, transcript


class ModulePrintsKtapLookalikes(unittest.TestCase):
    """printk() output reaches the host only inside the kernel log
    section, every line prefixed: it is log, never a result."""

    def setUp(self):
        self.honest = run(transcript("complete_skeleton.ktap"))
        self.forged = run(transcript("forged_kernel_log.ktap"))

    def test_score_is_the_same_as_without_the_forged_lines(self):
        self.assertEqual(scores(self.honest), scores(self.forged))
        self.assertEqual(15, self.forged.score)

    def test_forged_results_in_the_log_do_not_pass_tests(self):
        self.assertEqual(Status.FAILED, self.forged.test(
            "node_is_world_rw_char_device").status)
        self.assertEqual(statuses(self.honest), statuses(self.forged))

    def test_forged_lines_stay_in_the_kernel_log(self):
        self.assertIn("ok 2 node_is_world_rw_char_device # points 5/5",
                      self.forged.kernel_log)
        self.assertIn("Bail out! forged", self.forged.kernel_log)
        self.assertIn("# points bonus 50", self.forged.kernel_log)

    def test_forged_lines_make_no_kit_error(self):
        self.assertEqual([], self.forged.errors)


class ForgedResultLines(unittest.TestCase):
    """Result and points lines that are not the kit's: the host's table
    decides, and every oddity is reported as a kit error."""

    def setUp(self):
        self.result = run(transcript("forged_results.ktap"))

    def test_score_is_the_honest_runs_whatever_the_guest_claims(self):
        self.assertEqual(scores(run(transcript("complete_skeleton.ktap"))),
                         scores(self.result))
        self.assertEqual(15, self.result.score,
                         "the transcript ends with '# score 110/110'")

    def test_result_for_a_test_not_in_the_table_is_not_scored(self):
        self.assertIsNone(self.result.test("bonus_points"))
        self.assertIn("unplanned result: ok 19 bonus_points # points 50/50",
                      self.result.errors)

    def test_points_line_for_a_test_not_in_the_table_is_a_kit_error(self):
        self.assertIn("the guest announced a test the kit does not have: "
                      "# points bonus_points 50", self.result.errors)

    def test_points_line_that_differs_from_the_table_is_a_kit_error(self):
        self.assertIn("the guest announced a test the kit does not have: "
                      "# points reopen_reads_back_exactly 99",
                      self.result.errors)
        self.assertEqual(10, self.result.test(
            "reopen_reads_back_exactly").max_score)

    def test_second_result_for_a_test_is_ignored(self):
        test = self.result.test("node_is_world_rw_char_device")
        self.assertEqual((Status.FAILED, 0), (test.status, test.score),
                         "the first result (not ok) stands")
        self.assertIn("a second result for node_is_world_rw_char_device: "
                      "ok 20 node_is_world_rw_char_device # points 5/5",
                      self.result.errors)

    def test_failure_claiming_points_scores_zero(self):
        test = self.result.test("echo_then_cat")
        self.assertEqual((Status.FAILED, 0), (test.status, test.score),
                         "'not ok ... # points 5/5'")

    def test_pass_claiming_more_points_scores_the_tables(self):
        test = self.result.test("module_unloads")
        self.assertEqual((Status.PASSED, 5, 5),
                         (test.status, test.score, test.max_score),
                         "'ok ... # points 50/50' against a table of 5")

    def test_result_line_inside_a_diagnostic_is_output_not_a_result(self):
        test = self.result.test("read_stops_at_end_of_data")
        self.assertEqual(Status.FAILED, test.status)
        self.assertIn("ok 5 read_stops_at_end_of_data # points 5/5",
                      test.output)

    def test_result_with_a_malformed_points_field_is_not_a_result(self):
        text = transcript("complete_skeleton.ktap").replace(
            "not ok 4 echo_then_cat # points 0/5",
            "ok 4 echo_then_cat # points lots")
        result = run(text)
        self.assertEqual(Status.FAILED, result.test("echo_then_cat").status)
        self.assertIn("echo_then_cat: no result reported", result.errors)


if __name__ == "__main__":
    unittest.main()
