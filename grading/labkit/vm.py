# SPDX-License-Identifier: GPL-2.0
"""Run one lab's autograder in a throwaway QEMU virtual machine.

The guest is an installed Debian kernel booted straight from its
uncompressed vmlinux (PVH), with an initramfs made for this run: busybox,
grading/guest/init as PID 1, the lab's test program and autograder, laid
out as in the kit's tree under /kit. There is no network and no shared
folder: nothing the guest does reaches the host except two serial ports,
both written to files,

  ttyS0  the kernel console (oopses and panics show up here)
  ttyS1  the autograder's results, framed by a per-run random token

and QEMU's exit status. A third port, ttyS2, goes the other way: the VM is
started before the lab's modules are built, boots while kbuild runs, and
receives the modules over ttyS2 when they are ready (Vm.send_modules), so
the edit-test loop costs about max(build, boot) rather than their sum.
The boot itself happens once per lab and kernel: the guest, booted and
waiting for its run, is saved and restored for the runs that follow
(snapshot.py).

The guest's init ends the run through an isa-debug-exit device, which only
a finished run reaches; a panic (oops=panic panic=-1, with -no-reboot)
ends QEMU with status 0 instead, and a hang runs into the host's
wall-clock timeout. So the host tells a
complete run, a crash and a hang apart without trusting the guest's word.
"""

import atexit
import collections
import dataclasses
import functools
import hashlib
import os
import re
import secrets
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from . import build, initramfs, kernels, paths, points, snapshot
from .verdicts import Verdict

#: How many times a lab's own time limit a run on the debug kernel gets;
#: grading/guest/autograde.sh scales the test program's limit and each
#: test's by the same number there. Measured on an idle machine, Lab 07's
#: closes_give_back_what_opens_took (65536 opens and closes of each end)
#: took 10 s on 6.12, 12 s on 6.1 and 85 s on the debug kernel; whole
#: labs take 2.4 to 4.4 times as long there. With 2, that test's 240 s
#: ran out under load (the reference solution scored 96/100).
DEBUG_SLOWDOWN = 4

#: The byte grading/guest/init writes to the exit device when done.
EXIT_CODE = 16
#: QEMU's exit status for it: (code << 1) | 1.
EXIT_STATUS = (EXIT_CODE << 1) | 1

#: Initcalls the guest can do without that cost the most time under
#: emulation (measured with initcall_debug on Debian's 6.1 and 6.12):
#: entropy and crypto self-tests, BPF and tracing set-up, certificate
#: parsing, TCP congestion control. None of them matters to a lab.
#: tracer_init_tracefs (tracefs's files) is not skipped: the tests
#: sleeps_have_no_timeout (Labs 04 and 07) read the kernel's timer
#: events there (userspace/sleep_timer.h).
SKIPPED_INITCALLS = ("jent_mod_init", "bpf_tcp_ca_kfunc_init",
                     "bpf_dummy_struct_ops_init", "dev_map_init",
                     "load_system_certificate_list", "trace_eval_init",
                     "init_kprobe_trace",
                     "crypto_kdf108_init", "cubictcp_register")

#: Most bytes the two serial logs may hold together before the run is
#: stopped as a printk flood.
LOG_LIMIT = 64 << 20

#: Kernel command line. quiet keeps all but errors off the console (and the
#: guest's init, once a run starts, errors too: grading/guest/init);
#: oops=panic panic=-1 turns any oops into an immediate reset, which
#: -no-reboot turns into QEMU's exit. A CPU stuck in the kernel for 20 s
#: (soft lockup: a loop with preemption off) panics too: a hang becomes a
#: crash with the stuck code's stack trace, well before the run's time
#: limit. The hung-task detector is off (hung_task_timeout_secs=0): when
#: it fired would depend on timing, and so would a score. A task stuck in
#: state D is found by the autograder itself at fixed points (after a test
#: overstays its timeout, and at the end), which fails kernel_log_clean
#: with the task's stack. RCU's CPU-stall warnings are off too: under
#: TCG a loaded host starves the guest's vCPUs for seconds, and the
#: warning then says so about any module (a module that spins with
#: preemption off is the soft-lockup detector's).
#: slub_debug on the kmalloc caches makes
#: overruns and use-after-free of kmalloc'ed memory leave a report.
#: acpi=ht reads only ACPI's tables, not its interpreter: enough to find
#: the second vCPU (a PVH boot has no MP table, so with acpi=off the guest
#: had one CPU whatever -smp said), and the guest powers off through
#: isa-debug-exit. trace_event= turns on the two timer tracepoints that
#: sleeps_have_no_timeout reads (userspace/sleep_timer.h) at boot, before
#: a second CPU runs: turning a tracepoint on later patches kernel text
#: under the other vCPU's feet, and under multi-threaded TCG that once
#: crashed the guest ("Oops: int3"). The rest only makes the boot faster
#: under emulation: no crypto self-tests, the initcalls above skipped.
CMDLINE = ("console=ttyS0 quiet rdinit=/init oops=panic panic=-1 "
           "softlockup_panic=1 sysctl.kernel.hung_task_timeout_secs=0 "
           "rcupdate.rcu_cpu_stall_suppress=1 "
           "slub_debug=FZPU,kmalloc-* "
           "acpi=ht cryptomgr.notests "
           "mitigations=off tsc=reliable "
           "no_timer_check "
           "trace_event=timer:timer_start,timer:hrtimer_start "
           "initcall_blacklist=" + ",".join(SKIPPED_INITCALLS))

#: QEMU machine and CPU. SMEP and SMAP make a module that touches user
#: memory directly, instead of through copy_to_user() and friends, fault
#: as it would on any recent x86 machine.
MACHINE = ["-M", "pc", "-cpu", "qemu64,+smep,+smap"]

#: The guest's CPUs unless LABKIT_VCPUS says otherwise (see vcpus()).
VCPUS = 2

#: Seconds a restored guest gets to answer before the snapshot is given up
#: for a boot (it answers in well under one).
RESTORE_SECS = 15
#: Seconds between the empty lines that poke a restored guest.
POKE_SECS = 0.05
#: Seconds a booting guest gets to say it is ready for its run (it takes
#: 2.5-5 s; DEBUG_SLOWDOWN times this on the debug kernel). One that does
#: not is broken, and no module of the submission ever reached it: seen
#: once, a two-vCPU boot of 6.1 under TCG that wrote nothing on any port
#: with both vCPUs busy until the run's limit, 510 s later. It is booted
#: again (Vm.wait), as a boot that crashed before it was ready is.
BOOT_SECS = 60
#: Seconds a guest that said it was ready gets to begin its run (to say
#: "labkit-begin TOKEN" on ttyS1, before it reads any module) once the
#: host sent it: it does in milliseconds. One that does not is broken in
#: the same way, before any module reached it, and is run again too.
BEGIN_SECS = 15
#: A restored run that crashes within this many seconds of the restore is
#: run again booted (see Vm.wait).
RERUN_SECS = 10
#: Boots one run gets when its guest crashes before it is ready for the
#: run (see Vm.wait).
BOOT_TRIES = 3
#: A run whose guest's clock ran faster than the host's, by more than
#: this factor plus CLOCK_SLACK_SECS over the run, is run again booted,
#: once (see Vm.wait and guest_clock_ahead()). Seen under a load of 8-9
#: on two cores: a snapshot whose guest's clock ran 2 to 4.5 times as
#: fast as the host's, so that every limit a test measures in the guest
#: ran out 2 to 4.5 times too soon, and the reference solution of Lab 01
#: lost two tests to "terminated by timeout" in runs restored from it.
CLOCK_AHEAD = 1.25
#: The seconds of slack CLOCK_AHEAD allows (the guest's and the host's
#: marks of the run's start and end are not taken at the same moment).
CLOCK_SLACK_SECS = 2.0
#: A booted guest whose uptime, when it says it is ready, exceeds the
#: host's seconds since QEMU was started by more than this, has a clock
#: that runs fast (a guest that keeps time cannot be older than its QEMU):
#: a broken boot, booted again, whose snapshot is never saved (see
#: boot_clock_ahead()). No message goes to the guest for it.
BOOT_CLOCK_SLACK_SECS = 1.0

#: An uptime as the guest writes it in its marks (grading/guest/init).
_UPTIME = r"([0-9]+(?:\.[0-9]+)?)"
#: A kernel log line's timestamp, "[   16.993808]".
_KERNEL_STAMP = r"\[\s*([0-9]+\.[0-9]+)\]"
#: What the guest says on ttyS2 when it waits for its run: its uptime.
_READY = re.compile(rb"labkit-ready " + _UPTIME.encode() + rb"\n")
#: A kernel log line's timestamp, at the start of a console line.
_STAMP = re.compile(r"^" + _KERNEL_STAMP)
#: The same, at the start of a line of the console or of the
#: autograder's kernel log excerpt ("#   [   16.993808] flatbuf: ...").
_LOG_STAMPS = re.compile(r"^(?:#\s*)?" + _KERNEL_STAMP, re.M)

_PANIC = re.compile(r"Kernel panic - not syncing|"
                    r"INFO: task .* blocked for more than|"
                    r"\bBUG: |\bOops\b|general protection fault|"
                    r"kernel BUG at|Call Trace:")


def accel():
    """The accelerator: ACCEL from the environment, else KVM only where the
    CPU advertises virtualisation and /dev/kvm can be opened, else TCG.

    Never probes by starting a guest: on some machines /dev/kvm exists but
    a KVM guest hangs.
    """
    forced = os.environ.get("ACCEL")
    if forced:
        return forced
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = re.search(r"^flags\s*:(.*)$", f.read(), re.M)
        has_vt = bool(flags) and bool(
            re.search(r"\b(vmx|svm)\b", flags.group(1)))
        if has_vt and os.access("/dev/kvm", os.R_OK | os.W_OK):
            return "kvm"
    except OSError:
        pass
    # One host thread per vCPU: the guest's CPUs really run at once.
    return "tcg,thread=multi"


def vcpus():
    """The guest's CPUs: LABKIT_VCPUS from the environment, else VCPUS.

    Two by default, so that two callers of a driver really run at the same
    time, as on the students' multi-core machines. One CPU interleaves
    them only where the kernel preempts, and Debian's kernels rarely do.
    """
    value = os.environ.get("LABKIT_VCPUS", str(VCPUS))
    if not value.isdigit() or not 1 <= int(value) <= 8:
        raise ValueError(f"LABKIT_VCPUS={value!r}: give a number of CPUs "
                         "from 1 to 8")
    return int(value)


@dataclasses.dataclass(eq=False)
class Outcome:
    """What one VM run produced."""

    #: How the run ended: Verdict.COMPLETE, CRASH, TIMEOUT, FLOOD (the
    #: logs grew past LOG_LIMIT) or ERROR (a string is taken for its
    #: member).
    verdict: Verdict
    #: The autograder's output between the run's begin and end marks
    #: (as far as it got).
    results: str
    #: The kernel console.
    console: str
    #: Seconds from QEMU's start to its end.
    elapsed: float
    #: For crash: the oops text; for timeout and error: what went wrong.
    detail: str = ""
    #: Whether the guest was restored from a snapshot, not booted.
    restored: bool = False
    #: The snapshot file the run restored or would save, or None.
    snapshot: "str | None" = None
    #: Whether a snapshot was restored and its guest answered, even when
    #: the run was then done again booted (Vm.wait).
    snapshot_answered: bool = False
    #: The verdict of the first run when this is the outcome of a
    #: run done again (Vm.wait), or None.
    rerun_after: "Verdict | None" = None
    #: False when the guest was stopped because it did not begin its run
    #: within BEGIN_SECS of being sent it (no module ever reached it).
    began: bool = True
    #: True when the run was stopped because wait()'s on_output callback
    #: asked for it (returned True): the results end where it did.
    stopped: bool = False
    #: (guest seconds, host seconds) when the guest's clock ran ahead of
    #: the host's over the run (guest_clock_ahead()), else None.
    clock_ahead: "tuple | None" = None

    def __post_init__(self):
        self.verdict = Verdict(self.verdict)


#: Every QEMU this process runs (see stop_on_sigterm()).
_running = set()
_running_lock = threading.Lock()


def _track(proc, running):
    """Note that PROC, a QEMU, runs (RUNNING true) or is done with."""
    with _running_lock:
        if running:
            _running.add(proc)
        else:
            _running.discard(proc)


def _kill_running():
    """Kill every QEMU this process still runs (see _track)."""
    with _running_lock:
        procs = list(_running)
    for proc in procs:
        try:
            proc.kill()
        except OSError:
            pass


# A QEMU still running when this process exits (an exception the kit did
# not catch, anywhere between boot and result) is killed rather than left
# to run on, orphaned, until its time limit with two busy CPUs.
atexit.register(_kill_running)


def stop_on_sigterm():
    """Make SIGTERM stop this process and every QEMU it runs, as Ctrl-C
    stops the whole job. Without it, a `kill` of the kit's command ends
    Python alone, and its QEMUs run on, orphaned, until their time limit
    (minutes of two busy CPUs each). The process exits with 143 at once,
    in the middle of whatever it did: what the kit keeps between runs
    (snapshots, the mutation and batch caches) is written whole or not at
    all, so nothing half-done is kept."""

    def handler(signum, frame):
        del frame
        _kill_running()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def _qemu_binary():
    return shutil.which("qemu-system-x86_64") or "qemu-system-x86_64"


def machine_args():
    """QEMU's arguments that define the machine and its boot (everything
    but the files of one run), the same for a boot and a restore."""
    return ["-accel", accel(), *MACHINE,
            "-nodefaults", "-no-user-config", "-display", "none",
            "-no-reboot", "-m", "256M", "-smp", str(vcpus()),
            "-append", CMDLINE,
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x01",
            "-nic", "none",
            "-global", "migration.store-global-state=off"]


def _warn(message):
    print(f"labkit: {message}", file=sys.stderr)


@functools.lru_cache(maxsize=1)
def _busybox_applets(path):
    """The applets busybox at PATH provides (asked once per process)."""
    return subprocess.run([path, "--list"], stdout=subprocess.PIPE,
                          text=True, check=True).stdout.split()


def _busybox_path():
    return shutil.which("busybox") or "/bin/busybox"


def _busybox(image):
    path = _busybox_path()
    image.add_file("bin/busybox", path, 0o755)
    for applet in _busybox_applets(path):
        if applet != "busybox":
            image.symlink(f"bin/{applet}", "busybox")


def _kit_path(path):
    """PATH (a file of the kit) relative to the kit's top directory."""
    rel = os.path.relpath(os.path.realpath(path),
                          os.path.realpath(paths.TOP))
    if rel.startswith(os.pardir + os.sep):
        raise ValueError(f"{path}: a guest script must be in the kit")
    return rel


def _image(lab, script=None, script_args=(), programs=()):
    """The initramfs of one run. By default the guest runs LAB's
    tests/grade.sh with its points file and test program beside it;
    SCRIPT (a file of the kit, placed at the same path under /kit)
    replaces them, and is run with SCRIPT_ARGS. PROGRAMS (host paths of static programs) go to /bin."""
    image = initramfs.Initramfs()
    for d in ("proc", "sys", "dev", "tmp"):
        image.mkdir(d)
    _busybox(image)
    image.add_file("bin/vm-exit", build.guest_exit_program(), 0o755)
    image.add_file("bin/results-sync", build.guest_results_sync_program(),
                   0o755)
    image.add_file("init", os.path.join(paths.TOP, "grading", "guest",
                                        "init"), 0o755)
    # The shared parts the labs' scripts source.
    for shared in ("autograde.sh", "fifo-bench.sh", "demo.sh"):
        image.add_file(f"kit/grading/guest/{shared}",
                       os.path.join(paths.TOP, "grading", "guest", shared),
                       0o644)
    lab_dir = f"kit/labs/{lab.name}"
    if script is None:
        image.add_file(f"{lab_dir}/tests/grade.sh", lab.grade_script, 0o755)
        # The plan: the guest reads the test names, never the points.
        image.add_file(f"{lab_dir}/tests/points", lab.points_file, 0o644)
        image.add_file(f"{lab_dir}/tests/{lab.test_program}",
                       build.test_program(lab), 0o755)
        guest_script = f"labs/{lab.name}/tests/grade.sh"
        hidden = build.hidden_program(lab)
        if hidden:
            # The built hidden directory (program and points), where
            # autograde.sh looks by default: see its LAB_HIDDEN_DIR.
            hidden_dir = f"kit/grading/hidden/{lab.name}"
            for name in (os.path.basename(hidden), "points"):
                image.add_file(f"{hidden_dir}/{name}", os.path.join(
                    os.path.dirname(hidden), name))
    else:
        guest_script = _kit_path(script)
        image.add_file(f"kit/{guest_script}", script, 0o755)
    image.mkdir(lab_dir)  # the modules arrive here
    taken = set(_busybox_applets(_busybox_path()))
    for program in programs:
        name = os.path.basename(program)
        if name in taken or name in ("busybox", "vm-exit", "results-sync"):
            raise ValueError(f"{program}: /bin/{name} is taken in the guest")
        image.add_file(f"bin/{name}", program, 0o755)
    args = " ".join(shlex.quote(a) for a in script_args)
    # No token: the image is the same for every run of the lab (and so
    # its snapshot is); the token comes over ttyS2.
    image.add_bytes("kit/run.conf",
                    f"LAB='{lab.name}'\n"
                    f"SCRIPT={shlex.quote(guest_script)}\n"
                    f"set -- {args}\n".encode())
    return image


def seed():
    """LABKIT_SEED from the environment (make test SEED=N): the seed the
    model-based tests use instead of their fixed ones, or "" for none.

    Only make test passes it on; the graders (grading/grade, grade-batch,
    check) remove it from their environment, so a grade never depends on
    it.
    """
    value = os.environ.get("LABKIT_SEED", "")
    if value and not (value.isdigit() and len(value) <= 19):
        raise ValueError(f"SEED={value!r}: give a decimal number of at "
                         "most 19 digits")
    return value


def run_line(token, only=()):
    """The line that starts a run: "labkit-run TOKEN [seed=N]
    [only=TEST,...]" (grading/guest/init reads it).

    seed= is the student's own seed for the model-based tests (seed()),
    absent for graded runs, which use the tests' fixed seeds. only= names
    the test program's tests to run, the others being reported as not
    run: make check's hand mutants need only the tests that must catch
    them (grading/check)."""
    words = ["labkit-run", token]
    student_seed = seed()
    if student_seed:
        words.append(f"seed={student_seed}")
    if only:
        bad = [name for name in only
               if not points.TEST_NAME.fullmatch(name)]
        if bad:
            raise ValueError(f"only={','.join(bad)}: test names are "
                             "lower-case letters, digits and _")
        words.append("only=" + ",".join(only))
    return " ".join(words) + "\n"


def _module_stream(token, module_paths, workdir, only=()):
    """What goes down ttyS2: run_line(TOKEN, ONLY), then for each module
    (stripped of debug info, which the guest does not need and which is
    most of its size) a line "labkit-module TOKEN NAME SIZE MD5" and its
    bytes, then "labkit-modules-end TOKEN"."""
    out = run_line(token, only).encode()
    for path in module_paths:
        name = os.path.basename(path)
        stripped = os.path.join(workdir, name)
        subprocess.run(["strip", "--strip-debug", "-o", stripped, path],
                       check=True)
        with open(stripped, "rb") as f:
            data = f.read()
        digest = hashlib.md5(data).hexdigest()
        out += f"labkit-module {token} {name} {len(data)} {digest}\n".encode()
        out += data
    return out + f"labkit-modules-end {token}\n".encode()


#: What _framed() finds of a run in the guest's results log.
Framed = collections.namedtuple(
    "Framed", "body ended begin_uptime end_uptime")


def _framed(text, token):
    """The part of TEXT between the begin and end marks of TOKEN.

    Returns a Framed: body, the text between the marks; ended, False if
    the end mark is missing; begin_uptime and end_uptime, the guest's
    uptimes the marks give ("labkit-begin TOKEN UPTIME" when its run
    came, "labkit-end TOKEN STATUS UPTIME" when it ended:
    grading/guest/init), else None.
    """
    begin = re.compile(rf"labkit-begin {re.escape(token)}(?: {_UPTIME})?"
                       rf"[^\S\n]*(?:\n|$)")
    end = re.compile(rf"^labkit-end {re.escape(token)} (\d+)"
                     rf"(?: {_UPTIME})?\s*$", re.M)
    start = begin.search(text)
    if not start:
        return Framed("", False, None, None)
    begin_uptime = float(start.group(1)) if start.group(1) else None
    body = text[start.end():].lstrip("\r\n")
    match = end.search(body)
    if not match:
        return Framed(body, False, begin_uptime, None)
    uptime = float(match.group(2)) if match.group(2) else None
    return Framed(body[:match.start()], True, begin_uptime, uptime)


def _oops(console):
    """The first oops or panic report in CONSOLE, at most 60 lines."""
    lines = console.splitlines()
    for i, line in enumerate(lines):
        if _PANIC.search(line):
            report = []
            for follow in lines[i:i + 60]:
                report.append(follow)
                if "end Kernel panic" in follow:
                    break
            return "\n".join(report)
    return ""


def _read(path, limit=4 << 20):
    """Read at most LIMIT bytes of PATH (head and tail), as text."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            if size <= limit:
                data = f.read()
            else:
                head = f.read(limit // 2)
                f.seek(size - limit // 2)
                data = (head + b"\n[... %d bytes not shown ...]\n"
                        % (size - limit) + f.read())
    except OSError:
        return ""
    return data.decode("utf-8", "replace").replace("\r\n", "\n")


class Vm:
    """One VM run of one lab, started before its modules exist.

    Start it, build the modules, then either send_modules() and wait() for
    the Outcome, or abort() if the build failed.

    The guest runs the lab's autograder, tests/grade.sh, unless SCRIPT
    names another script of the kit (e.g. labs/04-blocking/tests/bench.sh),
    which then gets SCRIPT_ARGS and finds PROGRAMS, static programs, on its
    PATH; the lab's test program is not built for it. The modules arrive in
    /kit/labs/LAB/ either way. ONLY limits the autograder's run to those
    tests of the test program (run_line).

    The autograder's runs restore the booted guest from a snapshot when
    there is one, and save one when there is not (see snapshot.py), unless
    SNAPSHOTS is False or LABKIT_SNAPSHOTS=0.
    """

    #: The stream forward_enter() reads a line from at each of the
    #: guest's pauses, once it was called.
    _enter = None

    def __init__(self, lab, kver, timeout=None, keep_dir=None,
                 script=None, script_args=(), programs=(), snapshots=True,
                 only=()):
        self.lab = lab
        #: The tests the run is limited to (run_line), or () for all.
        self.only = tuple(only)
        # None: the lab's own limit (Lab.vm_timeout), DEBUG_SLOWDOWN times
        # that on the debug kernel, whose checks slow every lock and
        # memory access (docs/debug-kernel.md, "Cost").
        self.timeout = timeout or lab.vm_timeout * (
            DEBUG_SLOWDOWN if kver == kernels.DEBUG else 1)
        self.keep_dir = keep_dir
        self.token = secrets.token_hex(16)
        # Set by _cleanup(): the QEMU is stopped and its files are gone.
        self._done = False
        self._tmp = tempfile.TemporaryDirectory(prefix="labkit-vm-")
        tmp = self._tmp.name
        self._console_log = os.path.join(tmp, "console.log")
        self._results_log = os.path.join(tmp, "results.log")
        self._initrd = os.path.join(tmp, "initramfs.cpio")
        self._kver = kver
        try:
            image_digest = _image(lab, script, script_args,
                                  programs).write(self._initrd)
            # Snapshots only for the autograder's runs, the ones that come
            # by the hundred: a bench or a demo would only fill the cache.
            #: The snapshot file this run restores or saves, if any.
            self._snapshot = None
            if snapshots and snapshot.enabled() and script is None:
                self._snapshot = snapshot.path_for(
                    f"{lab.name}-{kver}", image_digest, _qemu_binary(),
                    kernels.vmlinux(kver), machine_args())
            self._qmp = os.path.join(tmp, "qmp.sock")
            if len(self._qmp) > 100:
                self._snapshot = None  # past a unix socket's longest path
            self._restoring = bool(self._snapshot
                                   and snapshot.find(self._snapshot))
            # Whether a boot saves the snapshot when the guest is ready.
            self._save = bool(self._snapshot) and not self._restoring
            self._module_paths = ()
            self._ready_uptime = 0.0
            self._snapshot_answered = False
            self._qemu_out = open(os.path.join(tmp, "qemu.out"), "w+b")
        except BaseException:
            self._tmp.cleanup()
            raise
        self._start_qemu()

    def _start_qemu(self):
        """Start QEMU: restoring the snapshot if there is one, else booting
        (with a QMP socket to save one through, if wanted)."""
        cmd = [
            _qemu_binary(), *machine_args(),
            "-kernel", kernels.vmlinux(self._kver), "-initrd", self._initrd,
            "-serial", f"file:{self._console_log}",
            "-serial", f"file:{self._results_log}",
            "-serial", "stdio",
        ]
        keep_fds = ()
        if self._restoring:
            try:
                fd = os.open(self._snapshot, os.O_RDONLY)
            except OSError:
                # Given up by another run of this image since it was
                # found: boot, and save it again.
                self._restoring = False
                self._save = True
        if self._restoring:
            #: The snapshot file being restored (see snapshot.discard).
            self._restoring_file = snapshot.identity(fd)
            cmd += ["-incoming", f"fd:{fd}"]
            keep_fds = (fd,)
        elif self._save:
            cmd += ["-qmp", f"unix:{self._qmp},server=on,wait=off"]
        self._start = time.monotonic()
        #: Whether this QEMU's guest has said it is ready for its run.
        self._ready_seen = False
        #: When (time.monotonic()) it said so.
        self._ready_host = None
        #: When the run's token and modules went to this QEMU's guest.
        self._sent_at = None
        #: When the host began to send them: the guest's begin mark,
        #: written once the run's line arrived, comes later.
        self._send_started = None
        #: Whether this QEMU was stopped for not booting in BOOT_SECS.
        self._boot_stuck = False
        #: (guest seconds, host seconds) when this QEMU was stopped once
        #: ready because its guest's clock ran ahead (boot_clock_ahead()).
        self._clock_broke = None
        #: Whether this QEMU's guest has begun its run (BEGIN_SECS).
        self._began = False
        self._qemu_out.seek(0)
        self._qemu_out.truncate()
        # ttyS2 is QEMU's stdin and stdout; QEMU's own messages go to a file.
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE,
                                          stderr=self._qemu_out,
                                          pass_fds=keep_fds)
            _track(self._proc, True)
        finally:
            for fd in keep_fds:
                os.close(fd)

    def _boot_instead(self, save):
        """Leave the restored QEMU (stopped if it still runs) for a booted
        one; SAVE: whether that one saves a new snapshot."""
        self._proc.kill()
        self._proc.wait()
        _track(self._proc, False)
        self._close_pipes()
        self._restoring = False
        self._save = save
        self._start_qemu()

    def _await_ready(self):
        """Wait until the guest says on ttyS2 that it listens (raw mode set):
        bytes sent before then would be lost or echoed. A restored guest
        is poked with empty lines until it says so; if QEMU refuses the
        snapshot or the guest does not answer within RESTORE_SECS, the
        snapshot is dropped and the machine booted instead."""
        if self._restoring:
            got = self._read_until(_READY, poke=True, limit=RESTORE_SECS)
            if got != "gave-up":
                self._snapshot_answered = got == "seen"
                return got == "seen"
            snapshot.discard(self._snapshot, only=self._restoring_file)
            _warn(f"could not restore {self._snapshot}; booting instead")
            self._boot_instead(save=True)
        got = self._read_until(_READY, limit=self._boot_secs())
        if got == "gave-up" and self._proc.poll() is None:
            # Stopped here, so that its outcome is an error: the boot
            # broke, and Vm.wait boots again.
            self._proc.kill()
            self._boot_stuck = True
        if got != "seen":
            return False
        fast = boot_clock_ahead(self._ready_uptime,
                                self._ready_host - self._start)
        if fast:
            # A broken boot, as one that never got ready: Vm.wait boots
            # again; no snapshot is saved of it.
            self._proc.kill()
            self._ready_seen = False
            self._clock_broke = fast
            return False
        if self._save:
            why = snapshot.save(self._qmp, self._snapshot)
            if why:
                _warn(f"no VM snapshot saved ({why}); runs will boot")
        return True

    def _boot_secs(self):
        """BOOT_SECS, or more on the debug kernel."""
        return BOOT_SECS * (DEBUG_SLOWDOWN if self._kver == kernels.DEBUG
                            else 1)

    def _read_until(self, want, poke=False, limit=None):
        """Read QEMU's stdout (ttyS2) until the pattern WANT matches (its
        first group, a number, goes to self._ready_uptime); with POKE,
        send a newline every POKE_SECS meanwhile. Returns "seen";
        "timeout" when the run's time limit ran out; "gave-up" when QEMU
        ended or, before that limit, LIMIT seconds passed."""
        seen = b""
        fd = self._proc.stdout.fileno()
        end_of_run = self._start + self.timeout
        deadline = end_of_run
        if limit:
            deadline = min(deadline, time.monotonic() + limit)
        while not want.search(seen):
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout" if deadline == end_of_run else "gave-up"
            if poke:
                try:
                    self._proc.stdin.write(b"\n")
                    self._proc.stdin.flush()
                except BrokenPipeError:
                    return "gave-up"
                left = min(left, POKE_SECS)
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 4096)
                if not chunk:
                    return "gave-up"
                seen = seen[-256:] + chunk
        self._ready_uptime = float(want.search(seen).group(1))
        self._ready_host = time.monotonic()
        self._ready_seen = True
        return "seen"

    def send_modules(self, module_paths):
        """Hand the run's token and the built modules to the guest once it
        listens."""
        self._module_paths = module_paths
        stream = _module_stream(self.token, module_paths, self._tmp.name,
                                self.only)
        if not self._await_ready():
            return  # the guest died or hung before; wait() tells which
        self._send_started = time.monotonic()
        try:
            self._proc.stdin.write(stream)
            self._proc.stdin.flush()
        except BrokenPipeError:
            pass  # QEMU is gone; wait() tells why
        self._sent_at = time.monotonic()

    def abort(self):
        """Stop the VM without a result (the modules did not build, or the
        kit itself failed part way). Does nothing once wait() returned."""
        if self._done:
            return
        self._proc.kill()
        self._proc.wait()
        self._cleanup()

    def _close_pipes(self):
        try:
            self._proc.stdin.close()
        except BrokenPipeError:
            pass
        self._proc.stdout.close()

    def _cleanup(self):
        self._done = True
        _track(self._proc, False)
        self._close_pipes()
        self._qemu_out.close()
        self._tmp.cleanup()

    def forward_enter(self, stream):
        """From now on, in a thread: whenever the guest asks for Enter (a
        line "labkit-enter" on ttyS2, which a demo writes when it pauses),
        read a line from STREAM (the host's stdin) and send a newline back.
        Sent only when asked, so that no newline reaches the port while
        the guest has it closed (it would be lost); at STREAM's end, the
        newline goes at once, so a pause never hangs. A run done again
        (wait()) gets its own forwarding from the same STREAM."""
        self._enter = stream

        def forward():
            seen = b""
            out = self._proc.stdout
            while True:
                try:
                    chunk = out.read1(4096)
                except (ValueError, OSError):
                    return  # closed: the run is over
                if not chunk:
                    return
                seen += chunk
                while b"labkit-enter\n" in seen:
                    seen = seen.split(b"labkit-enter\n", 1)[1]
                    stream.readline()
                    try:
                        self._proc.stdin.write(b"\n")
                        self._proc.stdin.flush()
                    except (BrokenPipeError, ValueError, OSError):
                        return
                seen = seen[-64:]
        threading.Thread(target=forward, daemon=True).start()

    def wait(self, on_output=None):
        """Wait for the run to end (or its time limit); return an Outcome.
        ON_OUTPUT, if given, gets the guest's output as it comes (text,
        without the run's framing), for a demo shown live; when it returns
        True, the VM is stopped there and the Outcome (verdict timeout,
        results as far as they got) has stopped set, and is not run again.

        A restored guest that ends in an error, or crashes within
        RERUN_SECS of the restore, is run again booted, and that run's
        outcome counts: under TCG, about one restore in 400 on Debian's
        6.12 crashed on its own, always within milliseconds (see
        docs/speed.md), and a student must never lose points to that. A
        module that really crashes crashes in both runs; one that hangs
        the kernel until a detector panics it (20 s and more) is not run
        twice.

        A guest that crashes before it is ready for its run, or is not
        ready within BOOT_SECS of its boot, or does not begin the run
        within BEGIN_SECS of being sent it (all before any module of the
        student's is in it), is booted again too, whether or
        not it was itself such a second run: with two vCPUs under TCG, a
        boot very rarely crashes in the kernel's own code patching (an
        "Oops: int3" in a function whose static branch another CPU had
        just switched). Only BOOT_TRIES boots are tried; when every one
        of them crashed before it was ready, the verdict is "error": the
        VM broke, the modules never ran, and grade-batch grades such a
        run again when it resumes."""
        outcome = self._wait_once(on_output)
        first = outcome.verdict
        boots = 0 if self._restoring else 1
        clock_rerun = False
        while not outcome.stopped:
            if self._restoring and self._restore_may_be_at_fault(outcome):
                save = False
            elif _broke_before_ready(outcome, self._ready_seen):
                if boots >= BOOT_TRIES:
                    outcome = _never_ready(outcome, boots)
                    break
                save = self._save
            elif outcome.clock_ahead and not clock_rerun:
                clock_rerun = True
                save = self._drop_fast_snapshot(outcome, again=True)
            else:
                break
            self._boot_instead(save=save)
            boots += 1
            self.send_modules(self._module_paths)
            if self._enter is not None:
                # The forwarding of the QEMU just stopped ended with it.
                self.forward_enter(self._enter)
            outcome = self._wait_once(on_output)
            outcome.rerun_after = first
        if outcome.clock_ahead and not outcome.stopped:
            self._drop_fast_snapshot(outcome, again=False)
        self._cleanup()
        return outcome

    def _drop_fast_snapshot(self, outcome, again):
        """OUTCOME's guest's clock ran ahead of the host's: say so (AGAIN:
        the run is done again), and remove the snapshot it was restored
        from or saved (every run restored from it would inherit that
        clock). Returns whether the boot that runs it again should save a
        new one."""
        guest, host = outcome.clock_ahead
        _warn(f"the guest's clock ran {guest:.1f} s in {host:.1f} s of the "
              f"host's, so every time limit in the guest ran out early; "
              + ("the run is done again in a booted guest, and counts there"
                 if again else "this run, done again already, counts"))
        if self._restoring:
            snapshot.discard(self._snapshot, only=self._restoring_file)
            return True
        if self._save:
            snapshot.discard(self._snapshot)
            return True
        return False

    def _restore_may_be_at_fault(self, outcome):
        if outcome.verdict == Verdict.ERROR:
            return True
        if outcome.verdict != Verdict.CRASH:
            return False
        for line in outcome.console.splitlines():
            if _PANIC.search(line):
                stamp = _STAMP.match(line)
                return not stamp or (float(stamp.group(1))
                                     - self._ready_uptime < RERUN_SECS)
        return True

    def _wait_once(self, on_output):
        """wait() for the QEMU running now."""
        self._shown = 0
        self._on_output = on_output
        self._stop_asked = False
        status, flooded, silent = self._watch()
        stopped = self._stop_asked
        if not stopped:
            self._show_output()
        exited = time.monotonic()
        elapsed = exited - self._start
        self._qemu_out.seek(0)
        qemu_says = self._qemu_out.read().decode("utf-8", "replace")
        console = _read(self._console_log)
        framed = _framed(_read(self._results_log), self.token)
        results, ended = framed.body, framed.ended
        if self.keep_dir:
            os.makedirs(self.keep_dir, exist_ok=True)
            shutil.copy(self._console_log,
                        os.path.join(self.keep_dir, "console.log"))
            shutil.copy(self._results_log,
                        os.path.join(self.keep_dir, "results.log"))
        if stopped:
            outcome = Outcome(Verdict.TIMEOUT, results, console, elapsed,
                              "the VM was stopped when the run's output "
                              "callback asked for it", stopped=True)
        elif self._boot_stuck:
            outcome = Outcome(Verdict.ERROR, results, console, elapsed,
                              f"the VM did not finish booting within "
                              f"{self._boot_secs()} s, so no module of the "
                              f"submission ever ran: the VM's fault, not "
                              f"the submission's")
        elif self._clock_broke:
            guest, host = self._clock_broke
            outcome = Outcome(Verdict.ERROR, results, console, elapsed,
                              f"the booted guest said it had been up "
                              f"{guest:.1f} s when its QEMU had run for "
                              f"{host:.1f} s, so its clock runs fast and "
                              f"every time limit in it would run out "
                              f"early; it was stopped before any module "
                              f"of the submission reached it: the VM's "
                              f"fault, not the submission's")
        elif silent:
            outcome = Outcome(Verdict.ERROR, results, console, elapsed,
                              f"the VM did not begin its run within "
                              f"{BEGIN_SECS} s of being sent it, so no "
                              f"module of the submission ever ran: the "
                              f"VM's fault, not the submission's")
            outcome.began = False
        elif flooded:
            outcome = Outcome(Verdict.FLOOD, results, console, elapsed,
                              f"the VM was stopped: its serial logs passed "
                              f"{LOG_LIMIT >> 20} MiB (a printk flood?); "
                              f"the last console lines were:\n"
                              + "\n".join(console.splitlines()[-20:]))
        else:
            outcome = _verdict(status, ended, results, console, qemu_says,
                               elapsed, self.timeout)
        outcome.restored = self._restoring
        outcome.snapshot = self._snapshot
        outcome.snapshot_answered = self._snapshot_answered
        outcome.clock_ahead = self._run_clock_ahead(
            results + "\n" + console, framed, exited)
        return outcome

    def _run_clock_ahead(self, log, framed, exited):
        """guest_clock_ahead() over the run that FRAMED (_framed()) framed
        and whose QEMU exited at EXITED (time.monotonic()), or None when
        it cannot be measured (the run never began, or the boot was
        stopped for its clock already). The guest's span starts at its
        begin mark, the host's when it began to send the run: the guest
        wrote that mark after the run's line came, so a clock that keeps
        time never counts more than the host. Not from "labkit-ready":
        a booted guest says it long before the host reads it when the
        modules' build outlasts the boot, and a span from that reading
        took every such run for a fast clock (three of the four demos
        of one make check)."""
        if (framed.begin_uptime is None or self._send_started is None
                or self._clock_broke):
            return None
        return guest_clock_ahead(log, framed.begin_uptime,
                                 exited - self._send_started,
                                 framed.end_uptime)

    def _watch(self):
        """Wait for QEMU to exit, within the time limit, as long as the
        logs stay under LOG_LIMIT, and as long as the guest begins its run
        within BEGIN_SECS of being sent it. Returns (exit status or None
        when QEMU was killed, whether it was killed for flooding the logs,
        whether it was killed because its guest never began the run)."""
        tick = 0.2 if self._on_output else 0.5
        while True:
            remaining = self.timeout - (time.monotonic() - self._start)
            try:
                return self._proc.wait(timeout=min(max(remaining, 0.1),
                                                   tick)), False, False
            except subprocess.TimeoutExpired:
                pass
            self._show_output()
            if self._stop_asked:
                self._proc.kill()
                self._proc.wait()
                return None, False, False
            flooded = self._logged() > LOG_LIMIT
            silent = self._silent()
            if flooded or silent or remaining <= 0.5:
                self._proc.kill()
                self._proc.wait()
                return None, flooded, silent

    def _silent(self):
        """Whether the guest, sent its run BEGIN_SECS ago or more, has not
        begun it: no "labkit-begin TOKEN" on ttyS1."""
        if self._began or self._sent_at is None:
            return False
        try:
            with open(self._results_log, "rb") as f:
                head = f.read(256)
        except OSError:
            head = b""
        self._began = f"labkit-begin {self.token}".encode() in head
        return (not self._began
                and time.monotonic() - self._sent_at > BEGIN_SECS)

    def _show_output(self):
        """Hand the complete lines the guest wrote to ttyS1 since the last
        call to the on_output callback of wait(), if there is one."""
        if not self._on_output:
            return
        try:
            with open(self._results_log, "rb") as f:
                f.seek(self._shown)
                data = f.read(1 << 20)
        except OSError:
            return
        end = data.rfind(b"\n") + 1
        if not end:
            return
        self._shown += end
        lines = data[:end].decode("utf-8", "replace").replace("\r", "")
        shown = [line for line in lines.splitlines(keepends=True)
                 if not line.startswith(f"labkit-begin {self.token}")
                 and not line.startswith(f"labkit-end {self.token}")]
        if self._on_output("".join(shown)) is True:
            self._stop_asked = True

    def _logged(self):
        """Bytes in the two serial logs so far."""
        size = 0
        for path in (self._console_log, self._results_log):
            try:
                size += os.path.getsize(path)
            except OSError:
                pass
        return size


def guest_clock_ahead(log, begin_uptime, host_secs, end_uptime=None):
    """Whether the guest's clock ran ahead of the host's over a run: the
    guest's uptime when its run ended (END_UPTIME, from its end mark, or
    None when the run did not end: a crash, a hang) or else the latest
    kernel timestamp at the start of a line of LOG (the console and the
    autograder's output), less BEGIN_UPTIME, the guest's uptime when its
    run began, against HOST_SECS, the host's seconds from a moment no
    later than that begin to QEMU's exit. Returns (guest seconds, host
    seconds) when the guest's exceed CLOCK_AHEAD times the host's plus
    CLOCK_SLACK_SECS, else None. Both marks are at most the guest's time
    at QEMU's exit, so a clock that keeps time is never taken for a fast
    one."""
    stamps = [float(m) for m in _LOG_STAMPS.findall(log)]
    if end_uptime is not None:
        stamps.append(end_uptime)
    if not stamps:
        return None
    guest = max(stamps) - begin_uptime
    if guest > host_secs * CLOCK_AHEAD + CLOCK_SLACK_SECS:
        return (guest, host_secs)
    return None


def boot_clock_ahead(ready_uptime, host_secs):
    """Whether a booted guest's clock runs fast: READY_UPTIME, the uptime
    it said when it got ready, against HOST_SECS, the host's seconds from
    QEMU's start to that message. A guest that keeps time cannot have been
    up longer than its QEMU ran (firmware and the kernel's decompression
    come first), so a clock that keeps time is never taken for a fast
    one; one that runs R times as fast from its calibration on says about
    R times its boot's length. Returns (guest seconds, host seconds) when
    the guest's exceed the host's by more than BOOT_CLOCK_SLACK_SECS,
    else None."""
    if ready_uptime > host_secs + BOOT_CLOCK_SLACK_SECS:
        return (ready_uptime, host_secs)
    return None


def _broke_before_ready(outcome, ready_seen):
    """Whether OUTCOME is that of a guest that crashed or broke before it
    was ready for its run, or before it began the run (BEGIN_SECS), so
    before any of the run's modules was in it: the kit's fault or the
    emulator's, never the submission's."""
    return ((not ready_seen or not outcome.began)
            and outcome.verdict in (Verdict.CRASH, Verdict.ERROR))


def _never_ready(outcome, boots):
    """OUTCOME, the last of BOOTS boots that all broke before the guest
    was ready, as a kit error: no module of the submission ever ran."""
    why = outcome.detail
    outcome.verdict = Verdict.ERROR
    outcome.detail = (f"the VM broke while it booted, {boots} times in a "
                      f"row, before any module of the submission reached "
                      f"it: this is not the submission's fault; grade it "
                      f"again. The last boot's end:\n{why}")
    return outcome


def _verdict(status, ended, results, console, qemu_says, elapsed, timeout):
    if status == EXIT_STATUS and ended:
        return Outcome(Verdict.COMPLETE, results, console, elapsed)
    oops = _oops(console)
    if status is None:
        tail = "\n".join(console.splitlines()[-20:])
        return Outcome(Verdict.TIMEOUT, results, console, elapsed,
                       f"the VM was stopped after {timeout} s; the last "
                       f"console lines were:\n{tail}")
    if oops:
        return Outcome(Verdict.CRASH, results, console, elapsed, oops)
    if status == EXIT_STATUS:
        detail = "the guest finished but its results were cut short"
    else:
        detail = (f"the VM stopped without finishing (QEMU exit status "
                  f"{status}). {qemu_says.strip()}\n"
                  + "\n".join(console.splitlines()[-20:]))
    return Outcome(Verdict.ERROR, results, console, elapsed, detail)


def save_snapshot(lab, kver):
    """Make sure LAB's grading runs on KVER have a snapshot to restore:
    boot the guest and save it, if there is none yet. Returns the file,
    or None when snapshots are off or the save failed (said on stderr)."""
    machine = Vm(lab, kver)
    try:
        if machine._save:
            machine._await_ready()
        path = machine._snapshot
        return path if path and snapshot.find(path) else None
    finally:
        machine.abort()


def run(lab, module_paths, kver, timeout=None, keep_dir=None,
        **guest):
    """Boot KVER, run LAB's autograder on MODULE_PATHS, return an Outcome.

    KEEP_DIR, if given, receives the console and results logs. GUEST
    (script, script_args, programs) runs another script: see Vm.
    """
    machine = Vm(lab, kver, timeout, keep_dir, **guest)
    machine.send_modules(module_paths)
    return machine.wait()
