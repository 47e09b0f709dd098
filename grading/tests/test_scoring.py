# SPDX-License-Identifier: GPL-2.0
"""Scoring: a result is worth all of a test's points or none, the host's
table decides what a test is worth, and a module that never loaded earns
nothing."""

import unittest

from labkit import build, results, submission
from labkit.verdicts import Status, Verdict

from .support import (LAB01_POINTS, FakeLab, run, run_halves, scores,
                      statuses, transcript)

HEAD = "KTAP version 1\n# lab 01-demo\n"
TABLE = [("module_loads", 10), ("works", 80), ("module_unloads", 5),
         ("kernel_log_clean", 5)]


def demo_lab(points=TABLE):
    return FakeLab("01-demo", points=points, visibility={})


def lines(*body):
    return HEAD + "".join(f"{line}\n" for line in body)


class AllOrNothing(unittest.TestCase):

    def test_pass_earns_all_points(self):
        result = run(lines("ok 1 module_loads", "ok 2 works"),
                     lab=demo_lab())
        self.assertEqual(80, result.test("works").score)

    def test_failure_earns_nothing(self):
        result = run(lines("ok 1 module_loads", "# why", "not ok 2 works"),
                     lab=demo_lab())
        self.assertEqual((0, ["why"]), (result.test("works").score,
                                        result.test("works").output))

    def test_points_the_guest_printed_count_for_nothing(self):
        result = run(lines("ok 1 module_loads", "# points works 3",
                           "not ok 2 works # points 79/80"), lab=demo_lab())
        self.assertEqual(0, result.test("works").score)
        self.assertIn("the guest claimed points, which only the host "
                      "decides: # points works 3", result.errors)

    def test_every_score_is_zero_or_the_tables(self):
        for name in ("complete_skeleton.ktap", "forged_results.ktap",
                     "crash_mid_test.ktap", "module_not_loaded.ktap"):
            result = run(transcript(name), Verdict.CRASH if "crash" in name
                         else Verdict.COMPLETE)
            for test in result.tests:
                self.assertIn(test.score, (0, test.max_score),
                              f"{name}: {test.name}")
                self.assertEqual(test.score == test.max_score
                                 and test.max_score > 0,
                                 test.status == Status.PASSED and
                                 test.max_score > 0, f"{name}: {test.name}")


class HostTableWins(unittest.TestCase):

    def test_max_score_comes_from_the_host_table(self):
        result = run(lines("# points works 500",
                           "ok 1 module_loads",
                           "ok 2 works", "# score 500/100"), lab=demo_lab())
        self.assertEqual((80, 80), (result.test("works").score,
                                    result.test("works").max_score))
        self.assertIn("the guest claimed points, which only the host "
                      "decides: # points works 500", result.errors)
        self.assertIn("the guest claimed points, which only the host "
                      "decides: # score 500/100", result.errors)

    def test_a_test_the_guest_leaves_out_of_its_plan_is_still_scored(self):
        result = run(lines("1..1", "# plan module_loads",
                           "ok 1 module_loads",
                           "ok 2 works"), lab=demo_lab())
        self.assertEqual(Status.PASSED, result.test("works").status)
        self.assertEqual(90, result.score)

    def test_lab_whose_points_are_not_100_is_a_kit_error(self):
        result = run(lines("ok 1 module_loads", "ok 2 works"),
                     lab=demo_lab([("module_loads", 10), ("works", 85)]))
        self.assertIn("the points of 01-demo add up to 95, not 100",
                      result.errors)
        self.assertEqual(95, result.score, "scored all the same")

    def test_hidden_points_come_on_top_of_the_100(self):
        self.assertEqual([], run(transcript("complete_solution.ktap"))
                         .errors)

    def test_max_score_is_the_tables_sum(self):
        self.assertEqual(110, run(transcript("complete_skeleton.ktap"))
                         .max_score)
        self.assertEqual(100, run("", lab=demo_lab()).max_score)

    def test_lab_of_no_tests_is_out_of_100(self):
        self.assertEqual(100, results.LabResult("x", "k", "s").max_score)


class HalfPoints(unittest.TestCase):
    """Tests worth a half (support.HALVES_POINTS) score exactly."""

    def test_a_pass_earns_the_half_a_failure_nothing(self):
        result = run_halves()
        self.assertEqual((0.5, 0, 0), (result.test("tiny_a").score,
                                       result.test("tiny_b").score,
                                       result.test("small").score))
        self.assertEqual((99.5, 102.5), (result.score, result.max_score))

    def test_halves_that_add_up_to_100_are_no_kit_error(self):
        self.assertEqual([], run_halves().errors)
        lab = demo_lab([("module_loads", 10), ("works", 79.5),
                        ("module_unloads", 5), ("kernel_log_clean", 5)])
        self.assertIn("the points of 01-demo add up to 99.5, not 100",
                      run(lines("ok 1 module_loads"), lab=lab).errors)

    def test_27_tests_at_a_half_add_up_exactly(self):
        table = [(f"t{i}", 0.5) for i in range(27)] + [("module_loads",
                                                        86.5)]
        text = lines("ok 1 module_loads", *(f"ok {i + 2} t{i}"
                                            for i in range(27)))
        result = run(text, lab=demo_lab(table))
        self.assertEqual([], result.errors)
        self.assertEqual((100, 100), (result.score, result.max_score))
        self.assertIs(int, type(result.score))
        self.assertFalse(result.score < result.max_score)

    def test_a_module_that_never_loaded_earns_no_half(self):
        result = run_halves(failed=("module_loads",))
        self.assertEqual(0, result.score)
        self.assertEqual(0, result.test("tiny_a").score)

    def test_halves_the_guest_claims_are_kit_errors(self):
        result = run(lines("ok 1 module_loads", "# points works 0.5",
                           "ok 2 works", "# score 99.5/100"), lab=demo_lab())
        self.assertIn("the guest claimed points, which only the host "
                      "decides: # points works 0.5", result.errors)
        self.assertIn("the guest claimed points, which only the host "
                      "decides: # score 99.5/100", result.errors)
        self.assertEqual(80, result.test("works").score)


class ModuleThatNeverLoaded(unittest.TestCase):
    """Unless module_loads passed, no other test earns a point."""

    def test_todays_guest_output_scores_zero(self):
        result = run(transcript("module_not_loaded.ktap"))
        self.assertEqual(0, result.score,
                         f"the guest passed kernel_log_clean: "
                         f"{scores(result)}")
        self.assertEqual({Status.FAILED}, set(statuses(result).values()))

    def test_kernel_log_clean_says_why_it_did_not_count(self):
        test = run(transcript("module_not_loaded.ktap")).test(
            "kernel_log_clean")
        self.assertEqual((Status.FAILED, 0), (test.status, test.score))
        self.assertEqual(["not counted: the module did not load "
                          "(module_loads failed)"], test.output)

    def test_module_unloads_keeps_the_guests_reason(self):
        test = run(transcript("module_not_loaded.ktap")).test(
            "module_unloads")
        self.assertEqual(["not checked: the module did not load"],
                         test.output)

    def test_module_loads_keeps_the_insmod_message(self):
        test = run(transcript("module_not_loaded.ktap")).test(
            "module_loads")
        self.assertIn("see the kernel log below for the module's own "
                      "messages", test.output)

    def test_passes_claimed_without_a_loaded_module_score_zero(self):
        text = transcript("module_not_loaded.ktap")
        text = text.replace("not ok ", "ok ").replace(
            "ok 1 module_loads\n", "not ok 1 module_loads\n")
        self.assertEqual(len(LAB01_POINTS) - 1, text.count("\nok "))
        result = run(text)
        self.assertEqual(Status.FAILED, result.test("module_loads").status)
        self.assertEqual(0, result.score, scores(result))

    def test_module_loads_never_reported_scores_zero(self):
        text = transcript("complete_solution.ktap").replace(
            "ok 1 module_loads\n", "")
        result = run(text)
        self.assertEqual(0, result.score, scores(result))
        self.assertIn("module_loads: no result reported", result.errors)

    def test_crash_before_module_loads_scores_zero(self):
        result = run(transcript("crash_during_load.ktap"), Verdict.CRASH,
                     "oops")
        self.assertEqual(0, result.score)

    def test_timeout_after_module_loads_keeps_finished_points(self):
        result = run(transcript("timeout_mid_test.ktap"), Verdict.TIMEOUT, "t")
        self.assertEqual(Status.PASSED, result.test("module_loads").status)
        self.assertGreater(result.score, 0)

    def test_module_that_loaded_keeps_every_points(self):
        self.assertEqual(110, run(transcript("complete_solution.ktap"))
                         .score)

    def test_table_without_module_loads_is_scored_as_reported(self):
        lab = demo_lab([("works", 100)])
        result = run(lines("ok 1 works"), lab=lab)
        self.assertEqual(100, result.score)


class VolumeTestsCountLast(unittest.TestCase):
    """A volume test's points count only when every other test passed,
    so that the volume test's luck never changes the score of a driver
    another test fails."""

    TABLE = [("module_loads", 10), ("rule_a", 40), ("rule_b", 30),
             ("rule_c", 10), ("stress", 5), ("module_unloads", 5)]

    def grade(self, failed=(), verdict=Verdict.COMPLETE, reported=None):
        lab = FakeLab("02-demo", points=self.TABLE, visibility={},
                      volume_tests={"stress"})
        body = []
        for number, (name, _) in enumerate(self.TABLE[:reported], 1):
            body += ([f"# {name} went wrong", f"not ok {number} {name}"]
                     if name in failed else [f"ok {number} {name}"])
        return run(lines(*body), verdict, "oops", lab=lab)

    def test_a_driver_that_passes_everything_earns_them(self):
        self.assertEqual(100, self.grade().score)

    def test_alone_a_failed_volume_test_costs_its_points(self):
        result = self.grade(failed=["stress"])
        self.assertEqual(95, result.score)
        self.assertEqual(["stress went wrong"], result.test("stress").output)

    def test_beside_another_failure_its_result_changes_nothing(self):
        lucky = self.grade(failed=["rule_b"])
        unlucky = self.grade(failed=["rule_b", "stress"])
        self.assertEqual(65, lucky.score)
        self.assertEqual(65, unlucky.score)
        self.assertEqual(["stress went wrong"],
                         unlucky.test("stress").output)

    def test_a_pass_not_counted_keeps_its_status_and_says_why(self):
        stress = self.grade(failed=["rule_a", "rule_b"]).test("stress")
        self.assertEqual((Status.PASSED, 0), (stress.status, stress.score))
        self.assertEqual(["passed, not counted: a volume test's points "
                          "count only when every other test passes "
                          "(failed: rule_a, rule_b)"], stress.output)

    def test_the_reason_names_three_failures_and_counts_the_rest(self):
        stress = self.grade(failed=["rule_a", "rule_b", "rule_c",
                                    "module_unloads"]).test("stress")
        self.assertEqual(0, stress.score)
        self.assertIn("(failed: rule_a, rule_b, rule_c and 1 more)",
                      stress.output[0])

    def test_a_module_that_never_loaded_keeps_that_reason(self):
        stress = self.grade(failed=["module_loads"]).test("stress")
        self.assertEqual(["not counted: the module did not load "
                          "(module_loads failed)"], stress.output)

    def test_the_report_shows_why_a_pass_earned_nothing(self):
        result = self.grade(failed=["rule_a"])
        text = results.format_text(result)
        self.assertIn("PASS   0/5   stress\n         passed, not counted",
                      text)
        data = results.gradescope([result], 1.0)["tests"]
        stress = [t for t in data if t["name"].endswith(": stress")][0]
        self.assertEqual(("passed", 0, 5),
                         (stress["status"], stress["score"],
                          stress["max_score"]))

    def test_a_run_that_crashed_before_its_end_earns_none(self):
        result = self.grade(verdict=Verdict.CRASH, reported=5)
        self.assertEqual(Status.PASSED, result.test("stress").status)
        self.assertEqual(0, result.test("stress").score)
        self.assertEqual(90, result.score)


class ResultsWithoutARun(unittest.TestCase):

    def test_build_failure_scores_zero_of_full_marks(self):
        built = build.ModuleBuild(False, "flatbuf.c:3:1: error: expected "
                                  "';'\nmake: *** Error 1", [], "/tmp/x")
        result = results.build_failed(FakeLab(), "k", "alice", built)
        self.assertEqual((Verdict.BUILD_FAILED, 0, 110),
                         (result.verdict, result.score, result.max_score))
        self.assertEqual(["flatbuf.c:3:1: error: expected ';'"],
                         result.tests[0].output, "the compiler's warnings")

    def test_missing_lab_scores_zero_of_full_marks(self):
        result = submission.not_gradable(FakeLab(), "k", "alice",
                                         "no flatbuf.c")
        self.assertEqual((Verdict.MISSING, 0, 110),
                         (result.verdict, result.score, result.max_score))
        self.assertEqual(["no flatbuf.c"], result.tests[0].output)


if __name__ == "__main__":
    unittest.main()
