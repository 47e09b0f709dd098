# SPDX-License-Identifier: GPL-2.0
"""labkit.hints: the known-bugs files made from the hand-written mutants
(tools/mkhints, its --check), and the hints a graded run's report shows
after its failures. No VM."""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
from unittest import mock

from labkit import hints, labs, paths, results
from labkit.verdicts import Verdict

from .support import (KIT_LABS, FakeLab, kit, make_kit, run, transcript,
                      write)

PATCH = """Mutant: {name}

{description}

Caught-by: {caught_by}
Verdict: complete
{extra}
--- a/demo.c
+++ b/demo.c
@@ -1 +1 @@
-int demo;
+int demo = 1;
"""


def patch(top, lab, name, description, caught_by, extra=""):
    """Write mutant NAME of LAB into the kit at TOP."""
    return write(os.path.join(top, "grading", "mutants", lab,
                              f"{name}.patch"),
                 PATCH.format(name=name, description=description,
                              caught_by=caught_by, extra=extra))


def bug(name, *caught_by):
    return hints.KnownBug(name, caught_by, f"what {name} is.")


class Summary(unittest.TestCase):

    def test_one_long_first_sentence_is_the_hint(self):
        text = ("The -EAGAIN path returns with the readers' mutex still "
                "held: the next read sleeps forever, and the harness kills "
                "the test. Another sentence.")
        self.assertEqual(text.rsplit(" Another", 1)[0], hints.summary(text))

    def test_a_short_first_sentence_takes_the_second_along(self):
        self.assertEqual(
            "The interrupted sleep returns -EINTR itself. The program then "
            "sees EINTR.",
            hints.summary("The interrupted sleep returns -EINTR itself. "
                          "The program then sees EINTR. And a third."))

    def test_two_sentences_only_while_short_enough(self):
        second = "A very long second sentence " + "and so on " * 40 + "."
        self.assertEqual("Short one.", hints.summary(f"Short one. {second}"))

    def test_a_label_saying_where_the_bug_comes_from_is_dropped(self):
        self.assertEqual(
            "With no room left, write() returns 0 instead of -ENOSPC.",
            hints.summary("The seed's bug: with no room left, write() "
                          "returns 0 instead of -ENOSPC."))
        self.assertEqual(
            "kfifo_is_empty() where kfifo_is_full() is meant.",
            hints.summary("The course notes' bug: kfifo_is_empty() where "
                          "kfifo_is_full() is meant."))

    def test_a_colon_that_is_part_of_the_bug_stays(self):
        text = "Always writable: a full FIFO is said to have room."
        self.assertEqual(text, hints.summary(text))
        text = "POLL_IN and POLL_OUT crossed: the signal says room."
        self.assertEqual(text, hints.summary(text))

    def test_lines_are_joined_and_abbreviations_do_not_end_it(self):
        self.assertEqual(
            "read() copies with memcpy(), e.g. into a bad pointer, and "
            "oopses the kernel where copy_to_user() would fail.",
            hints.summary("read() copies with memcpy(), e.g. into a bad\n"
                          "pointer, and oopses the kernel where\n"
                          "copy_to_user() would fail. Second sentence."))


class Generation(unittest.TestCase):

    def setUp(self):
        ctx = kit()
        self.top, (self.lab, self.next_lab) = ctx.__enter__()
        self.addCleanup(ctx.__exit__, None, None, None)

    def test_description_is_the_first_paragraph_before_the_fields(self):
        path = patch(self.top, self.lab.name, "two-paragraphs",
                     "First paragraph,\non two lines.\n\nSecond paragraph.",
                     "works")
        self.assertEqual("First paragraph, on two lines.",
                         hints.description(path))

    def test_a_mutant_without_description_is_an_error(self):
        path = write(os.path.join(self.lab.mutants_dir, "bare.patch"),
                     "Mutant: bare\n\nCaught-by: works\n--- a/x\n")
        with self.assertRaisesRegex(hints.HintsError, "no description"):
            hints.description(path)

    def test_known_bugs_sorted_debug_only_ones_left_out(self):
        patch(self.top, self.lab.name, "zz-last", "Last bug. Really.",
              "works kernel_log_clean")
        patch(self.top, self.lab.name, "aa-first", "The seed's bug: the "
              "first one, which is described at quite some length here.",
              "works")
        patch(self.top, self.lab.name, "debug-only", "Seen by lockdep.",
              "kernel_log_clean", "Kernels: debug")
        patch(self.top, self.lab.name, "one-release", "Seen on one kernel.",
              "works", "Kernels: 6.1.0-57-amd64 debug")
        self.assertEqual(
            [hints.KnownBug("aa-first", ["works"], "The first one, which "
                            "is described at quite some length here."),
             hints.KnownBug("one-release", ["works"], "Seen on one kernel."),
             hints.KnownBug("zz-last", ["works", "kernel_log_clean"],
                            "Last bug. Really.")],
            hints.known_bugs(self.lab))

    def test_the_file_says_it_is_generated_and_parses_back(self):
        patch(self.top, self.lab.name, "a-bug", "A bug.", "works")
        self.assertTrue(hints.generate(self.lab))
        self.assertFalse(hints.generate(self.lab), "unchanged the 2nd time")
        path = os.path.join(self.top, "labs", self.lab.name, "tests",
                            "known-bugs")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertIn("do not edit this file by hand", text)
        self.assertIn("tools/mkhints", text.split("\nbug ")[0])
        self.assertEqual([hints.KnownBug("a-bug", ["works"], "A bug.")],
                         hints.load(self.lab))

    def test_stale_names_missing_and_outdated_files(self):
        patch(self.top, self.lab.name, "a-bug", "A bug.", "works")
        both = [self.lab, self.next_lab]
        self.assertEqual([hints.path_of(lab) for lab in both],
                         hints.stale(both))
        for lab in both:
            hints.generate(lab)
        self.assertEqual([], hints.stale(both))
        patch(self.top, self.lab.name, "a-bug", "A changed bug.", "works")
        self.assertEqual([hints.path_of(self.lab)], hints.stale(both))

    def test_parse_rejects_a_broken_file_and_load_ignores_it(self):
        with self.assertRaisesRegex(hints.HintsError, "expected 'hint"):
            hints.parse("bug a\ncaught-by t\nbug b\n")
        with self.assertRaisesRegex(hints.HintsError, "incomplete"):
            hints.parse("# c\nbug a\ncaught-by t\n")
        write(hints.path_of(self.lab), "bug a\nhint oops\n")
        self.assertEqual([], hints.load(self.lab))


def labs_of(top):
    """The labs.Lab of each lab of the small kit at TOP."""
    with mock.patch.object(paths, "TOP", top):
        return [labs.Lab(name) for name in KIT_LABS]


class Tool(unittest.TestCase):
    """tools/mkhints on a small copy of the kit (with the real labkit)."""

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="labkit-unit-")
        self.addCleanup(tmp.cleanup)
        self.top = make_kit(os.path.join(tmp.name, "kit"))
        real = paths.TOP
        os.makedirs(os.path.join(self.top, "tools"))
        shutil.copy(os.path.join(real, "tools", "mkhints"),
                    os.path.join(self.top, "tools"))
        for source in glob.glob(os.path.join(real, "grading", "labkit",
                                             "*.py")):
            shutil.copy(source, os.path.join(self.top, "grading", "labkit"))
        patch(self.top, "01-demo-lab", "a-bug", "A bug.", "works")

    def mkhints(self, *args):
        return subprocess.run(
            [sys.executable, os.path.join(self.top, "tools", "mkhints"),
             *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, check=False)

    def test_check_names_stale_files_until_regenerated(self):
        proc = self.mkhints("--check")
        self.assertEqual(1, proc.returncode, proc.stdout)
        self.assertIn("labs/01-demo-lab/tests/known-bugs", proc.stdout)
        self.assertIn("labs/02-next-lab/tests/known-bugs", proc.stdout)
        proc = self.mkhints()
        self.assertEqual(0, proc.returncode, proc.stdout)
        self.assertEqual([], hints.stale(labs_of(self.top)))
        patch(self.top, "01-demo-lab", "b-bug", "Another bug.", "works")
        proc = self.mkhints("--check")
        self.assertEqual(1, proc.returncode)
        self.assertIn("labs/01-demo-lab/tests/known-bugs", proc.stdout)
        self.assertNotIn("02-next-lab", proc.stdout)

    def test_without_the_mutants_it_refuses(self):
        shutil.rmtree(os.path.join(self.top, "grading", "mutants"))
        proc = self.mkhints()
        self.assertEqual(2, proc.returncode)
        self.assertIn("grading/mutants/", proc.stdout)
        self.assertFalse(os.path.exists(os.path.join(
            self.top, "labs", "01-demo-lab", "tests", "known-bugs")))


class Matching(unittest.TestCase):

    BUGS = [bug("one-test", "a"), bug("two-tests", "a", "b"),
            bug("other", "c"), bug("also-a", "a"), bug("d-and-e", "d", "e"),
            bug("f", "f"), bug("g", "g"), bug("h", "h"), bug("i", "i"),
            bug("j", "j"), bug("k", "k"), bug("l", "l")]

    def names(self, failed, bugs=None):
        return [b.name for b in hints.match(set(failed), bugs or self.BUGS)]

    def test_a_bug_matches_only_when_all_its_tests_failed(self):
        self.assertEqual(["d-and-e"], self.names({"d", "e", "x"}))
        self.assertEqual([], self.names({"d", "x"}))

    def test_closest_first_then_by_name(self):
        # Jaccard: two-tests 2/2, also-a and one-test 1/2 (by name).
        self.assertEqual(["two-tests", "also-a"], self.names({"a", "b"}))
        self.assertEqual(["also-a", "one-test"], self.names({"a"}))

    def test_deterministic_whatever_the_files_order(self):
        for bugs in (self.BUGS, list(reversed(self.BUGS))):
            self.assertEqual(["two-tests", "also-a"],
                             self.names({"a", "b", "z"}, bugs))

    def test_at_most_two_shown(self):
        self.assertEqual(2, len(self.names({"a", "b", "c"})))

    def test_more_than_five_matches_show_nothing(self):
        failed = {"a", "b", "c", "f", "g"}     # 6 bugs: also-a, f, g...
        self.assertEqual([], self.names(failed))
        self.assertEqual(2, len(self.names(failed - {"g"})))   # 5

    def test_more_than_three_and_half_of_a_labs_bugs_show_nothing(self):
        few = [bug(name, name) for name in "abcdefg"]
        self.assertEqual([], self.names(set("abcd"), few))
        self.assertEqual(["a", "b"], self.names(set("abc"), few))
        self.assertEqual(["a", "b"], self.names(set("abcd"), few + [
            bug("h", "h")]))
        self.assertEqual(["a"], self.names({"a"}, [bug("a", "a")]))

    def test_no_failures_no_hint(self):
        self.assertEqual([], self.names(set()))


def lab_with(bugs_text):
    """A FakeLab (Lab 01's points) whose tests/ holds BUGS_TEXT as its
    known-bugs file."""
    tmp = tempfile.mkdtemp(prefix="labkit-unit-")
    lab = FakeLab()
    lab.tests_dir = tmp
    write(os.path.join(tmp, "known-bugs"), bugs_text)
    return lab


#: Lab 01's canned skeleton fails every test but module_loads,
#: module_unloads and kernel_log_clean: a real-looking known-bugs file,
#: four of whose five bugs the skeleton matches.
LAB01_BUGS = hints.render("01-flat-buffer", [
    hints.KnownBug("trunc-keeps-old-bytes",
                   ["o_trunc_empties_the_buffer",
                    "write_past_end_leaves_zero_hole"],
                   "O_TRUNC resets the length but leaves the old bytes."),
    hints.KnownBug("copy-from-user-unchecked", ["bad_pointer_gives_efault"],
                   "A failed copy_from_user() is only logged."),
    hints.KnownBug("write-full-returns-zero",
                   ["write_when_full_fails_with_enospc"],
                   "With no room left, write() returns 0 instead of "
                   "-ENOSPC. A caller such as echo takes 0 as \"try "
                   "again\" and spins forever."),
    hints.KnownBug("read-whole-array", ["read_stops_at_end_of_data",
                                        "echo_then_cat"],
                   "read() returns everything up to the end of the array."),
    hints.KnownBug("log-dirty", ["kernel_log_clean"], "Not this one."),
])


def one_failure(name):
    """The canned solution's run, with test NAME failed."""
    text = transcript("complete_solution.ktap")
    lines = []
    for line in text.splitlines():
        if line.startswith("ok ") and line.endswith(f" {name}"):
            line = f"# expected -1 (ENOSPC), got 0\nnot {line}"
        lines.append(line)
    return "\n".join(lines) + "\n"


class Reports(unittest.TestCase):

    def setUp(self):
        self.lab = lab_with(LAB01_BUGS)
        self.addCleanup(shutil.rmtree, self.lab.tests_dir)

    def test_a_matching_failure_gets_its_hint_after_the_failures(self):
        result = run(one_failure("write_when_full_fails_with_enospc"),
                     lab=self.lab)
        self.assertEqual(["write-full-returns-zero"],
                         [h["bug"] for h in result.hints])
        text = results.format_text(result)
        self.assertIn("  Failures like these are usually caused by:\n"
                      "    - (seen as bug \"write-full-returns-zero\") With "
                      "no room left,", text)
        self.assertLess(text.index("FAIL   0/10  write_when_full"),
                        text.index("Failures like these"))
        self.assertLess(text.index("Failures like these"),
                        text.index("score:"))
        start = text.index("Failures like these")
        for line in text[start:text.index("Kernel log")].splitlines():
            self.assertLessEqual(len(line), 80, line)

    def test_gradescope_output_and_junit_system_out(self):
        result = run(one_failure("write_when_full_fails_with_enospc"),
                     lab=self.lab)
        clean = run(transcript("complete_solution.ktap"), lab=self.lab)
        data = results.gradescope([clean, result], 1.0)
        self.assertTrue(data["output"].startswith(
            "01-flat-buffer:\nFailures like these are usually caused by:"))
        self.assertIn("write-full-returns-zero", data["output"])
        self.assertNotIn("output", results.gradescope([clean], 1.0))
        root = ET.fromstring(results.junit([clean, result]).encode())
        self.assertIsNone(root[0].find("system-out"))
        out = root[1].find("system-out")
        self.assertEqual("testcase", root[1][-2].tag)
        self.assertIn("write-full-returns-zero", out.text)

    def test_hints_survive_the_batch_cache(self):
        result = run(one_failure("write_when_full_fails_with_enospc"),
                     lab=self.lab)
        again = results.LabResult.from_dict(
            json.loads(json.dumps(result.to_dict())))
        self.assertEqual(result.hints, again.hints)
        self.assertEqual(results.format_text(result),
                         results.format_text(again))

    def test_reference_has_no_hint(self):
        result = run(transcript("complete_solution.ktap"), lab=self.lab)
        self.assertEqual([], result.hints)
        self.assertNotIn("usually caused", results.format_text(result))

    def test_skeleton_failing_everything_has_no_hint(self):
        result = run(transcript("complete_skeleton.ktap"), lab=self.lab)
        # Four of the five known bugs match: more than half.
        failed = hints.failed_tests(result)
        self.assertEqual(4, sum(set(b.caught_by) <= failed
                                for b in hints.load(self.lab)))
        self.assertEqual([], result.hints)

    def test_a_crash_a_hang_or_no_module_gets_no_hint(self):
        cases = [
            run(transcript("crash_mid_test.ktap"), Verdict.CRASH,
                transcript("crash_oops.txt"), lab=self.lab),
            run(transcript("timeout_mid_test.ktap"), Verdict.TIMEOUT,
                "stopped", lab=self.lab),
            run(transcript("testprog_timeout.ktap"), lab=self.lab),
            run(transcript("missing_results.ktap"), lab=self.lab),
            run(transcript("module_not_loaded.ktap"), lab=self.lab),
        ]
        for result in cases:
            self.assertIsNone(hints.failed_tests(result), result.verdict)
            self.assertEqual([], result.hints)

    def test_a_test_stopped_by_a_task_stuck_in_state_d_gets_no_hint(self):
        text = one_failure("write_when_full_fails_with_enospc").replace(
            "# expected -1 (ENOSPC), got 0",
            "# it overstayed its timeout, and a task was then stuck in "
            "state D (see kernel_log_clean)")
        result = run(text, lab=self.lab)
        self.assertIsNone(hints.failed_tests(result))
        self.assertEqual([], result.hints)

    def test_a_skipped_test_did_not_run(self):
        text = one_failure("write_when_full_fails_with_enospc").replace(
            "# expected -1 (ENOSPC), got 0", "# the test was skipped")
        result = run(text, lab=self.lab)
        self.assertEqual(set(), hints.failed_tests(result))
        self.assertEqual([], result.hints)

    def test_a_lab_without_known_bugs_file_has_no_hint(self):
        result = run(one_failure("write_when_full_fails_with_enospc"))
        self.assertEqual([], result.hints)


class ShippedFiles(unittest.TestCase):
    """The kit's own known-bugs files parse (whether they are current is
    make check's job: tools/mkhints --check)."""

    def test_every_labs_file_parses(self):
        for path in glob.glob(os.path.join(paths.TOP, "labs", "*", "tests",
                                           hints.FILE_NAME)):
            with open(path, encoding="utf-8") as f:
                hints.parse(f.read(), path)


if __name__ == "__main__":
    unittest.main()
