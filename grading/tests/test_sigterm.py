# SPDX-License-Identifier: GPL-2.0
"""No QEMU outlives the kit's command: vm.stop_on_sigterm() makes a
SIGTERM to it (a campaign, make check) end the QEMUs it runs, an exception
it did not catch ends them at exit, and runner._build_and_run() stops its
VM whatever fails between boot and result. Otherwise they would run on,
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

#: A kit command that fails with an exception while its QEMU runs.
CHILD_RAISES = textwrap.dedent("""
    import subprocess, sys
    sys.path.insert(0, sys.argv[1])
    from labkit import vm
    proc = subprocess.Popen(["sleep", "300"])
    vm._track(proc, True)
    print(proc.pid, flush=True)
    sys.stdin.readline()
    raise RuntimeError("a bug of the kit's")
""")


def _alive(pid):
    """Whether PID runs (a zombie, which the test's init will reap, does
    not count)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _outlives(pid):
    """Whether PID still runs 5 s from now (killed then, if so)."""
    for _ in range(100):
        if not _alive(pid):
            return False
        time.sleep(0.05)
    if not _alive(pid):
        return False
    os.kill(pid, signal.SIGKILL)
    return True


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
        alive = _outlives(qemu)
        self.assertFalse(alive, "the stand-in QEMU outlived the SIGTERM")

    def test_an_uncaught_exception_ends_the_qemus_too(self):
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD_RAISES,
             os.path.join(paths.TOP, "grading")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True)
        self.addCleanup(proc.kill)
        qemu = int(proc.stdout.readline())
        self.assertTrue(_alive(qemu))
        proc.stdin.write("\n")
        proc.stdin.close()
        self.assertEqual(1, proc.wait(timeout=10))
        alive = _outlives(qemu)
        self.assertFalse(alive, "the stand-in QEMU outlived the exception")


class _FakeVm:
    """vm.Vm as _build_and_run() uses it: records whether it was stopped;
    its wait() raises WAIT_RAISES when set."""

    wait_raises = None
    made = []

    def __init__(self, *args, **kwargs):
        del args, kwargs
        self.aborted = 0
        self.sent = None
        _FakeVm.made.append(self)

    def abort(self):
        self.aborted += 1

    def send_modules(self, paths):
        self.sent = paths

    def wait(self, on_output=None):
        del on_output
        if self.wait_raises:
            raise self.wait_raises
        return "outcome"


class _Built:
    def __init__(self, ok):
        self.ok = ok
        self.modules = ["lab.ko"] if ok else []


class BuildAndRunStopsItsVm(unittest.TestCase):
    def setUp(self):
        from labkit import build, runner, vm
        self.runner = runner
        _FakeVm.made = []
        _FakeVm.wait_raises = None
        self.build_ok = True
        self.kit_raises = None
        for obj, name, value in (
                (vm, "Vm", _FakeVm),
                (build, "modules", lambda *a, **k: _Built(self.build_ok)),
                (build, "kit_modules", self._kit_modules)):
            self.addCleanup(setattr, obj, name, getattr(obj, name))
            setattr(obj, name, value)

    def _kit_modules(self, kver):
        del kver
        if self.kit_raises:
            raise self.kit_raises
        return _Built(True)

    def _run(self):
        lab = type("Lab", (), {"name": "01-flat"})()
        return self.runner._build_and_run(lab, "/nowhere", "6.12", "t", (),
                                          None, None)

    def test_a_result_leaves_the_vm_to_wait(self):
        outcome, built = self._run()
        self.assertEqual("outcome", outcome)
        self.assertTrue(built.ok)
        self.assertEqual(["lab.ko", "lab.ko"], _FakeVm.made[-1].sent)
        self.assertEqual(0, _FakeVm.made[-1].aborted)

    def test_a_failed_build_stops_the_vm(self):
        self.build_ok = False
        self.assertIsNone(self._run()[0])
        self.assertEqual(1, _FakeVm.made[-1].aborted)

    def test_a_kit_module_failure_stops_the_vm(self):
        self.kit_raises = RuntimeError("the kit's modules did not build")
        with self.assertRaises(RuntimeError):
            self._run()
        self.assertEqual(1, _FakeVm.made[-1].aborted)

    def test_an_interrupted_wait_stops_the_vm(self):
        _FakeVm.wait_raises = KeyboardInterrupt()
        with self.assertRaises(KeyboardInterrupt):
            self._run()
        self.assertEqual(1, _FakeVm.made[-1].aborted)


if __name__ == "__main__":
    unittest.main()
