# SPDX-License-Identifier: GPL-2.0
"""Whether a run's tests checked less than their rules, for make check.

Some tests check all of their rule only where the kernel has what they
need: full preemption switched on at run time (PREEMPT_DYNAMIC), inotify,
debugfs, the debug kernel's fault injection. Elsewhere they say so in a
line of their output, in parentheses, and pass on what they could check.
On the kit's own kernels none of that may happen for a correct driver:
when it does, a kernel was built or set up without something a test
needs, and its grades silently promise less (the debug kernel once had
no inotify, and works_the_moment_its_node_appears missed a bug in 4 of
12 runs there). make check reads every solution run's output with
lines() and fails on what it finds.
"""

import re

from . import kernels

#: What a test prints when this kernel lets it check less than its rule:
#: "(this kernel runs without full preemption, ...)", "(this kernel has
#: no inotify, ...)", "(debugfs cannot be mounted: ...)", "(could not
#: leave N bytes in ...; the unload is checked with what it holds)".
_ANY_KERNEL = re.compile(r"\((this kernel |debugfs cannot be mounted|"
                         r"could not (leave|fill) )")

#: What a test prints where allocations cannot be made to fail: expected
#: on Debian's kernels (the rule is the debug kernel's, KVER=debug), a
#: gap on the debug kernel, whose fault injection checks it.
_DEBUG_ONLY = "the kit's debug kernel checks this rule"


def lines(text, kver):
    """The lines of the results TEXT (a run's results.log) in which a test
    says it checked less than its rule on KVER, in order."""
    found = []
    for line in text.splitlines():
        if not line.startswith("#"):
            continue
        if _DEBUG_ONLY in line:
            if kver == kernels.DEBUG:
                found.append(line.lstrip("# ").rstrip())
        elif _ANY_KERNEL.search(line):
            found.append(line.lstrip("# ").rstrip())
    return found
