# SPDX-License-Identifier: GPL-2.0
"""Run one lab's autograder in a throwaway QEMU virtual machine.

The guest is an installed Debian kernel booted straight from its
uncompressed vmlinux (PVH), with an initramfs made for this run: busybox,
grading/guest/init as PID 1, the lab's modules, test program and
autograder, laid out as in the kit's tree under /kit. There is no network
and no shared folder: nothing the guest does reaches the host except two
serial ports, both written to files,

  ttyS0  the kernel console (oopses and panics show up here)
  ttyS1  the autograder's results, framed by a per-run random token

and QEMU's exit status. The guest's init ends the run through an
isa-debug-exit device, which only a finished run reaches; a panic
(oops=panic panic=-1, with -no-reboot) ends QEMU with status 0 instead, and
a hang runs into the host's wall-clock timeout. So the host tells a
complete run, a crash and a hang apart without trusting the guest's word.
"""

import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time

from . import build, initramfs, kernels, paths

#: The byte grading/guest/init writes to the exit device when done.
EXIT_CODE = 16
#: QEMU's exit status for it: (code << 1) | 1.
EXIT_STATUS = (EXIT_CODE << 1) | 1

#: Initcalls the guest can do without that cost the most time under
#: emulation (measured with initcall_debug on Debian's 6.1 and 6.12):
#: entropy and crypto self-tests, BPF and tracing set-up, certificate
#: parsing, TCP congestion control. None of them matters to a lab.
SKIPPED_INITCALLS = ("jent_mod_init", "bpf_tcp_ca_kfunc_init",
                     "bpf_dummy_struct_ops_init", "dev_map_init",
                     "load_system_certificate_list", "trace_eval_init",
                     "tracer_init_tracefs", "init_kprobe_trace",
                     "crypto_kdf108_init", "cubictcp_register")

#: Kernel command line. quiet keeps all but errors off the console;
#: oops=panic panic=-1 turns any oops into an immediate reset, which
#: -no-reboot turns into QEMU's exit; slub_debug on the kmalloc caches makes
#: overruns and use-after-free of kmalloc'ed memory leave a report. The
#: rest only makes the boot faster under emulation: no ACPI (the guest
#: powers off through isa-debug-exit), no crypto self-tests, the initcalls
#: above skipped.
CMDLINE = ("console=ttyS0 quiet rdinit=/init oops=panic panic=-1 "
           "slub_debug=FZPU,kmalloc-* "
           "acpi=off cryptomgr.notests mitigations=off tsc=reliable "
           "no_timer_check initcall_blacklist=" + ",".join(SKIPPED_INITCALLS))

#: QEMU machine and CPU. SMEP and SMAP make a module that touches user
#: memory directly, instead of through copy_to_user() and friends, fault
#: as it would on any recent x86 machine.
MACHINE = ["-M", "pc", "-cpu", "qemu64,+smep,+smap"]

#: Default wall-clock limit of one VM run, in seconds.
DEFAULT_TIMEOUT = 120

_PANIC = re.compile(r"Kernel panic - not syncing|"
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
    return "tcg"


class Outcome:
    """What one VM run produced."""

    def __init__(self, verdict, results, console, elapsed, detail=""):
        #: "complete", "crash", "timeout" or "error".
        self.verdict = verdict
        #: The autograder's output between the run's begin and end marks
        #: (as far as it got).
        self.results = results
        #: The kernel console.
        self.console = console
        #: Seconds from QEMU's start to its end.
        self.elapsed = elapsed
        #: For crash: the oops text; for timeout and error: what went wrong.
        self.detail = detail


def _busybox(image):
    path = shutil.which("busybox") or "/bin/busybox"
    image.add_file("bin/busybox", path, 0o755)
    applets = subprocess.run([path, "--list"], stdout=subprocess.PIPE,
                             text=True, check=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            image.symlink(f"bin/{applet}", "busybox")


def _image(lab, module_paths, token):
    image = initramfs.Initramfs()
    for d in ("proc", "sys", "dev", "tmp"):
        image.mkdir(d)
    _busybox(image)
    image.add_file("bin/vm-exit", build.guest_exit_program(), 0o755)
    image.add_file("init", os.path.join(paths.TOP, "grading", "guest",
                                        "init"), 0o755)
    image.add_file("kit/grading/guest/autograde.sh",
                   os.path.join(paths.TOP, "grading", "guest",
                                "autograde.sh"), 0o644)
    lab_dir = f"kit/labs/{lab.name}"
    image.add_file(f"{lab_dir}/tests/grade.sh", lab.grade_script, 0o755)
    image.add_file(f"{lab_dir}/tests/{lab.test_program}",
                   build.test_program(lab), 0o755)
    for ko in module_paths:
        image.add_file(f"{lab_dir}/{os.path.basename(ko)}", ko, 0o644)
    image.add_bytes("kit/run.conf",
                    f"LAB='{lab.name}'\nTOKEN='{token}'\n".encode())
    return image


def _framed(text, token):
    """The part of TEXT between the begin and end marks of TOKEN.

    Returns (body, ended): ended is False if the end mark is missing.
    """
    begin = f"labkit-begin {token}"
    end = re.compile(rf"^labkit-end {re.escape(token)} (\d+)\s*$", re.M)
    start = text.find(begin)
    if start < 0:
        return "", False
    body = text[start + len(begin):].lstrip("\r\n")
    match = end.search(body)
    if not match:
        return body, False
    return body[:match.start()], True


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


def run(lab, module_paths, kver, timeout=DEFAULT_TIMEOUT, keep_dir=None):
    """Boot KVER, run LAB's autograder on MODULE_PATHS, return an Outcome.

    KEEP_DIR, if given, receives the console and results logs.
    """
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="labkit-vm-") as tmp:
        initrd = os.path.join(tmp, "initramfs.cpio")
        console_log = os.path.join(tmp, "console.log")
        results_log = os.path.join(tmp, "results.log")
        _image(lab, module_paths, token).write(initrd)
        cmd = [
            "qemu-system-x86_64", "-accel", accel(),
            *MACHINE,
            "-nodefaults", "-no-user-config", "-display", "none",
            "-no-reboot", "-m", "256M", "-smp", "1",
            "-kernel", kernels.vmlinux(kver), "-initrd", initrd,
            "-append", CMDLINE,
            "-serial", f"file:{console_log}",
            "-serial", f"file:{results_log}",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x01",
            "-nic", "none",
        ]
        start = time.monotonic()
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=timeout,
                                  check=False)
            status, qemu_says = proc.returncode, proc.stdout.decode(
                "utf-8", "replace")
        except subprocess.TimeoutExpired:
            status, qemu_says = None, ""
        elapsed = time.monotonic() - start
        console = _read(console_log)
        results, ended = _framed(_read(results_log), token)
        if keep_dir:
            os.makedirs(keep_dir, exist_ok=True)
            shutil.copy(console_log, os.path.join(keep_dir, "console.log"))
            shutil.copy(results_log, os.path.join(keep_dir, "results.log"))

    if status == EXIT_STATUS and ended:
        return Outcome("complete", results, console, elapsed)
    oops = _oops(console)
    if status is None:
        tail = "\n".join(console.splitlines()[-20:])
        return Outcome("timeout", results, console, elapsed,
                       f"the VM was stopped after {timeout} s; the last "
                       f"console lines were:\n{tail}")
    if oops:
        return Outcome("crash", results, console, elapsed, oops)
    if status == EXIT_STATUS:
        detail = "the guest finished but its results were cut short"
    else:
        detail = (f"the VM stopped without finishing (QEMU exit status "
                  f"{status}). {qemu_says.strip()}\n"
                  + "\n".join(console.splitlines()[-20:]))
    return Outcome("error", results, console, elapsed, detail)
