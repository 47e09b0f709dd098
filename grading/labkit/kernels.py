# SPDX-License-Identifier: GPL-2.0
"""Installed Debian kernels: which ones the kit can use, and their vmlinux.

A kernel is usable when both its image (/boot/vmlinuz-KVER) and its build
tree (/lib/modules/KVER/build) are installed. QEMU boots the uncompressed
ELF vmlinux through PVH, which saves about half of every boot compared with
the bzImage, so the vmlinux is extracted once per kernel and cached.
"""

import lzma
import os
import re
import shutil
import subprocess
import zlib

from . import paths

BOOT = "/boot"
MODULES = "/lib/modules"


def version_key(kver):
    """Sort key that orders 6.1.0-56-amd64 before 6.12.117+deb12-amd64."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", kver)]


def usable():
    """Return the usable kernel releases, oldest first."""
    found = []
    try:
        names = os.listdir(BOOT)
    except OSError:
        return []
    for name in names:
        if not name.startswith("vmlinuz-"):
            continue
        kver = name[len("vmlinuz-"):]
        if os.path.isdir(os.path.join(MODULES, kver, "build")):
            found.append(kver)
    return sorted(found, key=version_key)


class KernelError(Exception):
    """A kernel the user asked for (or any kernel at all) is missing."""


def select(kver=None):
    """Return KVER if usable, else the newest usable kernel."""
    kernels = usable()
    if kver:
        if kver not in kernels:
            have = ", ".join(kernels) or "none"
            raise KernelError(
                f"kernel {kver!r} is not usable: it needs both "
                f"{BOOT}/vmlinuz-{kver} and {MODULES}/{kver}/build "
                f"(usable kernels: {have}; `make deps` installs them)")
        return kver
    if not kernels:
        raise KernelError(
            "no usable kernel: install one with its headers "
            "(`make deps` installs Debian's 6.1 and 6.12 kernels)")
    return kernels[-1]


def build_dir(kver):
    """The kbuild tree that out-of-tree modules for KVER build against."""
    return os.path.join(MODULES, kver, "build")


# Compressed payloads a Debian bzImage may carry, by magic number.
_MAGICS = (
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x1f\x8b\x08", "gzip"),
)


def _decompress_at(data, offset, kind):
    blob = data[offset:]
    if kind == "xz":
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(blob)
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(blob)
    # Python's standard library has no zstd; the zstd tool stops at the
    # end of the first frame and complains about the trailing bytes.
    if not shutil.which("zstd"):
        raise KernelError("extracting a zstd-compressed kernel needs the "
                          "zstd tool (`make deps` installs it)")
    proc = subprocess.run(["zstd", "-dcq"], input=blob,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          check=False)
    return proc.stdout


def _extract(image):
    with open(image, "rb") as f:
        data = f.read()
    for magic, kind in _MAGICS:
        start = 0
        while True:
            offset = data.find(magic, start)
            if offset < 0:
                break
            try:
                out = _decompress_at(data, offset, kind)
            except (lzma.LZMAError, zlib.error, OSError):
                out = b""
            if out[:4] == b"\x7fELF":
                return out
            start = offset + 1
    raise KernelError(f"could not find an ELF vmlinux inside {image}")


def vmlinux(kver):
    """Path of the cached uncompressed vmlinux for KVER, extracting it once."""
    image = os.path.join(BOOT, f"vmlinuz-{kver}")
    cached = os.path.join(paths.cache_dir(), "vmlinux", f"vmlinux-{kver}")
    try:
        if os.path.getmtime(cached) >= os.path.getmtime(image):
            return cached
    except OSError:
        pass
    data = _extract(image)
    os.makedirs(os.path.dirname(cached), exist_ok=True)
    tmp = f"{cached}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, cached)
    return cached
