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

`make check` applies each one to a copy of the solution, grades it, and
fails unless every Caught-by test failed and the run ended as stated.
"""

import os
import re
import shutil
import subprocess

from . import paths


class MutantError(Exception):
    """A mutant whose patch no longer applies or whose header is wrong."""


class Mutant:
    """One mutant patch of one lab."""

    def __init__(self, lab, path):
        self.lab = lab
        self.path = path
        self.name = os.path.basename(path)[:-len(".patch")]
        with open(path, encoding="utf-8") as f:
            text = f.read()
        header = text.split("\n--- ", 1)[0]
        caught = re.search(r"^Caught-by:(.*)$", header, re.M)
        verdict = re.search(r"^Verdict:(.*)$", header, re.M)
        if not caught or not caught.group(1).split():
            raise MutantError(f"{path}: no Caught-by: line")
        #: Tests that must fail.
        self.caught_by = caught.group(1).split()
        #: How the VM run may end.
        self.verdicts = (verdict.group(1).split() if verdict
                         else ["complete"])

    def apply(self, kver):
        """Write the mutated lab tree for a run on KVER (runs on several
        kernels may go on at once); return the tree's root (the directory
        that holds NN-name/)."""
        root = os.path.join(paths.build_root(), "mutants", kver,
                            self.lab.name, self.name)
        lab_copy = os.path.join(root, self.lab.name)
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(self.lab.solution_dir, lab_copy)
        with open(self.path, "rb") as patch:
            proc = subprocess.run(
                ["patch", "-p1", "--forward", "--no-backup-if-mismatch",
                 "--reject-file=-", "-s", "-d", lab_copy],
                stdin=patch, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, check=False)
        if proc.returncode != 0:
            raise MutantError(f"{self.path} does not apply to "
                              f"solutions/{self.lab.name}:\n{proc.stdout}")
        return root

    def judge(self, result):
        """Return a list of reasons the mutant was NOT caught (empty when
        it was)."""
        missed = []
        for name in self.caught_by:
            test = result.test(name)
            if test is None:
                missed.append(f"{name}: no such test")
            elif test.status == "passed":
                missed.append(f"{name} passed")
        if result.verdict not in self.verdicts:
            missed.append(f"the run ended with {result.verdict}, "
                          f"not {' or '.join(self.verdicts)}")
        if result.score >= result.max_score:
            missed.append("the mutant scored full marks")
        return missed
