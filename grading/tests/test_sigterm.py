# SPDX-License-Identifier: GPL-2.0
"""vm.stop_on_sigterm(): a SIGTERM to the kit's command (a campaign, make
check) also ends the QEMUs it runs, which would otherwise run on,
orphaned, until their time limit. A child `sleep` stands in for QEMU."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import unittest

from labkit import paths

CHILD = textwrap.dedent("""
    import subprocess, sys, time
    sys.path.insert(0, sys.argv[1])
    from labkit import vm
    vm.stop_on_sigterm()
    proc = subprocess.Popen(["sleep", "300"])
    vm._track(proc, True)
    print(proc.pid, flush=True)
    time.sleep(300)
""")


def _alive(pid):
    """Whether PID runs (a zombie, which the test's init will reap, does
    not count)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class StopOnSigterm(unittest.TestCase):
    def test_sigterm_ends_the_qemus_too(self):
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD,
             os.path.join(paths.TOP, "grading")],
            stdout=subprocess.PIPE, text=True)
        self.addCleanup(proc.kill)
        qemu = int(proc.stdout.readline())
        self.assertTrue(_alive(qemu))
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(143, proc.wait(timeout=10))
        for _ in range(100):
            if not _alive(qemu):
                break
            time.sleep(0.05)
        alive = _alive(qemu)
        if alive:
            os.kill(qemu, signal.SIGKILL)
        self.assertFalse(alive, "the stand-in QEMU outlived the SIGTERM")


if __name__ == "__main__":
    unittest.main()
