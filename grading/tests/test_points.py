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

    def test_hidden_format_keeps_the_visibility(self):
        self.assertEqual([("secret", 10, "after_published")],
                         points.parse("secret 10 after_published\n", "p",
                                      VISIBILITIES))

    def test_bad_lines_are_errors_with_their_line_number(self):
        for line, why in (("works", "want 'NAME POINTS'"),
                          ("works 5 visible", "want 'NAME POINTS'"),
                          ("works five", "whole number"),
                          ("works -5", "whole number"),
                          ("works 5.5", "whole number"),
                          ("Works 5", "a-z, 0-9 and _"),
                          ("wor-ks 5", "a-z, 0-9 and _")):
            with self.assertRaisesRegex(points.PointsError,
                                        f"^p:2: .*{why}", msg=line):
                points.parse(f"module_loads 5\n{line}\n", "p")

    def test_bad_visibility_is_an_error(self):
        with self.assertRaisesRegex(points.PointsError, "VISIBILITY"):
            points.parse("secret 10 secretly\n", "p", VISIBILITIES)
        with self.assertRaisesRegex(points.PointsError, "want 'NAME POINTS "
                                    "VISIBILITY'"):
            points.parse("secret 10\n", "p", VISIBILITIES)

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
