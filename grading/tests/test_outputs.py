# SPDX-License-Identifier: GPL-2.0
"""What the grader writes: Gradescope's results.json, JUnit XML (against
the structure of its schema), and the text report."""

import json
import os
import re
import tempfile
import unittest
import xml.etree.ElementTree as ET

from labkit import dist, results
from labkit.verdicts import Verdict

from .support import run, run_halves, transcript

#: Gradescope's test visibilities.
VISIBILITIES = {"visible", "hidden", "after_due_date", "after_published"}

#: What a <testcase> may hold in the JUnit schema (Jenkins' junit-10.xsd,
#: the one pytest's xunit2 targets), plus <properties>, which the kit puts
#: there for each test's score (accepted by Jenkins, GitLab and
#: Gradescope's readers, though not in that schema).
TESTCASE_CHILDREN = {"skipped", "error", "failure", "system-out",
                     "system-err", "properties"}
#: The schema's time pattern (SUREFIRE_TIME).
SUREFIRE_TIME = re.compile(r"^(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*"
                           r"(\.[0-9]{0,3})?$")


def some_results():
    """Three labs: complete and mixed, crashed, and hidden tests."""
    return [run(transcript("complete_skeleton.ktap")),
            run(transcript("crash_mid_test.ktap"), Verdict.CRASH,
                transcript("crash_oops.txt")),
            run(transcript("complete_solution.ktap"))]


class Gradescope(unittest.TestCase):

    def setUp(self):
        self.labs = some_results()
        self.data = results.gradescope(self.labs, 42.26)

    def test_top_level_fields(self):
        self.assertEqual({"score", "execution_time", "tests"},
                         set(self.data))
        self.assertEqual(42.3, self.data["execution_time"])
        self.assertEqual(sum(r.score for r in self.labs), self.data["score"])

    def test_kits_own_results_json_check_finds_no_problem(self):
        self.assertEqual([], dist.results_json_problems(self.data))

    def test_score_is_the_sum_of_the_tests(self):
        self.assertEqual(self.data["score"],
                         sum(t["score"] for t in self.data["tests"]))

    def test_every_test_has_gradescopes_fields_and_types(self):
        for test in self.data["tests"]:
            self.assertEqual({"name", "score", "max_score", "status",
                              "output", "visibility"}, set(test))
            self.assertIsInstance(test["name"], str)
            self.assertIsInstance(test["score"], (int, float))
            self.assertIsInstance(test["max_score"], (int, float))
            self.assertIn(test["status"], ("passed", "failed"), test)
            self.assertIsInstance(test["output"], str)
            self.assertIn(test["visibility"], VISIBILITIES, test)

    def test_one_entry_per_test_named_lab_colon_test(self):
        names = [t["name"] for t in self.data["tests"]]
        self.assertEqual(sum(len(r.tests) for r in self.labs), len(names))
        self.assertIn("01-flat-buffer: echo_then_cat", names)

    def test_hidden_tests_keep_their_visibility(self):
        seen = {t["name"]: t["visibility"] for t in self.data["tests"]}
        self.assertEqual("hidden", seen[
            "01-flat-buffer: one_byte_appends_fill_it_exactly"])

    def test_failure_output_is_the_tests_lines(self):
        test = next(t for t in self.data["tests"] if t["status"] == "failed")
        self.assertEqual("\n".join(self.labs[0].test(
            test["name"].split(": ")[1]).output), test["output"])

    def test_test_without_status_is_failed(self):
        result = results.LabResult("01-x", "k", "s")
        result.tests.append(results.Test("never_ran", 5))
        self.assertEqual("failed", results.gradescope(
            [result], 0)["tests"][0]["status"])

    def test_written_file_is_json_with_a_final_newline(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "results.json")
            results.write_json(path, self.labs, 1.0)
            with open(path, encoding="utf-8") as f:
                text = f.read()
        self.assertTrue(text.endswith("}\n"))
        self.assertEqual(results.gradescope(self.labs, 1.0),
                         json.loads(text))


class JUnit(unittest.TestCase):

    def setUp(self):
        self.labs = some_results()
        self.root = ET.fromstring(results.junit(self.labs).encode())

    def test_root_is_testsuites_with_a_testsuite_per_lab(self):
        self.assertEqual("testsuites", self.root.tag)
        self.assertEqual(["testsuite"] * 3, [s.tag for s in self.root])

    def test_testsuite_has_the_attributes_the_schema_requires(self):
        for suite in self.root:
            for name in ("name", "tests", "failures", "errors"):
                self.assertIn(name, suite.attrib, f"testsuite needs {name}")
            self.assertRegex(suite.get("time"), SUREFIRE_TIME)

    def test_testsuite_counts_match_its_testcases(self):
        for suite in self.root:
            cases = suite.findall("testcase")
            self.assertEqual(len(cases), int(suite.get("tests")))
            self.assertEqual(len(suite.findall("testcase/failure")),
                             int(suite.get("failures")))
            self.assertEqual(len(suite.findall("testcase/error")),
                             int(suite.get("errors")))

    def test_testcase_has_a_name_and_only_allowed_children(self):
        for case in self.root.iter("testcase"):
            self.assertTrue(case.get("name"), "testcase needs a name")
            self.assertTrue(case.get("classname"))
            self.assertLessEqual({c.tag for c in case}, TESTCASE_CHILDREN,
                                 case.get("name"))
            for prop in case.iter("property"):
                self.assertEqual({"name", "value"}, set(prop.attrib))

    def test_failed_test_of_a_complete_run_is_a_failure(self):
        case = self.root[0].find("testcase[@name='echo_then_cat']")
        self.assertEqual(["properties", "failure"], [c.tag for c in case])
        self.assertEqual("complete", case.find("failure").get("type"))
        self.assertIn("Test terminated by assertion",
                      case.find("failure").text)

    def test_test_a_crash_kept_from_passing_is_an_error(self):
        case = self.root[1].find(
            "testcase[@name='write_when_full_fails_with_enospc']")
        error = case.find("error")
        self.assertEqual("crash", error.get("type"))
        self.assertTrue(error.text.startswith(
            "the kernel crashed during this test:"), error.text[:80])

    def test_passed_test_has_no_failure_or_error(self):
        for case in self.root[2].iter("testcase"):
            self.assertEqual([], case.findall("failure") +
                             case.findall("error"), case.get("name"))

    def test_scores_are_properties(self):
        case = self.root[2].find("testcase[@name='echo_then_cat']")
        self.assertEqual({"score": "5", "max_score": "5"},
                         {p.get("name"): p.get("value")
                          for p in case.iter("property")})

    def test_control_characters_in_output_keep_the_xml_well_formed(self):
        result = run(transcript("complete_skeleton.ktap").replace(
            "# echo_then_cat: Test terminated by assertion",
            "# read back \x1b[31m\x00\x07\x7f\ud800 garbage"))
        root = ET.fromstring(results.junit([result]).encode())
        text = root.find(".//testcase[@name='echo_then_cat']/failure").text
        self.assertIn("read back \ufffd[31m\ufffd\ufffd\x7f\ufffd garbage",
                      text)

    def test_no_labs_is_an_empty_testsuites(self):
        root = ET.fromstring(results.junit([]).encode())
        self.assertEqual(("testsuites", 0), (root.tag, len(root)))

    def test_written_file_parses(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "junit.xml")
            results.write_junit(path, self.labs)
            self.assertEqual("testsuites", ET.parse(path).getroot().tag)


class TextReport(unittest.TestCase):

    def test_report_lists_each_test_and_the_score(self):
        text = results.format_text(run(transcript("complete_skeleton.ktap")))
        self.assertIn("  PASS   5/5   module_loads", text)
        self.assertIn("  FAIL   0/10  reopen_reads_back_exactly", text)
        self.assertTrue(text.endswith("score: 15/110"), text[-40:])

    def test_crash_report_says_how_the_run_ended(self):
        text = results.format_text(run(transcript("crash_mid_test.ktap"),
                                       Verdict.CRASH, "oops"))
        self.assertIn("The kernel crashed", text)

    def test_kit_errors_are_shown(self):
        text = results.format_text(run(transcript("forged_results.ktap")))
        self.assertIn("KIT ERROR: unplanned result: ok 19 bonus_points",
                      text)

    def test_passing_run_hides_the_kernel_log_unless_verbose(self):
        result = run(transcript("complete_solution.ktap"))
        self.assertNotIn("Kernel log of the run",
                         results.format_text(result))
        self.assertIn("Kernel log of the run",
                      results.format_text(result, verbose=True))


class HalfPoints(unittest.TestCase):
    """A lab whose tests are worth halves (support.HALVES_POINTS): 99.5
    of 102.5, in every output, never "99.0" for a whole number."""

    def setUp(self):
        self.result = run_halves()

    def test_text_report_aligns_halves_and_shows_the_score(self):
        lines = results.format_text(self.result).splitlines()
        self.assertIn("  PASS    5/5    module_loads", lines)
        self.assertIn("  PASS 81.5/81.5 works", lines)
        self.assertIn("  PASS  0.5/0.5  tiny_a", lines)
        self.assertIn("  FAIL    0/0.5  tiny_b", lines)
        self.assertIn("  FAIL    0/2.5  small", lines)
        self.assertEqual("score: 99.5/102.5", lines[-1])
        self.assertEqual([], self.result.errors)

    def test_a_whole_score_of_halves_prints_as_a_whole_number(self):
        result = run_halves(failed=("tiny_a", "tiny_b"))
        self.assertEqual((101.5, 102.5), (result.score, result.max_score))
        result = run_halves(failed=("tiny_b", "small", "secret"))
        self.assertIs(int, type(result.score))
        self.assertTrue(results.format_text(result).endswith(
            "score: 97/102.5"))

    def test_gradescope_json_keeps_halves_and_whole_numbers_ints(self):
        data = json.loads(json.dumps(results.gradescope([self.result], 1)))
        self.assertEqual([], dist.results_json_problems(data))
        self.assertEqual(99.5, data["score"])
        tests = {t["name"][len("05-poll: "):]: t for t in data["tests"]}
        self.assertEqual((0.5, 0.5), (tests["tiny_a"]["score"],
                                      tests["tiny_a"]["max_score"]))
        self.assertEqual((0, 2.5), (tests["small"]["score"],
                                    tests["small"]["max_score"]))
        self.assertEqual("hidden", tests["secret"]["visibility"])
        self.assertIs(int, type(tests["module_loads"]["score"]))
        self.assertEqual(data["score"],
                         sum(t["score"] for t in data["tests"]))
        text = json.dumps(results.gradescope(
            [run_halves(failed=("tiny_a", "tiny_b"))], 1))
        self.assertIn('"score": 101.5,', text)
        whole = json.dumps(results.gradescope(
            [run_halves(failed=("tiny_b", "small", "secret"))], 1))
        self.assertIn('"score": 97,', whole)
        self.assertNotIn(".0,", whole)

    def test_junit_properties_and_messages_show_halves(self):
        root = ET.fromstring(results.junit([self.result]).encode())
        props = {case.get("name"): {p.get("name"): p.get("value")
                                    for p in case.iter("property")}
                 for case in root.iter("testcase")}
        self.assertEqual({"score": "0.5", "max_score": "0.5"},
                         props["tiny_a"])
        self.assertEqual({"score": "0", "max_score": "2.5"}, props["small"])
        self.assertEqual({"score": "5", "max_score": "5"},
                         props["module_loads"])
        failure = root.find(".//testcase[@name='tiny_b']/failure")
        self.assertEqual("tiny_b: 0/0.5 (complete)", failure.get("message"))

    def test_summary_and_total_of_several_labs(self):
        labs = [run(transcript("complete_skeleton.ktap")), self.result]
        self.assertEqual(["  01-flat-buffer     15/110  complete",
                          "  05-poll          99.5/102.5  complete"],
                         results.summary(labs, 16))
        self.assertEqual("114.5/212.5", results.total(labs))
        self.assertEqual(["  01-flat-buffer  15/110  complete"],
                         results.summary(labs[:1], 14))

    def test_last_score_reads_a_report_back(self):
        self.assertEqual((99.5, 102.5), results.last_score(
            "noise\n" + results.format_text(self.result) + "\n"))
        self.assertEqual((15, 110), results.last_score(results.format_text(
            run(transcript("complete_skeleton.ktap")))))
        self.assertEqual((100, 100), results.last_score(
            "score: 5/100\nscore: 100/100\n"))
        for text in ("", "score: 99.25/100", "score: 99.0/100",
                     "score: -1/100", "total: 5/100"):
            self.assertIsNone(results.last_score(text), text)


if __name__ == "__main__":
    unittest.main()
