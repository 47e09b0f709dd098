# SPDX-License-Identifier: GPL-2.0
"""The guest's kernel_log_clean message (grading/guest/autograde.sh,
_lab_log_report): which of the kernel's checks fired, the report's first
lines and the lab module's functions in it, on canned kernel logs. Runs
the shell functions with the host's sh; no VM."""

import os
import shutil
import subprocess
import tempfile
import unittest

from labkit import paths

AUTOGRADE = os.path.join(paths.TOP, "grading", "guest", "autograde.sh")

#: Pull the pattern and the three functions out of autograde.sh (sourcing
#: it whole would run its setup), then report on $_lab_work/log.
SCRIPT = f"""
eval "$(sed -n '/^_LAB_BAD_LOG=/p' '{AUTOGRADE}')"
eval "$(sed -n '/^_lab_check_named() {{/,/^}}/p;/^_lab_module_frames() {{/,/^}}/p;/^_lab_log_report() {{/,/^}}/p' '{AUTOGRADE}')"
_lab_log_report
"""

LOCKDEP = """\
[   10.000000] mypipe: loaded
[   12.300000] ======================================================
[   12.300001] WARNING: possible circular locking dependency detected
[   12.300002] 6.12.117 #1 Not tainted
[   12.300003] ------------------------------------------------------
[   12.300004] test_mypipe/123 is trying to acquire lock:
[   12.300005] ffff888003 (&dev->rsem){+.+.}-{3:3}, at: mypipe_write+0x45/0x120 [mypipe]
[   12.400000] Call Trace:
[   12.400001]  <TASK>
[   12.400002]  dump_stack_lvl+0x5d/0x80
[   12.400003]  mypipe_write+0x45/0x120 [mypipe]
[   12.400004]  ? mypipe_read+0x12/0x40 [mypipe]
[   12.400005]  vfs_write+0x100/0x400
[   12.400006]  other_fn+0x1/0x2 [someone_else]
"""


@unittest.skipUnless(shutil.which("sh"), "needs a POSIX sh")
class LogReport(unittest.TestCase):

    def report(self, log, modules="mypipe"):
        with tempfile.TemporaryDirectory(prefix="labkit-unit-") as work:
            with open(os.path.join(work, "log"), "w", encoding="utf-8") as f:
                f.write(log)
            env = dict(os.environ, _lab_work=work, LAB_MODULES=modules)
            proc = subprocess.run(["sh", "-c", SCRIPT], env=env, text=True,
                                  capture_output=True, check=False)
        self.assertEqual("", proc.stderr)
        return proc.stdout.splitlines()

    def test_lockdep_names_the_check_the_lines_and_the_functions(self):
        out = self.report(LOCKDEP)
        self.assertIn("lockdep: a lock-order inversion", out[0])
        self.assertIn("WARNING: possible circular locking dependency", out[2])
        frames = out[out.index(
            "your module's functions in the report (innermost first):") + 1:]
        # "? " frames are guesses from the stack, not calls: left out.
        self.assertEqual(["  mypipe_write+0x45/0x120 [mypipe]"], frames)

    def test_frames_past_a_function_end_and_kasan_frames_are_left_out(self):
        out = self.report(
            "[ 2.0] BUG: KASAN: stack-out-of-bounds in flatbuf_write+0x352/0x3d0 [flatbuf]\n"
            "[ 2.1] Call Trace:\n"
            "[ 2.2]  flatbuf_write+0x352/0x3d0 [flatbuf]\n"
            "[ 2.3]  flatbuf_read+0x100/0x100 [flatbuf]\n"
            "[ 2.4]  in frame: flatbuf_write+0x0/0x3d0 [flatbuf]\n",
            modules="flatbuf")
        frames = out[out.index(
            "your module's functions in the report (innermost first):") + 1:]
        self.assertEqual(["  flatbuf_write+0x352/0x3d0 [flatbuf]"], frames)

    def test_each_check_is_named(self):
        cases = {
            "BUG: KASAN: slab-use-after-free in f+0x1/0x2 [mypipe]":
                "KASAN: slab-use-after-free",
            "BUG: sleeping function called from invalid context at x.c:1":
                "the atomic-sleep check",
            "WARNING: bad unlock balance detected!": "lockdep: a lock released",
            "INFO: trying to register non-static key.":
                "lockdep: a lock used before it was initialised",
            "DEBUG_LOCKS_WARN_ON(lock->magic != lock)":
                "the lock debugging checks",
            "list_del corruption, ffff88800 ->next is NULL":
                "the list debugging check",
            "ODEBUG: free active (active state 0) object: x":
                "the object debugging check",
            "WARNING: CPU: 1 PID: 7 at fs/x.c:3 f+0x1/0x2": "a kernel warning",
            "do not call blocking ops when !TASK_RUNNING; state=1 set at x":
                "inside a wait_event() condition",
            "debugfs: Directory 'blkfifo' with parent '/' already present!":
                "debugfs: a name that an earlier load",
        }
        for line, named in cases.items():
            with self.subTest(line=line):
                out = self.report(f"[ 1.0] ok\n[ 2.0] {line}\n")
                self.assertIn(named, out[0])
                self.assertIn(line, out[2])

    def test_the_headline_comes_before_another_cpus_call_trace(self):
        out = self.report(
            "[ 1.0] Call Trace:\n"
            "[ 1.1]  misc_open+0xc1/0x180\n"
            "[ 1.2] WARNING: CPU: 0 PID: 9 at x/flatbuf.c:59 flatbuf_open+0x74/0x90 [flatbuf]\n"
            "[ 1.3] RIP: 0010:flatbuf_open+0x74/0x90 [flatbuf]\n",
            modules="flatbuf")
        self.assertIn("a kernel warning", out[0])
        self.assertIn("WARNING: CPU: 0", out[2])
        frames = out[out.index(
            "your module's functions in the report (innermost first):") + 1:]
        self.assertEqual(["  flatbuf_open+0x74/0x90 [flatbuf]"], frames)

    def test_no_module_frames_no_function_list(self):
        out = self.report("[ 2.0] WARNING: CPU: 0 PID: 1 at a.c:1 f+0x1/0x2\n",
                          modules="nbfifo")
        self.assertNotIn(
            "your module's functions in the report (innermost first):", out)


if __name__ == "__main__":
    unittest.main()
