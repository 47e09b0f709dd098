# SPDX-License-Identifier: GPL-2.0
"""labkit.mutants: a hand-written mutant's header (Caught-by, Verdict,
Kernels), the kernels and tests `make check` grades it on, and the run
line that asks the guest for those tests. No VM."""

import os
import tempfile
import unittest

from labkit import mutants, vm
from labkit.verdicts import Verdict

from .support import write

PATCH = """Mutant: {name}

A bug, and why a student writes it.

{fields}
--- a/demo.c
+++ b/demo.c
@@ -1 +1 @@
-int a;
+int b;
"""


class Header(unittest.TestCase):

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="labkit-unit-")
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name

    def mutant(self, fields, name="demo-bug"):
        path = write(os.path.join(self.dir, f"{name}.patch"),
                     PATCH.format(name=name, fields=fields))
        return mutants.Mutant(None, path)

    def test_without_kernels_it_is_checked_on_every_kernel(self):
        m = self.mutant("Caught-by: a b\nVerdict: complete crash")
        self.assertEqual(["a", "b"], m.caught_by)
        self.assertEqual([Verdict.COMPLETE, Verdict.CRASH], m.verdicts)
        self.assertIsNone(m.kernels)
        self.assertTrue(m.checked_on("6.12.117+deb12-amd64"))
        self.assertTrue(m.checked_on("debug"))

    def test_kernels_debug_is_checked_on_the_debug_kernel_only(self):
        m = self.mutant("Caught-by: kernel_log_clean\nKernels: debug")
        self.assertEqual(["debug"], m.kernels)
        self.assertTrue(m.checked_on("debug"))
        self.assertFalse(m.checked_on("6.12.117+deb12-amd64"))
        self.assertFalse(m.checked_on("6.1.0-57-amd64"))
        self.assertEqual([Verdict.COMPLETE], m.verdicts)

    def test_debians_kernels_take_turns(self):
        six1, six12 = "6.1.0-57-amd64", "6.12.117+deb12-amd64"
        bugs = [self.mutant("Caught-by: a", f"bug-{i}") for i in range(5)]
        only_debug = self.mutant("Caught-by: a\nKernels: debug", "dbg")
        turns = mutants.taking_turns(bugs[:2] + [only_debug] + bugs[2:],
                                     [six1, six12])
        self.assertEqual([six1, six12, six1, six12, six1],
                         [turns[m] for m in bugs])
        self.assertNotIn(only_debug, turns, "it goes where it says")
        self.assertEqual({m: six12 for m in bugs},
                         mutants.taking_turns(bugs, [six12]),
                         "one kernel: every mutant on it")
        self.assertEqual({}, mutants.taking_turns(bugs, []))

    def test_no_caught_by_is_an_error(self):
        with self.assertRaisesRegex(mutants.MutantError, "no Caught-by"):
            self.mutant("Verdict: complete")

    def test_fields_after_the_diff_are_not_the_header(self):
        m = self.mutant("Caught-by: a")
        with open(m.path, "a", encoding="utf-8") as f:
            f.write("Kernels: debug\n")
        self.assertIsNone(mutants.Mutant(None, m.path).kernels)

    def test_a_mutant_that_completes_runs_its_caught_by_tests_only(self):
        m = self.mutant("Caught-by: a_test b_test\nVerdict: complete")
        self.assertEqual(("a_test", "b_test"), m.tests_to_run())
        self.assertEqual(("a_test",),
                         self.mutant("Caught-by: a_test").tests_to_run())

    def test_a_crash_or_a_timeout_runs_every_test(self):
        # Any test may be the one that crashes or hangs the guest.
        for verdict in ("crash", "timeout", "complete crash"):
            m = self.mutant(f"Caught-by: a_test\nVerdict: {verdict}")
            self.assertEqual((), m.tests_to_run(), verdict)

    def test_an_autograder_check_runs_every_test(self):
        # kernel_log_clean and the module checks judge every test's calls.
        for check in ("kernel_log_clean", "module_unloads", "module_loads"):
            m = self.mutant(f"Caught-by: a_test {check}")
            self.assertEqual((), m.tests_to_run(), check)


class RunLine(unittest.TestCase):
    """vm.run_line: how the host asks the guest for a run (guest/init)."""

    def setUp(self):
        saved = os.environ.pop("LABKIT_SEED", None)
        if saved is not None:
            self.addCleanup(os.environ.__setitem__, "LABKIT_SEED", saved)

    def test_a_graded_run_names_its_token_only(self):
        self.assertEqual("labkit-run 00ff\n", vm.run_line("00ff"))

    def test_only_and_seed_are_words_of_their_own(self):
        self.assertEqual("labkit-run 00ff only=a_b,c9\n",
                         vm.run_line("00ff", ("a_b", "c9")))
        os.environ["LABKIT_SEED"] = "42"
        self.addCleanup(os.environ.pop, "LABKIT_SEED")
        self.assertEqual("labkit-run 00ff seed=42 only=t\n",
                         vm.run_line("00ff", ("t",)))

    def test_a_name_the_guest_would_refuse_is_refused_here(self):
        for name in ("a,b", "a b", "A", "-t", "", "a\n"):
            with self.assertRaises(ValueError, msg=name):
                vm.run_line("00ff", (name,))


if __name__ == "__main__":
    unittest.main()
