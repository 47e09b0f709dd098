# SPDX-License-Identifier: GPL-2.0
"""The kit's typed verdicts: how a lab's run ended (Verdict), how one test
came out (Status), and what a graded mutant came to (MutantStatus).

Each is a str enum: a member is equal to its value ("complete" ==
Verdict.COMPLETE), hashes like it, and str(), f-strings, json, csv and
ElementTree all write the plain value, so the reports (results.json,
grades.csv, JUnit, grade-batch's resume files) are the same bytes as
when these were bare strings. Calling the enum on a string, as when a
saved result is read back, gives its member, or a ValueError that names
the values it could have been.

Not enum.StrEnum: that is Python 3.11, and Gradescope's image
(grading/gradescope/setup.sh, Ubuntu 22.04) has Python 3.10.
"""

import enum


class _Words(str, enum.Enum):
    """A str enum whose members each carry a docstring:
    NAME = "value", "what it means"."""

    def __new__(cls, value, doc=""):
        member = str.__new__(cls, value)
        member._value_ = value
        member.__doc__ = doc
        return member

    def __str__(self):
        return self.value

    def __format__(self, spec):
        return format(self.value, spec)

    @classmethod
    def _missing_(cls, value):
        known = ", ".join(repr(m.value) for m in cls)
        raise ValueError(f"{value!r} is not a {cls.__name__}: expected "
                         f"one of {known}")


class Verdict(_Words):
    """How the run of one lab ended."""


    COMPLETE = "complete", (
        "The autograder ran to its end mark. Each test scores what its "
        "result says; a test with no result fails (and is a kit error). "
        "A module that never loaded earns nothing.")
    CRASH = "crash", (
        "The kernel crashed: an oops, a panic, a CPU or a task stuck in "
        "the module. Tests that had finished keep their points; the rest "
        "fail with 0, the one that was running carries the crash report. "
        "JUnit error; a mutant that crashes is killed.")
    TIMEOUT = "timeout", (
        "The VM was stopped at its time limit. Scored as a crash: "
        "finished tests keep their points, the rest get 0, the running "
        "one carries the console's last lines.")
    FLOOD = "flood", (
        "The VM was stopped because its serial logs grew past "
        "vm.LOG_LIMIT (a printk flood). Scored as a crash.")
    ERROR = "error", (
        "The VM stopped without finishing for a reason that is not the "
        "module's crash (QEMU died, the results were cut short, every "
        "boot broke before the guest was ready), or the kit could not "
        "grade the lab. Finished tests keep their points, the rest get "
        "0; grade-batch does not save it, so a resumed batch grades it "
        "again. A mutant with this verdict is a kit error, not killed.")
    BUILD_FAILED = "build-failed", (
        "The modules did not build: one test, module_builds, worth the "
        "lab's full marks, scores 0 and shows the compiler's messages.")
    MISSING = "missing", (
        "The submission holds no files for the lab, or an archive that "
        "cannot be read: one test, files_submitted, worth the lab's full "
        "marks, scores 0.")


class Status(_Words):
    """How one test came out (None, not a member, while no result has
    been seen)."""


    PASSED = "passed", "The test passed: all its points."
    FAILED = "failed", "The test failed, or never ran: 0 points."


class MutantStatus(_Words):
    """What one graded mutant of `make mutation` came to."""


    KILLED = "killed", (
        "A test failed or the run did not complete: the tests caught it.")
    SURVIVED = "survived", (
        "Full marks: no test caught it (unless equivalent.txt says it "
        "is equivalent to the solution).")
    NOT_BUILT = "not built", "The mutated module did not build."
    ERROR = "error", (
        "The kit could not grade it (a kit error, a VM that broke): "
        "not counted as killed.")
