# SPDX-License-Identifier: GPL-2.0
"""Snapshots of booted grading VMs: boot once, restore for every run.

Booting Debian's kernel under TCG takes 2.5-4 s, most of a VM run. The
first run of an image (one lab's initramfs on one kernel, see vm.Vm) boots
it; when the guest's init says it is ready for the run's token, before
anything of the run has reached it, the host saves the whole machine
through QEMU's migration into the cache and lets the run go on. Later
runs of the same image start QEMU with -incoming from that file: the
guest is back at the same point in a few tenths of a second.

Every run still starts from a machine nothing has run in: the saved state
is taken before any module, token or student file reaches the guest, and
no run's state is ever saved. The file's name is a digest of everything
the state depends on (the image's bytes, the kernel, the QEMU binary, the
machine and the command line), so a change to any of them makes a new
one. LABKIT_SNAPSHOTS=0 turns the whole thing off: every run boots;
`make clean-snapshots` removes them.
"""

import hashlib
import json
import os
import socket
import tempfile
import threading
import time

from . import paths

#: How many snapshot files the cache keeps (most recently used first);
#: each holds the guest's used memory, about 70 MB.
KEEP = 16

_SUFFIX = ".vmstate"


def enabled():
    """Whether runs may save and restore snapshots (LABKIT_SNAPSHOTS)."""
    return os.environ.get("LABKIT_SNAPSHOTS", "1") != "0"


def _directory():
    return os.path.join(paths.cache_dir(), "snapshots")


def _file_identity(path):
    """What identifies the file at PATH well enough: path, size, mtime."""
    st = os.stat(path)
    return f"{os.path.realpath(path)}:{st.st_size}:{st.st_mtime_ns}"


def path_for(name, image_digest, qemu_binary, vmlinux, command):
    """The snapshot file for booting the image whose SHA-256 is
    IMAGE_DIGEST with QEMU_BINARY, VMLINUX and the (machine-defining)
    arguments COMMAND. NAME (lab and kernel) only makes the file name
    readable."""
    digest = hashlib.sha256()
    for part in (image_digest, _file_identity(qemu_binary),
                 _file_identity(vmlinux), *command):
        digest.update(part.encode() + b"\0")
    return os.path.join(_directory(),
                        f"{name}-{digest.hexdigest()[:24]}{_SUFFIX}")


def find(path):
    """PATH if that snapshot exists (marking it used), else None."""
    try:
        os.utime(path)
    except OSError:
        return None
    return path


def identity(fd):
    """What tells the snapshot file open as FD from any other one that
    later takes its name: (device, inode)."""
    st = os.fstat(fd)
    return (st.st_dev, st.st_ino)


def discard(path, only=None):
    """Remove a snapshot that could not be restored. ONLY, if given, is
    the identity() of the file that was tried: when another run has
    meanwhile saved a new snapshot under PATH (runs of one image may go
    on at once, and the first to fail boots and saves again), that one
    stays."""
    if only is None:
        try:
            os.unlink(path)
        except OSError:
            pass
        return
    # Moved aside first, so that what is looked at is what goes.
    aside = f"{path}.{os.getpid()}-{threading.get_ident()}.tmp"
    try:
        os.rename(path, aside)
    except OSError:
        return  # gone already
    try:
        st = os.stat(aside)
        if (st.st_dev, st.st_ino) != only:
            # Someone else's good snapshot: back under its name, unless a
            # still newer one is there by now.
            try:
                os.link(aside, path)
            except OSError:
                pass
    finally:
        try:
            os.unlink(aside)
        except OSError:
            pass


def remove_all():
    """Remove every snapshot (make clean-snapshots); returns how many
    files went."""
    return _prune(keep=0, tmp_age=0)


def _prune(keep=KEEP, tmp_age=3600):
    """Remove all but the KEEP most recently used snapshots, and files of
    saves cut off more than TMP_AGE seconds ago. Returns how many files
    went."""
    try:
        names = os.listdir(_directory())
    except OSError:
        return 0
    files = []
    gone = []
    for name in names:
        path = os.path.join(_directory(), name)
        try:
            mtime = os.path.getmtime(path)
        except OSError:
            continue
        if name.endswith(_SUFFIX):
            files.append((mtime, path))
        elif name.endswith(".tmp") and mtime <= time.time() - tmp_age:
            gone.append(path)
    gone += [path for _, path in sorted(files, reverse=True)[keep:]]
    for path in gone:
        discard(path)
    return len(gone)


class _Qmp:
    """The few QEMU Machine Protocol commands saving needs, over the unix
    socket QEMU was started with (-qmp unix:PATH,server=on,wait=off)."""

    def __init__(self, sock_path, timeout):
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        self._sock.connect(sock_path)
        self._file = self._sock.makefile("r", encoding="utf-8")
        self._reply()  # the greeting
        self.execute("qmp_capabilities")

    def _reply(self):
        while True:
            line = self._file.readline()
            if not line:
                raise OSError("QEMU closed its QMP socket")
            message = json.loads(line)
            if "event" not in message:
                return message

    def execute(self, command, fd=None, **arguments):
        """Run COMMAND, passing it the file descriptor FD if given; its
        "return" value, or OSError with QEMU's error."""
        request = {"execute": command}
        if arguments:
            request["arguments"] = arguments
        data = (json.dumps(request) + "\n").encode()
        if fd is None:
            self._sock.sendall(data)
        else:
            socket.send_fds(self._sock, [data], [fd])
        reply = self._reply()
        if "error" in reply:
            raise OSError(f"QMP {command}: {reply['error'].get('desc')}")
        return reply.get("return")

    def close(self):
        self._file.close()
        self._sock.close()


def save(sock_path, path, timeout=30):
    """Save the running machine behind the QMP socket SOCK_PATH to PATH,
    then let it run on. Returns None, or why there is no snapshot (the
    machine runs on either way, unless QEMU itself is gone)."""
    deadline = time.monotonic() + timeout
    try:
        qmp = _Qmp(sock_path, timeout)
    except OSError as e:
        return f"no QMP connection: {e}"
    tmp = None
    try:
        # QEMU writes the file itself, through a descriptor handed over
        # the socket: once it says "completed", every byte is written. A
        # file of its own for each save: two runs may save at once.
        os.makedirs(_directory(), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=_directory(), suffix=".tmp")
        os.fchmod(fd, 0o644)
        try:
            qmp.execute("getfd", fd=fd, fdname="snapshot")
        finally:
            os.close(fd)
        # Unthrottled: the default cap (128 MiB/s) would make this take
        # half a second.
        qmp.execute("migrate-set-parameters", **{"max-bandwidth": 1 << 40})
        # Stopped first, so that memory stands still while it is copied:
        # saved while running (a live migration), about one restored run
        # in 75 crashed at once in the slab allocator on 6.12 under TCG,
        # as if a page written during the copy had been missed.
        qmp.execute("stop")
        qmp.execute("migrate", uri="fd:snapshot")
        while True:
            status = qmp.execute("query-migrate").get("status")
            if status == "completed":
                break
            if status in ("failed", "cancelled") \
                    or time.monotonic() > deadline:
                qmp.execute("migrate_cancel")
                return f"saving the machine ended with status {status}"
            time.sleep(0.01)
        os.replace(tmp, path)
        _prune()
        return None
    except OSError as e:
        return str(e)
    finally:
        try:
            # A completed migration leaves the machine paused.
            qmp.execute("cont")
        except OSError:
            pass
        qmp.close()
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
