# SPDX-License-Identifier: GPL-2.0
"""grade-batch's bookkeeping (labkit.batch) with the VM runs replaced by
canned results: what a batch grades, what it resumes, what it writes."""

import csv
import json
import os
import tempfile
import unittest
from unittest import mock

from labkit import batch, results, submission
from labkit import points as points_file
from labkit.verdicts import Status, Verdict

from .support import kit, write

KVER = "6.12.117+deb12-amd64"


def canned(sub, lab, kver, timeout=None):
    """What submission.grade_lab returns here instead of a VM run: the
    lab's table, every test passed when the submission's file says
    "good", else failed."""
    result = results.LabResult(lab.name, kver, sub.student)
    with open(os.path.join(sub.root, lab.name,
                           lab.student_files[0])) as f:
        good = "good" in f.read()
    for name, points in lab.points:
        test = results.Test(name, points)
        test.status = Status.PASSED if good else Status.FAILED
        test.score = points if good else 0
        result.tests.append(test)
    result.elapsed = 1.5
    return result


class BatchTest(unittest.TestCase):

    def setUp(self):
        self._kit = kit()
        self.top, self.labs = self._kit.__enter__()
        self.addCleanup(self._kit.__exit__, None, None, None)
        env = mock.patch.dict(os.environ, {"LABKIT_VCPUS": "2"})
        env.start()
        self.addCleanup(env.stop)
        self._tmp = tempfile.TemporaryDirectory(prefix="labkit-unit-")
        self.addCleanup(self._tmp.cleanup)
        self.out = os.path.join(self._tmp.name, "grades")
        self.subs = os.path.join(self._tmp.name, "subs")
        self.student("alice", "good")
        self.student("bob", "bad")
        self.said = []

    def student(self, name, quality):
        for lab in self.labs:
            base = lab.student_files[0]
            write(os.path.join(self.subs, name, lab.name, base),
                  f"/* {quality} */\n")

    def run_batch(self, names=("alice", "bob"), grade=canned):
        """Run a batch; return ({student: [LabResult]}, [(student, lab)]
        graded by a VM run)."""
        ran = []

        def grade_lab(sub, lab, kver, timeout=None):
            ran.append((sub.student, lab.name))
            return grade(sub, lab, kver, timeout)

        paths = [os.path.join(self.subs, n) for n in names]
        with mock.patch.object(submission, "grade_lab", grade_lab):
            graded = batch.Batch(paths, self.labs, KVER, self.out, 2,
                                 say=self.said.append).run()
        return graded, sorted(ran)

    def all_pairs(self, names=("alice", "bob")):
        return sorted((n, lab.name) for n in names for lab in self.labs)


class Resume(BatchTest):

    def test_first_run_grades_every_student_and_lab(self):
        graded, ran = self.run_batch()
        self.assertEqual(self.all_pairs(), ran)
        self.assertEqual([110, 100], [r.score for r in graded["alice"]])
        self.assertEqual([0, 0], [r.score for r in graded["bob"]])

    def test_second_run_grades_nothing_and_gives_the_same_grades(self):
        first, _ = self.run_batch()
        second, ran = self.run_batch()
        self.assertEqual([], ran)
        self.assertEqual({n: [r.to_dict() for r in rs]
                          for n, rs in first.items()},
                         {n: [r.to_dict() for r in rs]
                          for n, rs in second.items()})
        self.assertTrue(any(line.startswith("resuming: 4 lab(s) already "
                                            "graded") for line in self.said),
                        f"expected a 'resuming' line, got {self.said}")

    def test_changed_submission_is_graded_again(self):
        self.run_batch()
        self.student("bob", "good now")
        graded, ran = self.run_batch()
        self.assertEqual(self.all_pairs(["bob"]), ran)
        self.assertEqual([110, 100], [r.score for r in graded["bob"]])

    def test_fixed_test_regrades_that_lab_for_everyone(self):
        self.run_batch()
        with open(os.path.join(self.top, "labs", "01-demo-lab", "tests",
                               "test_demo.c"), "a") as f:
            f.write("/* a fixed test */\n")
        _, ran = self.run_batch()
        self.assertEqual([("alice", "01-demo-lab"), ("bob", "01-demo-lab")],
                         ran)

    def test_changed_guest_script_regrades_every_lab(self):
        self.run_batch()
        with open(os.path.join(self.top, "grading", "guest",
                               "autograde.sh"), "a") as f:
            f.write("# fixed\n")
        _, ran = self.run_batch()
        self.assertEqual(self.all_pairs(), ran)

    def test_edited_handout_regrades_nothing(self):
        self.run_batch()
        with open(os.path.join(self.top, "labs", "01-demo-lab",
                               "README.md"), "a") as f:
            f.write("a clearer sentence\n")
        _, ran = self.run_batch()
        self.assertEqual([], ran)

    def test_other_vcpu_count_regrades_everything(self):
        with mock.patch.dict(os.environ, {"LABKIT_VCPUS": "2"}):
            self.run_batch()
        with mock.patch.dict(os.environ, {"LABKIT_VCPUS": "1"}):
            _, ran = self.run_batch()
        self.assertEqual(self.all_pairs(), ran)

    def test_other_kernel_regrades_everything(self):
        self.run_batch()
        ran = []

        def grade_lab(sub, lab, kver, timeout=None):
            ran.append((sub.student, lab.name))
            return canned(sub, lab, kver)

        with mock.patch.object(submission, "grade_lab", grade_lab):
            batch.Batch([os.path.join(self.subs, "alice")], self.labs,
                        "6.1.0-57-amd64", self.out, 1,
                        say=self.said.append).run()
        self.assertEqual(self.all_pairs(["alice"]), sorted(ran))

    def test_state_without_a_kit_key_is_graded_again(self):
        self.run_batch()
        state = os.path.join(self.out, "state", "alice", "01-demo-lab.json")
        with open(state) as f:
            data = json.load(f)
        del data["kit"]  # a state file from before the kit key
        with open(state, "w") as f:
            json.dump(data, f)
        _, ran = self.run_batch()
        self.assertEqual([("alice", "01-demo-lab")], ran)

    def test_corrupt_state_file_is_graded_again(self):
        self.run_batch()
        for content in ("{not json", "[]", '{"digest": 1}'):
            write(os.path.join(self.out, "state", "bob", "02-next-lab.json"),
                  content)
            _, ran = self.run_batch()
            self.assertEqual([("bob", "02-next-lab")], ran, content)

    def test_state_file_with_verdict_strings_resumes_to_members(self):
        self.run_batch()
        state = os.path.join(self.out, "state", "alice", "01-demo-lab.json")
        with open(state) as f:
            text = f.read()
        self.assertIn('"verdict": "complete"', text)
        self.assertIn('"status": "passed"', text)
        graded, ran = self.run_batch()
        self.assertEqual([], ran)
        result = graded["alice"][0]
        self.assertIs(Verdict.COMPLETE, result.verdict)
        self.assertIs(Status.PASSED, result.tests[0].status)
        with open(state) as f:
            self.assertEqual(text, f.read())

    def test_state_file_with_an_unknown_verdict_is_graded_again(self):
        self.run_batch()
        state = os.path.join(self.out, "state", "bob", "02-next-lab.json")
        with open(state) as f:
            data = json.load(f)
        data["result"]["verdict"] = "exploded"
        with open(state, "w") as f:
            json.dump(data, f)
        graded, ran = self.run_batch()
        self.assertEqual([("bob", "02-next-lab")], ran)
        self.assertIs(Verdict.COMPLETE, graded["bob"][1].verdict)

    def test_broken_vm_run_is_not_saved(self):
        def broken(sub, lab, kver, timeout=None):
            result = canned(sub, lab, kver)
            result.verdict = Verdict.ERROR
            return result

        self.run_batch(grade=broken)
        _, ran = self.run_batch()
        self.assertEqual(self.all_pairs(), ran)

    def test_saved_result_round_trips(self):
        graded, _ = self.run_batch(["alice"])
        with open(os.path.join(self.out, "state", "alice",
                               "01-demo-lab.json")) as f:
            data = json.load(f)
        self.assertEqual(graded["alice"][0].to_dict(), results.LabResult
                         .from_dict(data["result"]).to_dict())
        self.assertEqual(KVER, data["kver"])


class Batches(BatchTest):

    def test_two_submissions_with_one_name_are_refused(self):
        write(os.path.join(self.subs, "x", "alice.tar.gz"), b"")
        with self.assertRaisesRegex(submission.SubmissionError,
                                    "two submissions are called alice"):
            batch.Batch([os.path.join(self.subs, "alice"),
                         os.path.join(self.subs, "x", "alice.tar.gz")],
                        self.labs, KVER, self.out, 1)

    def test_unreadable_archive_scores_zero_without_a_vm(self):
        write(os.path.join(self.subs, "carol.zip"), b"not a zip")
        ran = []
        with mock.patch.object(submission, "grade_lab",
                               lambda *a, **k: ran.append(a)):
            graded = batch.Batch([os.path.join(self.subs, "carol.zip")],
                                 self.labs, KVER, self.out, 1,
                                 say=self.said.append).run()
        self.assertEqual([], ran)
        self.assertEqual([Verdict.MISSING, Verdict.MISSING],
                         [r.verdict for r in graded["carol"]])

    def test_grades_csv_has_a_row_per_student_and_lab(self):
        self.run_batch()
        with open(os.path.join(self.out, "grades.csv"),
                  newline="") as f:
            rows = list(csv.reader(f))
        self.assertEqual(["student", "lab", "score", "max_score", "status"],
                         rows[0])
        self.assertEqual([["alice", "01-demo-lab", "110", "110", "complete"],
                          ["alice", "02-next-lab", "100", "100", "complete"],
                          ["bob", "01-demo-lab", "0", "110", "complete"],
                          ["bob", "02-next-lab", "0", "100", "complete"]],
                         rows[1:])

    def test_each_student_gets_a_text_and_a_json_report(self):
        self.run_batch()
        reports = os.path.join(self.out, "reports")
        self.assertEqual(["alice.json", "alice.txt", "bob.json", "bob.txt"],
                         sorted(os.listdir(reports)))
        with open(os.path.join(reports, "bob.json")) as f:
            self.assertEqual(0, json.load(f)["score"])
        with open(os.path.join(reports, "alice.txt")) as f:
            self.assertTrue(f.read().endswith("total: 210/210\n"))


class HalfPoints(BatchTest):
    """Labs whose tests are worth halves: grades.csv, the reports and the
    progress lines show 99.5, never 99.0, and what grading/check reads
    back of grades.csv is the score."""

    def setUp(self):
        super().setUp()
        first, second = self.labs
        write(first.points_file, "module_loads 9.5\nworks 80.5\n"
              "module_unloads 5\nkernel_log_clean 5\n")
        write(first.hidden_points_file, "secret 2.5 hidden\n")
        write(second.points_file, "module_loads 10\nworks 79.5\ntiny 0.5\n"
              "module_unloads 5\nkernel_log_clean 5\n")

    @staticmethod
    def grade(sub, lab, kver, timeout=None):
        """canned(), but a "bad" submission fails only the hidden test
        and the half-point one."""
        result = canned(sub, lab, kver, timeout)
        if result.test("works").status == Status.PASSED:
            return result
        for test in result.tests:
            if test.name not in ("secret", "tiny"):
                test.status, test.score = Status.PASSED, test.max_score
        return result

    def rows(self):
        with open(os.path.join(self.out, "grades.csv"), newline="") as f:
            return list(csv.reader(f))[1:]

    def test_grades_csv_and_its_scores_read_back(self):
        self.run_batch(grade=self.grade)
        rows = self.rows()
        self.assertEqual(
            [["alice", "01-demo-lab", "102.5", "102.5", "complete"],
             ["alice", "02-next-lab", "100", "100", "complete"],
             ["bob", "01-demo-lab", "100", "102.5", "complete"],
             ["bob", "02-next-lab", "99.5", "100", "complete"]], rows)
        self.assertEqual([102.5, 100, 100, 99.5],
                         [points_file.value(row[2]) for row in rows])

    def test_reports_and_progress_show_halves(self):
        self.run_batch(grade=self.grade)
        reports = os.path.join(self.out, "reports")
        with open(os.path.join(reports, "bob.txt")) as f:
            text = f.read()
        self.assertTrue(text.endswith("total: 199.5/202.5\n"), text[-40:])
        self.assertIn("  FAIL    0/0.5  tiny\n", text)
        self.assertIn("score: 99.5/100\n", text)
        with open(os.path.join(reports, "bob.json")) as f:
            self.assertEqual(199.5, json.load(f)["score"])
        with open(os.path.join(reports, "alice.json")) as f:
            self.assertEqual(202.5, json.load(f)["score"])
        self.assertTrue(any(" bob 02-next-lab: 99.5/100 complete " in line
                            for line in self.said), self.said)

    def test_a_resumed_batch_keeps_the_halves(self):
        self.run_batch(grade=self.grade)
        first = self.rows()
        graded, ran = self.run_batch(grade=self.grade)
        self.assertEqual([], ran)
        self.assertEqual(first, self.rows())
        self.assertEqual(99.5, graded["bob"][1].score)


class SubmissionDigest(unittest.TestCase):

    def test_folder_digest_follows_names_and_contents(self):
        with tempfile.TemporaryDirectory() as tmp:
            write(os.path.join(tmp, "a", "x.c"), "1")
            first = batch.digest(tmp)
            self.assertEqual(first, batch.digest(tmp), "stable")
            write(os.path.join(tmp, "a", "x.c"), "2")
            second = batch.digest(tmp)
            self.assertNotEqual(first, second, "content changed")
            os.rename(os.path.join(tmp, "a"), os.path.join(tmp, "b"))
            self.assertNotEqual(second, batch.digest(tmp), "name changed")

    def test_folder_digest_ignores_symlinks(self):
        with tempfile.TemporaryDirectory() as tmp:
            write(os.path.join(tmp, "x.c"), "1")
            before = batch.digest(tmp)
            os.symlink("/etc/hostname", os.path.join(tmp, "y.c"))
            self.assertEqual(before, batch.digest(tmp))

    def test_archive_digest_is_of_its_bytes(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = write(os.path.join(tmp, "a.zip"), b"PK1")
            first = batch.digest(path)
            write(path, b"PK2")
            self.assertNotEqual(first, batch.digest(path))


if __name__ == "__main__":
    unittest.main()
