# SPDX-License-Identifier: GPL-2.0
"""Finding a lab's student files in a submission (labkit.submission):
folders and archives, layouts, and what must never be taken."""

import io
import os
import stat
import tarfile
import tempfile
import unittest
import warnings
import zipfile
from unittest import mock

from labkit import submission
from labkit.verdicts import Verdict

from .support import FakeLab, write

LAB = FakeLab("01-demo-lab", points=[("works", 100)], visibility={},
              student_files=("demo.c", "demo.h"))
LAB2 = FakeLab("02-other-lab", points=[("works", 100)], visibility={},
               student_files=("other.c",))
FILES = {"demo.c": b"int demo = 1;\n", "demo.h": b"extern int demo;\n"}


class Base(unittest.TestCase):

    def setUp(self):
        # submission._listing leaves an archive open until the garbage
        # collector closes it (reported; not this test's concern).
        warnings.filterwarnings("ignore", r"unclosed file .*\.(tar|tgz|"
                                r"txz|tbz2|gz|xz|bz2|zip|ZIP)'>",
                                ResourceWarning)
        self._tmp = tempfile.TemporaryDirectory(prefix="labkit-unit-")
        self.tmp = self._tmp.name
        self.addCleanup(self._tmp.cleanup)

    def tree(self, files, name="alice"):
        """A submission folder NAME holding FILES {relative path: bytes}."""
        top = os.path.join(self.tmp, name)
        os.makedirs(top, exist_ok=True)
        for rel, data in files.items():
            write(os.path.join(top, rel), data)
        return top

    def taken(self, path, labs=(LAB,)):
        """{lab: (folder, {file: bytes} taken, problem)} of submission
        PATH."""
        out = {}
        with submission.Submission(path, list(labs)) as sub:
            for lab in labs:
                where = os.path.join(sub.root, lab.name)
                got = {}
                if os.path.isdir(where):
                    for name in os.listdir(where):
                        with open(os.path.join(where, name), "rb") as f:
                            got[name] = f.read()
                out[lab.name] = (sub.folders.get(lab.name), got,
                                 sub.problems.get(lab.name))
        return out


class Layouts(Base):

    def test_folders_laid_out_like_labs(self):
        top = self.tree({f"01-demo-lab/{n}": d for n, d in FILES.items()})
        self.assertEqual(("01-demo-lab", FILES, None),
                         self.taken(top)["01-demo-lab"])

    def test_loose_files_at_the_top(self):
        top = self.tree(FILES)
        self.assertEqual(("", FILES, None), self.taken(top)["01-demo-lab"])

    def test_whole_clone_takes_labs_not_the_build_copies(self):
        files = {f"labs/01-demo-lab/{n}": d for n, d in FILES.items()}
        files["build/modules/6.12/tree-x/labs/01-demo-lab/demo.c"] = b"old"
        files["labs/01-demo-lab/README.md"] = b"# handout"
        files["labs/01-demo-lab/tests/grade.sh"] = b"forged grader"
        self.assertEqual(("labs/01-demo-lab", FILES, None),
                         self.taken(self.tree(files))["01-demo-lab"])

    def test_lab_named_folder_beats_another_folder(self):
        files = {f"work/01-demo-lab/{n}": d for n, d in FILES.items()}
        files["scratch/demo.c"] = b"a draft"
        folder, got, _ = self.taken(self.tree(files))["01-demo-lab"]
        self.assertEqual(("work/01-demo-lab", FILES), (folder, got))

    def test_two_equally_likely_folders_are_a_problem(self):
        top = self.tree({"a/demo.c": b"1", "b/demo.c": b"2"})
        folder, got, problem = self.taken(top)["01-demo-lab"]
        self.assertEqual({}, got)
        self.assertIn("more than one demo.c", problem)

    def test_several_labs_in_one_submission(self):
        top = self.tree({"01-demo-lab/demo.c": b"1",
                         "02-other-lab/other.c": b"2"})
        got = self.taken(top, (LAB, LAB2))
        self.assertEqual("01-demo-lab", got["01-demo-lab"][0])
        self.assertEqual({"other.c": b"2"}, got["02-other-lab"][1])

    def test_lab_without_files_has_no_folder(self):
        top = self.tree({"01-demo-lab/demo.c": b"1"})
        self.assertEqual((None, {}, None),
                         self.taken(top, (LAB, LAB2))["02-other-lab"])

    def test_only_the_labs_student_files_are_taken(self):
        files = dict(FILES, **{"Kbuild": b"obj-m := evil.o\n",
                               "tests/grade.sh": b"echo 100",
                               "notes.txt": b"x"})
        self.assertEqual(FILES, self.taken(self.tree(files))[
            "01-demo-lab"][1])

    def test_missing_second_file_is_left_for_the_build_to_report(self):
        top = self.tree({"01-demo-lab/demo.c": b"1"})
        self.assertEqual(("01-demo-lab", {"demo.c": b"1"}, None),
                         self.taken(top)["01-demo-lab"])

    def test_hidden_folders_are_skipped(self):
        top = self.tree({".git/objects/demo.c": b"blob",
                         "01-demo-lab/demo.c": b"1"})
        self.assertEqual("01-demo-lab", self.taken(top)["01-demo-lab"][0])

    def test_lab_without_files_grades_as_missing_without_a_vm(self):
        top = self.tree({"01-demo-lab/demo.c": b"1"})
        with submission.Submission(top, [LAB, LAB2]) as sub:
            result = submission.grade_lab(sub, LAB2, "k")
        self.assertEqual((Verdict.MISSING, 0), (result.verdict, result.score))
        self.assertIn("the submission has no other.c",
                      result.tests[0].output[0])


def make_tar(path, entries, mode="w"):
    """Write tar PATH: ENTRIES is [(name, bytes)] or [(name, TarInfo
    changes)] for links and devices."""
    with tarfile.open(path, mode) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            if isinstance(data, dict):
                for key, value in data.items():
                    setattr(info, key, value)
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def make_zip(path, entries):
    """Write zip PATH: ENTRIES is [(name, bytes, unix mode or None)]."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            if mode is not None:
                info.external_attr = mode << 16
            archive.writestr(info, data)
    return path


class Archives(Base):

    TAR_MODES = {".tar": "w", ".tar.gz": "w:gz", ".tgz": "w:gz",
                 ".tar.xz": "w:xz", ".txz": "w:xz", ".tar.bz2": "w:bz2",
                 ".tbz2": "w:bz2"}

    def test_every_tar_suffix_is_read(self):
        entries = [(f"alice/01-demo-lab/{n}", d) for n, d in FILES.items()]
        for suffix, mode in self.TAR_MODES.items():
            with self.subTest(suffix=suffix):
                path = make_tar(os.path.join(self.tmp, "alice" + suffix),
                                entries, mode)
                self.assertEqual(("alice/01-demo-lab", FILES, None),
                                 self.taken(path)["01-demo-lab"])

    def test_zip_is_read(self):
        path = make_zip(os.path.join(self.tmp, "alice.zip"),
                        [(f"01-demo-lab/{n}", d, 0o100644)
                         for n, d in FILES.items()])
        self.assertEqual(("01-demo-lab", FILES, None),
                         self.taken(path)["01-demo-lab"])

    def test_zip_entries_with_permission_bits_only_are_read(self):
        # Python's writestr() stores 0o600 and no file type.
        path = make_zip(os.path.join(self.tmp, "alice.zip"),
                        [("01-demo-lab/demo.c", b"1", None)])
        self.assertEqual(("01-demo-lab", {"demo.c": b"1"}, None),
                         self.taken(path)["01-demo-lab"])

    def test_zip_made_on_windows_is_read(self):
        path = os.path.join(self.tmp, "alice.zip")
        with zipfile.ZipFile(path, "w") as archive:
            info = zipfile.ZipInfo("01-demo-lab\\demo.c")
            info.create_system = 0  # MS-DOS: no Unix mode at all
            info.external_attr = 0x20  # the DOS "archive" attribute
            archive.writestr(info, b"1")
        self.assertEqual(("01-demo-lab", {"demo.c": b"1"}, None),
                         self.taken(path)["01-demo-lab"])

    def test_suffix_case_does_not_matter(self):
        path = make_zip(os.path.join(self.tmp, "Alice.ZIP"),
                        [("demo.c", b"1", None)])
        self.assertEqual("", self.taken(path)["01-demo-lab"][0])
        self.assertEqual("Alice", submission.student_name(path))

    def test_every_advertised_suffix_has_a_test(self):
        self.assertEqual(set(submission.ARCHIVE_SUFFIXES),
                         set(self.TAR_MODES) | {".zip"})

    def test_empty_tar_has_no_lab(self):
        path = make_tar(os.path.join(self.tmp, "e.tar.gz"), [], "w:gz")
        self.assertEqual((None, {}, None), self.taken(path)["01-demo-lab"])

    def test_empty_zip_has_no_lab(self):
        path = make_zip(os.path.join(self.tmp, "e.zip"), [])
        self.assertEqual((None, {}, None), self.taken(path)["01-demo-lab"])

    def test_empty_folder_has_no_lab(self):
        self.assertEqual((None, {}, None),
                         self.taken(self.tree({}))["01-demo-lab"])

    def test_corrupt_archive_is_a_submission_error(self):
        path = write(os.path.join(self.tmp, "bad.tar.gz"), b"not gzip")
        with self.assertRaisesRegex(submission.SubmissionError,
                                    "not a readable archive"):
            submission.Submission(path, [LAB])

    def test_corrupt_zip_is_a_submission_error(self):
        path = write(os.path.join(self.tmp, "bad.zip"), b"PK not a zip")
        with self.assertRaisesRegex(submission.SubmissionError,
                                    "not a readable archive"):
            submission.Submission(path, [LAB])

    def test_other_file_type_is_a_submission_error(self):
        path = write(os.path.join(self.tmp, "demo.c"), b"int x;")
        with self.assertRaisesRegex(submission.SubmissionError,
                                    "neither a directory nor an archive"):
            submission.Submission(path, [LAB])

    def test_missing_path_is_a_submission_error(self):
        with self.assertRaisesRegex(submission.SubmissionError,
                                    "no such file or directory"):
            submission.Submission(os.path.join(self.tmp, "nobody"), [LAB])

    def test_student_name_drops_the_archive_suffix(self):
        for path, name in (("x/alice.tar.gz", "alice"), ("bob/", "bob"),
                           ("carol.tbz2", "carol"), ("d.e.zip", "d.e")):
            self.assertEqual(name, submission.student_name(path), path)


class Hostile(Base):
    """Names and file types that must never be taken."""

    def test_parent_paths_in_a_tar_are_not_taken(self):
        path = make_tar(os.path.join(self.tmp, "a.tar"), [
            ("../01-demo-lab/demo.c", b"1"),
            ("x/../../demo.c", b"2"),
            ("..", b"3")])
        self.assertEqual((None, {}, None), self.taken(path)["01-demo-lab"])

    def test_absolute_paths_in_a_tar_are_taken_as_relative(self):
        path = make_tar(os.path.join(self.tmp, "a.tar"),
                        [("/01-demo-lab/demo.c", b"1")])
        self.assertEqual(("01-demo-lab", {"demo.c": b"1"}, None),
                         self.taken(path)["01-demo-lab"])

    def test_parent_and_backslash_paths_in_a_zip_are_not_taken(self):
        path = make_zip(os.path.join(self.tmp, "a.zip"), [
            ("../demo.c", b"1", None), ("..\\..\\demo.c", b"2", None)])
        self.assertEqual((None, {}, None), self.taken(path)["01-demo-lab"])

    def test_nothing_is_written_outside_the_temporary_tree(self):
        path = make_tar(os.path.join(self.tmp, "a.tar"), [
            ("../escaped/demo.c", b"1"), ("/tmp/abs/demo.c", b"2")])
        before = sorted(os.listdir(self.tmp))
        with submission.Submission(path, [LAB]) as sub:
            root = sub.root
        self.assertEqual(before, sorted(os.listdir(self.tmp)))
        self.assertFalse(os.path.exists(root), "the tree is removed")

    def test_symlinks_in_a_folder_are_not_followed(self):
        secret = write(os.path.join(self.tmp, "secret.txt"), b"secret")
        top = self.tree({})
        os.makedirs(os.path.join(top, "01-demo-lab"))
        os.symlink(secret, os.path.join(top, "01-demo-lab", "demo.c"))
        self.assertEqual((None, {}, None), self.taken(top)["01-demo-lab"])

    def test_symlinked_folder_is_not_walked(self):
        outside = self.tree({"demo.c": b"outside"}, name="elsewhere")
        top = self.tree({})
        os.symlink(outside, os.path.join(top, "01-demo-lab"))
        self.assertEqual((None, {}, None), self.taken(top)["01-demo-lab"])

    def test_links_and_devices_in_a_tar_are_not_taken(self):
        path = make_tar(os.path.join(self.tmp, "a.tar"), [
            ("01-demo-lab/demo.c", {"type": tarfile.SYMTYPE,
                                    "linkname": "/etc/passwd"}),
            ("01-demo-lab/demo.h", {"type": tarfile.LNKTYPE,
                                    "linkname": "/etc/shadow"}),
            ("02-other-lab/other.c", {"type": tarfile.CHRTYPE,
                                      "devmajor": 1, "devminor": 3})])
        got = self.taken(path, (LAB, LAB2))
        self.assertEqual((None, {}, None), got["01-demo-lab"])
        self.assertEqual((None, {}, None), got["02-other-lab"])

    def test_symlink_in_a_zip_is_not_taken(self):
        path = make_zip(os.path.join(self.tmp, "a.zip"), [
            ("01-demo-lab/demo.c", b"/etc/passwd", stat.S_IFLNK | 0o777)])
        self.assertEqual((None, {}, None), self.taken(path)["01-demo-lab"])

    def test_oversized_file_in_a_folder_is_a_problem(self):
        big = b"x" * (submission.MAX_FILE + 1)
        top = self.tree({"01-demo-lab/demo.c": big})
        folder, got, problem = self.taken(top)["01-demo-lab"]
        self.assertEqual(f"01-demo-lab/demo.c is larger than "
                         f"{submission.MAX_FILE} bytes", problem)

    def test_oversized_file_in_an_archive_is_a_problem(self):
        with mock.patch.object(submission, "MAX_FILE", 1000):
            path = make_tar(os.path.join(self.tmp, "a.tar.gz"),
                            [("demo.c", b"y" * 1001)], "w:gz")
            problem = self.taken(path)["01-demo-lab"][2]
            with submission.Submission(path, [LAB]) as sub:
                result = submission.grade_lab(sub, LAB, "k")
        self.assertEqual("demo.c is larger than 1000 bytes", problem)
        self.assertEqual((Verdict.MISSING, 0), (result.verdict, result.score))

    def test_file_of_exactly_the_limit_is_taken(self):
        with mock.patch.object(submission, "MAX_FILE", 1000):
            top = self.tree({"demo.c": b"z" * 1000})
            self.assertEqual(1000, len(self.taken(top)["01-demo-lab"][1]
                                       ["demo.c"]))


if __name__ == "__main__":
    unittest.main()
