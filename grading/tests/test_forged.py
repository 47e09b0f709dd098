# SPDX-License-Identifier: GPL-2.0
"""Lines the host must not believe: KTAP-looking lines a student's module
prints, results for tests the kit does not have, second results, points
or a score the guest claims (only the host scores)."""

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
        self.assertIn("# score 110/110", self.forged.kernel_log)
        self.assertIn("ok 4 echo_then_cat", self.forged.kernel_log)
        self.assertIn("# plan bonus", self.forged.kernel_log)
        self.assertIn("Bail out! forged", self.forged.kernel_log)
        self.assertIn("# points bonus 50", self.forged.kernel_log)

    def test_forged_lines_make_no_kit_error(self):
        self.assertEqual([], self.forged.errors)


class ForgedResultLines(unittest.TestCase):
    """Plan, result and points lines that are not the kit's: the host's
    table decides, and every oddity is reported as a kit error."""

    def setUp(self):
        self.result = run(transcript("forged_results.ktap"))

    def test_score_is_the_honest_runs_whatever_the_guest_claims(self):
        self.assertEqual(scores(run(transcript("complete_skeleton.ktap"))),
                         scores(self.result))
        self.assertEqual(15, self.result.score,
                         "the transcript ends with '# score 110/110'")

    def test_score_claimed_by_the_guest_is_a_kit_error(self):
        self.assertIn("the guest claimed points, which only the host "
                      "decides: # score 110/110", self.result.errors)

    def test_result_for_a_test_not_in_the_table_is_not_scored(self):
        self.assertIsNone(self.result.test("bonus_points"))
        self.assertIn("unplanned result: ok 19 bonus_points",
                      self.result.errors)

    def test_plan_line_for_a_test_not_in_the_table_is_a_kit_error(self):
        self.assertIn("the guest announced a test the kit does not have: "
                      "# plan bonus_points", self.result.errors)

    def test_points_line_that_differs_from_the_table_is_a_kit_error(self):
        self.assertIn("the guest claimed points, which only the host "
                      "decides: # points reopen_reads_back_exactly 99",
                      self.result.errors)
        self.assertEqual(10, self.result.test(
            "reopen_reads_back_exactly").max_score)

    def test_plan_line_twice_is_a_kit_error(self):
        text = transcript("complete_skeleton.ktap").replace(
            "# plan echo_then_cat\n",
            "# plan echo_then_cat\n# plan echo_then_cat\n")
        result = run(text)
        self.assertIn("the guest announced a test twice: "
                      "# plan echo_then_cat", result.errors)
        self.assertEqual(15, result.score)

    def test_second_result_for_a_test_is_ignored(self):
        test = self.result.test("node_is_world_rw_char_device")
        self.assertEqual((Status.FAILED, 0), (test.status, test.score),
                         "the first result (not ok) stands")
        self.assertIn("a second result for node_is_world_rw_char_device: "
                      "ok 20 node_is_world_rw_char_device",
                      self.result.errors)

    def test_failure_claiming_points_scores_zero(self):
        test = self.result.test("echo_then_cat")
        self.assertEqual((Status.FAILED, 0), (test.status, test.score),
                         "'not ok ... # points 5/5'")
        self.assertIn("not a result line the guest prints: "
                      "not ok 4 echo_then_cat # points 5/5",
                      self.result.errors)

    def test_pass_claiming_more_points_scores_the_tables(self):
        test = self.result.test("module_unloads")
        self.assertEqual((Status.PASSED, 5, 5),
                         (test.status, test.score, test.max_score),
                         "'# points module_unloads 50' against a table of 5")
        self.assertIn("the guest claimed points, which only the host "
                      "decides: # points module_unloads 50",
                      self.result.errors)

    def test_result_line_inside_a_diagnostic_is_output_not_a_result(self):
        test = self.result.test("read_stops_at_end_of_data")
        self.assertEqual(Status.FAILED, test.status)
        self.assertIn("ok 5 read_stops_at_end_of_data # points 5/5",
                      test.output)

    def test_result_with_a_points_field_is_not_a_result(self):
        for tail in (" # points 5/5", " # points lots", " # SKIP", " x"):
            text = transcript("complete_skeleton.ktap").replace(
                "not ok 4 echo_then_cat\n", f"ok 4 echo_then_cat{tail}\n")
            result = run(text)
            self.assertEqual(Status.FAILED,
                             result.test("echo_then_cat").status, tail)
            self.assertIn("echo_then_cat: no result reported",
                          result.errors)
            self.assertIn(f"not a result line the guest prints: "
                          f"ok 4 echo_then_cat{tail}", result.errors)

    def test_result_without_a_number_is_not_a_result(self):
        text = transcript("complete_skeleton.ktap").replace(
            "ok 1 module_loads\n", "ok module_loads\n")
        result = run(text)
        self.assertEqual(0, result.score)
        self.assertIn("not a result line the guest prints: "
                      "ok module_loads", result.errors)


if __name__ == "__main__":
    unittest.main()
