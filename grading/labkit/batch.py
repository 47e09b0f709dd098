# SPDX-License-Identifier: GPL-2.0
"""Grade many submissions, several VMs at once, and pick up where an
interrupted batch stopped.

Each (student, lab) pair is one VM run; up to JOBS run at once. Every
finished pair is saved at once to OUT/state/STUDENT/LAB.json with a
digest of the submission and one of how the kit grades the lab (its
tests, the guest, the host's scorer, the kernel, the VM: see
kit_digest), so a batch started again skips what it already graded and
regrades only what changed: a submission handed in again, or a test or
the scorer fixed since. At the end come
OUT/grades.csv (one row per student and lab) and, per student,
OUT/reports/STUDENT.txt (the table students see) and
OUT/reports/STUDENT.json (Gradescope's results.json).
"""

import concurrent.futures
import csv
import glob
import hashlib
import json
import os
import threading
import time

from . import kernels, labs, paths, results, submission, vm
from .points import out_of, show
from .verdicts import Verdict


#: The host's scorer (grading/labkit/): the modules that turn what the
#: guest reported into points, verdicts and the hints a report shows. A
#: grade saved by an older scorer is not the grade this one would give.
SCORER = ("results.py", "points.py", "verdicts.py", "hints.py")

#: The host's modules that decide what a VM run is, beside the guest's
#: scripts: how the module and the test program are built (flags, the
#: kit's Kbuild use) and what the guest's initramfs holds.
RUN = ("build.py", "initramfs.py")


def _kit_files(lab, top):
    """The files of the kit (under TOP) that decide how LAB is graded:
    its tests directory (test program, grade.sh, its points file), its
    hidden tests and their points, the shared userspace/ sources linked
    into every test program, the guest's scripts (grading/guest/), what
    the build of a student's module takes from the kit (the lab's Kbuild
    and Makefile, common/*.h), the kit's own modules that the tests load
    beside the lab's (grading/kmod/, build.KIT_MODULES), and the
    host's scorer (SCORER). Sorted paths."""
    found = set()
    for folder in (lab.tests_dir, lab.hidden_dir,
                   os.path.join(top, "grading", "guest")):
        for root, dirs, names in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            found.update(os.path.join(root, n) for n in names
                         if not n.startswith("."))
    for pattern in ("userspace/*.c", "userspace/*.h", "common/*.h",
                    "grading/kmod/*"):
        found.update(glob.glob(os.path.join(top, pattern)))
    found.update(os.path.join(lab.lab_dir, name) for name in lab.kit_files)
    found.update(os.path.join(top, "grading", "labkit", name)
                 for name in SCORER + RUN)
    return sorted(f for f in found if os.path.isfile(f))


def vm_settings(kver):
    """What decides a run on KVER besides the kit's files: the kernel
    (the debug kernel by its build: rebuilt with another configuration,
    it is another kernel), QEMU's machine (accelerator, memory, CPUs,
    kernel command line: vm.machine_args) and the time limits a run and
    a boot get."""
    return [kernels.identity(kver) if kver else "", *vm.machine_args(),
            str(labs.DEFAULT_VM_TIMEOUT), str(vm.DEBUG_SLOWDOWN),
            str(vm.BOOT_SECS), str(vm.BEGIN_SECS), str(vm.BOOT_TRIES)]


def kit_digest(lab, kver, top=None):
    """A digest of everything of the kit that can change LAB's grade on
    KVER, beside the submission: vm_settings(KVER) and the contents of
    _kit_files() under TOP (default: this kit). A changed test or guest
    script changes it; a handout or a doc does not."""
    top = top or paths.TOP
    h = hashlib.sha256()
    for setting in vm_settings(kver):
        h.update(setting.encode() + b"\0")
    for path in _kit_files(lab, top):
        h.update(os.path.relpath(path, top).encode() + b"\0")
        with open(path, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def digest(path):
    """A digest of submission PATH: its bytes, or for a directory its
    files' names and bytes."""
    h = hashlib.sha256()
    if os.path.isdir(path):
        for top, dirs, names in sorted(os.walk(path)):
            dirs.sort()
            for name in sorted(names):
                full = os.path.join(top, name)
                if os.path.isfile(full) and not os.path.islink(full):
                    h.update(os.path.relpath(full, path).encode() + b"\0")
                    with open(full, "rb") as f:
                        h.update(f.read())
    else:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


class _Student:
    """One submission of the batch: its files are unpacked on first use
    and dropped once its last lab is graded."""

    def __init__(self, path, chosen_labs):
        self.path = path
        self.name = submission.student_name(path)
        self.chosen = chosen_labs
        self.left = 0
        self._sub = None
        self._lock = threading.Lock()
        self.digest = digest(path)

    def open(self):
        with self._lock:
            if self._sub is None:
                self._sub = submission.Submission(self.path, self.chosen)
            return self._sub

    def done_one(self):
        with self._lock:
            self.left -= 1
            if self.left == 0 and self._sub is not None:
                self._sub.__exit__(None, None, None)
                self._sub = None


class Batch:
    """A batch of submissions graded into OUT."""

    def __init__(self, paths, chosen_labs, kver, out, jobs, timeout=None,
                 say=print):
        self.chosen = chosen_labs
        self.kver = kver
        self.out = out
        self.jobs = max(1, jobs)
        self.timeout = timeout
        self.say = say
        #: LAB name -> kit_digest() of the lab, computed once.
        self.kit = {lab.name: kit_digest(lab, kver) for lab in chosen_labs}
        self.students = []
        names = set()
        for path in paths:
            student = _Student(path, chosen_labs)
            if student.name in names:
                raise submission.SubmissionError(
                    f"two submissions are called {student.name}")
            names.add(student.name)
            self.students.append(student)

    def _state_path(self, student, lab):
        return os.path.join(self.out, "state", student.name,
                            f"{lab.name}.json")

    def _saved(self, student, lab):
        """The saved result of STUDENT's LAB if it is for the same
        submission, graded the same way (kit_digest), else None."""
        try:
            with open(self._state_path(student, lab), encoding="utf-8") as f:
                data = json.load(f)
            if data.get("digest") != student.digest or \
                    data.get("kver") != self.kver or \
                    data.get("kit") != self.kit[lab.name]:
                return None
            return results.LabResult.from_dict(data["result"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # unreadable: graded again

    def _save(self, student, lab, result):
        path = self._state_path(student, lab)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump({"digest": student.digest, "kver": self.kver,
                       "kit": self.kit[lab.name],
                       "result": result.to_dict()}, f)
        os.replace(path + ".tmp", path)

    def _grade(self, student, lab):
        try:
            sub = student.open()
        except submission.SubmissionError as e:
            result = submission.not_gradable(lab, self.kver, student.name, e)
        else:
            result = submission.grade_lab(sub, lab, self.kver, self.timeout)
        if result.verdict != Verdict.ERROR:
            # A VM that broke (or was interrupted) is graded again when
            # the batch resumes.
            self._save(student, lab, result)
        student.done_one()
        return result

    def run(self):
        """Grade what is not graded yet, then write the reports. Returns
        {student name: [LabResult per lab]}."""
        graded = {s.name: {} for s in self.students}
        todo = []
        for student in self.students:
            for lab in self.chosen:
                saved = self._saved(student, lab)
                if saved is not None:
                    graded[student.name][lab.name] = saved
                else:
                    todo.append((student, lab))
                    student.left += 1
        # Longest first: the later labs' tests run longest (Lab 07's take
        # several times Lab 01's), and a long run started last would
        # leave the other VM slots idle at the end of the batch.
        order = {lab.name: i for i, lab in enumerate(self.chosen)}
        todo.sort(key=lambda pair: -order[pair[1].name])
        skipped = len(self.students) * len(self.chosen) - len(todo)
        if skipped:
            self.say(f"resuming: {skipped} lab(s) already graded in "
                     f"{self.out}, {len(todo)} to go")
        start = time.monotonic()
        pool = concurrent.futures.ThreadPoolExecutor(self.jobs)
        try:
            futures = {pool.submit(self._grade, s, lab): (s, lab)
                       for s, lab in todo}
            for done, future in enumerate(
                    concurrent.futures.as_completed(futures), 1):
                student, lab = futures[future]
                result = future.result()
                graded[student.name][lab.name] = result
                self.say(self._progress(done, len(todo), start, student,
                                        result))
        finally:
            # On Ctrl-C, start nothing new; the VMs running get the
            # signal too and stop.
            pool.shutdown(wait=True, cancel_futures=True)
        elapsed = time.monotonic() - start
        ordered = {s.name: [graded[s.name][lab.name] for lab in self.chosen]
                   for s in self.students}
        self._write_reports(ordered)
        if todo:
            runs = len({s.name for s, _ in todo})
            self.say(f"graded {len(todo)} lab(s) of {runs} submission(s) "
                     f"in {elapsed:.0f} s with {self.jobs} VM(s) at once: "
                     f"{runs * 3600 / max(elapsed, 1e-6):.0f} "
                     f"submissions/hour, {elapsed / len(todo):.1f} s per "
                     f"lab")
        return ordered

    @staticmethod
    def _progress(done, total, start, student, result):
        spent = time.monotonic() - start
        eta = spent / done * (total - done)
        return (f"[{done}/{total}] {student.name} {result.lab}: "
                f"{out_of(result.score, result.max_score)} {result.verdict} "
                f"(elapsed {_clock(spent)}, ETA {_clock(eta)})")

    def _write_reports(self, ordered):
        os.makedirs(os.path.join(self.out, "reports"), exist_ok=True)
        with open(os.path.join(self.out, "grades.csv"), "w",
                  encoding="utf-8", newline="") as f:
            table = csv.writer(f)
            table.writerow(["student", "lab", "score", "max_score",
                            "status"])
            for name, graded in ordered.items():
                for result in graded:
                    table.writerow([name, result.lab, show(result.score),
                                    show(result.max_score), result.verdict])
        for name, graded in ordered.items():
            base = os.path.join(self.out, "reports", name)
            with open(base + ".txt", "w", encoding="utf-8") as f:
                for result in graded:
                    f.write(results.format_text(result) + "\n\n")
                f.write(f"total: {results.total(graded)}\n")
            results.write_json(base + ".json", graded,
                               sum(r.elapsed for r in graded))


def _clock(seconds):
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s"
