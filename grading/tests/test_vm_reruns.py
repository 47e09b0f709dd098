# SPDX-License-Identifier: GPL-2.0
"""Which VM runs are run again (vm.Vm.wait): a restore that may be at
fault and a boot that broke before the guest was ready are; a module's
own crash is not; a guest that never gets ready is a kit error, never a
student's crash. QEMU is replaced by a script of outcomes."""

import subprocess
import sys
import time
import unittest
from unittest import mock

from labkit import vm
from labkit.verdicts import Verdict

#: An oops at boot, before the guest said it was ready (seen in CI: two
#: vCPUs under TCG, the kernel's own code patching).
BOOT_OOPS = ("[    1.764726] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI\n"
             "[    1.765180] CPU: 1 UID: 0 PID: 1 Comm: swapper/0\n")
#: The module's own BUG, one second after the guest was ready at 2.0 s.
MODULE_BUG = ("[    3.000000] kernel BUG at labs/01-flat-buffer/flat.c:80!\n"
              "[    3.000100] Oops: invalid opcode: 0000 [#1] SMP\n")
#: The same, 30 s after the guest was ready: a hang a detector panicked.
LATE_PANIC = "[   32.000000] Kernel panic - not syncing: hung_task\n"


class ScriptedVm(vm.Vm):
    """A Vm whose QEMU runs are a script: each item is (whether the guest
    gets ready, verdict, console[, whether it begins its run]). Records
    the runs it made."""

    def __init__(self, script, restoring):
        # No QEMU, no files: only what wait() reads.
        self._script = list(script)
        self._restoring = restoring
        self._save = not restoring
        self._ready_seen = False
        self._ready_uptime = 2.0
        self._module_paths = ("flat.ko",)
        self._snapshot = "/cache/snapshots/01-flat-buffer-x.vmstate"
        self._restoring_file = (1, 2)
        self.runs = []  # ("restored" or "booted", save)

    def _wait_once(self, on_output):
        ready, verdict, console, *rest = self._script.pop(0)
        began = rest[:1]
        self._ready_seen = ready
        self.runs.append(("restored" if self._restoring else "booted",
                          self._save))
        outcome = vm.Outcome(verdict, "", console, 1.0,
                             vm._oops(console) if verdict == Verdict.CRASH
                             else "", stopped=began == ["stopped"])
        outcome.restored = self._restoring
        outcome.began = began[0] is not False if began else True
        outcome.clock_ahead = rest[1] if len(rest) > 1 else None
        return outcome

    def _boot_instead(self, save):
        self._restoring = False
        self._save = save

    def send_modules(self, module_paths):
        pass

    def _cleanup(self):
        pass


class Reruns(unittest.TestCase):

    def wait(self, script, restoring=True):
        machine = ScriptedVm(script, restoring)
        outcome = machine.wait()
        self.assertEqual([], machine._script, "every scripted run was used")
        return outcome, machine.runs

    def test_a_complete_run_is_not_run_again(self):
        outcome, runs = self.wait([(True, Verdict.COMPLETE, "")])
        self.assertEqual(Verdict.COMPLETE, outcome.verdict)
        self.assertEqual([("restored", False)], runs)
        self.assertIsNone(outcome.rerun_after)

    def test_a_run_its_output_callback_stopped_is_not_run_again(self):
        # A mutation campaign stops a run at its first failed test: that
        # is the caller's choice, never the restore's fault.
        outcome, runs = self.wait([(True, Verdict.TIMEOUT, "", "stopped")])
        self.assertTrue(outcome.stopped)
        self.assertEqual([("restored", False)], runs)

    def test_a_crash_soon_after_a_restore_is_run_again_booted(self):
        outcome, runs = self.wait([(True, Verdict.CRASH, MODULE_BUG),
                                   (True, Verdict.CRASH, MODULE_BUG)])
        self.assertEqual(Verdict.CRASH, outcome.verdict,
                         "a module that crashes a booted guest too: crash")
        self.assertEqual(Verdict.CRASH, outcome.rerun_after)
        self.assertEqual([("restored", False), ("booted", False)], runs,
                         "the boot after a restore saves no snapshot")

    def test_a_demo_run_again_still_gets_its_enter_presses(self):
        # make demo STEP=1: the forwarding of Enter presses (a thread on
        # the first QEMU's port) ends with that QEMU; the run done again
        # needs its own, or its first pause waits for ever.
        machine = ScriptedVm([(True, Verdict.CRASH, MODULE_BUG),
                              (True, Verdict.COMPLETE, "")], True)
        machine._enter = stdin = object()
        with mock.patch.object(ScriptedVm, "forward_enter") as forward:
            machine.wait()
        forward.assert_called_once_with(stdin)

    def test_a_late_panic_after_a_restore_is_not_run_twice(self):
        outcome, runs = self.wait([(True, Verdict.CRASH, LATE_PANIC)])
        self.assertEqual(Verdict.CRASH, outcome.verdict)
        self.assertEqual(1, len(runs))

    def test_a_boot_that_crashes_before_ready_is_booted_again(self):
        outcome, runs = self.wait([(False, Verdict.CRASH, BOOT_OOPS),
                                   (True, Verdict.COMPLETE, "")],
                                  restoring=False)
        self.assertEqual(Verdict.COMPLETE, outcome.verdict)
        self.assertEqual(Verdict.CRASH, outcome.rerun_after)
        self.assertEqual([("booted", True), ("booted", True)], runs,
                         "the second boot still saves the snapshot")

    def test_the_boot_after_a_restore_is_booted_again_when_it_breaks(self):
        # The CI failure of 2026-12-01: a module's real crash after a
        # restore, then the boot that should have confirmed it crashed in
        # the kernel's code patching, and that boot's crash was graded.
        outcome, runs = self.wait([(True, Verdict.CRASH, MODULE_BUG),
                                   (False, Verdict.CRASH, BOOT_OOPS),
                                   (True, Verdict.CRASH, MODULE_BUG)])
        self.assertEqual(Verdict.CRASH, outcome.verdict)
        self.assertIn("kernel BUG at", outcome.detail,
                      "the module's crash is the one reported")
        self.assertEqual(3, len(runs))

    def test_a_guest_that_is_never_ready_is_a_kit_error(self):
        script = [(False, Verdict.CRASH, BOOT_OOPS)] * vm.BOOT_TRIES
        outcome, runs = self.wait(script, restoring=False)
        self.assertEqual(Verdict.ERROR, outcome.verdict,
                         "no module ran: never the student's crash")
        self.assertIn("not the submission's fault", outcome.detail)
        self.assertIn("Oops: int3", outcome.detail,
                      "the last boot's end is shown")
        self.assertEqual(vm.BOOT_TRIES, len(runs))

    def test_boots_are_counted_after_a_restore_too(self):
        script = ([(True, Verdict.CRASH, MODULE_BUG)]
                  + [(False, Verdict.CRASH, BOOT_OOPS)] * vm.BOOT_TRIES)
        outcome, runs = self.wait(script)
        self.assertEqual(Verdict.ERROR, outcome.verdict)
        self.assertEqual(1 + vm.BOOT_TRIES, len(runs))

    def test_a_timeout_before_ready_is_not_run_again(self):
        # A limit too short for a boot (make check's timeout probe) is
        # the run's limit, not a broken boot.
        outcome, runs = self.wait([(False, Verdict.TIMEOUT, "")],
                                  restoring=False)
        self.assertEqual(Verdict.TIMEOUT, outcome.verdict)
        self.assertEqual(1, len(runs))

    def test_a_restored_guest_that_never_begins_is_run_again_booted(self):
        # Seen once: a restored two-vCPU guest on 6.1 said it was ready,
        # then wrote nothing on any port with both vCPUs busy.
        outcome, runs = self.wait([(True, Verdict.ERROR, "", False),
                                   (True, Verdict.COMPLETE, "")])
        self.assertEqual(Verdict.COMPLETE, outcome.verdict)
        self.assertEqual(Verdict.ERROR, outcome.rerun_after)
        self.assertEqual([("restored", False), ("booted", False)], runs)

    def test_a_booted_guest_that_never_begins_is_booted_again(self):
        outcome, runs = self.wait([(True, Verdict.ERROR, "", False),
                                   (True, Verdict.COMPLETE, "")],
                                  restoring=False)
        self.assertEqual(Verdict.COMPLETE, outcome.verdict)
        self.assertEqual([("booted", True), ("booted", True)], runs)

    def test_guests_that_never_begin_are_a_kit_error(self):
        never = (True, Verdict.ERROR, "", False)
        outcome, runs = self.wait([never] * vm.BOOT_TRIES, restoring=False)
        self.assertEqual(Verdict.ERROR, outcome.verdict)
        self.assertIn("not the submission's fault", outcome.detail)
        self.assertEqual(vm.BOOT_TRIES, len(runs))

    def test_a_guest_that_began_and_hung_is_not_run_again(self):
        outcome, runs = self.wait([(True, Verdict.TIMEOUT, "")])
        self.assertEqual(Verdict.TIMEOUT, outcome.verdict)
        self.assertEqual([("restored", False)], runs)


#: A run whose guest's clock ran twice as fast as the host's.
FAST = (40.0, 20.0)


class FastGuestClock(unittest.TestCase):
    """A guest whose clock runs ahead of the host's ends every limit in
    it early (seen: a snapshot saved under heavy load whose guests' clocks
    ran 2 to 4.5 times as fast): such a run is done again booted, once,
    and the snapshot it came from or saved is removed."""

    def test_the_guests_span_is_read_from_line_starts(self):
        results = ("#   [   90.729248] flatbuf: loading out-of-tree module\n"
                   "ok 1 module_loads\n"
                   "#   [  127.784785] flatbuf: wrote 10, now at 10\n")
        self.assertEqual((127.784785 - 90.0, 20.6),
                         vm.guest_clock_ahead(results, 90.0, 20.6))
        self.assertIsNone(vm.guest_clock_ahead(results, 90.0, 40.0),
                          "37.8 s of the guest's in 40 s of the host's")
        self.assertIsNone(vm.guest_clock_ahead("ok 1 module_loads\n", 9.0,
                                               1.0), "no timestamp")

    def test_a_timestamp_inside_a_line_is_not_the_kernels(self):
        # A module's message may print anything after its own timestamp.
        forged = "[   10.000000] flatbuf: [ 9999.000000] is not a stamp\n"
        self.assertIsNone(vm.guest_clock_ahead(forged, 9.0, 5.0))

    def test_the_end_marks_uptime_counts_where_the_log_says_less(self):
        # A quiet module: the log ends early, the end mark does not.
        quiet = "[   10.500000] flatbuf: loaded\n"
        self.assertIsNone(vm.guest_clock_ahead(quiet, 10.0, 20.0))
        self.assertEqual((50.0, 20.0),
                         vm.guest_clock_ahead(quiet, 10.0, 20.0, 60.0))
        self.assertIsNone(vm.guest_clock_ahead(quiet, 10.0, 20.0, 29.0))
        self.assertEqual((50.0, 20.0),
                         vm.guest_clock_ahead("", 10.0, 20.0, 60.0),
                         "the end mark alone is enough")

    def test_a_guest_that_keeps_time_or_lags_is_fine(self):
        lagging = "[   15.000000] a\n[   20.000000] b\n"
        self.assertIsNone(vm.guest_clock_ahead(lagging, 14.0, 19.0))
        # The slack: the two clocks' marks are not taken together.
        self.assertIsNone(vm.guest_clock_ahead(lagging, 14.0, 3.5))

    def wait(self, script, restoring=True):
        machine = ScriptedVm(script, restoring)
        with mock.patch.object(vm.snapshot, "discard") as discard, \
                mock.patch.object(vm, "_warn") as warn:
            outcome = machine.wait()
        self.assertEqual([], machine._script, "every scripted run was used")
        return outcome, machine.runs, discard, warn

    def test_a_restored_run_is_done_again_booted_and_its_snapshot_goes(self):
        outcome, runs, discard, warn = self.wait(
            [(True, Verdict.COMPLETE, "", True, FAST),
             (True, Verdict.COMPLETE, "")])
        self.assertEqual([("restored", False), ("booted", True)], runs,
                         "the boot saves a snapshot in place of the fast one")
        discard.assert_called_once_with(
            "/cache/snapshots/01-flat-buffer-x.vmstate", only=(1, 2))
        self.assertEqual(Verdict.COMPLETE, outcome.rerun_after)
        self.assertIsNone(outcome.clock_ahead)
        self.assertIn("40.0 s in 20.0 s", warn.call_args[0][0])

    def test_a_booted_run_that_saved_is_booted_again(self):
        outcome, runs, discard, _ = self.wait(
            [(True, Verdict.COMPLETE, "", True, FAST),
             (True, Verdict.COMPLETE, "")], restoring=False)
        self.assertEqual([("booted", True), ("booted", True)], runs)
        discard.assert_called_once_with(
            "/cache/snapshots/01-flat-buffer-x.vmstate")

    def test_only_once_and_a_fast_rerun_leaves_no_snapshot(self):
        outcome, runs, discard, _ = self.wait(
            [(True, Verdict.COMPLETE, "", True, FAST),
             (True, Verdict.TIMEOUT, "", True, FAST)])
        self.assertEqual(2, len(runs), "run again once, not more")
        self.assertEqual(Verdict.TIMEOUT, outcome.verdict,
                         "the second run counts")
        self.assertEqual(2, discard.call_count,
                         "the snapshot the second run saved goes too")

    def test_a_run_its_callback_stopped_is_left_alone(self):
        outcome, runs, discard, _ = self.wait(
            [(True, Verdict.TIMEOUT, "", "stopped", FAST)])
        self.assertEqual(1, len(runs))
        discard.assert_not_called()

    def test_without_snapshots_nothing_is_removed(self):
        machine = ScriptedVm([(True, Verdict.COMPLETE, "", True, FAST),
                              (True, Verdict.COMPLETE, "")], False)
        machine._save = False
        with mock.patch.object(vm.snapshot, "discard") as discard, \
                mock.patch.object(vm, "_warn"):
            machine.wait()
        self.assertEqual([("booted", False), ("booted", False)],
                         machine.runs)
        discard.assert_not_called()


class EndMark(unittest.TestCase):
    """The guest's end mark, "labkit-end TOKEN STATUS UPTIME"
    (grading/guest/init), frames the results and gives the guest's
    uptime at the end; an end mark without it still ends the run."""

    TOKEN = "0123456789abcdef"

    def test_the_uptime_comes_with_the_end(self):
        text = (f"noise\nlabkit-begin {self.TOKEN} 30.05\nok 1 a\n"
                f"labkit-end {self.TOKEN} 0 42.17\n")
        self.assertEqual(("ok 1 a\n", True, 30.05, 42.17),
                         vm._framed(text, self.TOKEN))

    def test_an_end_without_uptime_still_ends(self):
        text = (f"labkit-begin {self.TOKEN}\nok 1 a\n"
                f"labkit-end {self.TOKEN} 3\n")
        self.assertEqual(("ok 1 a\n", True, None, None),
                         vm._framed(text, self.TOKEN))

    def test_a_run_that_never_ended_keeps_its_begin(self):
        text = f"labkit-begin {self.TOKEN} 7.5\r\nok 1 a\n"
        self.assertEqual(("ok 1 a\n", False, 7.5, None),
                         vm._framed(text, self.TOKEN))

    def test_a_begin_with_garbage_or_another_token_is_no_begin(self):
        for begin in (f"labkit-begin {self.TOKEN} x",
                      f"labkit-begin {self.TOKEN} 1.0 more",
                      "labkit-begin 00000000 1.0"):
            framed = vm._framed(f"{begin}\nok 1 a\n", self.TOKEN)
            self.assertEqual(("", False, None, None), framed, begin)

    def test_another_token_or_garbage_is_no_end(self):
        for end in ("labkit-end 00000000 0 1.0",
                    f"labkit-end {self.TOKEN} 0 1.0 more",
                    f"labkit-end {self.TOKEN} 0 x"):
            text = f"labkit-begin {self.TOKEN}\nok 1 a\n{end}\n"
            framed = vm._framed(text, self.TOKEN)
            self.assertFalse(framed.ended, end)
            self.assertIsNone(framed.end_uptime, end)


class RunClockSpan(unittest.TestCase):
    """The end-of-run clock check measures from the guest's begin mark
    and from when the host began to send the run (Vm._run_clock_ahead),
    never from when the host read "labkit-ready", which a booted guest
    writes long before the host reads it when the modules' build outlasts
    the boot."""

    TOKEN = "0123456789abcdef"

    def span(self, begin, end, send_started, exited):
        machine = vm.Vm.__new__(vm.Vm)
        machine._send_started = send_started
        machine._clock_broke = None
        text = (f"labkit-begin {self.TOKEN} {begin}\nok 1 a\n"
                f"labkit-end {self.TOKEN} 0 {end}\n")
        framed = vm._framed(text, self.TOKEN)
        return machine._run_clock_ahead(framed.body, framed, exited)

    def test_a_ready_line_read_late_is_no_fast_clock(self):
        # Seen in make check's demo of Lab 05: ready at 8.04 s of the
        # guest's, read 16.2 s after QEMU started, the run's end at
        # 17.07 s, 5.1 s after that reading: "9.0 s in 5.1 s". The run
        # itself came at about 15.7 s of the guest's.
        self.assertIsNone(self.span("15.70", "17.07", 100.0, 105.08))

    def test_a_fast_clock_is_still_seen(self):
        self.assertEqual((20.0, 5.0), self.span("10.00", "30.00",
                                                100.0, 105.0))

    def test_no_begin_or_no_send_no_measure(self):
        machine = vm.Vm.__new__(vm.Vm)
        machine._send_started = None
        machine._clock_broke = None
        framed = vm._framed(f"labkit-begin {self.TOKEN} 1.0\n", self.TOKEN)
        self.assertIsNone(machine._run_clock_ahead("", framed, 50.0))
        machine._send_started = 1.0
        framed = vm._framed(f"labkit-begin {self.TOKEN}\n"
                            f"labkit-end {self.TOKEN} 0 99.0\n", self.TOKEN)
        self.assertIsNone(machine._run_clock_ahead("", framed, 2.0),
                          "a begin mark without uptime")


def booting_machine(test, command, timeout):
    """A Vm booting (not restoring, not saving) whose QEMU is COMMAND,
    stopped when TEST ends; no files: only what it reads."""
    machine = vm.Vm.__new__(vm.Vm)
    machine._proc = subprocess.Popen(command, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)
    test.addCleanup(machine._proc.stdout.close)
    test.addCleanup(machine._proc.stdin.close)
    test.addCleanup(machine._proc.wait)
    test.addCleanup(machine._proc.kill)
    machine._restoring = False
    machine._save = False
    machine._start = time.monotonic()
    machine.timeout = timeout
    machine._kver = "6.12.117+deb12-amd64"
    machine._boot_stuck = False
    return machine


#: A stand-in for a booted guest getting ready: it says "labkit-ready
#: UPTIME" once, UPTIME being what its clock would say.
FAKE_GUEST = """
import sys
sys.stdout.write("labkit-ready UPTIME\\n")
sys.stdout.flush()
sys.stdin.read()
"""


class BootClockCheck(unittest.TestCase):
    """A booted guest that says it has been up longer than its QEMU ran
    has a clock that runs fast: it is stopped before its run as a broken
    boot (no snapshot is saved of it, nothing is sent to it); one that
    keeps time goes on."""

    def ready(self, uptime):
        machine = booting_machine(
            self, [sys.executable, "-c",
                   FAKE_GUEST.replace("UPTIME", uptime)], timeout=30)
        machine._save = True
        machine._clock_broke = None
        machine._qmp = machine._snapshot = None
        with mock.patch.object(vm.snapshot, "save",
                               return_value=None) as save:
            ready = machine._await_ready()
        return machine, ready, save

    def test_a_clock_that_keeps_time_goes_on(self):
        machine, ready, save = self.ready("0.01")
        self.assertTrue(ready)
        self.assertIsNone(machine._clock_broke)
        save.assert_called_once()

    def test_a_fast_clock_is_a_broken_boot(self):
        machine, ready, save = self.ready("30.00")
        self.assertFalse(ready)
        guest, host = machine._clock_broke
        self.assertEqual(30.0, guest)
        self.assertLess(host, 30.0 - vm.BOOT_CLOCK_SLACK_SECS)
        self.assertFalse(machine._ready_seen,
                         "Vm.wait boots it again (_broke_before_ready)")
        save.assert_not_called()
        self.assertIsNotNone(machine._proc.wait(timeout=5), "stopped")

    def test_the_rule(self):
        self.assertIsNone(vm.boot_clock_ahead(4.0, 4.5))
        self.assertIsNone(vm.boot_clock_ahead(5.0, 4.5), "within slack")
        self.assertEqual((12.0, 4.5), vm.boot_clock_ahead(12.0, 4.5))


class BootWatch(unittest.TestCase):
    """A boot that never says it is ready is stopped after BOOT_SECS, as
    broken (Vm._await_ready), not left to run into the run's limit."""

    def machine(self, timeout):
        return booting_machine(self, ["sleep", "30"], timeout)

    def test_a_silent_boot_is_stopped_as_broken(self):
        machine = self.machine(timeout=30)
        with mock.patch.object(vm, "BOOT_SECS", 0.3):
            self.assertFalse(machine._await_ready())
        self.assertTrue(machine._boot_stuck)
        self.assertIsNotNone(machine._proc.wait(timeout=5),
                             "the silent QEMU was stopped")

    def test_a_run_limit_shorter_than_a_boot_stays_a_timeout(self):
        machine = self.machine(timeout=0.3)
        with mock.patch.object(vm, "BOOT_SECS", 5):
            self.assertFalse(machine._await_ready())
        self.assertFalse(machine._boot_stuck)


if __name__ == "__main__":
    unittest.main()
