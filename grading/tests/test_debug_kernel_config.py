# SPDX-License-Identifier: GPL-2.0
"""The debug kernel's configuration (grading/debug-kernel.config) gives
every kernel interface the guest's C code calls.

The debug kernel starts from allnoconfig: an interface the fragment does
not ask for is missing, its calls fail with ENOSYS, and a test with a
fallback then checks less without saying so. That happened: without
inotify the early caller (userspace/early_caller.h) looked for a node
every millisecond, and works_the_moment_its_node_appears missed Lab 04's
debugfs-after-register in 3 of 9 runs on the debug kernel. No VM, no
kernel build: the fragment and the C sources are read."""

import glob
import os
import re
import tempfile
import unittest

from labkit import kernels, paths

#: A call (or constant) of the guest's C code, as a regular expression,
#: and the option without which the kernel does not have it.
NEEDS = (
    (r"\binotify_(init1?|add_watch)\s*\(", "CONFIG_INOTIFY_USER"),
    (r"\bfanotify_(init|mark)\s*\(", "CONFIG_FANOTIFY"),
    (r"\b(SYS_|__NR_)userfaultfd\b|\bUFFDIO_", "CONFIG_USERFAULTFD"),
    (r"\bepoll_(create1?|ctl|wait|pwait2?)\s*\(", "CONFIG_EPOLL"),
    (r"\bsignalfd\s*\(", "CONFIG_SIGNALFD"),
    (r"\btimerfd_(create|settime)\s*\(", "CONFIG_TIMERFD"),
    (r"\beventfd\s*\(", "CONFIG_EVENTFD"),
    (r"\bmemfd_create\s*\(", "CONFIG_MEMFD_CREATE"),
    (r"\bAF_UNIX\b|\bAF_LOCAL\b", "CONFIG_UNIX"),
    (r"\bio_uring_(setup|enter)\b", "CONFIG_IO_URING"),
    (r"\b(SYS_|__NR_)io_setup\b|\bio_submit\s*\(", "CONFIG_AIO"),
    (r"\bmq_open\s*\(", "CONFIG_POSIX_MQUEUE"),
    (r"\b(shmget|semget|msgget)\s*\(", "CONFIG_SYSVIPC"),
    (r"/sys/kernel/debug\b", "CONFIG_DEBUG_FS"),
    (r"/proc/sys/kernel/tainted\b", "CONFIG_PROC_SYSCTL"),
)


def guest_sources(top=paths.TOP):
    """The C sources that run in the guest: the shared test code, the
    labs' test programs, the hidden tests and the guest's helpers."""
    patterns = ("userspace/*.c", "userspace/*.h", "labs/*/tests/*.c",
                "labs/*/tests/*.h", "grading/hidden/*/*.c",
                "grading/hidden/*/*.h", "grading/guest/*.c")
    return sorted(f for p in patterns
                  for f in glob.glob(os.path.join(top, p)))


def options_set(fragment):
    """The options FRAGMENT sets to y."""
    with open(fragment, encoding="utf-8") as f:
        return {m.group(1) for m in
                re.finditer(r"^(CONFIG_[A-Za-z0-9_]+)=y\s*$", f.read(),
                            re.M)}


def missing(sources, fragment):
    """[(option, source, what the source calls)] for every call of
    SOURCES whose option FRAGMENT does not set to y."""
    have = options_set(fragment)
    out = []
    for path in sources:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for pattern, option in NEEDS:
            match = re.search(pattern, text)
            if match and option not in have:
                out.append((option, os.path.relpath(path, paths.TOP),
                            match.group(0)))
    return out


class DebugKernelConfig(unittest.TestCase):
    def test_every_interface_the_guest_code_calls_is_configured(self):
        gaps = missing(guest_sources(), kernels.DEBUG_CONFIG)
        self.assertEqual([], gaps, "grading/debug-kernel.config lacks "
                         "these options, which the guest's code needs "
                         "(option, file, call): " + "; ".join(
                             f"{o} for {f} ({c})" for o, f, c in gaps))

    def test_the_early_caller_is_seen_to_need_inotify(self):
        # The scan finds what it is for: without this, an empty list of
        # sources or a broken pattern would pass the test above.
        sources = guest_sources()
        self.assertIn(os.path.join(paths.TOP, "userspace",
                                   "early_caller.c"), sources)
        with tempfile.NamedTemporaryFile("w", suffix=".config") as frag:
            frag.write("CONFIG_USERFAULTFD=y\n# CONFIG_INOTIFY_USER=y\n")
            frag.flush()
            gaps = missing(sources, frag.name)
        self.assertIn(("CONFIG_INOTIFY_USER", "userspace/early_caller.c"),
                      [(o, f) for o, f, _ in gaps])
        self.assertNotIn("CONFIG_USERFAULTFD", [o for o, _, _ in gaps])


if __name__ == "__main__":
    unittest.main()
