# SPDX-License-Identifier: GPL-2.0
"""Read the autograder's KTAP output into scored tests, merge in how the VM
run ended, and present the result: a table for people, Gradescope's
results.json for machines.

The autograder (grading/guest/autograde.sh) prints
  "# points NAME MAX"                  for every test, before any result
  "ok N NAME # points G/M"             or "not ok N NAME # points 0/M"
  "# ..."                              diagnostics, before the result
                                       they explain
  "# kernel log of this run (N lines):" then "#   LINE" lines
  "# score S/100"                      last
"""

import json
import re

_POINTS = re.compile(r"^# points (\S+) (\d+)\s*$")
_RESULT = re.compile(r"^(ok|not ok) \d+ (\S+) # points (\d+)/(\d+)\s*$")
_LOG_START = re.compile(r"^# kernel log of this run")
_RUNNING = re.compile(r"^#\s+RUN\s+\S+?\.(\S+) \.\.\.")
# Harness bookkeeping that says nothing about why a test failed.
_NOISE = re.compile(r"^#\s+(RUN|OK|FAIL|SKIP|XFAIL|XPASS)\s|"
                    r"^# (Starting|Totals|FAILED|PASSED|TAP version|1\.\.)")


class Test:
    """One scored test of a lab."""

    def __init__(self, name, max_score):
        self.name = name
        self.max_score = max_score
        self.score = 0
        #: "passed", "failed", or None while no result has been seen.
        self.status = None
        #: Why it failed, one line per entry.
        self.output = []


class LabResult:
    """The scored tests of one lab run, in the autograder's order."""

    def __init__(self, lab_name, kver, src):
        self.lab = lab_name
        self.kver = kver
        self.src = src
        self.tests = []
        self.kernel_log = []
        #: Problems with the kit itself (a points table that is not 100,
        #: a test without points): never the student's fault.
        self.errors = []
        #: "complete", "crash", "timeout", "error" or "build-failed".
        self.verdict = "complete"
        #: Crash report, timeout or build messages.
        self.detail = ""
        self.elapsed = 0.0

    @property
    def score(self):
        return sum(t.score for t in self.tests)

    @property
    def max_score(self):
        return sum(t.max_score for t in self.tests) or 100

    def test(self, name):
        """The test called NAME, or None."""
        for t in self.tests:
            if t.name == name:
                return t
        return None


def parse(text, result):
    """Fill RESULT from the autograder output TEXT; return the name of the
    test that was running when the output stopped, if any."""
    pending = []
    running = None
    in_log = False
    for line in text.splitlines():
        line = line.rstrip("\r")
        if in_log:
            if line.startswith("#   "):
                result.kernel_log.append(line[4:])
                continue
            in_log = False
        match = _POINTS.match(line)
        if match:
            result.tests.append(Test(match.group(1), int(match.group(2))))
            continue
        match = _RESULT.match(line)
        if match:
            test = result.test(match.group(2))
            if test is None:
                result.errors.append(f"unplanned result: {line}")
                continue
            test.status = "passed" if match.group(1) == "ok" else "failed"
            test.score = int(match.group(3))
            if test.status == "failed":
                test.output = pending
            pending, running = [], None
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
                line.startswith("# score") or line.startswith("# lab ")):
            pending.append(line[2:] if line.startswith("# ") else line[1:])
    return running


def from_run(lab_name, kver, src, outcome):
    """Score a VM run: the autograder's results plus the VM's verdict.

    Tests the autograder never reported fail, with the reason the run
    stopped; the one that was running when the kernel crashed or the VM
    was stopped carries the crash report or the timeout.
    """
    result = LabResult(lab_name, kver, src)
    result.verdict = outcome.verdict
    result.detail = outcome.detail
    result.elapsed = outcome.elapsed
    running = parse(outcome.results, result)
    if outcome.verdict == "complete":
        for test in result.tests:
            if test.status is None:
                result.errors.append(f"{test.name}: no result reported")
                test.status = "failed"
        return result
    why = {
        "crash": "not run: the kernel crashed before this test",
        "timeout": "not run: the VM was stopped before this test",
        "error": "not run: the VM stopped before this test",
    }[outcome.verdict]
    for test in result.tests:
        if test.status is not None:
            continue
        test.status = "failed"
        if test.name == running:
            test.output = ["the kernel crashed during this test:"
                           if outcome.verdict == "crash" else
                           "this test was running when the VM stopped:",
                           *outcome.detail.splitlines()]
        else:
            test.output = [why]
    if not result.tests:
        result.errors.append("the autograder reported nothing")
    return result


def build_failed(lab, kver, src, build):
    """A result for a lab whose modules did not build: 0 points."""
    result = LabResult(lab.name, kver, src)
    result.verdict = "build-failed"
    result.detail = build.log
    test = Test("module_builds", 100)
    test.status = "failed"
    test.output = (build.warnings or build.log.splitlines())[-40:]
    result.tests.append(test)
    return result


def _status_word(test):
    return "PASS" if test.status == "passed" else "FAIL"


def format_text(result, verbose=False):
    """The human-readable report of one lab."""
    out = [f"== Lab {result.lab}: {result.src}, kernel {result.kver}, "
           f"{result.elapsed:.1f} s =="]
    if result.verdict == "build-failed":
        out.append("The module did not build; the compiler said:")
        out.extend("  " + line for line in result.tests[0].output)
    else:
        for test in result.tests:
            out.append(f"  {_status_word(test)} {test.score:3d}/"
                        f"{test.max_score:<3d} {test.name}")
            if test.status != "passed":
                out.extend("         " + line for line in test.output[:30])
        if result.verdict != "complete":
            out.append(f"  The VM run ended with: {result.verdict}.")
        failed = any(t.status != "passed" for t in result.tests)
        if result.kernel_log and (failed or verbose):
            out.append("  Kernel log of the run:")
            out.extend("    " + line for line in result.kernel_log[-25:])
    for error in result.errors:
        out.append(f"  KIT ERROR: {error}")
    out.append(f"score: {result.score}/{result.max_score}")
    return "\n".join(out)


def gradescope(results, elapsed):
    """Gradescope's results.json for a list of LabResults."""
    tests = []
    for result in results:
        for test in result.tests:
            tests.append({
                "name": f"{result.lab}: {test.name}",
                "score": test.score,
                "max_score": test.max_score,
                "status": test.status or "failed",
                "output": "\n".join(test.output),
                "visibility": "visible",
            })
    return {
        "score": sum(r.score for r in results),
        "execution_time": round(elapsed, 1),
        "tests": tests,
    }


def write_json(path, results, elapsed):
    """Write Gradescope's results.json for RESULTS to PATH."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(gradescope(results, elapsed), f, indent=2)
        f.write("\n")
