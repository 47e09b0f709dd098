# SPDX-License-Identifier: GPL-2.0
"""The one scorer: read the autograder's KTAP output (facts only), score
it with the kit's points tables, merge in how the VM run ended, and
present the result: a table for people, Gradescope's results.json and
JUnit XML for machines.

The autograder (grading/guest/autograde.sh) prints
  "1..N", then "# plan NAME"           for every test, before any result
  "ok N NAME" or "not ok N NAME"       one result per test
  "# ..."                              diagnostics, before the result
                                       they explain
  "# kernel log of this run (N lines):" then "#   LINE" lines
and never a point: what a result is worth comes from the kit's points
files alone (labs.Lab.points, labkit.points), here.
"""

import dataclasses
import json
import re
import xml.etree.ElementTree as ET

from . import hints as known_bugs
from . import points as points_file
from .points import out_of, show
from .verdicts import Status, Verdict

_PLAN = re.compile(r"^# plan (\S+)\s*$")
RESULT_LINE = re.compile(r"^(ok|not ok) \d+ (\S+)\s*$")
#: A line that looks like a result but is not one the guest prints (a
#: directive, a points field, a missing number).
_ODD_RESULT = re.compile(r"^(ok|not ok)(\s|$)")
#: Points or a score from the guest (whole, a half or any other
#: fraction): only the host decides those.
_CLAIM = re.compile(r"^# (points \S+ \d+(\.\d+)?|score \d+(\.\d+)?/"
                    r"\d+(\.\d+)?)\s*$")
_LOG_START = re.compile(r"^# kernel log of this run")
_RUNNING = re.compile(r"^#\s+RUN\s+\S+?\.(\S+) \.\.\.")
# Harness bookkeeping that says nothing about why a test failed.
_NOISE = re.compile(r"^#\s+(RUN|OK|FAIL|SKIP|XFAIL|XPASS)\s|"
                    r"^# (Starting|Totals|FAILED|PASSED|TAP version|1\.\.)")


@dataclasses.dataclass(eq=False)
class Test:
    """One scored test of a lab."""

    name: str
    #: What it is worth and what it scored, as labkit.points keeps
    #: points: an int, or a float for a half.
    max_score: "int | float"
    score: "int | float" = 0
    #: Status.PASSED, Status.FAILED, or None while no result has been seen.
    status: "Status | None" = None
    #: Why it failed, one line per entry.
    output: list = dataclasses.field(default_factory=list)
    #: Who sees it on Gradescope: visible, or for a hidden test of the
    #: instructor's (grading/hidden/), what its points file says.
    visibility: str = "visible"


@dataclasses.dataclass(eq=False)
class LabResult:
    """The scored tests of one lab run, in the autograder's order."""

    lab: str
    kver: str
    src: str
    tests: list = dataclasses.field(default_factory=list)
    kernel_log: list = dataclasses.field(default_factory=list)
    #: Problems with the kit itself (a points table that is not 100,
    #: a test without points): never the student's fault.
    errors: list = dataclasses.field(default_factory=list)
    #: How the run ended (a Verdict; see grading/labkit/verdicts.py).
    verdict: Verdict = Verdict.COMPLETE
    #: Crash report, timeout or build messages.
    detail: str = ""
    elapsed: float = 0.0
    #: What the failures usually mean, from the lab's known bugs
    #: (labkit.hints): [{"bug", "hint", "caught_by"}].
    hints: list = dataclasses.field(default_factory=list)

    @property
    def score(self):
        return points_file.exact(sum(t.score for t in self.tests))

    @property
    def max_score(self):
        return points_file.exact(
            sum(t.max_score for t in self.tests)) or 100

    def test(self, name):
        """The test called NAME, or None."""
        for t in self.tests:
            if t.name == name:
                return t
        return None

    def to_dict(self):
        """Everything in this result, as plain data for JSON (the
        verdict and the statuses are str enums: JSON writes their
        values)."""
        data = dict(vars(self))
        data["tests"] = [dict(vars(t)) for t in self.tests]
        return data

    @classmethod
    def from_dict(cls, data):
        """The LabResult that to_dict() gave DATA, also one an older kit
        wrote: its verdict and status strings become their members (a
        ValueError for one that is none)."""
        result = cls(data["lab"], data["kver"], data["src"])
        for key, value in data.items():
            if key != "tests":
                setattr(result, key, value)
        result.verdict = Verdict(result.verdict)
        for fields in data["tests"]:
            test = Test(fields["name"], fields["max_score"])
            vars(test).update(fields)
            if test.status is not None:
                test.status = Status(test.status)
            result.tests.append(test)
        return result


def parse(text, result, planned):
    """Fill RESULT from the autograder output TEXT, scored with PLANNED,
    the kit's points table [(name, points)]; return the name of the test
    that was running when the output stopped, if any, and what was
    printed after the last result (that test's own lines, when the run
    stopped in it).

    The host is the judge of what a test is worth: the tests come from
    PLANNED, the guest's plan ("# plan NAME") must name only tests of
    it, a result is worth all of a test's points or none, and a guest
    that claims points or a score, or prints a result line of another
    form, makes a kit error.
    """
    pending = []
    running = None
    in_log = False
    announced = set()
    result.tests = [Test(name, points) for name, points in planned]
    for line in text.splitlines():
        line = line.rstrip("\r")
        if in_log:
            if line.startswith("#   "):
                result.kernel_log.append(line[4:])
                continue
            in_log = False
        match = _PLAN.match(line)
        if match:
            if result.test(match.group(1)) is None:
                result.errors.append(f"the guest announced a test the kit "
                                     f"does not have: {line}")
            elif match.group(1) in announced:
                result.errors.append(f"the guest announced a test "
                                     f"twice: {line}")
            announced.add(match.group(1))
            continue
        if _CLAIM.match(line):
            result.errors.append(f"the guest claimed points, which only "
                                 f"the host decides: {line}")
            continue
        match = RESULT_LINE.match(line)
        if match:
            test = result.test(match.group(2))
            if test is None:
                result.errors.append(f"unplanned result: {line}")
                continue
            if test.status is not None:
                result.errors.append(f"a second result for "
                                     f"{test.name}: {line}")
                continue
            test.status = (Status.PASSED if match.group(1) == "ok"
                           else Status.FAILED)
            test.score = (test.max_score if test.status == Status.PASSED
                          else 0)
            if test.status == Status.FAILED:
                test.output = pending
            pending, running = [], None
            continue
        if _ODD_RESULT.match(line):
            result.errors.append(f"not a result line the guest prints: "
                                 f"{line}")
            continue
        if _LOG_START.match(line):
            in_log = True
            continue
        if line.startswith("Bail out!") or line.startswith("# error:"):
            result.errors.append(line.lstrip("# "))
            continue
        match = _RUNNING.match(line)
        if match:
            running = match.group(1)
        if line.startswith("#") and not _NOISE.search(line) and not (
                line.startswith("# lab ")):
            pending.append(line[2:] if line.startswith("# ") else line[1:])
    return running, pending


#: Most lines and characters kept of one test's output: a module that
#: floods the log must not bloat the report.
OUTPUT_LINES = 200
OUTPUT_CHARS = 16384


def _bounded(lines):
    """LINES, cut to OUTPUT_LINES lines and OUTPUT_CHARS characters, with
    a note saying how much was left out."""
    kept, size = [], 0
    for line in lines[:OUTPUT_LINES]:
        line = line[:1024]
        if size + len(line) > OUTPUT_CHARS:
            break
        kept.append(line)
        size += len(line) + 1
    if len(kept) < len(lines):
        kept.append(f"[... {len(lines) - len(kept)} more lines not shown]")
    return kept


def from_run(lab, kver, src, outcome):
    """Score a VM run (or a native one) of LAB: the autograder's results
    plus the VM's verdict, against the points table of the kit's copy of
    the lab (a kit error when the lab's own tests do not add up to 100).

    Tests the autograder never reported fail, with the reason the run
    stopped; the one that was running when the kernel crashed or the VM
    was stopped carries the crash report or the timeout.
    """
    result = LabResult(lab.name, kver, src)
    result.verdict = outcome.verdict
    result.detail = "\n".join(_bounded(outcome.detail.splitlines()))
    result.elapsed = outcome.elapsed
    running, last_words = parse(outcome.results, result, lab.points)
    for test in result.tests:
        test.visibility = lab.visibility.get(test.name, "visible")
    problem = points_file.total_problem(
        [(t.name, t.max_score) for t in result.tests
         if t.name not in lab.visibility], lab.name)
    if problem:
        result.errors.append(problem)
    result.kernel_log = _bounded(result.kernel_log)
    for test in result.tests:
        test.output = _bounded(test.output)
    if outcome.verdict == Verdict.COMPLETE:
        for test in result.tests:
            if test.status is None:
                result.errors.append(f"{test.name}: no result reported")
                test.status = Status.FAILED
                test.output = ["no result reported"]
        _require_module_loaded(result)
        _count_volume_tests_last(result, lab.volume_tests)
        result.hints = known_bugs.for_result(lab, result)
        return result
    why = {
        Verdict.CRASH: "not run: the kernel crashed before this test",
        Verdict.TIMEOUT: "not run: the VM was stopped before this test",
        Verdict.FLOOD: "not run: the VM was stopped before this test",
        Verdict.ERROR: "not run: the VM stopped before this test",
    }[outcome.verdict]
    unreported = [t for t in result.tests if t.status is None]
    if running is None and unreported:
        # Between the harness's tests (loading, unloading): the first test
        # the autograder had not reported yet.
        running = unreported[0].name
    for test in unreported:
        test.status = Status.FAILED
        if test.name == running:
            test.output = ["the kernel crashed during this test:"
                           if outcome.verdict == Verdict.CRASH else
                           "this test was running when the VM stopped:",
                           *result.detail.splitlines()]
            if last_words:
                # What the test was doing: e.g. "the load ... succeeded;
                # the device must then work" before the crash it caused.
                test.output += ["the test's last lines before that:",
                                *_bounded(last_words)]
        else:
            test.output = [why]
    _require_module_loaded(result)
    _count_volume_tests_last(result, lab.volume_tests)
    return result


def _require_module_loaded(result):
    """A module that never loaded earns nothing: unless module_loads
    passed, every other test of RESULT fails with 0 points, whatever the
    guest reported (a clean kernel log or an unload of a module that
    never ran, or a result a broken or forged run claims)."""
    loads = result.test("module_loads")
    if loads is None or loads.status == Status.PASSED:
        return
    for test in result.tests:
        if test is loads:
            continue
        test.score = 0
        if test.status == Status.PASSED:
            test.status = Status.FAILED
            test.output = ["not counted: the module did not load "
                           "(module_loads failed)"]


#: How many failed tests a volume test that was not counted names.
_FAILED_NAMED = 3


def _count_volume_tests_last(result, volume):
    """A volume test (VOLUME, the names of RESULT's: see points.VOLUME)
    earns its points only when every other test of RESULT passed. Such a
    test catches a racy driver in some runs and not in others; counted
    beside a failed test, it would give the same driver different scores
    in different runs. Counted last, a driver another test fails gets
    the same score in every run (those tests decide it), and only a
    driver that passes everything else can lose points to a volume test
    by chance. A volume test that passed but is not counted keeps its
    status and says why it earned nothing."""
    failed = [t.name for t in result.tests
              if t.name not in volume and t.status != Status.PASSED]
    if not failed:
        return
    named = ", ".join(failed[:_FAILED_NAMED])
    if len(failed) > _FAILED_NAMED:
        named += f" and {len(failed) - _FAILED_NAMED} more"
    for test in result.tests:
        if test.name not in volume or test.score == 0:
            continue
        test.score = 0
        if test.status == Status.PASSED:
            test.output = [f"passed, not counted: a volume test's points "
                           f"count only when every other test passes "
                           f"(failed: {named})"]


def build_failed(lab, kver, src, build):
    """A result for a lab whose modules did not build: 0 points."""
    result = LabResult(lab.name, kver, src)
    result.verdict = Verdict.BUILD_FAILED
    result.detail = build.log
    test = Test("module_builds", lab.full_marks)
    test.status = Status.FAILED
    test.output = (build.warnings or build.log.splitlines())[-40:]
    result.tests.append(test)
    return result


#: What a report says about a run that did not end normally.
_ENDINGS = {
    Verdict.CRASH: "The kernel crashed (an oops, a panic, a CPU or a task "
                   "stuck in the module); tests that had finished keep "
                   "their points.",
    Verdict.TIMEOUT: "The VM was stopped at its time limit; tests that "
                     "had finished keep their points.",
    Verdict.FLOOD: "The VM was stopped: the kernel log grew too large (a "
                   "printk flood); tests that had finished keep their "
                   "points.",
    Verdict.ERROR: "The VM stopped without finishing its run.",
}


def _status_word(test):
    return "PASS" if test.status == Status.PASSED else "FAIL"


def format_text(result, verbose=False):
    """The human-readable report of one lab."""
    out = [f"== Lab {result.lab}: {result.src}, kernel {result.kver}, "
           f"{result.elapsed:.1f} s =="]
    if result.verdict == Verdict.BUILD_FAILED:
        out.append("The module did not build; the compiler said:")
        out.extend("  " + line for line in result.tests[0].output)
    else:
        # Columns of 3, or wider for a worth of "12.5".
        width = points_file.column_width(
            [t.max_score for t in result.tests], 3)
        for test in result.tests:
            out.append(f"  {_status_word(test)} "
                       f"{show(test.score):>{width}}/"
                       f"{show(test.max_score):<{width}} {test.name}")
            if test.status != Status.PASSED or (
                    test.score < test.max_score):
                out.extend("         " + line for line in test.output[:30])
        if result.verdict in _ENDINGS:
            out.append(f"  {_ENDINGS[result.verdict]}")
        out.extend("  " + line
                   for line in known_bugs.format_lines(result.hints))
        failed = any(t.status != Status.PASSED for t in result.tests)
        if result.kernel_log and (failed or verbose):
            out.append("  Kernel log of the run:")
            out.extend("    " + line for line in result.kernel_log[-25:])
    for error in result.errors:
        out.append(f"  KIT ERROR: {error}")
    out.append(f"score: {out_of(result.score, result.max_score)}")
    return "\n".join(out)


#: The last line of a lab's report (format_text) and of run-lab's
#: summary: "score: 97.5/100".
_SCORE_LINE = re.compile(rf"^score: ({points_file.NUMBER})/"
                         rf"({points_file.NUMBER})\s*$", re.MULTILINE)


def last_score(text):
    """(score, full marks) of the last "score: X/Y" line of TEXT (a
    report, or the output of make test), as numbers (see points.value);
    None when it has none."""
    found = _SCORE_LINE.findall(text)
    if not found:
        return None
    return tuple(points_file.value(number) for number in found[-1])


def total(results):
    """The score of the labs RESULTS together, "SCORE/FULL"."""
    return out_of(sum(r.score for r in results),
                  sum(r.max_score for r in results))


def summary(results, name_width):
    """One line per lab of RESULTS: its name (in NAME_WIDTH characters),
    its score, the scores aligned, and its verdict."""
    width = points_file.column_width([r.score for r in results], 3)
    return [f"  {r.lab:<{name_width}} {out_of(r.score, r.max_score, width)}"
            f"  {r.verdict}" for r in results]


def gradescope(results, elapsed):
    """Gradescope's results.json for a list of LabResults."""
    tests = []
    for result in results:
        for test in result.tests:
            tests.append({
                "name": f"{result.lab}: {test.name}",
                "score": points_file.exact(test.score),
                "max_score": points_file.exact(test.max_score),
                "status": test.status or Status.FAILED,
                "output": "\n".join(test.output),
                "visibility": test.visibility,
            })
    data = {
        "score": points_file.exact(sum(r.score for r in results)),
        "execution_time": round(elapsed, 1),
        "tests": tests,
    }
    hinted = [r for r in results if r.hints]
    if hinted:
        # Gradescope shows the top-level output above the tests.
        data["output"] = "\n\n".join(
            "\n".join([f"{r.lab}:"] + known_bugs.format_lines(r.hints))
            for r in hinted)
    return data


def write_json(path, results, elapsed):
    """Write Gradescope's results.json for RESULTS to PATH."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(gradescope(results, elapsed), f, indent=2)
        f.write("\n")


#: Characters XML 1.0 does not allow (most control characters), which a
#: test's output may hold (bytes a module returned, printed by a test).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd"
                      "\U00010000-\U0010ffff]")


def _xml_text(text):
    """TEXT with the characters XML cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def junit(results):
    """JUnit XML for a list of LabResults: one testsuite per lab, a
    failure for a test that failed, an error for a test that a crash, a
    hang, a flood or a build failure kept from passing."""
    suites = ET.Element("testsuites")
    for result in results:
        suite = ET.SubElement(suites, "testsuite", name=result.lab,
                              tests=str(len(result.tests)),
                              time=f"{result.elapsed:.1f}")
        failures = errors = 0
        for test in result.tests:
            case = ET.SubElement(suite, "testcase", classname=result.lab,
                                 name=test.name)
            ET.SubElement(case, "properties")
            for key, value in (("score", test.score),
                               ("max_score", test.max_score)):
                ET.SubElement(case[0], "property", name=key,
                              value=show(value))
            if test.status == Status.PASSED:
                continue
            if result.verdict == Verdict.COMPLETE:
                kind = "failure"
                failures += 1
            else:
                kind = "error"
                errors += 1
            ET.SubElement(case, kind, message=(
                f"{test.name}: 0/{show(test.max_score)} "
                f"({result.verdict})"),
                type=result.verdict).text = _xml_text(
                    "\n".join(test.output))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        if result.hints:
            ET.SubElement(suite, "system-out").text = _xml_text(
                "\n".join(known_bugs.format_lines(result.hints)))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode",
                       xml_declaration=True) + "\n"


def write_junit(path, results):
    """Write JUnit XML for RESULTS to PATH."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(junit(results))
