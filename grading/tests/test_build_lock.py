# SPDX-License-Identifier: GPL-2.0
"""build.modules() builds one tree at a time in a build directory: two
builds under one tag (make check's demo, with and without STEP) must not
write the same files at once."""

import os
import tempfile
import threading
import time
import types
import unittest
from unittest import mock

from labkit import build


class BuildLockTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.src = os.path.join(self.tmp.name, "src")
        os.makedirs(self.src)
        with open(os.path.join(self.src, "flatbuf.c"), "w",
                  encoding="utf-8") as f:
            f.write("/* a module */\n")
        self.lab = types.SimpleNamespace(name="01-flat-buffer",
                                         student_files=["flatbuf.c"],
                                         kit_files=[], lab_dir=self.src)
        self.inside = 0
        self.most = 0
        self.guard = threading.Lock()
        self.barrier = None

    def fake_kbuild(self, directory, kver, extra=(), inputs=(), host=False):
        with self.guard:
            self.inside += 1
            self.most = max(self.most, self.inside)
        if self.barrier:
            # Both builds must be in here together, however slow the
            # machine: a wait that times out breaks the barrier.
            self.barrier.wait()
        else:
            time.sleep(0.2)
        with self.guard:
            self.inside -= 1
        return build.ModuleBuild(True, "", [], directory)

    def build_twice(self, tags):
        work = os.path.join(self.tmp.name, "work")
        with mock.patch.object(build, "kbuild", self.fake_kbuild), \
                mock.patch.object(build, "sync_common", lambda top: []):
            threads = [threading.Thread(target=build.modules, args=(
                self.lab, self.src, "k", tag), kwargs={"work_root": work})
                       for tag in tags]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

    def test_one_tag_builds_one_at_a_time(self):
        self.build_twice(["demo", "demo"])
        self.assertEqual(1, self.most)

    def test_two_tags_build_side_by_side(self):
        self.barrier = threading.Barrier(2, timeout=30)
        self.build_twice(["demo", "other"])
        self.assertFalse(self.barrier.broken)
        self.assertEqual(2, self.most)


if __name__ == "__main__":
    unittest.main()
