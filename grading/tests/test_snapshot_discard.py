# SPDX-License-Identifier: GPL-2.0
"""snapshot.discard(): a run that could not restore a snapshot removes the
file it tried, never a newer one that another run of the same image saved
under that name meanwhile (make check's snapshot check broke a snapshot
while a batch of the same lab ran: the batch's late discard removed the
fallback's fresh snapshot)."""

import os
import tempfile
import unittest

from labkit import snapshot


class DiscardTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.path = os.path.join(self.tmp.name, "lab-kver-0123.vmstate")

    def write(self, text):
        with open(f"{self.path}.new", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(f"{self.path}.new", self.path)

    def tried(self):
        """The identity of the file now at the path, as a run that opened
        it to restore it has it."""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            return snapshot.identity(fd)
        finally:
            os.close(fd)

    def leftovers(self):
        return sorted(n for n in os.listdir(self.tmp.name)
                      if n != os.path.basename(self.path))

    def test_the_file_tried_goes(self):
        self.write("broken")
        broken = self.tried()
        snapshot.discard(self.path, only=broken)
        self.assertFalse(os.path.exists(self.path))
        self.assertEqual(self.leftovers(), [])

    def test_a_newer_snapshot_stays(self):
        self.write("broken")
        broken = self.tried()
        self.write("saved by the run that gave up first")
        snapshot.discard(self.path, only=broken)
        with open(self.path, encoding="utf-8") as f:
            self.assertEqual(f.read(), "saved by the run that gave up first")
        self.assertEqual(self.leftovers(), [])

    def test_a_file_already_gone_is_no_error(self):
        self.write("broken")
        broken = self.tried()
        os.unlink(self.path)
        snapshot.discard(self.path, only=broken)
        self.assertFalse(os.path.exists(self.path))

    def test_without_an_identity_the_name_goes(self):
        self.write("anything")
        snapshot.discard(self.path)
        self.assertFalse(os.path.exists(self.path))


if __name__ == "__main__":
    unittest.main()
