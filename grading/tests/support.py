# SPDX-License-Identifier: GPL-2.0
"""What the unit tests share: the canned transcripts in data/, a stand-in
for a lab with a fixed points table, VM outcomes, and a small copy of the
kit's tree to point labkit at."""

import contextlib
import os
import tempfile
from unittest import mock

from labkit import labs, paths, results, vm

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
from labkit.verdicts import Verdict

#: Lab 01's points table when the canned transcripts were captured
#: (its points file, then the hidden tests'): the host's table for them,
#: whatever the kit's tests/points says today.
LAB01_POINTS = [
    ("module_loads", 5),
    ("node_is_world_rw_char_device", 5),
    ("reopen_reads_back_exactly", 10),
    ("echo_then_cat", 5),
    ("read_stops_at_end_of_data", 5),
    ("read_in_small_chunks_reaches_eof", 5),
    ("write_is_cut_short_at_the_end", 10),
    ("write_when_full_fails_with_enospc", 10),
    ("o_trunc_empties_the_buffer", 5),
    ("o_append_appends", 5),
    ("lseek_moves_within_the_buffer", 5),
    ("write_past_end_leaves_zero_hole", 5),
    ("bad_pointer_gives_efault", 5),
    ("reader_never_sees_half_a_write", 10),
    ("module_unloads", 5),
    ("kernel_log_clean", 5),
    ("pwrite_pread_keep_the_file_offset", 5),
    ("one_byte_appends_fill_it_exactly", 5),
]

LAB01_VISIBILITY = {"pwrite_pread_keep_the_file_offset": "after_published",
                    "one_byte_appends_fill_it_exactly": "hidden"}


#: A lab whose tests are worth halves too, as Labs 05 and 06 are about
#: to be: its own tests add up to 100, and a hidden test worth 2.5
#: comes on top.
HALVES_POINTS = [
    ("module_loads", 5),
    ("works", 81.5),
    ("tiny_a", 0.5),
    ("tiny_b", 0.5),
    ("small", 2.5),
    ("module_unloads", 5),
    ("kernel_log_clean", 5),
    ("secret", 2.5),
]


class FakeLab:
    """What results.from_run and friends read of a labs.Lab, with a points
    table given here instead of read from a points file."""

    def __init__(self, name="01-flat-buffer", points=None, visibility=None,
                 student_files=("flatbuf.c",), volume_tests=()):
        self.name = name
        self.volume_tests = frozenset(volume_tests)
        self.number = name[:2]
        self.points = list(LAB01_POINTS if points is None else points)
        self.visibility = dict(LAB01_VISIBILITY if visibility is None
                               else visibility)
        self.student_files = list(student_files)

    @property
    def full_marks(self):
        return sum(p for _, p in self.points)


def halves_lab():
    """A FakeLab with the table HALVES_POINTS, its last test hidden."""
    return FakeLab("05-poll", points=HALVES_POINTS,
                   visibility={"secret": "hidden"})


def run_halves(failed=("tiny_b", "small")):
    """A complete run of halves_lab() in which the tests FAILED failed
    and the others passed: 99.5 of 102.5 by default."""
    text = "KTAP version 1\n# lab 05-poll\n"
    for number, (name, _) in enumerate(HALVES_POINTS, 1):
        text += (f"# {name}: it failed\nnot ok {number} {name}\n"
                 if name in failed else f"ok {number} {name}\n")
    return run(text, lab=halves_lab())


def transcript(name):
    """The canned autograder output data/NAME, without its first line
    (the "# canned: ..." comment that says what it is)."""
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        first, rest = f.read().split("\n", 1)
    assert first.startswith("# canned: "), f"{name}: no '# canned:' line"
    return rest


def data_text(name):
    """The file data/NAME as it is."""
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return f.read()


def run(text, verdict=Verdict.COMPLETE, detail="", lab=None, elapsed=12.5):
    """results.from_run on autograder output TEXT, as a VM run that ended
    with VERDICT (and DETAIL) would give it."""
    outcome = vm.Outcome(verdict, text, "", elapsed, detail)
    return results.from_run(lab or FakeLab(), "6.12.117+deb12-amd64",
                            "labs", outcome)


def scores(result):
    """{test name: score} of a LabResult."""
    return {t.name: t.score for t in result.tests}


def statuses(result):
    """{test name: status} of a LabResult."""
    return {t.name: t.status for t in result.tests}


def write(path, data=b"", mode=None):
    """Create file PATH (and its folders) holding DATA (bytes or text)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    if mode is not None:
        os.chmod(path, mode)
    return path


#: The labs of the small kit make_kit() builds: {name: student file}.
KIT_LABS = {"01-demo-lab": "demo", "02-next-lab": "next"}
KIT_LAB = "01-demo-lab"


def make_kit(top):
    """A small copy of the kit's tree under TOP with the labs KIT_LABS:
    what labs.Lab and batch.kit_digest look at, plus files they must
    ignore (docs, handouts, the bench's sources, host code that is not
    the scorer)."""
    files = {
        "README.md": "# the kit\n",
        "docs/grading.md": "how grading works\n",
        "common/kcompat.h": "/* shims */\n",
        "common/module.mk": "all:\n",
        "grading/guest/autograde.sh": "lab_grade() { :; }\n",
        "grading/guest/init": "#!/bin/sh\n",
        "grading/labkit/results.py": "# the host's scorer\n",
        "grading/labkit/points.py": "# the points files\n",
        "grading/labkit/verdicts.py": "# the verdicts\n",
        "grading/labkit/dist.py": "# host code that is not the scorer\n",
        "userspace/helper.c": "int helper;\n",
        "userspace/helper.h": "int helper;\n",
        "userspace/bench/fifo_bench.c": "int main(void) {}\n",
    }
    for lab, base in KIT_LABS.items():
        for tree in ("solutions", "labs"):
            files.update({
                f"{tree}/{lab}/{base}.c": f"int {base};\n",
                f"{tree}/{lab}/{base}.h": f"extern int {base};\n",
                f"{tree}/{lab}/Kbuild": f"obj-m := {base}.o\n",
                f"{tree}/{lab}/Makefile": "include ../../common/module.mk\n",
            })
        files.update({
            f"labs/{lab}/README.md": f"# {lab}: the handout\n",
            f"labs/{lab}/tests/test_{base}.c": "TEST(works) {}\n",
            f"labs/{lab}/tests/grade.sh": (
                f"LAB={lab}\nLAB_TEST_TIMEOUT=200\n"),
            f"labs/{lab}/tests/points": (
                "# the autograder rows and the tests\n"
                "module_loads 10\nworks 80\nmodule_unloads 5\n"
                "kernel_log_clean 5\n"),
        })
    files.update({
        f"grading/hidden/{KIT_LAB}/points": "secret 10 hidden\n",
        f"grading/hidden/{KIT_LAB}/hidden_demo.c": "TEST(secret) {}\n",
    })
    for rel, text in files.items():
        write(os.path.join(top, rel), text)
    return top


@contextlib.contextmanager
def kit():
    """A fresh small kit (make_kit) in a temporary directory, with labkit
    pointed at it (paths.TOP); yields (top, [labs.Lab of each lab])."""
    with tempfile.TemporaryDirectory(prefix="labkit-unit-") as tmp:
        top = make_kit(os.path.join(tmp, "kit"))
        with mock.patch.object(paths, "TOP", top):
            yield top, [labs.Lab(name) for name in KIT_LABS]
