# SPDX-License-Identifier: GPL-2.0
"""batch.kit_digest, the half of grade-batch's resume key that is the
kit's: it changes with anything that can change a lab's grade, and with
nothing else."""

import os
import unittest
from unittest import mock

from labkit import batch, vm

from .support import kit

KVER = "6.12.117+deb12-amd64"


class KitDigest(unittest.TestCase):

    def setUp(self):
        self._kit = kit()
        self.top, (self.lab, self.other) = self._kit.__enter__()
        self.addCleanup(self._kit.__exit__, None, None, None)
        self.env = mock.patch.dict(os.environ, {"LABKIT_VCPUS": "2"})
        self.env.start()
        self.addCleanup(self.env.stop)
        self.before = batch.kit_digest(self.lab, KVER)

    def edit(self, rel, text="/* changed */\n"):
        path = os.path.join(self.top, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)

    def assertChanges(self, rel):
        self.edit(rel)
        self.assertNotEqual(self.before, batch.kit_digest(self.lab, KVER),
                            f"editing {rel} must change the key")

    def assertKeeps(self, rel):
        self.edit(rel)
        self.assertEqual(self.before, batch.kit_digest(self.lab, KVER),
                         f"editing {rel} must not change the key")

    def test_same_kit_gives_the_same_key(self):
        self.assertEqual(self.before, batch.kit_digest(self.lab, KVER))

    def test_changed_test_program_changes_the_key(self):
        self.assertChanges("labs/01-demo-lab/tests/test_demo.c")

    def test_changed_points_file_changes_the_key(self):
        self.assertChanges("labs/01-demo-lab/tests/points")

    def test_changed_grade_sh_changes_the_key(self):
        self.assertChanges("labs/01-demo-lab/tests/grade.sh")

    def test_new_file_in_the_tests_directory_changes_the_key(self):
        self.assertChanges("labs/01-demo-lab/tests/fixture.h")

    def test_changed_hidden_test_changes_the_key(self):
        self.assertChanges("grading/hidden/01-demo-lab/hidden_demo.c")

    def test_changed_hidden_points_change_the_key(self):
        self.assertChanges("grading/hidden/01-demo-lab/points")

    def test_changed_userspace_source_changes_the_key(self):
        self.assertChanges("userspace/helper.c")

    def test_changed_userspace_header_changes_the_key(self):
        self.assertChanges("userspace/helper.h")

    def test_new_userspace_helper_changes_the_key(self):
        self.assertChanges("userspace/newhelper.c")

    def test_changed_guest_autograder_changes_the_key(self):
        self.assertChanges("grading/guest/autograde.sh")

    def test_changed_guest_init_changes_the_key(self):
        self.assertChanges("grading/guest/init")

    def test_changed_kbuild_of_the_lab_changes_the_key(self):
        self.assertChanges("labs/01-demo-lab/Kbuild")

    def test_changed_common_header_changes_the_key(self):
        self.assertChanges("common/kcompat.h")

    def test_changed_name_taker_changes_the_key(self):
        self.assertChanges("grading/kmod/labkit_name_taker.c")

    def test_changed_kbuild_of_the_kit_modules_changes_the_key(self):
        self.assertChanges("grading/kmod/Kbuild")

    def test_renamed_test_file_changes_the_key(self):
        tests = os.path.join(self.top, "labs/01-demo-lab/tests")
        os.rename(os.path.join(tests, "test_demo.c"),
                  os.path.join(tests, "test_demo2.c"))
        self.assertNotEqual(self.before, batch.kit_digest(self.lab, KVER))

    def test_other_kernel_changes_the_key(self):
        self.assertNotEqual(self.before,
                            batch.kit_digest(self.lab, "6.1.0-57-amd64"))

    def test_other_vcpu_count_changes_the_key(self):
        with mock.patch.dict(os.environ, {"LABKIT_VCPUS": "1"}):
            self.assertNotEqual(self.before,
                                batch.kit_digest(self.lab, KVER))

    def test_other_kernel_command_line_changes_the_key(self):
        with mock.patch.object(vm, "CMDLINE", vm.CMDLINE + " nosmp"):
            self.assertNotEqual(self.before,
                                batch.kit_digest(self.lab, KVER))

    def test_other_machine_changes_the_key(self):
        with mock.patch.object(vm, "MACHINE", ["-M", "q35", "-cpu", "max"]):
            self.assertNotEqual(self.before,
                                batch.kit_digest(self.lab, KVER))

    def test_other_accelerator_changes_the_key(self):
        with mock.patch.dict(os.environ, {"ACCEL": "kvm"}):
            self.assertNotEqual(self.before,
                                batch.kit_digest(self.lab, KVER))

    def test_other_time_limit_changes_the_key(self):
        from labkit import labs
        with mock.patch.object(labs, "DEFAULT_VM_TIMEOUT",
                               labs.DEFAULT_VM_TIMEOUT + 1):
            self.assertNotEqual(self.before,
                                batch.kit_digest(self.lab, KVER))
        with mock.patch.object(vm, "BOOT_SECS", vm.BOOT_SECS + 1):
            self.assertNotEqual(self.before,
                                batch.kit_digest(self.lab, KVER))

    def test_other_guest_memory_changes_the_key(self):
        args = vm.machine_args()
        more = [a.replace("256M", "512M") for a in args]
        with mock.patch.object(vm, "machine_args", return_value=more):
            self.assertNotEqual(self.before,
                                batch.kit_digest(self.lab, KVER))

    def test_a_rebuilt_debug_kernel_changes_the_key(self):
        from labkit import kernels
        with mock.patch.object(kernels, "_debug_id", return_value="a"):
            first = batch.kit_digest(self.lab, kernels.DEBUG)
        with mock.patch.object(kernels, "_debug_id", return_value="b"):
            self.assertNotEqual(first,
                                batch.kit_digest(self.lab, kernels.DEBUG))

    def test_changed_build_or_initramfs_code_changes_the_key(self):
        for name in batch.RUN:
            with self.subTest(name):
                self.before = batch.kit_digest(self.lab, KVER)
                self.assertChanges(f"grading/labkit/{name}")

    def test_handout_does_not_change_the_key(self):
        self.assertKeeps("labs/01-demo-lab/README.md")

    def test_docs_do_not_change_the_key(self):
        self.assertKeeps("docs/grading.md")
        self.assertKeeps("README.md")

    def test_reference_solution_does_not_change_the_key(self):
        self.assertKeeps("solutions/01-demo-lab/demo.c")

    def test_skeleton_does_not_change_the_key(self):
        self.assertKeeps("labs/01-demo-lab/demo.c")

    def test_bench_sources_do_not_change_the_key(self):
        self.assertKeeps("userspace/bench/fifo_bench.c")

    def test_changed_scorer_changes_the_key(self):
        for name in batch.SCORER:
            with self.subTest(name):
                self.before = batch.kit_digest(self.lab, KVER)
                self.assertChanges(f"grading/labkit/{name}")

    def test_other_host_code_does_not_change_the_key(self):
        self.assertKeeps("grading/labkit/dist.py")

    def test_other_labs_tests_do_not_change_the_key(self):
        self.assertKeeps("labs/02-next-lab/tests/test_next.c")

    def test_editor_droppings_do_not_change_the_key(self):
        self.assertKeeps("labs/01-demo-lab/tests/.test_demo.c.swp")

    def test_labs_have_different_keys(self):
        self.assertNotEqual(self.before, batch.kit_digest(self.other, KVER))

    def test_key_of_the_real_kit_is_computed(self):
        from labkit import labs, paths
        with mock.patch.object(paths, "TOP", self._real_top()):
            lab = labs.find("01")
            self.assertRegex(batch.kit_digest(lab, KVER), r"^[0-9a-f]{64}$")

    @staticmethod
    def _real_top():
        here = os.path.dirname(os.path.abspath(__file__))
        return os.path.dirname(os.path.dirname(here))


if __name__ == "__main__":
    unittest.main()
