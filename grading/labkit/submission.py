# SPDX-License-Identifier: GPL-2.0
"""A student's submission, and grading it.

A submission is a directory or an archive (.tar, .tar.gz, .tgz, .tar.xz,
.tar.bz2, .zip) that holds a lab's student files (e.g. flatbuf.c)
somewhere: laid out like labs/ (01-flat-buffer/flatbuf.c), as a whole
clone of the kit (labs/01-flat-buffer/flatbuf.c), or loose. Only those
files are taken, and only regular files of reasonable size: the Kbuild
files, the tests and the autograder always come from the kit, so a
submission cannot change how it is graded. They are copied into a fresh
temporary tree, and the modules are built in a temporary directory too.
"""

import os
import posixpath
import stat
import tarfile
import tempfile
import time
import zipfile

from . import build, kernels, labs, results, runner
from .verdicts import Status, Verdict

#: The largest student file taken, in bytes.
MAX_FILE = 1 << 20

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz",
                    ".tar.bz2", ".tbz2", ".zip")


class SubmissionError(Exception):
    """A submission that cannot be read at all."""


def is_archive(path):
    """True when PATH names an archive a submission may come in."""
    return path.lower().endswith(ARCHIVE_SUFFIXES)


def student_name(path):
    """Whom a submission belongs to: its file or directory name without
    an archive suffix."""
    name = os.path.basename(os.path.normpath(path))
    for suffix in ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[:-len(suffix)]
    return name


def _clean(name):
    """NAME, an archive member's path, as a relative POSIX path, or None
    when it would leave the archive's own tree."""
    name = posixpath.normpath(name.replace("\\", "/")).lstrip("/")
    if name in ("", ".") or name == ".." or name.startswith("../"):
        return None
    return name


def _listing(path):
    """The regular files of submission PATH: {relative path: a function
    that returns the file's bytes (at most MAX_FILE + 1 of them)}.

    Symbolic links, devices and the like are left out: a submission's
    "flatbuf.c" must not be a link to a file of the grading machine.
    """
    files = {}
    if os.path.isdir(path):
        for top, dirs, names in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in names:
                full = os.path.join(top, name)
                if stat.S_ISREG(os.lstat(full).st_mode):
                    rel = os.path.relpath(full, path).replace(os.sep, "/")
                    files[rel] = (lambda p=full: _read_host(p))
        return files
    if not os.path.isfile(path):
        raise SubmissionError(f"{path}: no such file or directory")
    try:
        if path.lower().endswith(".zip"):
            archive = zipfile.ZipFile(path)
            for info in archive.infolist():
                # The Unix type bits, when the zip has them: a zip made
                # on Windows has none, one made by Python's writestr()
                # only permission bits.
                kind = stat.S_IFMT(info.external_attr >> 16)
                name = _clean(info.filename)
                if info.is_dir() or name is None or (
                        kind and not stat.S_ISREG(kind)):
                    continue
                files[name] = (lambda i=info: _read_member(archive.open(i)))
            return files
        if is_archive(path):
            archive = tarfile.open(path)
            for member in archive.getmembers():
                name = _clean(member.name)
                if member.isreg() and name is not None:
                    files[name] = (lambda m=member: _read_member(
                        archive.extractfile(m)))
            return files
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as e:
        raise SubmissionError(f"{path}: not a readable archive: {e}") from e
    raise SubmissionError(f"{path}: neither a directory nor an archive "
                          f"({', '.join(ARCHIVE_SUFFIXES)})")


def _read_host(path):
    with open(path, "rb") as f:
        return f.read(MAX_FILE + 1)


def _read_member(stream):
    with stream:
        return stream.read(MAX_FILE + 1)


def _rank(lab, directory):
    """How surely DIRECTORY (relative, POSIX) is LAB's folder: named like
    the lab, better still inside a labs/ folder."""
    parts = directory.split("/") if directory else []
    score = 0
    if parts and parts[-1] == lab.name:
        score += 2
        if len(parts) > 1 and parts[-2] == "labs":
            score += 1
    return score


def _lab_folder(lab, names):
    """Where LAB's student files are among NAMES (relative paths): the
    folder holding its first student file, named like the lab (better
    still inside labs/), and the shallowest of those; None when no folder
    holds the file. Raises SubmissionError when two folders are equally
    likely."""
    wanted = lab.student_files[0]
    folders = [posixpath.dirname(n) for n in names
               if posixpath.basename(n) == wanted]
    if not folders:
        return None
    # The likeliest folder, and of those the shallowest: a whole clone
    # may hold copies deeper down (its build/ output).
    def preference(folder):
        return -_rank(lab, folder), folder.count("/") if folder else -1

    best = min(preference(f) for f in folders)
    chosen = sorted(f for f in folders if preference(f) == best)
    if len(chosen) > 1:
        shown = ", ".join(posixpath.join(f, wanted) for f in chosen)
        raise SubmissionError(f"{lab.name}: more than one {wanted} and no "
                              f"way to tell which is meant: {shown}")
    return chosen[0]


class Submission:
    """A submission's student files, copied into a temporary tree laid
    out like labs/ (use it as a context manager; the tree goes at the
    end)."""

    def __init__(self, path, chosen_labs):
        self.path = path
        self.student = student_name(path)
        self._tmp = tempfile.TemporaryDirectory(prefix="labkit-sub-")
        #: The tree with NN-name/ folders, the source tree to grade.
        self.root = os.path.join(self._tmp.name, "tree")
        #: Where kbuild works: temporary too.
        self.work_root = os.path.join(self._tmp.name, "build")
        #: LAB name -> the folder its files came from, as the submission
        #: names it ("" for its top), or None when it has none.
        self.folders = {}
        #: LAB name -> why its files could not be taken.
        self.problems = {}
        try:
            files = _listing(path)
            for lab in chosen_labs:
                self._take(lab, files)
        except BaseException:
            self._tmp.cleanup()
            raise

    def _take(self, lab, files):
        try:
            folder = _lab_folder(lab, files)
        except SubmissionError as e:
            self.problems[lab.name] = str(e)
            return
        self.folders[lab.name] = folder
        if folder is None:
            return
        out = os.path.join(self.root, lab.name)
        os.makedirs(out, exist_ok=True)
        for name in lab.student_files:
            rel = posixpath.join(folder, name)
            if rel not in files:
                continue  # the build reports the missing file
            data = files[rel]()
            if len(data) > MAX_FILE:
                self.problems[lab.name] = (f"{rel} is larger than "
                                           f"{MAX_FILE} bytes")
                return
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)

    def shown_path(self, lab):
        """LAB's folder as the submission names it, for messages."""
        folder = self.folders.get(lab.name) or ""
        return posixpath.join(self.student, folder) if folder else \
            self.student

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._tmp.cleanup()


def not_gradable(lab, kver, student, why):
    """The result of a lab the submission holds nothing gradable for:
    none of its files, or an archive that cannot be read (WHY says)."""
    result = results.LabResult(lab.name, kver, student)
    result.verdict = Verdict.MISSING
    result.detail = str(why)
    test = results.Test("files_submitted", lab.full_marks)
    test.status = Status.FAILED
    test.output = [str(why)]
    result.tests.append(test)
    return result


def _kit_failure(lab, kver, student, error):
    """The result of a lab the kit itself could not grade."""
    result = results.LabResult(lab.name, kver, student)
    result.verdict = Verdict.ERROR
    result.detail = str(error)
    result.errors.append(str(error))
    try:
        worth = lab.full_marks
    except (OSError, labs.LabError):
        worth = 100  # the lab's own points table may be what failed
    test = results.Test("graded", worth)
    test.status = Status.FAILED
    test.output = [f"not graded: {error}"]
    result.tests.append(test)
    return result


def grade_lab(sub, lab, kver, timeout=None, keep_dir=None):
    """Grade LAB of Submission SUB on KVER; never raises for a problem of
    the student's code (a build failure, a crash, a hang are results)."""
    if lab.name in sub.problems:
        return not_gradable(lab, kver, sub.student, sub.problems[lab.name])
    if sub.folders.get(lab.name) is None:
        return not_gradable(lab, kver, sub.student,
                        f"the submission has no {lab.student_files[0]} "
                        f"(expected in a folder {lab.name}/)")
    start = time.monotonic()
    try:
        result, _ = runner.grade(lab, sub.root, kver, tag=lab.name,
                                 timeout=timeout, keep_dir=keep_dir,
                                 work_root=sub.work_root,
                                 label=sub.shown_path(lab))
    except (build.BuildError, kernels.KernelError, labs.LabError,
            OSError) as e:
        result = _kit_failure(lab, kver, sub.student, e)
        result.elapsed = time.monotonic() - start
        return result
    # Compiler messages and BUG_ON()s name the temporary copies; show
    # the submission's own folder instead.
    shown = sub.shown_path(lab) + "/"
    copies = (os.path.join(sub.root, lab.name) + os.sep,
              os.path.join(sub.work_root, kver, lab.name, "labs",
                           lab.name) + os.sep)
    for test in result.tests:
        for copy in copies:
            test.output = [line.replace(copy, shown)
                           for line in test.output]
    return result


def grade(path, chosen_labs, kver, timeout=None, keep_dir=None):
    """Grade every lab of CHOSEN_LABS in submission PATH on KVER, one VM
    run per lab, so a crash or a hang in one lab leaves the others'
    results standing. Returns the LabResults in order.

    Raises SubmissionError only when PATH cannot be read at all.
    """
    graded = []
    with Submission(path, chosen_labs) as sub:
        for lab in chosen_labs:
            keep = os.path.join(keep_dir, lab.name) if keep_dir else None
            graded.append(grade_lab(sub, lab, kver, timeout, keep))
    return graded
