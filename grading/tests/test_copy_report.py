# SPDX-License-Identifier: GPL-2.0
"""kernel_log_clean's exemption for the report that
a_failed_registration_fails_the_load expects (grading/guest/autograde.sh,
_lab_exempt_copy_report): between the test's two records, the sysfs
duplicate-name report of the lab's own device with its dump_stack(), and
the debugfs "already present" line of the lab's own directory, are left
out; nothing else is. Runs the shell function with the host's sh on
canned kernel logs; no VM."""

import os
import re
import shutil
import subprocess
import unittest

from labkit import paths

AUTOGRADE = os.path.join(paths.TOP, "grading", "guest", "autograde.sh")

#: Pull the pattern and the filter out of autograde.sh (sourcing it whole
#: would run its setup), and print what the filter keeps of stdin.
SCRIPT = f"""
eval "$(sed -n '/^_LAB_BAD_LOG=/p' '{AUTOGRADE}')"
eval "$(sed -n '/^_lab_exempt_copy_report() {{/,/^}}/p' '{AUTOGRADE}')"
_lab_exempt_copy_report
"""

BEGIN = "[  20.000000] labkit: expected report: a second copy of {mod}\n"
END = "[  20.900000] labkit: end of the expected report of {mod}\n"

#: The report of 6.12 (a dump_stack() of a system call, with the user
#: registers), names filled in by the tests.
SYSFS_612 = """\
[  20.100000] sysfs: cannot create duplicate filename '/devices/virtual/misc/{node}'
[  20.100001] CPU: 1 UID: 0 PID: 321 Comm: test_blkfifo Tainted: G           OE      6.12.118+deb12-amd64 #1  Debian 6.12.118-1
[  20.100002] Tainted: [O]=OOT_MODULE, [E]=UNSIGNED_MODULE
[  20.100003] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
[  20.100004] Call Trace:
[  20.100005]  <TASK>
[  20.100006]  dump_stack_lvl+0x5d/0x80
[  20.100007]  sysfs_warn_dup.cold+0x17/0x23
[  20.100008]  ? kernfs_find_ns+0x6f/0x90
[  20.100009]  device_add+0x1f8/0x7d0
[  20.100010]  misc_register+0x13e/0x1e0
[  20.100011]  blkfifo_init+0x108/0xff0 [blkfifx]
[  20.100012]  do_one_initcall+0x5b/0x320
[  20.100013]  entry_SYSCALL_64_after_hwframe+0x76/0x7e
[  20.100014] RIP: 0033:0x4a1c2d
[  20.100015] Code: Unable to access opcode bytes at 0x4a1c03.
[  20.100016] RSP: 002b:00007ffc8d0a5a48 EFLAGS: 00000246 ORIG_RAX: 00000000000000af
[  20.100017] RAX: ffffffffffffffda RBX: 0000000000000001 RCX: 00000000004a1c2d
[  20.100018] RDX: 00000000004f5b1b RSI: 0000000000065a28 RDI: 00007f3a9e1a5010
[  20.100019] RBP: 00007ffc8d0a5a90 R08: 0000000000000000 R09: 0000000000000000
[  20.100020] R10: 0000000000000000 R11: 0000000000000246 R12: 00007ffc8d0a5bb8
[  20.100021] R13: 00007ffc8d0a5bc8 R14: 00000000004f7e68 R15: 0000000000000001
[  20.100022]  </TASK>
"""

#: 6.1's dump_stack(): no UID, no "Tainted:" line.
SYSFS_61 = """\
[  20.100000] sysfs: cannot create duplicate filename '/devices/virtual/misc/{node}'
[  20.100001] CPU: 0 PID: 321 Comm: test_flatbuf Tainted: G           OE      6.1.0-57-amd64 #1  Debian 6.1.158-1
[  20.100003] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
[  20.100004] Call Trace:
[  20.100005]  <TASK>
[  20.100006]  dump_stack_lvl+0x44/0x5c
[  20.100007]  sysfs_warn_dup.cold+0x17/0x24
[  20.100010]  misc_register+0x14c/0x190
[  20.100011]  blkfifo_init+0x137/0x1000 [blkfifx]
[  20.100012]  ? 0xffffffffc020d000
[  20.100013]  do_one_initcall+0x56/0x220
[  20.100022]  </TASK>
"""

DEBUGFS = "[  20.050000] debugfs: Directory '{mod}' with parent '/' already present!\n"
KOBJECT = "[  20.200000] kobject: kobject_add_internal failed for {node} with -EEXIST, don't try to register things with the same name in the same directory.\n"
WARNING = "[  20.300000] WARNING: CPU: 1 PID: 321 at lib/list_debug.c:59 misc_deregister+0x2a/0xb0\n"


@unittest.skipUnless(shutil.which("sh") and shutil.which("awk"),
                     "needs a POSIX sh and awk")
class CopyReport(unittest.TestCase):

    def judged(self, log, modules="blkfifo", wrapped="no"):
        """What kernel_log_clean judges of LOG: the lines the filter
        keeps, and those of them that _LAB_BAD_LOG counts. WRAPPED: the
        run's start record was gone from the ring buffer."""
        env = dict(os.environ, LAB_MODULES=modules,
                   _lab_log_wrapped=wrapped)
        proc = subprocess.run(["sh", "-c", SCRIPT], input=log, env=env,
                              text=True, capture_output=True, check=False)
        self.assertEqual("", proc.stderr)
        bad = subprocess.run(
            ["sh", "-c", f"""eval "$(sed -n '/^_LAB_BAD_LOG=/p' '{AUTOGRADE}')"
                grep -E "$_LAB_BAD_LOG" || true"""],
            input=proc.stdout, text=True, capture_output=True, check=False)
        return proc.stdout, bad.stdout.splitlines()

    def window(self, inside, mod="blkfifo", node=None, end=True):
        fill = dict(mod=mod, node=node or mod)
        return ("[   1.0] blkfifo: ready\n" + BEGIN.format(**fill) +
                inside.format(**fill) + (END.format(**fill) if end else "") +
                "[  21.0] after\n")

    def test_the_expected_report_is_exempt_on_both_kernels(self):
        for report in (SYSFS_612, SYSFS_61):
            with self.subTest(report=report[:120]):
                log = self.window(DEBUGFS + report + KOBJECT)
                kept, bad = self.judged(log)
                self.assertEqual([], bad)
                self.assertNotIn("sysfs:", kept)
                self.assertNotIn("</TASK>", kept)
                self.assertNotIn("RAX:", kept)
                # The markers and the other lines stay in the log.
                self.assertIn("labkit: expected report", kept)
                self.assertIn("kobject_add_internal", kept)
                self.assertIn("after", kept)

    def test_a_minors_node_is_exempt(self):
        _, bad = self.judged(self.window(SYSFS_612, mod="pollfifo",
                                         node="pollfifo0"),
                             modules="pollfifo")
        self.assertEqual([], bad)

    def test_lab_07s_class_is_exempt(self):
        # Lab 07's copy fails at class_create(): the class "mypipe" is
        # taken. Seen on 6.12: "sysfs: cannot create duplicate filename
        # '/class/mypipe'" with the same dump_stack().
        cls = SYSFS_612.replace("/devices/virtual/misc/{node}",
                                "/class/{node}")
        _, bad = self.judged(self.window(cls, mod="mypipe"),
                             modules="mypipe")
        self.assertEqual([], bad)
        # Only the module's own class: a class of another name, or the
        # class path with a minor's number, still counts.
        for node in ("mypipes", "mypipe0", "other"):
            with self.subTest(node=node):
                _, bad = self.judged(self.window(cls, mod="mypipe",
                                                 node=node),
                                     modules="mypipe")
                self.assertIn("Call Trace:", "".join(bad))

    def test_a_warning_inside_the_window_still_counts(self):
        for where in ("before", "after", "in the stack"):
            with self.subTest(where=where):
                if where == "before":
                    inside = WARNING + SYSFS_612
                elif where == "after":
                    inside = SYSFS_612 + WARNING
                else:
                    at = SYSFS_612.index("[  20.100010]")
                    inside = SYSFS_612[:at] + WARNING + SYSFS_612[at:]
                _, bad = self.judged(self.window(inside))
                self.assertTrue(any("WARNING: CPU" in b for b in bad), bad)

    def test_a_window_without_its_end_exempts_nothing(self):
        _, bad = self.judged(self.window(DEBUGFS + SYSFS_612, end=False))
        self.assertIn("Call Trace:", "".join(bad))
        self.assertTrue(any("already present" in b for b in bad), bad)

    def test_the_report_outside_a_window_counts(self):
        log = (SYSFS_612 + DEBUGFS).format(mod="blkfifo", node="blkfifo")
        _, bad = self.judged(BEGIN.format(mod="blkfifo") +
                             END.format(mod="blkfifo") + log)
        self.assertIn("Call Trace:", "".join(bad))
        self.assertTrue(any("already present" in b for b in bad), bad)

    def test_other_names_are_not_exempt(self):
        # Another module's node or directory, another module's markers.
        for mod, node, modules in (("blkfifo", "fifodev", "blkfifo"),
                                   ("blkfifo", "blkfifox", "blkfifo"),
                                   ("fifodev", "fifodev", "blkfifo")):
            with self.subTest(node=node, modules=modules):
                log = self.window(DEBUGFS + SYSFS_612, mod=mod, node=node)
                _, bad = self.judged(log, modules=modules)
                self.assertIn("Call Trace:", "".join(bad))

    def test_only_one_report_a_window(self):
        _, bad = self.judged(self.window(DEBUGFS + SYSFS_612 + DEBUGFS +
                                         SYSFS_612))
        self.assertEqual(1, sum("Call Trace:" in b for b in bad), bad)
        self.assertEqual(1, sum("already present" in b for b in bad), bad)

    def test_a_wrapped_log_opens_the_window_at_the_previous_end(self):
        # A module that floods the log at load pushes the begin record
        # out of the ring buffer before its copy's report comes.
        fill = dict(mod="blkfifo", node="blkfifo")
        flood = "[  20.0] blkfifo: flood\n" * 3
        log = (flood + (DEBUGFS + SYSFS_612).format(**fill) +
               END.format(**fill) + "[  21.0] after\n")
        _, bad = self.judged(log, wrapped="yes")
        self.assertEqual([], bad)
        # Not wrapped: the begin record must be there.
        _, bad = self.judged(log, wrapped="no")
        self.assertIn("Call Trace:", "".join(bad))
        # Wrapped, a second end record: its window starts after the
        # first one, so a report before that still counts once.
        report = SYSFS_612.format(**fill)
        log = (report + END.format(**fill) + report + report +
               END.format(**fill))
        _, bad = self.judged(log, wrapped="yes")
        self.assertEqual(1, sum("Call Trace:" in b for b in bad), bad)

    def test_the_marker_strings_match_the_test_programs(self):
        with open(os.path.join(paths.TOP, "userspace", "module_copy.h"),
                  encoding="utf-8") as f:
            header = f.read()
        begin = re.search(r'#define MODULE_COPY_BEGIN "([^"]*)"', header)
        end = re.search(r'#define MODULE_COPY_END "([^"]*)"', header)
        self.assertEqual(BEGIN.split("] ", 1)[1].replace("{mod}\n", ""),
                         begin.group(1))
        self.assertEqual(END.split("] ", 1)[1].replace("{mod}\n", ""),
                         end.group(1))


if __name__ == "__main__":
    unittest.main()
