# SPDX-License-Identifier: GPL-2.0
"""The kernels the kit can use, their kbuild trees and their vmlinux.

Two kinds, one namespace of release names (KVER=):

- kernels in the kit's cache (kcache.py): Debian 12's 6.1 and 6.12, which
  `make deps` (tools/fetch-kernels) fetches as the user into
  CACHE/kernels/RELEASE/ with their kbuild tree and their vmlinux, without
  installing anything into /boot or /lib/modules;
- kernels of the host: usable when both its image (/boot/vmlinuz-KVER)
  and its build tree (/lib/modules/KVER/build) are installed (Gradescope's
  setup.sh installs one this way). Their vmlinux is extracted once into
  CACHE/vmlinux/.

When a release is in both, the cache's is used (`make native` alone
builds against the host's tree: it loads the module into the running
kernel). QEMU boots the uncompressed ELF vmlinux through PVH, which saves
about half of every boot compared with the bzImage. Nothing else in the
kit reads /boot or /lib/modules: it asks this module.

One more kernel goes by the name "debug" (DEBUG): the kit's own debug
kernel (lockdep, KASAN, atomic-sleep checks...), which `make debug-kernel`
(tools/build-debug-kernel) builds from Debian's linux-source-6.12 into the
cache, with its vmlinux and the tree modules build against. KVER=debug
selects it once it is built and up to date with its source and config
fragment; `make check` (usable()) includes it whenever it is built and up to
date, unless LABKIT_DEBUG_KERNEL=0.
See docs/debug-kernel.md and docs/kernels.md.
"""

import hashlib

import lzma
import os
import re
import shutil
import subprocess
import zlib

from . import kcache, paths

BOOT = "/boot"
MODULES = "/lib/modules"

#: The release name of the kit's debug kernel (KVER=debug).
DEBUG = "debug"
#: The source tools/build-debug-kernel builds it from (`make deps`).
DEBUG_SOURCE = "/usr/src/linux-source-6.12.tar.xz"
#: Its configuration fragment.
DEBUG_CONFIG = os.path.join(paths.TOP, "grading", "debug-kernel.config")
#: The environment variable that, set to 0, leaves it out of usable()
#: (make check).
DEBUG_ENV = "LABKIT_DEBUG_KERNEL"
#: The name that asks for the newest of Debian's kernels, where the
#: instructor's grading would otherwise take the debug kernel (select()).
DEBIAN = "debian"


def version_key(kver):
    """Sort key that orders 6.1.0-56-amd64 before 6.12.117+deb12-amd64."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", kver)]


def usable():
    """Return the usable kernel releases: the cache's and the host's,
    oldest first, then DEBUG if it is built and up to date (and
    LABKIT_DEBUG_KERNEL is not 0)."""
    found = _all()
    if os.environ.get(DEBUG_ENV) != "0" and debug_problem() is None:
        found.append(DEBUG)
    return found


def _all():
    """The cached and host kernels, each release once, oldest first."""
    return sorted(set(kcache.cached_releases()) | set(_host()),
                  key=version_key)


def _host():
    """The host's kernels with their headers (/boot and /lib/modules)."""
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


def _cached(kver):
    """Whether KVER is a complete kernel in the kit's cache."""
    return kver != DEBUG and "/" not in kver and \
        kcache.stamp_problem(kver) is None


def where(kver):
    """Where KVER's image and tree come from: "cache", "host" or "debug"."""
    if kver == DEBUG:
        return "debug"
    return "cache" if _cached(kver) else "host"


class KernelError(Exception):
    """A kernel the user asked for (or any kernel at all) is missing."""


def select(kver=None, prefer_debug=False):
    """Return KVER if usable, else the newest usable Debian kernel; with
    PREFER_DEBUG and no KVER, DEBUG when it is built and up to date (and
    LABKIT_DEBUG_KERNEL is not 0): the instructor's grading (grade,
    grade-batch) grades where the kit's checks see most. KVER=DEBIAN
    asks for the newest Debian kernel whatever is built."""
    if kver == DEBIAN:
        kver = None
    elif (kver is None and prefer_debug and os.environ.get(DEBUG_ENV) != "0"
          and debug_problem() is None):
        return DEBUG
    if kver == DEBUG:
        problem = debug_problem()
        if problem:
            raise KernelError(f"the debug kernel (KVER={DEBUG}) is not "
                              f"usable: {problem}; run `make debug-kernel` "
                              f"first (see docs/debug-kernel.md)")
        return kver
    kernels = _all()
    if kver:
        if kver not in kernels:
            have = ", ".join(kernels) or "none"
            raise KernelError(
                f"kernel {kver!r} is not usable: it is not in the kit's "
                f"cache ({kcache.root()}) and the host lacks "
                f"{BOOT}/vmlinuz-{kver} or {MODULES}/{kver}/build "
                f"(usable kernels: {have}; `make deps` fetches Debian's "
                f"6.1 and 6.12 into the cache; KVER={DEBUG} is the kit's "
                f"debug kernel, which `make debug-kernel` builds)")
        return kver
    if not kernels:
        raise KernelError(
            f"no usable kernel: `make deps` fetches Debian's 6.1 and 6.12 "
            f"kernels into the kit's cache ({kcache.root()}); on a machine "
            f"whose apt cannot see Debian 12's archive, "
            f"{kcache.CONTAINER_HINT}")
    return kernels[-1]


def build_dir(kver, host=False):
    """The kbuild tree that out-of-tree modules for KVER build against:
    the cache's when it has KVER (unless HOST: the host's, for a module
    loaded into the running kernel), else /lib/modules/KVER/build.

    For DEBUG, a path named after the build's stamp (a link to the tree,
    made by tools/build-debug-kernel): a rebuilt debug kernel gets a new
    path, so that build.kbuild() does not reuse modules built for the
    old one."""
    if kver == DEBUG:
        return os.path.join(_debug_dir(), "kbuild-" + _debug_id())
    if not host and _cached(kver):
        return kcache.tree_path(kver)
    return os.path.join(MODULES, kver, "build")


def identity(kver):
    """KVER as a cache key: DEBUG with its build's stamp (a rebuilt debug
    kernel, another configuration, is another kernel), else KVER."""
    return f"{DEBUG}-{_debug_id()}" if kver == DEBUG else kver


def _debug_dir():
    """The debug kernel's directory in the cache (the last one built)."""
    return os.path.realpath(os.path.join(paths.cache_dir(), "debug-kernel",
                                         "current"))


def _debug_stamp():
    """What the debug kernel's .complete must say to be up to date: the
    source tarball's identity and the digest of the fragment's option
    lines (comments do not count), as tools/build-debug-kernel writes
    it."""
    st = os.stat(DEBUG_SOURCE)
    with open(DEBUG_CONFIG, encoding="utf-8") as f:
        options = "".join(line for line in f
                          if re.match(r"CONFIG_[A-Za-z0-9_]+=", line))
    digest = hashlib.sha256(options.encode()).hexdigest()
    return (f"source {DEBUG_SOURCE} {st.st_size} {int(st.st_mtime)}\n"
            f"config {digest}")


def _debug_id():
    """A short name of the debug kernel's build (its stamp's digest)."""
    return hashlib.sha256(_debug_stamp().encode()).hexdigest()[:12]


def debug_problem():
    """Why the debug kernel cannot be used now, or None when it can."""
    try:
        want = _debug_stamp()
    except OSError as e:
        return f"{e.filename} is missing (`make deps` installs it)"
    top = _debug_dir()
    try:
        with open(os.path.join(top, ".complete"), encoding="utf-8") as f:
            have = f.read().strip()
    except OSError:
        if os.path.isdir(top):
            return f"its build in {top} did not finish"
        if os.path.isdir(os.path.dirname(top)):
            return (f"its build in {os.path.dirname(top)} did not finish "
                    "(or was interrupted)")
        return "it has not been built"
    if have != want:
        return ("it was built from another source tarball or another "
                "grading/debug-kernel.config")
    for path in (os.path.join(top, "build", "vmlinux"),
                 os.path.join(build_dir(DEBUG), "Module.symvers")):
        if not os.path.isfile(path):
            return f"{path} is missing"
    return None


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


def extract_vmlinux(image):
    """The ELF vmlinux inside the bzImage IMAGE, as bytes."""
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
    """Path of the uncompressed vmlinux for KVER: a cached kernel's was
    extracted when it was fetched, DEBUG's is built as such, a host
    kernel's is extracted once into CACHE/vmlinux/."""
    if kver == DEBUG:
        return os.path.join(_debug_dir(), "build", "vmlinux")
    if _cached(kver):
        return kcache.vmlinux_path(kver)
    image = os.path.join(BOOT, f"vmlinuz-{kver}")
    cached = os.path.join(paths.cache_dir(), "vmlinux", f"vmlinux-{kver}")
    try:
        if os.path.getmtime(cached) >= os.path.getmtime(image):
            return cached
    except OSError:
        pass
    data = extract_vmlinux(image)
    os.makedirs(os.path.dirname(cached), exist_ok=True)
    tmp = f"{cached}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, cached)
    return cached
