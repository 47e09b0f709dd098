# SPDX-License-Identifier: GPL-2.0
"""labkit.mutation's generator on small C sources: what each operator
makes, what it leaves alone (comments, strings, preprocessor lines,
declarations, pr_*() calls), stable ids, equivalent.txt matching, and the
judgement of a graded mutant. No VM, no compiler."""

import os
import tempfile
import unittest
from unittest import mock

from labkit import build, kernels, labs, mutation, results
from labkit.verdicts import Status, Verdict

from .support import kit, write

SOURCE = """\
// SPDX-License-Identifier: GPL-2.0
/** @file demo.c
 * @brief if (x < 1) return -EAGAIN; in a comment is left alone.
 */
#define LIMIT(x) ((x) < 10)
#include <linux/fs.h>

static int table[] = { 1, 2 };

/** @brief A function. */
static ssize_t demo_read(struct file *file, char __user *buf,
			 size_t count, loff_t *ppos)
{
	unsigned int copied = 0;
	ssize_t ret;

	if (!count)
		return 0;
	if (mutex_lock_interruptible(&demo_lock))
		return -ERESTARTSYS;
	while (kfifo_is_empty(&fifo)) {
		mutex_unlock(&demo_lock);
		if (wait_event_interruptible(q, !kfifo_is_empty(&fifo)))
			return -ERESTARTSYS;
		mutex_lock(&demo_lock);
	}
	ret = kfifo_to_user(&fifo, buf, count, &copied);
	mutex_unlock(&demo_lock);
	pr_debug("read %u < %zu\\n", copied, count);
	if (!copied)
		return ret;
	wake_up_interruptible(&writers);
	if (*ppos >= 64 && count != 0)
		ret = -ENOSPC;
	return copied;
}
"""


def generated(text=SOURCE):
    return mutation.mutants_of(text, "demo.c")


def by_op(mutants, op):
    return [m for m in mutants if m.op == op]


def mutated_lines(mutant):
    return [line[1:].strip() for line in mutant.short_diff(99)
            if line.startswith("+")]


class Generation(unittest.TestCase):

    def setUp(self):
        self.mutants = generated()

    def test_deterministic_and_unique(self):
        again = generated()
        self.assertEqual([m.id for m in self.mutants],
                         [m.id for m in again])
        self.assertEqual(len(self.mutants), len({m.id for m in self.mutants}))
        self.assertEqual(len(self.mutants),
                         len({m.mutated for m in self.mutants}))

    def test_only_function_bodies_are_mutated(self):
        # Comments, the #define, the #include, the global initialiser.
        for m in self.mutants:
            self.assertGreaterEqual(m.line, 14, m.id)

    def test_declarations_and_pr_lines_are_not_deleted(self):
        deleted = [m.before.strip() for m in self.mutants
                   if m.op in ("del", "drop")]
        self.assertNotIn("unsigned int copied = 0;", deleted)
        self.assertNotIn("ssize_t ret;", deleted)
        self.assertFalse([d for d in deleted if d.startswith("pr_debug")])
        # Nor is anything inside a pr_*() call mutated: its < stays.
        self.assertFalse([m for m in self.mutants if m.line == 29])

    def test_simple_statements_are_deleted(self):
        deleted = {m.before.strip(): m.op for m in self.mutants
                   if m.op in ("del", "drop") and m.replacement == ""}
        self.assertEqual("del", deleted["mutex_lock(&demo_lock);"])
        self.assertEqual("drop", deleted["mutex_unlock(&demo_lock);"])
        self.assertEqual("drop", deleted["wake_up_interruptible(&writers);"])
        self.assertEqual("del", deleted["return copied;"])

    def test_sole_body_becomes_an_empty_statement(self):
        # Deleting the only statement of a brace-less if must not make the
        # next statement its body.
        m = [m for m in by_op(self.mutants, "del")
             if m.before.strip() == "return 0;"][0]
        self.assertEqual("\t\t;\n", m.replacement)
        self.assertIn("if (!count)\n\t\t;\n\tif (mutex_lock", m.mutated)

    def test_conditions_are_negated(self):
        negated = [mutated_lines(m)[0] for m in by_op(self.mutants, "neg")]
        self.assertIn("if (!(!count))", negated)
        self.assertIn("while (!(kfifo_is_empty(&fifo))) {", negated)
        self.assertIn("if (!(*ppos >= 64 && count != 0))", negated)

    def test_relational_operators_and_bounds(self):
        relops = {mutated_lines(m)[0] for m in by_op(self.mutants, "relop")}
        self.assertEqual({"if (*ppos > 64 && count != 0)",
                          "if (*ppos < 64 && count != 0)",
                          "if (*ppos >= 64 && count == 0)"}, relops)
        bounds = {mutated_lines(m)[0] for m in by_op(self.mutants, "bound")}
        self.assertEqual({"if (*ppos >= 65 && count != 0)",
                          "if (*ppos >= 63 && count != 0)",
                          "if (*ppos >= 64 && count != 1)",
                          "if (*ppos >= 64 && count != -1)"}, bounds)

    def test_interruptible_calls_become_plain(self):
        plain = {mutated_lines(m)[0] for m in by_op(self.mutants, "nointr")}
        self.assertIn("if ((mutex_lock(&demo_lock), 0))", plain)
        self.assertIn("if (({ wait_event(q, !kfifo_is_empty(&fifo)); 0; }))",
                      plain)

    def test_user_copy_check_is_dropped(self):
        (m,) = by_op(self.mutants, "nocheck")
        self.assertEqual(["if ((!copied) && 0)"], mutated_lines(m))

    def test_return_values_are_swapped(self):
        values = {(m.line, mutated_lines(m)[0])
                  for m in by_op(self.mutants, "retval")}
        self.assertIn((18, "return -EAGAIN;"), values)
        self.assertIn((20, "return 0;"), values)
        self.assertIn((34, "ret = 0;"), values)
        self.assertIn((20, "return -EINTR;"), values)
        self.assertIn((34, "ret = -EAGAIN;"), values)
        swapped = {(m.line, mutated_lines(m)[0])
                   for m in by_op(self.mutants, "retvar")}
        self.assertEqual({(31, "return copied;"), (31, "return count;"),
                          (35, "return count;"), (35, "return ret;")},
                         swapped)

    def test_ids_name_operator_line_and_change(self):
        for m in self.mutants:
            self.assertRegex(m.id, rf"^{m.op}-{m.line}-[0-9a-f]{{6}}$")

    def test_ids_survive_an_unrelated_edit(self):
        # A line added above shifts line numbers but not the hashes.
        moved = generated(SOURCE.replace("static int table",
                                         "static int other;\nstatic int "
                                         "table"))
        old = {(m.op, m.hash) for m in self.mutants}
        new = {(m.op, m.hash) for m in moved}
        self.assertEqual(old, new)

    def test_diff_applies_to_the_named_file(self):
        diff = self.mutants[0].diff()
        self.assertTrue(diff.startswith("--- a/demo.c\n+++ b/demo.c\n"))

    def test_sample_is_deterministic_subset_in_order(self):
        some = mutation.sample(self.mutants, 5)
        self.assertEqual(5, len(some))
        self.assertEqual([m.id for m in some],
                         [m.id for m in mutation.sample(generated(), 5)])
        order = [m.id for m in self.mutants]
        self.assertEqual(sorted(order.index(m.id) for m in some),
                         [order.index(m.id) for m in some])


class MaskTest(unittest.TestCase):

    def test_keeps_positions_and_newlines(self):
        text = 'a /* b\nc */ "x < y" // z\n#if A\nq < 1;\n'
        masked = mutation.mask(text)
        self.assertEqual(len(text), len(masked))
        self.assertEqual(text.count("\n"), masked.count("\n"))
        self.assertNotIn("<", masked.split("\n")[1])
        self.assertNotIn("#if", masked)
        self.assertIn("q < 1;", masked)


class EquivalentMatching(unittest.TestCase):

    def setUp(self):
        self.mutants = generated()
        self.one = by_op(self.mutants, "nocheck")[0]

    def test_exact_id(self):
        matched, stale = mutation.match_equivalent(
            self.mutants, {self.one.id: "why"})
        self.assertEqual({self.one.id: (self.one.id, "why")}, matched)
        self.assertEqual([], stale)

    def test_moved_line_still_matches(self):
        old = f"nocheck-3-{self.one.hash}"
        matched, stale = mutation.match_equivalent(self.mutants,
                                                   {old: "why"})
        self.assertEqual({self.one.id: (old, "why")}, matched)
        self.assertEqual([], stale)

    def test_unknown_entry_is_stale(self):
        matched, stale = mutation.match_equivalent(
            self.mutants, {"del-1-abcdef": "why"})
        self.assertEqual({}, matched)
        self.assertEqual(["del-1-abcdef"], stale)

    def test_every_kit_equivalent_file_parses(self):
        for lab in labs.all_labs():
            if os.path.exists(mutation.equivalent_path(lab)):
                entries = mutation.read_equivalent(lab)
                self.assertTrue(all(entries.values()), lab.name)


class Judgement(unittest.TestCase):

    def result(self, verdict=Verdict.COMPLETE,
               statuses=(Status.PASSED, Status.PASSED)):
        result = results.LabResult("01-demo", "k", "src")
        result.verdict = verdict
        for number, status in enumerate(statuses):
            test = results.Test(f"t{number}", 10)
            test.status = status
            test.score = 10 if status == Status.PASSED else 0
            result.tests.append(test)
        return result

    def test_full_marks_survive(self):
        self.assertEqual((mutation.SURVIVED, ""),
                         mutation.judge(self.result()))

    def test_a_failed_test_kills(self):
        self.assertEqual((mutation.KILLED, "t1"), mutation.judge(
            self.result(statuses=(Status.PASSED, Status.FAILED))))

    def test_a_failed_test_worth_no_points_kills(self):
        result = self.result(statuses=(Status.PASSED, Status.FAILED))
        result.tests[1].max_score = 0
        self.assertEqual(result.max_score, result.score)
        self.assertEqual((mutation.KILLED, "t1"), mutation.judge(result))

    def test_crash_kills(self):
        self.assertEqual(mutation.KILLED, mutation.judge(
            self.result(Verdict.CRASH))[0])

    def test_build_failure_is_not_built(self):
        self.assertEqual(mutation.NOT_BUILT, mutation.judge(
            self.result(Verdict.BUILD_FAILED, ()))[0])

    def test_kit_error_is_no_verdict(self):
        result = self.result()
        result.errors.append("points do not add up")
        self.assertEqual(mutation.ERROR, mutation.judge(result)[0])


class FirstFailureTest(unittest.TestCase):
    """The callback that stops a mutant's run at its first failed test."""

    def test_passing_results_do_not_stop_the_run(self):
        first = mutation.FirstFailure()
        self.assertFalse(first("ok 1 module_loads\n# not ok 2 inner\n"))
        self.assertIsNone(first.name)

    def test_the_first_failed_test_stops_it(self):
        first = mutation.FirstFailure()
        self.assertFalse(first("ok 1 module_loads\nnot o"))
        self.assertTrue(first("k 2 reads_wait\nnot ok 3 later\n"))
        self.assertEqual("reads_wait", first.name)

    def test_a_line_that_only_mentions_a_failure_does_not(self):
        first = mutation.FirstFailure()
        self.assertFalse(first("#   not ok 4 harness_detail\n"
                               "not ok 5 two words\n"))
        self.assertIsNone(first.name)


class TestsDigest(unittest.TestCase):
    """What makes a lab's mutation reports stale: its tests and the shared
    test code, never their weights (points files) or hints (known-bugs)."""

    def setUp(self):
        self._kit = kit()
        self.top, (self.lab, _) = self._kit.__enter__()
        self.addCleanup(self._kit.__exit__, None, None, None)
        self.before = mutation.tests_digest(self.lab)

    def changed(self, path):
        """Whether appending to PATH changes the lab's tests digest."""
        with open(path, "a", encoding="utf-8") as f:
            f.write("# edited\n")
        return mutation.tests_digest(self.lab) != self.before

    def test_points_files_do_not_change_it(self):
        self.assertFalse(self.changed(self.lab.points_file))
        self.assertFalse(self.changed(self.lab.hidden_points_file))

    def test_known_bugs_do_not_change_it(self):
        write(os.path.join(self.lab.tests_dir, "known-bugs"), "# none\n")
        self.assertEqual(self.before, mutation.tests_digest(self.lab))

    def test_tests_change_it(self):
        self.assertTrue(self.changed(self.lab.grade_script))
        self.assertTrue(self.changed(os.path.join(self.lab.tests_dir,
                                                  "test_demo.c")))
        self.assertTrue(self.changed(os.path.join(self.lab.hidden_dir,
                                                  "hidden_demo.c")))

    def test_shared_test_code_changes_it(self):
        """Every userspace/*.c is linked into every test program, so a
        change of one is part of every lab's tests."""
        shared = os.path.join(self.top, "userspace")
        self.assertTrue(self.changed(os.path.join(shared, "helper.c")))

    def test_headers_count_when_the_lab_includes_them(self):
        """A userspace header is part of a lab's tests when its test
        program, its hidden tests, a userspace/*.c or a header these
        include includes it (as Labs 02-06 include fifo_tests.h), and
        not otherwise (fifo_tests.h is no part of Lab 07's tests)."""
        shared = os.path.join(self.top, "userspace")
        write(os.path.join(shared, "fifo_tests.h"), "/* test bodies */\n")
        self.assertEqual(self.before, mutation.tests_digest(self.lab))
        self.assertFalse(self.changed(os.path.join(shared, "helper.h")))
        self.assertFalse(self.changed(os.path.join(shared, "fifo_tests.h")))
        test = os.path.join(self.lab.tests_dir, "test_demo.c")
        with open(test, "a", encoding="utf-8") as f:
            f.write('#include "fifo_tests.h"\n')
        self.before = mutation.tests_digest(self.lab)
        self.assertTrue(self.changed(os.path.join(shared, "fifo_tests.h")))
        # Included by a header the test includes, by a shared .c, or by
        # the hidden tests: all read by the compiler.
        with open(os.path.join(shared, "fifo_tests.h"), "a",
                  encoding="utf-8") as f:
            f.write('#  include "helper.h"\n')
        self.before = mutation.tests_digest(self.lab)
        self.assertTrue(self.changed(os.path.join(shared, "helper.h")))
        write(os.path.join(shared, "other.h"), "int other;\n")
        write(os.path.join(shared, "other.c"), '#include "other.h"\n')
        self.before = mutation.tests_digest(self.lab)
        self.assertTrue(self.changed(os.path.join(shared, "other.h")))
        write(os.path.join(shared, "secret.h"), "int secret;\n")
        with open(os.path.join(self.lab.hidden_dir, "hidden_demo.c"), "a",
                  encoding="utf-8") as f:
            f.write('#include "secret.h"\n')
        self.before = mutation.tests_digest(self.lab)
        self.assertTrue(self.changed(os.path.join(shared, "secret.h")))

    def test_the_bench_does_not_change_it(self):
        """userspace/bench/ is not built into any test program."""
        self.assertFalse(self.changed(os.path.join(
            self.top, "userspace", "bench", "fifo_bench.c")))


class IncludedHeaders(unittest.TestCase):
    """build.included_headers() finds the kit's headers a test program's
    compiler reads, as the compiler looks for them."""

    def test_as_the_compiler_finds_them(self):
        with tempfile.TemporaryDirectory() as top:
            lab, shared = os.path.join(top, "lab"), os.path.join(top, "shared")
            write(os.path.join(lab, "test.c"),
                  '#include "local.h"\n#include <stdio.h>\n'
                  '#include "kselftest_harness.h"\n'
                  '#if 0\n# include "a.h"\n#endif\n'
                  '/* #include "comment.h" is not at a line start */\n')
            write(os.path.join(lab, "local.h"), '#include "b.h"\n')
            write(os.path.join(shared, "local.h"), "/* shadowed */\n")
            write(os.path.join(shared, "a.h"), '#include "b.h"\n')
            write(os.path.join(shared, "b.h"), '#include "a.h"\n')
            write(os.path.join(shared, "comment.h"), "\n")
            write(os.path.join(shared, "stdio.h"), "\n")
            got = build.included_headers([os.path.join(lab, "test.c")],
                                         [shared])
            self.assertEqual([os.path.join(lab, "local.h"),
                              os.path.join(shared, "a.h"),
                              os.path.join(shared, "b.h")], got)

    def test_the_kits_labs(self):
        """On the kit itself: Labs 02-06 are made of fifo_tests.h, Labs
        05-06 of minor_tests.h, Labs 01 and 07 of neither."""
        for lab in labs.all_labs():
            names = {os.path.basename(path)
                     for path in build.test_code_of(lab)}
            self.assertEqual(lab.number in ("02", "03", "04", "05", "06"),
                             "fifo_tests.h" in names, lab.name)
            self.assertEqual(lab.number in ("05", "06"),
                             "minor_tests.h" in names, lab.name)
            self.assertIn("task_stuck.h", names, lab.name)


class SecondPass(unittest.TestCase):
    """--then-kver: the mutants that survive on the campaign's kernel are
    graded again on a second one (the debug kernel), and those killed
    there count as killed, saying where."""

    def setUp(self):
        self._kit = kit()
        self.top, (self.lab, _) = self._kit.__enter__()
        self.addCleanup(self._kit.__exit__, None, None, None)
        write(os.path.join(self.lab.solution_dir, self.lab.student_files[0]),
              SOURCE)
        self.mutants = mutation.generate(self.lab)[:4]
        self.graded = []

    def fake_grade(self, lab, kver, mutant, slot, stop=True):
        """Killed on k1: the first mutant; on k2: the second."""
        self.graded.append((kver, mutant.id))
        killed = mutant is self.mutants[{"k1": 0, "k2": 1}[kver]]
        return {"id": mutant.id,
                "status": mutation.KILLED if killed else mutation.SURVIVED,
                "detail": "t1" if killed else "", "elapsed": 1.0}

    def campaign(self, then_kver):
        with mock.patch.object(mutation, "_grade_one", self.fake_grade), \
                mock.patch.object(mutation.Campaign, "_check_solution",
                                  return_value=None), \
                mock.patch.object(build, "guest_exit_program"), \
                mock.patch.object(build, "guest_results_sync_program"), \
                mock.patch.object(build, "test_program"), \
                mock.patch.object(build, "hidden_program"):
            campaign = mutation.Campaign(self.lab, "k1", mutants=self.mutants,
                                         say=lambda line: None,
                                         then_kver=then_kver)
            campaign.run()
        return campaign

    def test_only_survivors_are_graded_again(self):
        self.campaign("k2")
        ids = [m.id for m in self.mutants]
        self.assertEqual(sorted([("k1", i) for i in ids] +
                                [("k2", i) for i in ids[1:]]),
                         sorted(self.graded))

    def test_a_kill_on_the_second_kernel_counts_and_says_where(self):
        campaign = self.campaign("k2")
        groups = mutation.summarize(campaign)
        second = self.mutants[1].id
        self.assertEqual({second}, campaign.killed_then)
        self.assertEqual("on k2: t1", campaign.records[second]["detail"])
        self.assertEqual(2, len(groups["killed"]))
        self.assertEqual(2, len(groups["surviving"]))
        self.assertIn("2 killed (1 of them only on k2)",
                      mutation.summary_line(campaign, groups))

    def test_without_a_second_kernel_nothing_is_graded_twice(self):
        campaign = self.campaign(None)
        self.assertEqual(4, len(self.graded))
        self.assertEqual(set(), campaign.killed_then)
        groups = mutation.summarize(campaign)
        self.assertEqual(1, len(groups["killed"]))
        self.assertNotIn("only on", mutation.summary_line(campaign, groups))

    def test_a_kit_error_on_the_second_kernel_is_not_a_survivor(self):
        records = {"m": {"id": "m", "status": mutation.SURVIVED,
                         "detail": ""}}
        killed = mutation.merge_then(records, {"m": {
            "id": "m", "status": mutation.ERROR, "detail": "no VM"}}, "k2")
        self.assertEqual(set(), killed)
        self.assertEqual(mutation.ERROR, records["m"]["status"])

    def test_the_debug_kernel_is_keyed_by_its_build(self):
        with mock.patch.object(kernels, "_debug_id", return_value="abc"):
            self.assertEqual("debug-abc", kernels.identity(kernels.DEBUG))
        self.assertEqual("6.1.0-57-amd64", kernels.identity("6.1.0-57-amd64"))


class RealSolutions(unittest.TestCase):

    def test_every_solution_yields_mutants_of_every_operator_family(self):
        for lab in labs.all_labs():
            if not os.path.isdir(lab.solution_dir):
                continue
            ops = {m.op for m in mutation.generate(lab)}
            self.assertTrue({"del", "neg", "retval", "nocheck"} <= ops,
                            f"{lab.name}: {sorted(ops)}")


if __name__ == "__main__":
    unittest.main()
