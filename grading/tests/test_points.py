# SPDX-License-Identifier: GPL-2.0
"""Points files (labkit.points): the host's reading of them."""

import unittest

from labkit import labs, points

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


if __name__ == "__main__":
    unittest.main()
