# SPDX-License-Identifier: GPL-2.0
"""make check's unprivileged run (labkit/unprivileged.py): what counts as
written in the fresh HOME outside its cache, build directory and TMPDIR.
No user, no run: a fake HOME in a temp dir."""

import os
import tempfile
import unittest

from labkit import unprivileged


class HomeWritesTest(unittest.TestCase):
    """A HOME as _check() makes it: .cache/chardev-labkit, build, tmp."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self._tmp.cleanup)
        self.home = self._tmp.name
        self.allowed = [os.path.join(self.home, ".cache", "chardev-labkit"),
                        os.path.join(self.home, "build"),
                        os.path.join(self.home, "tmp")]
        for d in self.allowed:
            os.makedirs(d)

    def write(self, rel, data="x"):
        """Write the file REL in HOME (and the directories to it)."""
        path = os.path.join(self.home, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(data)

    def writes(self):
        return unprivileged._home_writes(self.home, self.allowed)

    def test_the_cache_build_and_temp_dirs_are_allowed(self):
        for rel in (".cache/chardev-labkit/kernels/x/vmlinux",
                    ".cache/chardev-labkit/snapshots/01.vmstate",
                    "build/modules/a.ko", "tmp/tmp.1234/x"):
            self.write(rel)
        self.assertEqual(self.writes(), [])

    def test_anything_else_in_home_is_found(self):
        self.write(".config/app/settings")
        self.write(".bash_history")
        self.write(".cache/pip/http/x")
        self.write(".cache/stray")
        os.symlink("/etc", os.path.join(self.home, ".cache", "link"))
        found = self.writes()
        self.assertEqual(sorted(f.split(" ")[0][len(self.home):]
                                for f in found),
                         ["/.bash_history", "/.cache/link", "/.cache/pip",
                          "/.cache/stray", "/.config"])
        self.assertTrue(all("outside its cache, build directory and "
                            "TMPDIR" in f for f in found))

    def test_a_link_in_place_of_a_leading_directory_is_found(self):
        os.rename(os.path.join(self.home, ".cache"),
                  os.path.join(self.home, "real-cache"))
        os.symlink("real-cache", os.path.join(self.home, ".cache"))
        found = self.writes()
        self.assertEqual(len(found), 2)
        self.assertTrue(found[0].startswith(os.path.join(self.home,
                                                         ".cache ")))


if __name__ == "__main__":
    unittest.main()
