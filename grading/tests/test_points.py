# SPDX-License-Identifier: GPL-2.0
"""Points files (labkit.points): the host's reading of them, the kit's own
files, and the guest's reading of their first column (autograde.sh's
plan), which must name the same tests."""

import os
import shutil
import subprocess
import tempfile
import unittest

from labkit import dist, labs, paths, points

from .support import write

VISIBILITIES = labs.VISIBILITIES


class ReadingAPointsFile(unittest.TestCase):

    def test_names_and_points_in_order_comments_and_blanks_skipped(self):
        text = "# a comment\n\nmodule_loads 5\n  works   95  \n"
        self.assertEqual([("module_loads", 5), ("works", 95)],
                         points.parse(text, "p"))

    def test_halves_are_points_whole_numbers_stay_ints(self):
        table = points.parse("a 0.5\nb 2.5\nc 12\nd 0\n", "p")
        self.assertEqual([("a", 0.5), ("b", 2.5), ("c", 12), ("d", 0)],
                         table)
        self.assertEqual([float, float, int, int],
                         [type(p) for _, p in table])

    def test_hidden_tests_may_be_worth_a_half(self):
        self.assertEqual([("secret", 1.5, "hidden")],
                         points.parse("secret 1.5 hidden\n", "p",
                                      VISIBILITIES))

    def test_the_message_names_the_rule(self):
        with self.assertRaises(points.PointsError) as caught:
            points.parse("works 0.25\n", "p")
        self.assertEqual("p:1: want 'NAME POINTS [volume]', POINTS a whole "
                         "number "
                         "or a whole number and a half (5, 12, 0.5, 2.5): "
                         "'0.25'", str(caught.exception))

    def test_hidden_format_keeps_the_visibility(self):
        self.assertEqual([("secret", 10, "after_published")],
                         points.parse("secret 10 after_published\n", "p",
                                      VISIBILITIES))

    def test_bad_lines_are_errors_with_their_line_number(self):
        for line, why in (("works", "want 'NAME POINTS \\[volume\\]'"),
                          ("works 5 visible",
                           "want 'NAME POINTS \\[volume\\]'"),
                          ("works 5 volume volume", "want 'NAME POINTS"),
                          ("works volume", "whole number"),
                          ("works five", "whole number"),
                          ("works -5", "whole number"),
                          ("works 0.25", "whole number and a half"),
                          ("works 1.0", "whole number and a half"),
                          ("works 2.50", "whole number and a half"),
                          ("works .5", "whole number and a half"),
                          ("works +5", "whole number and a half"),
                          ("works \uff15", "whole number and a half"),
                          ("works 1e2", "whole number and a half"),
                          ("Works 5", "a-z, 0-9 and _"),
                          ("wor-ks 5", "a-z, 0-9 and _")):
            with self.assertRaisesRegex(points.PointsError,
                                        f"^p:2: .*{why}", msg=line):
                points.parse(f"module_loads 5\n{line}\n", "p")

    def test_bad_visibility_is_an_error(self):
        with self.assertRaisesRegex(points.PointsError, "VISIBILITY"):
            points.parse("secret 10 secretly\n", "p", VISIBILITIES)
        with self.assertRaisesRegex(points.PointsError, "want 'NAME POINTS "
                                    "VISIBILITY \\[volume\\]'"):
            points.parse("secret 10\n", "p", VISIBILITIES)

    def test_volume_tests_are_marked_by_a_last_word(self):
        table = points.parse("loads 10\nstress 5 volume\nworks 85\n", "p")
        self.assertEqual([("loads", 10), ("stress", 5), ("works", 85)],
                         table)
        self.assertEqual(frozenset({"stress"}), table.volume)
        hidden = points.parse("secret 1 hidden volume\nother 2 visible\n",
                              "p", VISIBILITIES)
        self.assertEqual([("secret", 1, "hidden"), ("other", 2, "visible")],
                         hidden)
        self.assertEqual(frozenset({"secret"}), hidden.volume)

    def test_a_file_without_volume_tests_has_none(self):
        self.assertEqual(frozenset(), points.parse("works 100\n", "p").volume)

    def test_a_test_listed_twice_is_an_error(self):
        with self.assertRaisesRegex(points.PointsError,
                                    "p:3: works is listed twice"):
            points.parse("works 50\nother 0\nworks 50\n", "p")

    def test_missing_file_is_an_error(self):
        with self.assertRaisesRegex(points.PointsError,
                                    "cannot read the points file"):
            points.read("/nonexistent/points")

    def test_total_must_be_100(self):
        self.assertIsNone(points.total_problem([("a", 60), ("b", 40)], "l"))
        self.assertEqual("the points of l add up to 95, not 100",
                         points.total_problem([("a", 60), ("b", 35)], "l"))
        self.assertEqual("the points of l add up to 0, not 100",
                         points.total_problem([], "l"))

    def test_total_with_halves_is_exact(self):
        # Lab 05's and 06's shape: 27 tests at 0.5 beside whole numbers.
        table = [(f"h{i}", 0.5) for i in range(27)] + [("a", 86.5)]
        self.assertIsNone(points.total_problem(table, "l"))
        self.assertIsNone(points.total_problem(
            [(f"h{i}", 0.5) for i in range(200)], "l"))
        self.assertEqual("the points of l add up to 99.5, not 100",
                         points.total_problem(table[1:], "l"))
        self.assertEqual("the points of l add up to 100.5, not 100",
                         points.total_problem(table + [("b", 0.5)], "l"))


class PointsNumbers(unittest.TestCase):
    """points.value reads a number of points, points.show prints one."""

    def test_value_reads_whole_numbers_and_halves(self):
        for text, want in (("0", 0), ("5", 5), ("100", 100), ("0.5", 0.5),
                           ("2.5", 2.5), ("97.5", 97.5)):
            self.assertEqual(want, points.value(text), text)
            self.assertIs(type(want), type(points.value(text)), text)

    def test_value_refuses_anything_else(self):
        for text in ("", "0.25", "1.0", "1.50", "5.", ".5", "-5", "-0.5",
                     "+5", " 5", "5\n", "1e2", "0x5", "nan", "inf",
                     "\uff15", "\u0665", "\u00bd", "5/2"):
            with self.assertRaisesRegex(ValueError, "whole number and a "
                                        "half", msg=repr(text)):
                points.value(text)

    def test_show_never_prints_a_point_zero(self):
        self.assertEqual(["98", "97.5", "0", "0.5", "100", "110"],
                         [points.show(n) for n in (98, 97.5, 0, 0.5, 100.0,
                                                   110.0)])

    def test_out_of_and_column_width(self):
        self.assertEqual("97.5/100", points.out_of(97.5, 100))
        self.assertEqual("  5/110", points.out_of(5, 110.0, 3))
        self.assertEqual(3, points.column_width([5, 100, 0.5], 3))
        self.assertEqual(4, points.column_width([5, 97.5], 3))
        self.assertEqual(3, points.column_width([], 3))

    def test_score_range_is_one_score_or_low_dot_dot_high(self):
        self.assertEqual((43, 43), points.score_range("43"))
        self.assertEqual((5, 7), points.score_range("5..7"))
        self.assertEqual((41.5, 43), points.score_range("41.5..43"))
        for text in ("7..5", "43.25", "5..7..9", "..5", "5.."):
            with self.assertRaises(ValueError, msg=text):
                points.score_range(text)

    def test_exact_keeps_whole_numbers_as_ints(self):
        self.assertIs(int, type(points.exact(100.0)))
        self.assertEqual(100, points.exact(sum([0.5] * 200)))
        self.assertEqual(99.5, points.exact(99.5))


class TheKitsPointsFiles(unittest.TestCase):
    """Every lab of this kit: its points file reads, adds up to 100, and
    no grade.sh keeps a table of its own."""

    def test_every_lab_has_100_points(self):
        for lab in labs.all_labs():
            table = points.read(lab.points_file)
            self.assertIsNone(points.total_problem(table, lab.name))
            for name in ("module_loads", "module_unloads",
                         "kernel_log_clean"):
                self.assertIn(name, dict(table), lab.name)

    def test_no_grade_sh_has_points(self):
        for lab in labs.all_labs():
            with open(lab.grade_script, encoding="utf-8") as f:
                self.assertNotIn("LAB_POINTS=", f.read(), lab.name)


class PointsFilesShipped(unittest.TestCase):
    """The lab's points file goes wherever its tests are scored; the
    hidden tests' stays with the instructor and Gradescope."""

    def test_lab_points_go_to_students_and_gradescope(self):
        for kind in ("student", "gradescope"):
            self.assertTrue(dist.ships("labs/01-flat-buffer/tests/points",
                                       kind), kind)

    def test_hidden_points_go_to_gradescope_only(self):
        name = "grading/hidden/01-flat-buffer/points"
        self.assertFalse(dist.ships(name, "student"))
        self.assertTrue(dist.ships(name, "gradescope"))


@unittest.skipUnless(shutil.which("sh"), "no sh")
class GuestPlan(unittest.TestCase):
    """autograde.sh's _lab_read_plan: the first column of a points file,
    nothing else; names the guest could not report are kit errors."""

    def plan(self, text):
        """(stdout, the plan's names) of _lab_read_plan on TEXT."""
        with tempfile.TemporaryDirectory(prefix="labkit-unit-") as tmp:
            path = write(os.path.join(tmp, "points"), text)
            script = (f". {paths.TOP}/grading/guest/autograde.sh\n"
                      "_lab_names=\n_lab_planned=0\n"
                      f"_lab_read_plan '{path}'\n"
                      'echo "plan:$_lab_planned:$_lab_names"\n')
            out = subprocess.run(["sh", "-c", script], check=True,
                                 stdout=subprocess.PIPE, text=True).stdout
        lines = out.splitlines()
        planned = lines[-1].split(":", 2)
        return lines[:-1], planned[2].split(), int(planned[1])

    def test_first_column_only(self):
        diag, names, count = self.plan("# c\n\nmodule_loads 5\nworks 95 x\n")
        self.assertEqual(([], ["module_loads", "works"], 2),
                         (diag, names, count))

    def test_last_line_without_a_newline_counts(self):
        self.assertEqual(["a", "b"], self.plan("a 50\nb 50")[1])

    def test_bad_name_and_duplicate_are_kit_errors(self):
        diag, names, _ = self.plan("a 50\nBad-name 1\na 50\n")
        self.assertEqual(["a"], names)
        self.assertEqual(2, len(diag), diag)
        self.assertTrue(all(d.startswith("# error: ") for d in diag), diag)

    def test_the_guest_plans_the_hosts_tests_for_every_lab(self):
        for lab in labs.all_labs():
            with open(lab.points_file, encoding="utf-8") as f:
                _, names, _ = self.plan(f.read())
            self.assertEqual([name for name, _ in
                              points.read(lab.points_file)], names, lab.name)


if __name__ == "__main__":
    unittest.main()
