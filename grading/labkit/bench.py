# SPDX-License-Identifier: GPL-2.0
"""The FIFO benches (`make bench`): a lab's device against a native named
pipe of the same capacity, in one VM run.

Two labs have one: Lab 04's /dev/blkfifo and Lab 07's mypipe (written to
/dev/mypipe/mypipe_in, read from /dev/mypipe/mypipe_out). The reference
solution is built for the kernel; the VM runs the lab's tests/bench.sh
instead of the autograder, with userspace/bench/fifo_bench on its PATH.
The script (grading/guest/fifo-bench.sh) loads the module with a
4096-byte FIFO and runs fifo_bench on the device and on a named pipe set
to 4096 bytes (F_SETPIPE_SZ), at each write size, reading first in chunks
of the write size, then in 64 KiB chunks; fifo_bench checks every byte it
reads against a position-dependent pattern and prints TAP with "# bench"
lines (see userspace/bench/fifo_bench.c), which parse() reads here, with
each side's context switches per MB.

The guest has vm.vcpus() CPUs (two by default, LABKIT_VCPUS=1 for one);
the script reports how many the guest's kernel brought up, and the table
says so when that is fewer than were asked for.
"""

import os
import re
import statistics

from . import build, labs, paths, runner, vm
from .verdicts import Verdict

#: The label of the native FIFO in fifo_bench's output.
NATIVE = "fifo"
#: The write size of the main target (the chart's caption shows it).
TARGET_SIZE = 4096
#: Read sizes of a full run, for fifo_bench's -r: reads as large as the
#: writes (0), then 64 KiB reads, which take all there is.
READS = "0,65536"
#: The large read size of READS.
BIG_READ = 65536
#: fifo_bench's timing arguments for a full run: five runs of about 0.6 s
#: per write size, read size and target, interleaved (under TCG one run
#: may take twice as long as the next: five runs and their median hold up
#: better than three longer ones).
FULL_ARGS = ("-t", "0.6", "-n", "5")
#: For a quick run (make check): one run of 64 KiB per write size and
#: target, read 999 bytes at a time, so that writes come up short and the
#: FIFO wraps at odd places (with reads as large as the writes, both
#: dividing the FIFO's size, no write is ever short), and a 10 s watchdog.
#: It proves the streams intact; its timing means little.
QUICK_ARGS = ("-n", "1", "-b", "65536", "-r", "999", "-a", "10")
#: Wall-clock limits of the VM run, in seconds.
FULL_TIMEOUT, QUICK_TIMEOUT = 900, 90


class Bench:
    """One lab's bench: what it measures and the target it has."""

    def __init__(self, lab, device, param, targets, sizes):
        #: The lab's number.
        self.lab_number = lab
        #: The device's label in fifo_bench's output (the module's name).
        self.device = device
        #: The module parameter that sets the device's capacity.
        self.param = param
        #: The device's speed over the native FIFO's the lab aims for,
        #: {write size: ratio}, with reads as large as the writes.
        self.targets = targets
        #: The write sizes, for fifo_bench's -s.
        self.sizes = sizes

    @property
    def target_ratio(self):
        """The target ratio at TARGET_SIZE-byte writes."""
        return self.targets[TARGET_SIZE]

    def lab(self):
        """The lab whose module the bench measures."""
        return labs.find(self.lab_number)

    def script(self):
        """The guest script of the bench."""
        return os.path.join(self.lab().tests_dir, "bench.sh")


#: The benches, by lab number.
BENCHES = {
    "04": Bench("04", "blkfifo", "fifo_size", {4096: 0.8}, "64,512,4096"),
    "07": Bench("07", "mypipe", "pipe_size", {4096: 0.9, 512: 0.7},
                "64,512,4096,65536"),
}


def for_labs(chosen):
    """The benches of the labs in CHOSEN (Lab objects), in lab order."""
    names = {lab.name for lab in chosen}
    return [b for _, b in sorted(BENCHES.items())
            if b.lab().name in names]


_BENCH = re.compile(r"^# bench (\S+) (.*)$")
_PIPE = re.compile(r"^# pipe (\S+) asked=(\d+) size=(\d+)")
_DEVICE_SIZE = re.compile(r"^# (\S+) (\S+)=(\d+)$")
_CLOCK = re.compile(r"^# clocksource (\S+)")
_CPUS = re.compile(r"^# cpus (\d+)")
_PLAN = re.compile(r"^1\.\.(\d+)\s*$")
_OK = re.compile(r"^ok \d+ ")
_NOT_OK = re.compile(r"^not ok \d+ ")


class Report:
    """What one bench run printed, parsed."""

    def __init__(self, bench):
        #: The Bench this is a report of.
        self.bench = bench
        #: {(label, write size, read size): [MB/s of each timed run, in
        #: order]}
        self.rates = {}
        #: {(label, write size, read size): [(reader's, writer's) context
        #: switches per MB of each timed run]}
        self.switches = {}
        #: CPUs the guest's kernel brought up, or None.
        self.cpus = None
        #: {label: pipe size F_GETPIPE_SZ reported}
        self.pipe_sizes = {}
        #: The device's capacity as the module reported it, or None.
        self.device_size = None
        #: The guest's clock source (the timer behind the figures).
        self.clocksource = None
        #: Tests planned, passed; failure and bail-out lines.
        self.planned = None
        self.passed = 0
        self.problems = []

    @property
    def verified(self):
        """Every planned stream was read back intact."""
        return (self.planned is not None and self.planned > 0
                and self.passed == self.planned and not self.problems)

    @property
    def sizes(self):
        """The write sizes measured, smallest first."""
        return sorted({size for _, size, _ in self.rates})

    @property
    def modes(self):
        """The (write size, read size) pairs measured: by write size, reads
        as large as the writes first."""
        return sorted({(w, r) for _, w, r in self.rates},
                      key=lambda m: (m[0], m[1] != m[0], m[1]))

    def median(self, label, size, read=None):
        """Median MB/s of LABEL's runs at SIZE-byte writes and READ-byte
        reads (default: SIZE), or None."""
        rates = self.rates.get((label, size, read or size))
        return statistics.median(rates) if rates else None

    def cs_per_mb(self, label, size, read=None):
        """Median context switches per MB of LABEL's reader and writer at
        SIZE-byte writes and READ-byte reads, as a pair, or None."""
        runs = self.switches.get((label, size, read or size))
        if not runs:
            return None
        return (statistics.median(r for r, _ in runs),
                statistics.median(w for _, w in runs))

    def ratio(self, size, read=None):
        """The device's speed over the native FIFO's at SIZE-byte writes and
        READ-byte reads (default: SIZE): the median of the ratios of each
        device run to the FIFO run that followed it (interleaved runs, so
        a change in the host's speed cancels out), or None."""
        dev = self.rates.get((self.bench.device, size, read or size), [])
        nat = self.rates.get((NATIVE, size, read or size), [])
        pairs = [d / n for d, n in zip(dev, nat) if n > 0]
        return statistics.median(pairs) if pairs else None

    def _mode_dict(self, size, read):
        dev, nat = self.bench.device, NATIVE
        return {
            "write_size": size,
            "read_size": read,
            "device_mbps": self.rates.get((dev, size, read), []),
            "native_mbps": self.rates.get((nat, size, read), []),
            "device_median_mbps": self.median(dev, size, read),
            "native_median_mbps": self.median(nat, size, read),
            "ratio": self.ratio(size, read),
            "device_cs_per_mb": self.cs_per_mb(dev, size, read),
            "native_cs_per_mb": self.cs_per_mb(nat, size, read),
        }

    def as_dict(self):
        """The report as plain data (for --json). "sizes" holds the runs
        with reads as large as the writes (what the site's charts draw),
        "big_reads" those with 64 KiB reads; a *_cs_per_mb pair is the
        reader's and the writer's context switches per MB."""
        return {
            "verified": self.verified,
            "device_fifo_size": self.device_size,
            "clocksource": self.clocksource,
            "cpus": self.cpus,
            "pipe_sizes": self.pipe_sizes,
            "problems": self.problems,
            "sizes": [self._mode_dict(w, r) for w, r in self.modes
                      if w == r],
            "big_reads": [self._mode_dict(w, r) for w, r in self.modes
                          if w != r],
            "device": self.bench.device,
            "target": {"write_size": TARGET_SIZE,
                       "ratio": self.bench.target_ratio,
                       "met": self.target_met(TARGET_SIZE)},
            "targets": [{"write_size": size, "ratio": goal,
                         "met": self.target_met(size)}
                        for size, goal in sorted(self.bench.targets.items())],
        }

    def target_met(self, size=None):
        """Whether the target at SIZE-byte writes (default: every target)
        is met: True, False, or None when it was not measured."""
        sizes = [size] if size else sorted(self.bench.targets)
        met = []
        for s in sizes:
            ratio = self.ratio(s)
            if ratio is None:
                return None
            met.append(ratio >= self.bench.targets[s])
        return all(met)


def parse(bench, text):
    """Read the guest's output (bench.sh and fifo_bench) of BENCH into a
    Report."""
    report = Report(bench)
    for line in text.splitlines():
        line = line.rstrip()
        match = _BENCH.match(line)
        if match:
            fields = dict(f.split("=", 1) for f in match.group(2).split()
                          if "=" in f)
            try:
                key = (match.group(1), int(fields["write"]),
                       int(fields["read"]))
                rate = float(fields["mbps"])
                cs = (float(fields["rd_cs_mb"]), float(fields["wr_cs_mb"]))
            except (KeyError, ValueError):
                report.problems.append(f"unreadable line: {line}")
                continue
            report.rates.setdefault(key, []).append(rate)
            report.switches.setdefault(key, []).append(cs)
            continue
        match = _PIPE.match(line)
        if match:
            report.pipe_sizes[match.group(1)] = int(match.group(3))
            continue
        match = _DEVICE_SIZE.match(line)
        if match and match.group(1) == bench.device:
            report.device_size = int(match.group(3))
            continue
        match = _CLOCK.match(line)
        if match:
            report.clocksource = match.group(1)
            continue
        match = _CPUS.match(line)
        if match:
            report.cpus = int(match.group(1))
            continue
        match = _PLAN.match(line)
        if match and report.planned is None:
            report.planned = int(match.group(1))
        elif _NOT_OK.match(line) or line.startswith("Bail out!"):
            report.problems.append(line)
        elif _OK.match(line):
            report.passed += 1
    return report


def run(bench, kver, quick=False, timeout=None, keep_dir=None, tag="bench",
        args=None):
    """Build BENCH's module from solutions/ and fifo_bench, run the bench
    in a VM on KVER. ARGS, if given, replace fifo_bench's timing arguments
    (FULL_ARGS or, with QUICK, QUICK_ARGS); the write sizes are BENCH's,
    the read sizes READS unless ARGS have a -r (QUICK_ARGS do: 999).

    Returns (Outcome or None, ModuleBuild, Report); the Outcome is None
    (and the Report empty) when the module did not build. TAG names the
    module's build directory: one of its own, so that it never races with
    `make check`'s W=1 build of the same solution.
    """
    if args is None:
        args = QUICK_ARGS if quick else FULL_ARGS
    if timeout is None:
        timeout = QUICK_TIMEOUT if quick else FULL_TIMEOUT
    if "-r" not in args:
        args = ("-r", READS, *args)
    outcome, built = runner.run_script(
        bench.lab(), os.path.join(paths.TOP, "solutions"), kver,
        bench.script(), script_args=("-s", bench.sizes, *args),
        programs=[build.bench_program()], tag=tag, timeout=timeout,
        keep_dir=keep_dir)
    report = parse(bench, outcome.results) if outcome else Report(bench)
    return outcome, built, report


def summary(outcome, report):
    """Why a run does not count, as lines; empty when it completed and
    every byte was verified."""
    lines = []
    if outcome is None:
        return ["the module did not build"]
    if outcome.verdict != Verdict.COMPLETE:
        lines.append(f"the VM run ended with {outcome.verdict}")
        lines.extend(outcome.detail.splitlines()[:30])
    if not report.verified:
        lines.append(f"pattern verification: {report.passed} of "
                     f"{report.planned or '?'} streams intact")
        lines.extend(report.problems)
    return lines


def accel_note(report=None):
    """How the guest runs, for the report's heading: the accelerator, the
    vCPUs asked for and, from REPORT, the CPUs the guest brought up when
    that is fewer."""
    n = vm.vcpus()
    note = f"{vm.accel()}, {n} vCPU{'s' if n > 1 else ''}"
    if report is not None and report.cpus is not None and report.cpus < n:
        note += f", of which the guest brought up only {report.cpus}"
    return note
