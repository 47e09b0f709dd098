# SPDX-License-Identifier: GPL-2.0
"""The kit's labs: where each lab's parts are, and which files are the
student's.

A lab NN-name has its reference solution in solutions/NN-name/ (the one
source of the module), the generated skeleton and handout in labs/NN-name/,
and its test program and autograder in labs/NN-name/tests/. The student's
files are the C sources and headers of the solution: everything else a
build or a test needs always comes from the kit itself, so a submission
cannot change its own tests.
"""

import os
import re

from . import paths

_LAB_DIR = re.compile(r"^(\d\d)-[a-z0-9-]+$")


class LabError(Exception):
    """A lab that does not exist, or a tree that lacks a lab's files."""


#: Wall-clock limit of one VM run, in seconds, unless a lab needs more.
DEFAULT_VM_TIMEOUT = 120


class Lab:
    """One numbered lab of the kit."""

    def __init__(self, name):
        self.name = name
        self.number = name[:2]
        self.solution_dir = os.path.join(paths.TOP, "solutions", name)
        self.lab_dir = os.path.join(paths.TOP, "labs", name)
        self.tests_dir = os.path.join(self.lab_dir, "tests")
        self.mutants_dir = os.path.join(paths.TOP, "grading", "mutants",
                                        name)

    def __repr__(self):
        return f"Lab({self.name!r})"

    @property
    def student_files(self):
        """Names of the files a student writes (the solution's sources)."""
        return sorted(f for f in os.listdir(self.solution_dir)
                      if f.endswith((".c", ".h")))

    @property
    def kit_files(self):
        """Names of the module's build files, always taken from the kit."""
        return sorted(f for f in os.listdir(self.solution_dir)
                      if f not in self.student_files)

    @property
    def test_sources(self):
        """The test program's C sources in labs/NN-name/tests/."""
        return sorted(os.path.join(self.tests_dir, f)
                      for f in os.listdir(self.tests_dir)
                      if f.endswith(".c"))

    @property
    def test_program(self):
        """The test program's name: its one C source without .c."""
        sources = self.test_sources
        if len(sources) != 1:
            raise LabError(f"{self.tests_dir} must hold exactly one test "
                           f"program source, not {len(sources)}")
        return os.path.basename(sources[0])[:-2]

    @property
    def grade_script(self):
        """The lab's autograder."""
        return os.path.join(self.tests_dir, "grade.sh")

    @property
    def vm_timeout(self):
        """Wall-clock seconds a VM run of this lab may take:
        DEFAULT_VM_TIMEOUT, or the test program's own limit
        (LAB_TEST_TIMEOUT=N in grade.sh) plus 30 for booting, loading and
        unloading, whichever is more."""
        with open(self.grade_script, encoding="utf-8") as script:
            match = re.search(r"^LAB_TEST_TIMEOUT=(\d+)\s*$", script.read(),
                              re.MULTILINE)
        limit = int(match.group(1)) + 30 if match else 0
        return max(DEFAULT_VM_TIMEOUT, limit)

    def mutants(self):
        """The lab's mutant patches, sorted by name."""
        if not os.path.isdir(self.mutants_dir):
            return []
        return sorted(os.path.join(self.mutants_dir, f)
                      for f in os.listdir(self.mutants_dir)
                      if f.endswith(".patch"))


def all_labs():
    """Every lab that has a reference solution, in order."""
    root = os.path.join(paths.TOP, "solutions")
    return [Lab(d) for d in sorted(os.listdir(root))
            if _LAB_DIR.match(d) and os.path.isdir(os.path.join(root, d))]


def find(spec):
    """The lab named by SPEC: its number ("1", "01") or its full name."""
    labs = all_labs()
    for lab in labs:
        if spec in (lab.name, lab.number) or (
                spec.isdigit() and int(spec) == int(lab.number)):
            return lab
    names = ", ".join(lab.name for lab in labs)
    raise LabError(f"no lab {spec!r} (the labs are: {names})")
