# SPDX-License-Identifier: GPL-2.0
"""The kit's labs: where each lab's parts are, and which files are the
student's.

A lab NN-name has its reference solution in solutions/NN-name/ (the one
source of the module), the generated skeleton and handout in labs/NN-name/,
and its test program, autograder and points file in
labs/NN-name/tests/. The student's
files are the C sources and headers of the solution: everything else a
build or a test needs always comes from the kit itself, so a submission
cannot change its own tests.
"""

import os
import re

from . import paths, points

_LAB_DIR = re.compile(r"^(\d\d)-[a-z0-9-]+$")


class LabError(Exception):
    """A lab that does not exist, or a tree that lacks a lab's files."""


#: Gradescope's visibilities a hidden test may have.
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")

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
        #: The instructor's hidden tests, if any: a test program
        #: hidden_*.c and a file "points" (never in the student kit).
        self.hidden_dir = os.path.join(paths.TOP, "grading", "hidden", name)

    def __repr__(self):
        return f"Lab({self.name!r})"

    @property
    def _module_dir(self):
        """Where the module's files are listed from: the solution, or in a
        kit without solutions/ (the student tarball, Gradescope's copy)
        the skeleton, which has the same files."""
        if os.path.isdir(self.solution_dir):
            return self.solution_dir
        return self.lab_dir

    @property
    def student_files(self):
        """Names of the files a student writes (the solution's sources)."""
        return sorted(f for f in os.listdir(self._module_dir)
                      if f.endswith((".c", ".h")))

    @property
    def kit_files(self):
        """Names of the module's build files (Kbuild, Makefile), always
        taken from the kit."""
        here = self._module_dir
        return sorted(f for f in os.listdir(here)
                      if f not in self.student_files and f != "README.md"
                      and os.path.isfile(os.path.join(here, f)))

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

    @property
    def points_file(self):
        """The lab's points file, tests/points: "NAME POINTS" per line,
        adding up to 100 (see labkit.points)."""
        return os.path.join(self.tests_dir, "points")

    @property
    def points(self):
        """The lab's points table, [(test name, points)], as the kit's own
        tests/points states it, followed by the hidden tests' if there
        are any: what the host expects the guest to report, and what each
        result is worth, whatever the guest says. A LabError for a points
        file that is missing or malformed, or a hidden test that has the
        name of one of the lab's own."""
        table = self._read(self.points_file)
        hidden = [(name, points) for name, points, _ in
                  self._hidden_table()]
        mine = {name for name, _ in table}
        for name, _ in hidden:
            if name in mine:
                raise LabError(f"{self.hidden_points_file}: {name} is "
                               f"also in {self.points_file}")
        return table + hidden

    @staticmethod
    def _read(path, visibilities=None):
        """points.read(PATH, VISIBILITIES), its errors as LabErrors."""
        try:
            return points.read(path, visibilities)
        except points.PointsError as e:
            raise LabError(str(e)) from e

    @property
    def full_marks(self):
        """What the lab is worth: its 100, plus its hidden tests' points
        (see points.exact)."""
        return points.exact(sum(worth for _, worth in self.points))

    @property
    def volume_tests(self):
        """The names of the lab's volume tests, its own and its hidden
        ones (the points files' rows marked points.VOLUME): their points
        count only when every other test passed (results.from_run)."""
        return (self._read(self.points_file).volume
                | self._hidden_table().volume)

    @property
    def visibility(self):
        """{test name: Gradescope visibility} of the hidden tests."""
        return {name: seen for name, _, seen in self._hidden_table()}

    @property
    def hidden_points_file(self):
        """The hidden tests' points file (it may not exist)."""
        return os.path.join(self.hidden_dir, "points")

    @property
    def hidden_sources(self):
        """The hidden test program's C sources, or [] without one."""
        if not os.path.isfile(self.hidden_points_file):
            return []
        return sorted(os.path.join(self.hidden_dir, f)
                      for f in os.listdir(self.hidden_dir)
                      if f.startswith("hidden_") and f.endswith(".c"))

    def _hidden_table(self):
        """[(name, points, visibility)] from the hidden points file."""
        if not self.hidden_sources:
            return points.Table()
        return self._read(self.hidden_points_file, VISIBILITIES)

    def mutants(self):
        """The lab's mutant patches, sorted by name."""
        if not os.path.isdir(self.mutants_dir):
            return []
        return sorted(os.path.join(self.mutants_dir, f)
                      for f in os.listdir(self.mutants_dir)
                      if f.endswith(".patch"))


def all_labs():
    """Every lab that has a reference solution (or, in a kit without
    solutions/, a skeleton), in order."""
    root = os.path.join(paths.TOP, "solutions")
    if not os.path.isdir(root):
        root = os.path.join(paths.TOP, "labs")
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
