# SPDX-License-Identifier: GPL-2.0
"""Classroom demos: labs/NN-name/demo.sh run in a VM, its output shown as
it comes (grading/demo, make demo LAB=NN).

The script sources grading/guest/demo.sh; the static helpers it needs
(userspace/demo/*.c: a poller, a SIGIO listener) are on the guest's PATH.
"""

import glob
import os

from . import build, paths, runner

#: Wall-clock seconds a demo may take without --step.
DEMO_TIMEOUT = 300
#: ... and with --step, where it waits for the instructor.
STEP_TIMEOUT = 4 * 3600


def default_src():
    """The reference solutions, or in the student kit (which has none)
    the student's own labs/."""
    solutions = os.path.join(paths.TOP, "solutions")
    return solutions if os.path.isdir(solutions) else \
        os.path.join(paths.TOP, "labs")


def script(lab):
    """The lab's demo script, or None."""
    path = os.path.join(lab.lab_dir, "demo.sh")
    return path if os.path.isfile(path) else None


def programs():
    """The static helper programs demos run (userspace/demo/*.c)."""
    return [build.guest_program("demo", os.path.basename(src)[:-2])
            for src in sorted(glob.glob(os.path.join(
                paths.TOP, "userspace", "demo", "*.c")))]


def run(lab, kver, src, enter=None, on_output=None, timeout=None):
    """Run LAB's demo on KVER from the tree SRC; with ENTER (a stream of
    lines, e.g. stdin), pause at each step until a line comes. TIMEOUT
    overrides the time limit (DEMO_TIMEOUT, or STEP_TIMEOUT with ENTER).
    Returns
    (Outcome, ModuleBuild); the Outcome is None when the module did not
    build."""
    return runner.run_script(
        lab, src, kver, script(lab), programs=programs(),
        script_args=("--step",) if enter else (), tag="demo",
        timeout=timeout or (STEP_TIMEOUT if enter else DEMO_TIMEOUT),
        on_output=on_output, enter=enter)
