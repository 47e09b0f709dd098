# SPDX-License-Identifier: GPL-2.0
"""make check's unprivileged run: `make test` as a user with no root and no
sudo, with a fresh HOME and cache, writing nowhere else.

As root, check() makes (once) the system user USER, with no password,
no sudo and no groups, and a fresh HOME in a temporary directory. Its
cache (LABKIT_CACHE=HOME/.cache/chardev-labkit) is seeded with root's
cached kernels as hard links (or copies across file systems), so that it
does not download them again: directories belong to the user, files stay
root's and read-only to it, so the run also proves a build and a boot
write nothing into the kernel trees. With FETCH (make check with
LABKIT_CHECK_FETCH=1, which .ci/run sets), the cache starts empty
instead, and the user's `make deps` fetches the kernels itself
(apt-get download, without root): the whole path of a newcomer without
root, network included. Its build directory is HOME/build
(LABKIT_BUILD), its TMPDIR HOME/tmp. It then runs, as the user,
`make -C TOP test LAB=NN SRC=solutions KVER=...` (which runs `make deps`:
the tools are there, so no root is asked for; the kselftest harness is
extracted into the user's cache) and wants full marks.

Nothing may be written outside its cache, its build directory and its
TMPDIR. Outside HOME, the user can only create files in world-writable
directories (or modify world-writable files), so while the run goes, one
walk of the root file system lists those; afterwards every one of them is
searched for a file the user owns, and every world-writable file for a
change since the start. Inside HOME, which root made with only those three
directories, anything else is the run's (~/.config, a shell history...).
HOME is removed at the end; the user stays (it owns nothing).
"""

import contextlib
import fcntl
import os
import pwd
import shutil
import subprocess
import tempfile
import time

from . import kcache, paths, points, results

USER = "labkit-nobody"
#: Mounts outside the root file system that any user can write to.
EXTRA_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue",
                  "/run/lock")


def _ensure_user():
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        pass
    subprocess.run(["useradd", "--system", "--no-create-home",
                    "--home-dir", "/nonexistent", "--shell",
                    "/usr/sbin/nologin", USER], check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return pwd.getpwnam(USER)


def _seed(cache, user):
    """Hard-link (or copy) root's cached kernels into CACHE for USER."""
    kernels = os.path.join(cache, "kernels")
    os.makedirs(kernels)
    seeded = []
    for release in kcache.cached_releases():
        src = kcache.release_dir(release)
        dst = os.path.join(kernels, release)
        if subprocess.run(["cp", "-al", src, dst], stderr=subprocess.DEVNULL,
                          check=False).returncode != 0:
            shutil.rmtree(dst, ignore_errors=True)
            subprocess.run(["cp", "-a", src, dst], check=True)
        seeded.append(release)
    memo = os.path.join(kcache.root(), ".resolved")
    if os.path.exists(memo):
        shutil.copy(memo, kernels)
        os.chown(os.path.join(kernels, ".resolved"), user.pw_uid,
                 user.pw_gid)
    for base, dirs, _ in os.walk(os.path.dirname(cache)):
        os.chown(base, user.pw_uid, user.pw_gid)
    return seeded


def _writable_places(home):
    """Start the walk that lists world-writable directories and files."""
    roots = ["/"] + [p for p in EXTRA_WRITABLE if os.path.isdir(p)]
    return subprocess.Popen(
        ["find", *roots, "-xdev", "(", "-path", "/proc", "-o", "-path",
         "/sys", "-o", "-path", home, ")", "-prune", "-o", "(", "-type",
         "d", "-o", "-type", "f", ")", "-perm", "-0002", "-printf",
         "%y %p\\0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def _outside_writes(walk, home, uid, start):
    """What the user wrote outside HOME, from the walk's list."""
    out, _ = walk.communicate()
    dirs, files = set(), set()
    for entry in out.decode(errors="replace").split("\0"):
        if len(entry) > 2:
            (dirs if entry[0] == "d" else files).add(entry[2:])
    found = []
    for path in sorted(files):
        try:
            if os.lstat(path).st_mtime > start:
                found.append(f"{path} (world-writable) changed")
        except OSError:
            pass
    # Only the topmost of nested world-writable directories: find descends.
    tops = [d for d in sorted(dirs)
            if not any(d.startswith(o.rstrip("/") + "/") for o in dirs
                       if o != d)]
    if tops:
        proc = subprocess.run(
            ["find", *tops, "-xdev", "-path", home, "-prune", "-o",
             "-uid", str(uid), "-print"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            errors="replace", check=False)
        found += [f"{p} (owned by {USER})" for p in proc.stdout.split("\n")
                  if p]
    return found


def _home_writes(home, allowed):
    """What the run wrote in HOME outside the ALLOWED directories (its
    cache, build directory and TMPDIR, made by root before the run, as
    were the directories that lead to them): every other file, link or
    directory in HOME, one line each (a directory's content not listed)."""
    allowed = {os.path.normpath(p) for p in allowed}
    why = "(in HOME, outside its cache, build directory and TMPDIR)"
    found = []
    for base, dirs, files in os.walk(home):
        leading = []
        for name in sorted(dirs):
            full = os.path.join(base, name)
            if full in allowed:
                continue
            if any(a.startswith(full + os.sep) for a in allowed) and \
                    not os.path.islink(full):
                leading.append(name)
            else:
                found.append(f"{full} {why}")
        dirs[:] = leading
        found += [f"{os.path.join(base, name)} {why}"
                  for name in sorted(files)]
    return found


#: Held while a run goes: the user is the machine's, so two checks at
#: once (two clones' `make check`) would each find the other's files.
LOCK = "/run/lock/labkit-unprivileged.lock"


def check(lab="01", kver=None, timeout=900, fetch=False):
    """Run the unprivileged `make test`; return (ok, details). One at a
    time on a machine (LOCK)."""
    if os.geteuid() != 0:
        return None, ["not root: cannot run a command as another user"]
    with exclusive():
        return _check(lab, kver, timeout, fetch)


@contextlib.contextmanager
def exclusive():
    """Hold LOCK: no unprivileged run goes on meanwhile on this machine.
    Also for whatever writes world-writable files that such a run would
    take for its user's (make check's container check)."""
    os.makedirs(os.path.dirname(LOCK), exist_ok=True)
    with open(LOCK, "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _check(lab, kver, timeout, fetch=False):
    user = _ensure_user()
    details = []
    # HOMEs of earlier runs that were killed before their cleanup (no run
    # goes on now: LOCK) would count as written outside this one's.
    tmp = tempfile.gettempdir()
    for name in os.listdir(tmp):
        if name.startswith("labkit-unpriv-"):
            shutil.rmtree(os.path.join(tmp, name), ignore_errors=True)
    home = tempfile.mkdtemp(prefix="labkit-unpriv-")
    try:
        os.chmod(home, 0o700)
        cache = os.path.join(home, ".cache", "chardev-labkit")
        if fetch:
            os.makedirs(cache)
            for base, _, _ in os.walk(os.path.dirname(cache)):
                os.chown(base, user.pw_uid, user.pw_gid)
            how = "cache empty: its make deps fetches the kernels itself"
        else:
            how = ("cache seeded with hard links to root's kernels: "
                   + (", ".join(_seed(cache, user)) or "none"))
        for sub in ("build", "tmp"):
            os.mkdir(os.path.join(home, sub))
        os.chown(home, user.pw_uid, user.pw_gid)
        for sub in ("build", "tmp"):
            os.chown(os.path.join(home, sub), user.pw_uid, user.pw_gid)
        details.append(f"user {USER} (uid {user.pw_uid}), HOME {home}; "
                       f"{how}")
        env = ["env", "-i", f"HOME={home}", f"USER={USER}",
               "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
               f"LABKIT_CACHE={cache}",
               f"LABKIT_BUILD={os.path.join(home, 'build')}",
               f"TMPDIR={os.path.join(home, 'tmp')}", "LC_ALL=C.UTF-8"]
        sudo = subprocess.run(["runuser", "-u", USER, "--", *env, "sh",
                               "-c", "sudo -n true"],
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              check=False)
        if sudo.returncode == 0:
            return False, details + [f"{USER} can use sudo"]
        readable = subprocess.run(
            ["runuser", "-u", USER, "--", "test", "-r",
             os.path.join(paths.TOP, "Makefile")], check=False)
        if readable.returncode != 0:
            return None, [f"the kit's tree {paths.TOP} is not readable by "
                          "other users (clone it where they can read it)"]
        start = time.time()
        walk = _writable_places(home)
        cmd = ["make", "-s", "-C", paths.TOP, "test", f"LAB={lab}",
               "SRC=solutions"] + ([f"KVER={kver}"] if kver else [])
        try:
            proc = subprocess.run(
                ["runuser", "-u", USER, "--", *env, *cmd],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                errors="replace", timeout=timeout, check=False)
            output, rc = proc.stdout, proc.returncode
        except subprocess.TimeoutExpired as e:
            output, rc = (e.stdout or b"").decode(errors="replace"), None
        seconds = time.time() - start
        lines = output.splitlines()
        score = results.last_score(output)
        ok = rc == 0 and score is not None and score[0] == score[1]
        shown = f"score: {points.out_of(*score)}" if score else "no score"
        details.append(f"{' '.join(cmd)}: exit {rc}, {shown}, "
                       f"{seconds:.0f} s")
        if fetch:
            fetched = kcache.cached_releases(os.path.join(cache,
                                                          "kernels"))
            details.append("kernels its make deps fetched: "
                           + (", ".join(fetched) or "none"))
            ok = ok and bool(fetched)
        if not ok:
            details += lines[-40:]
        outside = _outside_writes(walk, home, user.pw_uid, start)
        outside += _home_writes(home, [cache, os.path.join(home, "build"),
                                       os.path.join(home, "tmp")])
        if outside:
            ok = False
            details.append("written outside its cache, build directory "
                           "and TMPDIR:")
            details += outside[:40]
        else:
            details.append("nothing written outside its cache, build "
                           "directory and TMPDIR (in HOME or elsewhere)")
        return ok, details
    finally:
        shutil.rmtree(home, ignore_errors=True)
