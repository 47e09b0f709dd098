# SPDX-License-Identifier: GPL-2.0
"""labkit.labs on a small kit: the host's points table (from the lab's
tests/points and its hidden tests'), the student's files, the VM time
limit."""

import os
import re
import unittest

from labkit import labs, paths, vm

from .support import kit, write


class PointsTable(unittest.TestCase):

    def setUp(self):
        self._kit = kit()
        self.top, (self.lab, self.other) = self._kit.__enter__()
        self.addCleanup(self._kit.__exit__, None, None, None)

    def test_table_is_the_points_file_then_hidden_tests(self):
        self.assertEqual([("module_loads", 10), ("works", 80),
                          ("module_unloads", 5), ("kernel_log_clean", 5),
                          ("secret", 10)], self.lab.points)
        self.assertEqual(110, self.lab.full_marks)
        self.assertEqual(100, self.other.full_marks)

    def test_full_marks_with_halves_are_exact(self):
        write(self.lab.points_file, "module_loads 9.5\nworks 80.5\n"
              "module_unloads 5\nkernel_log_clean 5\n")
        write(self.lab.hidden_points_file, "secret 2.5 hidden\n")
        self.assertEqual(102.5, self.lab.full_marks)
        write(self.lab.hidden_points_file, "secret 0.5 hidden\n")
        self.assertEqual(100.5, self.lab.full_marks)
        write(self.lab.hidden_points_file, "secret 10 hidden\n")
        self.assertIs(int, type(self.lab.full_marks))
        self.assertEqual(110, self.lab.full_marks)

    def test_hidden_tests_have_their_visibility(self):
        self.assertEqual({"secret": "hidden"}, self.lab.visibility)
        self.assertEqual({}, self.other.visibility)

    def test_hidden_points_without_a_hidden_program_are_ignored(self):
        os.unlink(os.path.join(self.lab.hidden_dir, "hidden_demo.c"))
        self.assertEqual(100, self.lab.full_marks)

    def test_bad_visibility_is_a_lab_error(self):
        write(self.lab.hidden_points_file, "secret 10 secretly\n")
        with self.assertRaisesRegex(labs.LabError, "VISIBILITY"):
            self.lab.points

    def test_lab_without_a_points_file_is_a_lab_error(self):
        os.unlink(self.lab.points_file)
        with self.assertRaisesRegex(labs.LabError,
                                    "cannot read the points file"):
            self.lab.points

    def test_malformed_points_file_is_a_lab_error(self):
        write(self.lab.points_file, "module_loads 10\nworks lots\n")
        with self.assertRaisesRegex(labs.LabError, r"points:2: .*'lots'"):
            self.lab.points

    def test_points_file_with_a_visibility_column_is_a_lab_error(self):
        write(self.lab.points_file, "module_loads 100 hidden\n")
        with self.assertRaisesRegex(labs.LabError,
                                    r"want 'NAME POINTS \[volume\]'"):
            self.lab.points

    def test_volume_tests_are_the_lab_s_and_the_hidden_ones(self):
        self.assertEqual(frozenset(), self.lab.volume_tests)
        write(self.lab.points_file, "module_loads 10\nworks 80 volume\n"
              "module_unloads 5\nkernel_log_clean 5\n")
        write(self.lab.hidden_points_file, "secret 10 hidden volume\n")
        self.assertEqual(frozenset({"works", "secret"}),
                         self.lab.volume_tests)
        os.unlink(os.path.join(self.lab.hidden_dir, "hidden_demo.c"))
        self.assertEqual(frozenset({"works"}), self.lab.volume_tests)

    def test_hidden_test_named_like_a_lab_test_is_a_lab_error(self):
        write(self.lab.hidden_points_file, "works 10 hidden\n")
        with self.assertRaisesRegex(labs.LabError, "works is also in"):
            self.lab.points

    def test_student_files_are_the_solutions_sources(self):
        self.assertEqual(["demo.c", "demo.h"], self.lab.student_files)
        self.assertEqual(["Kbuild", "Makefile"], self.lab.kit_files)

    def test_vm_timeout_is_the_test_timeout_plus_30(self):
        self.assertEqual(230, self.lab.vm_timeout)

    def test_find_takes_a_number_or_a_name(self):
        self.assertEqual("02-next-lab", labs.find("2").name)
        self.assertEqual("02-next-lab", labs.find("02-next-lab").name)
        with self.assertRaisesRegex(labs.LabError, "no lab '9'"):
            labs.find("9")


class DebugKernelLimits(unittest.TestCase):
    """The debug kernel's limits are scaled once, by one number: the VM's
    by the host (vm.DEBUG_SLOWDOWN), the test program's and each test's
    by the guest's autograder (LABKIT_TIMEOUT_SCALE) by the same."""

    def test_the_guest_scales_as_the_host(self):
        path = os.path.join(paths.TOP, "grading", "guest", "autograde.sh")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        scale = re.search(r"export LABKIT_TIMEOUT_SCALE=(\d+)", text)
        total = re.search(r"LAB_TEST_TIMEOUT=\$\(\(LAB_TEST_TIMEOUT \* "
                          r"(\d+)\)\)", text)
        self.assertIsNotNone(scale, "autograde.sh sets LABKIT_TIMEOUT_SCALE")
        self.assertIsNotNone(total, "autograde.sh scales LAB_TEST_TIMEOUT")
        self.assertEqual(vm.DEBUG_SLOWDOWN, int(scale.group(1)))
        self.assertEqual(vm.DEBUG_SLOWDOWN, int(total.group(1)))
        # userspace/harness_main.h takes 1 to 10.
        self.assertLessEqual(vm.DEBUG_SLOWDOWN, 10)


if __name__ == "__main__":
    unittest.main()
