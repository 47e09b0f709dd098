# SPDX-License-Identifier: GPL-2.0
"""Build a lab from a source tree and grade it in a VM: the one path that
`make test`, `make check` and instructor grading all go through."""

import os
import subprocess
import time

from . import build, paths, results, vm
from .verdicts import Verdict


def _label(src_root):
    """How reports name a source tree: relative to the kit when inside."""
    label = os.path.realpath(src_root)
    if label.startswith(os.path.realpath(paths.TOP) + os.sep):
        label = os.path.relpath(label, os.path.realpath(paths.TOP))
    return label


def grade(lab, src_root, kver, tag=None, make_args=(), timeout=None,
          keep_dir=None, work_root=None, label=None, on_output=None,
          only=()):
    """Build LAB from SRC_ROOT/LAB and grade it on kernel KVER.

    SRC_ROOT is a tree laid out like labs/ (labs/, solutions/ or a
    submission); the build goes under WORK_ROOT (see build.modules);
    LABEL names the tree in reports; ON_OUTPUT sees the autograder's
    output as it comes, and can stop the run (vm.Vm.wait); ONLY, if
    given, names the only tests of the test program to run (vm.run_line):
    the others fail as not run. Returns (LabResult, ModuleBuild).
    """
    label = label or _label(src_root)
    outcome, built = _build_and_run(lab, src_root, kver, tag, make_args,
                                    timeout, keep_dir, work_root=work_root,
                                    on_output=on_output, only=only)
    if outcome is None:
        return results.build_failed(lab, kver, label, built), built
    return results.from_run(lab, kver, label, outcome), built


def _build_and_run(lab, src_root, kver, tag, make_args, timeout, keep_dir,
                   work_root=None, on_output=None, enter=None, **guest):
    """Start the VM, build LAB's modules from SRC_ROOT/LAB meanwhile, and
    run the guest's script on them (GUEST: see vm.Vm).

    Returns (Outcome, ModuleBuild), with None for the Outcome when the
    modules did not build.
    """
    src_dir = os.path.join(src_root, lab.name)
    tag = tag or build.tree_tag(src_root)
    # The VM boots while kbuild runs; it waits for the modules.
    machine = vm.Vm(lab, kver, timeout=timeout,
                    keep_dir=keep_dir, **guest)
    # Whatever fails on the way (a build that raises, Ctrl-C, a bug of
    # the kit's), the VM is stopped: none is left running, orphaned.
    try:
        built = build.modules(lab, src_dir, kver, tag, make_args,
                              work_root)
        if not built.ok:
            machine.abort()
            return None, built
        # The kit's own modules (the name taker) go with every run: they
        # land beside the lab's, in the guest's LAB_MODULE_DIR.
        kit = build.kit_modules(kver)
        machine.send_modules(built.modules + kit.modules)
        if enter is not None:
            machine.forward_enter(enter)
        return machine.wait(on_output), built
    except BaseException:
        machine.abort()
        raise


def run_script(lab, src_root, kver, script, script_args=(), programs=(),
               tag=None, make_args=(), timeout=None, keep_dir=None,
               on_output=None, enter=None):
    """Build LAB from SRC_ROOT/LAB for KVER and run SCRIPT, a guest script
    of the kit, in the VM instead of the autograder, with SCRIPT_ARGS and
    the static PROGRAMS on its PATH (the bench and the demos do this).
    ON_OUTPUT gets the script's output as it comes; a line on ENTER (a
    stream, e.g. stdin) sends a newline to the guest's ttyS2.

    Returns (Outcome, ModuleBuild); the Outcome is None when the modules
    did not build.
    """
    return _build_and_run(lab, src_root, kver, tag, make_args, timeout,
                          keep_dir, on_output=on_output, enter=enter,
                          script=script, script_args=script_args,
                          programs=programs)


def grade_native(lab, src_root, kver):
    """Build LAB for the running kernel KVER and grade it right here,
    without a VM: for a student's own Linux machine, as root.

    The module is loaded into the running kernel: a bug can crash it.
    """
    src_dir = os.path.join(src_root, lab.name)
    built = build.modules(lab, src_dir, kver, build.tree_tag(src_root),
                          host=True)
    label = f"{_label(src_root)} (native)"
    if not built.ok:
        return results.build_failed(lab, kver, label, built)
    env = dict(os.environ,
               LAB_MODULE_DIR=built.directory,
               # The kit's own modules (the name taker) are built apart.
               LAB_KIT_MODULE_DIR=build.kit_modules(kver,
                                                    host=True).directory,
               LAB_TEST_DIR=os.path.dirname(build.test_program(lab)))
    hidden = build.hidden_program(lab)
    if hidden:
        env["LAB_HIDDEN_DIR"] = os.path.dirname(hidden)
    start = time.monotonic()
    proc = subprocess.run(["sh", lab.grade_script], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace", check=False)
    outcome = vm.Outcome(Verdict.COMPLETE, proc.stdout, "",
                         time.monotonic() - start)
    return results.from_run(lab, kver, label, outcome)
