# SPDX-License-Identifier: GPL-2.0
"""The hostile-module suite: deliberately bad submissions, each with the
verdict the grader must give it.

grading/hostile/NN-name/NAME.patch is a unified diff against
solutions/NN-name/ (so everything but the one bad behaviour works, and
the tests before it keep their points), preceded by a header:

    Hostile: NAME
    (what the module does wrong)
    Verdict: complete|crash|timeout|flood|build-failed
    Score: N          the lab's exact score, or MIN..MAX when the last
                      result before a crash may not reach the host
                      (whole numbers or halves: 43, 41.5..43)
    Within: S         seconds grading the lab may take, at most
    Timeout: S        (optional) the VM's time limit for this run
    Report-has: TEXT  (optional) text the lab's report must show, e.g.
                      the function an oops happened in

`make check` grades each one as a student's submission with
submission.grade() and fails on any other verdict or score, on a run
that overstays Within, or on a report larger than REPORT_LIMIT. When the
run does not end normally, the submission also holds the reference
solution of another lab, which must still score full marks: a crash in
one lab must not cost the others their grades.
"""

import json
import os
import shutil
import time

from . import labs, mutants, paths, points, results, submission
from .verdicts import Verdict

#: The largest JSON report one lab may produce, in bytes.
REPORT_LIMIT = 64 << 10

#: How many lines of a wrongly graded submission's report make check
#: shows, below the reasons (grading/check shows 60 lines in all).
EXCERPT_LINES = 50

#: How results.format_text starts a test's row, and that test's output.
_ROW = ("  PASS ", "  FAIL ")
_OUTPUT = " " * 9

_DIR = os.path.join(paths.TOP, "grading", "hostile")


class Hostile:
    """One hostile submission of one lab."""

    def __init__(self, lab, path):
        self.lab = lab
        self.path = path
        self.name = os.path.basename(path)[:-len(".patch")]
        fields = mutants.patch_header(path)
        try:
            self.verdict = Verdict(fields["Verdict"])
            #: The lab's score must be within these two.
            self.score = points.score_range(fields["Score"])
            self.within = int(fields["Within"])
            self.timeout = int(fields["Timeout"]) if "Timeout" in fields \
                else None
        except (KeyError, ValueError) as e:
            raise mutants.MutantError(
                f"{path}: needs Verdict:, Score: and Within: lines "
                f"({e})") from e
        self.report_has = fields.get("Report-has")

    @property
    def ends_abnormally(self):
        """True when the run does not end with the autograder's own end."""
        return self.verdict != Verdict.COMPLETE

    def submission(self, kver, bystander):
        """Write the submission: the hostile lab, plus the reference
        solution of BYSTANDER (a Lab, or None). Returns its directory."""
        root = os.path.join(paths.build_root(), "hostile", kver, self.name)
        shutil.rmtree(root, ignore_errors=True)
        mutants.patched_solution(self.lab, self.path, root)
        if bystander is not None:
            shutil.copytree(bystander.solution_dir,
                            os.path.join(root, bystander.name))
        return root

    def judge(self, graded, elapsed, bystander):
        """Reasons the grader got this submission wrong (none: right).
        GRADED is what submission.grade() returned, ELAPSED the seconds
        the hostile lab took."""
        wrong = []
        result = graded[0]
        if result.verdict != self.verdict:
            wrong.append(f"verdict {result.verdict}, not {self.verdict}")
        low, high = self.score
        if not low <= result.score <= high:
            expected = points.show(low) if low == high else (
                f"{points.show(low)} to {points.show(high)}")
            wrong.append(f"score {points.show(result.score)}, not "
                         f"{expected}")
        if elapsed > self.within:
            wrong.append(f"took {elapsed:.0f} s, more than {self.within}")
        report = json.dumps(results.gradescope([result], elapsed))
        if len(report) > REPORT_LIMIT:
            wrong.append(f"its report is {len(report)} bytes, more than "
                         f"{REPORT_LIMIT}")
        shown = results.format_text(result) + "\n" + report
        if self.report_has and self.report_has not in shown:
            wrong.append(f"the report does not show {self.report_has!r}")
        if result.errors:
            wrong.extend(f"kit error: {e}" for e in result.errors)
        if bystander is not None:
            other = graded[1]
            if other.score != other.max_score:
                wrong.append(f"{bystander.name} (the reference solution) "
                             f"scored {points.show(other.score)}, not full "
                             f"marks, in the same submission "
                             f"({other.verdict})")
        return wrong

    def check(self, kver):
        """Grade this submission on KVER; return (summary, reasons it was
        judged wrong)."""
        bystander = _bystander(self.lab) if self.ends_abnormally else None
        root = self.submission(kver, bystander)
        chosen = [self.lab] + ([bystander] if bystander else [])
        start = time.monotonic()
        with submission.Submission(root, chosen) as sub:
            graded = [submission.grade_lab(sub, self.lab, kver,
                                           timeout=self.timeout)]
            elapsed = time.monotonic() - start
            if bystander is not None:
                graded.append(submission.grade_lab(sub, bystander, kver))
        first = graded[0]
        summary = (f"{first.verdict}, "
                   f"{points.out_of(first.score, first.max_score)} in "
                   f"{elapsed:.0f} s")
        wrong = self.judge(graded, elapsed, bystander)
        if wrong:
            wrong += excerpt(results.format_text(first))
        return summary, wrong


def _single_output(lines, i):
    """The one output line of the test whose row is LINES[i], or None
    when LINES[i] is not a row followed by exactly one output line."""
    if (i + 1 < len(lines) and lines[i].startswith(_ROW)
            and lines[i + 1].startswith(_OUTPUT)
            and not (i + 2 < len(lines)
                     and lines[i + 2].startswith(_OUTPUT))):
        return lines[i + 1]
    return None


def excerpt(report, limit=EXCERPT_LINES):
    """The first LIMIT lines of REPORT (results.format_text's), with each
    run of tests that said the same one line ("not counted: ...", "not
    run: ...") folded into its first test and a count, so that the test
    that went wrong and the kernel log fit in what make check shows."""
    lines = report.splitlines()
    out = []
    i = 0
    while i < len(lines):
        said = _single_output(lines, i)
        if said is None:
            out.append(lines[i])
            i += 1
            continue
        out += lines[i:i + 2]
        i += 2
        same = 0
        while _single_output(lines, i) == said:
            same += 1
            i += 2
        if same:
            out.append(f"{_OUTPUT}(and {same} more tests said the same)")
    return out[:limit]


def _bystander(lab):
    """The lab whose reference solution rides along with a hostile LAB:
    the next lab, or the one before the last."""
    every = labs.all_labs()
    names = [lb.name for lb in every]
    i = names.index(lab.name)
    return every[i + 1] if i + 1 < len(every) else (
        every[i - 1] if i else None)


def all_hostile(chosen_labs):
    """The hostile submissions of CHOSEN_LABS, in order."""
    found = []
    for lab in chosen_labs:
        folder = os.path.join(_DIR, lab.name)
        if os.path.isdir(folder):
            found += [Hostile(lab, os.path.join(folder, f))
                      for f in sorted(os.listdir(folder))
                      if f.endswith(".patch")]
    return found
