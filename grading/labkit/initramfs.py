# SPDX-License-Identifier: GPL-2.0
"""Write the guest's initramfs: an uncompressed cpio "newc" archive.

The archive is small (busybox, a few modules and test programs), so it is
written fresh for every run; leaving it uncompressed lets the kernel unpack
it without spending emulated cycles on decompression.
"""

import hashlib
import io
import os
import stat

_TRAILER = "TRAILER!!!"


class Initramfs:
    """An archive being assembled in memory, written out by write()."""

    def __init__(self):
        self._entries = {}  # guest path -> (mode, data or symlink target)

    def _parents(self, path):
        parts = path.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            self.mkdir("/".join(parts[:i]))

    def mkdir(self, path, mode=0o755):
        """Add directory PATH (and its parents)."""
        path = path.strip("/")
        if path and path not in self._entries:
            self._parents(path)
            self._entries[path] = (stat.S_IFDIR | mode, b"")

    def add_bytes(self, path, data, mode=0o644):
        """Add a regular file PATH holding DATA."""
        path = path.strip("/")
        self._parents(path)
        self._entries[path] = (stat.S_IFREG | mode, data)

    def add_file(self, path, host_path, mode=None):
        """Add host file HOST_PATH as PATH, keeping its mode unless given."""
        with open(host_path, "rb") as f:
            data = f.read()
        if mode is None:
            mode = stat.S_IMODE(os.stat(host_path).st_mode)
        self.add_bytes(path, data, mode)

    def symlink(self, path, target):
        """Add a symbolic link PATH pointing at TARGET."""
        path = path.strip("/")
        self._parents(path)
        self._entries[path] = (stat.S_IFLNK | 0o777, target.encode())

    def write(self, out_path):
        """Write the archive to OUT_PATH; returns its SHA-256 (hex), which
        names the snapshot of a guest booted from it."""
        out = io.BytesIO()
        ino = 1
        for name in sorted(self._entries):
            mode, data = self._entries[name]
            _write_entry(out, ino, name, mode, data)
            ino += 1
        _write_entry(out, ino, _TRAILER, 0, b"")
        archive = out.getvalue()
        with open(out_path, "wb") as f:
            f.write(archive)
        return hashlib.sha256(archive).hexdigest()


def _pad4(out):
    out.write(b"\0" * (-out.tell() % 4))


def _write_entry(out, ino, name, mode, data):
    nlink = 2 if stat.S_ISDIR(mode) else 1
    namez = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0,
              len(namez), 0)
    out.write(b"070701" + b"".join(b"%08X" % v for v in fields))
    out.write(namez)
    _pad4(out)
    out.write(data)
    _pad4(out)
