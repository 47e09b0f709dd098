# SPDX-License-Identifier: GPL-2.0
"""Mutants: realistic bugs applied to a reference solution, each of which
the lab's tests must catch.

grading/mutants/NN-name/NAME.patch is a unified diff against the files of
solutions/NN-name/, preceded by a header:

    Mutant: NAME
    (what the bug is and why it is realistic)
    Caught-by: TEST [TEST...]     tests that must fail
    Verdict: complete|crash|timeout   how the VM run must end (several
                                      words: any of them)
    Kernels: debug                    optional: the kernels (releases, or
                                      "debug" for the kit's debug kernel)
                                      the mutant is checked on; without
                                      it, every kernel. For bugs only the
                                      debug kernel's checks (lockdep,
                                      KASAN...) can see.

`make check` applies each one to a copy of the solution, grades it, and
fails unless every Caught-by test failed and the run ended as stated. A
mutant whose run must complete and whose Caught-by tests are all the test
program's is graded on those tests only (Mutant.tests_to_run): they alone
judge it, and the run takes seconds instead of the whole program's
minute; the others are graded on every test.
"""

import os
import re
import shutil
import subprocess

from . import paths
from .verdicts import Status, Verdict


#: The autograder's own checks (grading/guest/autograde.sh): they judge
#: what every test of the program did, so a mutant caught by one of them
#: is graded on every test.
AUTOGRADER_CHECKS = frozenset(("module_loads", "module_unloads",
                               "kernel_log_clean"))


class MutantError(Exception):
    """A mutant whose patch no longer applies or whose header is wrong."""


def patch_header(path):
    """The "Key: value" lines of the header of patch PATH (the text before
    its first "--- " line), as a dict."""
    with open(path, encoding="utf-8") as f:
        header = f.read().split("\n--- ", 1)[0]
    return {m.group(1): m.group(2).strip()
            for m in re.finditer(r"^([A-Z][A-Za-z-]*):(.*)$", header, re.M)}


def patched_solution(lab, patch_path, root):
    """Copy LAB's solution to ROOT/LAB and apply PATCH_PATH to the copy."""
    lab_copy = os.path.join(root, lab.name)
    shutil.copytree(lab.solution_dir, lab_copy)
    with open(patch_path, "rb") as patch:
        proc = subprocess.run(
            ["patch", "-p1", "--forward", "--no-backup-if-mismatch",
             "--reject-file=-", "-s", "-d", lab_copy],
            stdin=patch, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, check=False)
    if proc.returncode != 0:
        raise MutantError(f"{patch_path} does not apply to "
                          f"solutions/{lab.name}:\n{proc.stdout}")


class Mutant:
    """One mutant patch of one lab."""

    def __init__(self, lab, path):
        self.lab = lab
        self.path = path
        self.name = os.path.basename(path)[:-len(".patch")]
        fields = patch_header(path)
        if not fields.get("Caught-by"):
            raise MutantError(f"{path}: no Caught-by: line")
        #: Tests that must fail.
        self.caught_by = fields["Caught-by"].split()
        #: How the VM run may end.
        try:
            self.verdicts = [Verdict(word) for word in
                             fields.get("Verdict", Verdict.COMPLETE).split()]
        except ValueError as e:
            raise MutantError(f"{path}: Verdict: {e}") from e
        #: The kernels it is checked on (None: every kernel).
        self.kernels = fields.get("Kernels", "").split() or None

    def checked_on(self, kver):
        """Whether `make check` grades this mutant on KVER."""
        return self.kernels is None or kver in self.kernels

    def tests_to_run(self):
        """The tests of the lab's program make check runs for this mutant:
        its Caught-by tests, or () for every test. Every test when one of
        them is an autograder check (AUTOGRADER_CHECKS), or when the run
        may end in a crash or a timeout, which any test may be the one to
        cause."""
        if (self.verdicts != [Verdict.COMPLETE]
                or AUTOGRADER_CHECKS & set(self.caught_by)):
            return ()
        return tuple(self.caught_by)

    def apply(self, kver):
        """Write the mutated lab tree for a run on KVER (runs on several
        kernels may go on at once); return the tree's root (the directory
        that holds NN-name/)."""
        root = os.path.join(paths.build_root(), "mutants", kver,
                            self.lab.name, self.name)
        shutil.rmtree(root, ignore_errors=True)
        patched_solution(self.lab, self.path, root)
        return root

    def judge(self, result):
        """Return a list of reasons the mutant was NOT caught (empty when
        it was)."""
        missed = []
        for name in self.caught_by:
            test = result.test(name)
            if test is None:
                missed.append(f"{name}: no such test")
            elif test.status == Status.PASSED:
                missed.append(f"{name} passed")
        if result.verdict not in self.verdicts:
            missed.append(f"the run ended with {result.verdict}, "
                          f"not {' or '.join(self.verdicts)}")
        if result.score >= result.max_score:
            missed.append("the mutant scored full marks")
        return missed


def taking_turns(muts, kvers):
    """The one kernel of KVERS (Debian's) that `make check` grades each
    mutant of MUTS written for every kernel (no Kernels: line) on: the
    kernels take turns down the list, so that each lab's mutants go to
    every kernel. Returns {mutant: kernel}; mutants with a Kernels: line
    are not in it (they go where it says). Grading each on both of
    Debian's kernels took about 15 minutes of CI's 90; the rules a mutant
    breaks are the same on both, and each solution's check that no test
    checked less on a kernel keeps the tests whole on both."""
    if not kvers:
        return {}
    general = [m for m in muts if m.kernels is None]
    return {m: kvers[i % len(kvers)] for i, m in enumerate(general)}
