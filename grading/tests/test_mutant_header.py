# SPDX-License-Identifier: GPL-2.0
"""labkit.mutants: a hand-written mutant's header (Caught-by, Verdict,
Kernels) and the kernels `make check` grades it on. No VM."""

import os
import tempfile
import unittest

from labkit import mutants
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

    def test_no_caught_by_is_an_error(self):
        with self.assertRaisesRegex(mutants.MutantError, "no Caught-by"):
            self.mutant("Verdict: complete")

    def test_fields_after_the_diff_are_not_the_header(self):
        m = self.mutant("Caught-by: a")
        with open(m.path, "a", encoding="utf-8") as f:
            f.write("Kernels: debug\n")
        self.assertIsNone(mutants.Mutant(None, m.path).kernels)


if __name__ == "__main__":
    unittest.main()
