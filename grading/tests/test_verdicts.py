# SPDX-License-Identifier: GPL-2.0
"""labkit.verdicts: the typed verdicts and statuses write the same bytes
as the bare strings they replaced, read back to their members, and an
unknown string is refused with a message that says what was expected."""

import csv
import io
import json
import os
import tempfile
import unittest
import xml.etree.ElementTree as ET

from labkit import mutants, results, vm
from labkit.verdicts import MutantStatus, Status, Verdict

from .support import run, transcript, write

#: Every value, as the reports, grades.csv and resume files spell it.
VALUES = {
    Verdict: ["complete", "crash", "timeout", "flood", "error",
              "build-failed", "missing"],
    Status: ["passed", "failed"],
    MutantStatus: ["killed", "survived", "not built", "error"],
}


class Values(unittest.TestCase):

    def test_each_enum_has_exactly_the_old_strings(self):
        for enum, values in VALUES.items():
            self.assertEqual(values, [m.value for m in enum], enum.__name__)

    def test_every_member_says_what_it_means(self):
        for enum in VALUES:
            for member in enum:
                self.assertGreater(len(member.__doc__ or ""), 20,
                                   f"{member!r} has no docstring")

    def test_member_equals_and_hashes_as_its_value(self):
        for enum, values in VALUES.items():
            for value in values:
                self.assertEqual(value, enum(value))
                self.assertEqual(hash(value), hash(enum(value)))
                self.assertEqual(1, {value: 1}[enum(value)])

    def test_str_and_format_give_the_plain_value(self):
        v = Verdict.BUILD_FAILED
        self.assertEqual("build-failed", str(v))
        self.assertEqual("build-failed", f"{v}")
        self.assertEqual("build-failed  |", f"{v:<14}|")
        self.assertEqual("build-failed", "%s" % v)
        self.assertEqual("crash a b", " ".join([Verdict.CRASH, "a", "b"]))
        self.assertEqual("not built", f"{MutantStatus.NOT_BUILT}")


class RoundTrip(unittest.TestCase):

    def test_json_writes_the_value_and_reads_back_to_the_member(self):
        for enum in VALUES:
            for member in enum:
                text = json.dumps({"v": member, member: [member]})
                self.assertEqual(json.dumps({"v": member.value,
                                             member.value: [member.value]}),
                                 text)
                data = json.loads(text)
                self.assertIs(member, enum(data["v"]))
                self.assertIs(member, enum(data[member.value][0]))

    def test_csv_and_xml_write_the_value(self):
        out = io.StringIO()
        csv.writer(out).writerow(["x", Verdict.MISSING, Status.PASSED])
        self.assertEqual("x,missing,passed\r\n", out.getvalue())
        node = ET.Element("error", type=Verdict.CRASH,
                          message=f"t: 0/5 ({Verdict.CRASH})")
        self.assertEqual('<error type="crash" message="t: 0/5 (crash)" />',
                         ET.tostring(node, encoding="unicode"))

    def test_a_member_is_its_own_member(self):
        self.assertIs(Verdict.FLOOD, Verdict(Verdict.FLOOD))

    def test_result_read_back_holds_members(self):
        result = run(transcript("crash_mid_test.ktap"), Verdict.CRASH,
                     "oops")
        data = json.loads(json.dumps(result.to_dict()))
        self.assertEqual("crash", data["verdict"])
        back = results.LabResult.from_dict(data)
        self.assertIs(Verdict.CRASH, back.verdict)
        self.assertEqual({Status.PASSED, Status.FAILED},
                         {t.status for t in back.tests})
        for test in back.tests:
            self.assertIs(Status, type(test.status), test.name)
        self.assertEqual(json.dumps(result.to_dict()),
                         json.dumps(back.to_dict()))

    def test_result_an_older_kit_saved_reads_back(self):
        # As grade-batch's state files held it when these were strings.
        saved = {"lab": "01-x", "kver": "k", "src": "s", "tests": [
            {"name": "a", "max_score": 5, "score": 5, "status": "passed",
             "output": [], "visibility": "visible"},
            {"name": "b", "max_score": 5, "score": 0, "status": None,
             "output": [], "visibility": "hidden"}],
            "kernel_log": [], "errors": [], "verdict": "timeout",
            "detail": "d", "elapsed": 1.5, "hints": []}
        back = results.LabResult.from_dict(saved)
        self.assertIs(Verdict.TIMEOUT, back.verdict)
        self.assertIs(Status.PASSED, back.tests[0].status)
        self.assertIsNone(back.tests[1].status)
        self.assertEqual(saved, json.loads(json.dumps(back.to_dict())))

    def test_outcome_takes_a_string_for_its_member(self):
        outcome = vm.Outcome("timeout", "", "", 1.0)
        self.assertIs(Verdict.TIMEOUT, outcome.verdict)
        self.assertEqual(("", False, None, None),
                         (outcome.detail, outcome.restored,
                          outcome.snapshot, outcome.rerun_after))


class Unknown(unittest.TestCase):

    def test_unknown_verdict_is_refused_naming_the_known_ones(self):
        with self.assertRaises(ValueError) as caught:
            Verdict("crashed")
        message = str(caught.exception)
        self.assertIn("'crashed' is not a Verdict", message)
        for value in VALUES[Verdict]:
            self.assertIn(repr(value), message)

    def test_unknown_status_and_non_strings_are_refused(self):
        for enum, bad in ((Status, "PASSED"), (Status, None),
                          (MutantStatus, "dead"), (Verdict, 3)):
            with self.assertRaisesRegex(ValueError,
                                        f"is not a {enum.__name__}: "
                                        f"expected one of"):
                enum(bad)

    def test_saved_result_with_an_unknown_verdict_is_refused(self):
        with self.assertRaisesRegex(ValueError, "'exploded' is not a "
                                    "Verdict"):
            results.LabResult.from_dict({"lab": "01-x", "kver": "k",
                                         "src": "s", "tests": [],
                                         "verdict": "exploded"})

    def test_outcome_with_an_unknown_verdict_is_refused(self):
        with self.assertRaisesRegex(ValueError, "'hung' is not a Verdict"):
            vm.Outcome("hung", "", "", 1.0)

    def test_mutant_header_with_an_unknown_verdict_is_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.patch")
            write(path, "Mutant: m\nCaught-by: a\nVerdict: complete "
                        "crashed\n--- a/x.c\n+++ b/x.c\n")
            with self.assertRaisesRegex(mutants.MutantError,
                                        "m.patch: Verdict: 'crashed' is "
                                        "not a Verdict"):
                mutants.Mutant(None, path)


if __name__ == "__main__":
    unittest.main()
