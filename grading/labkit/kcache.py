# SPDX-License-Identifier: GPL-2.0
"""Debian's kernels in the kit's cache, fetched without root.

`make deps` (tools/fetch-kernels) downloads, as the user, the image,
headers, common headers and kbuild packages of Debian 12's 6.1 and 6.12
kernels with `apt-get download` (apt checks them against the signed
archive indexes), unpacks them with dpkg-deb into a temporary directory
of the cache, and moves that into place in one rename once it is
complete. Nothing goes into /boot or /lib/modules, and no package is
installed. One directory per release:

  CACHE/kernels/RELEASE/
    .complete                      the stamp (below); written last
    .manifest                      SHA-256, size and path of every file
    boot/vmlinuz-RELEASE           from the image package (only boot/)
    vmlinux                        the ELF kernel QEMU boots (from vmlinuz)
    usr/src/linux-headers-RELEASE/ the kbuild tree modules build against
    usr/src/linux-headers-X-common/, usr/lib/linux-kbuild-V/

The headers tree's links are relative; its Makefile's one absolute line,
`include /usr/src/linux-headers-X-common/Makefile`, is rewritten to name
the common tree relative to the Makefile itself (rewrite_include), so the
tree works wherever the cache is.

The stamp, `.complete`:

  labkit-kernel-cache 1
  release RELEASE
  deb NAME VERSION SHA256          one line per .deb it was made from
  file PATH SIZE SHA256            the files a run reads (vmlinuz,
                                   vmlinux, the tree's Makefile, ...)
  manifest SHA256                  of .manifest

A directory without a stamp that parses and whose files have their sizes
is not a kernel (kernels.py ignores it; fetch-kernels fetches it again).
The sizes are those of every file in the manifest (whose SHA-256 the
stamp holds): a truncated header is found on the next use, not only by
`tools/fetch-kernels --verify`.
"""

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile

from . import paths

#: The metapackages that name Debian 12's kernels: 6.1 and 6.12.
METAPACKAGES = ("linux-image-amd64", "linux-image-6.12-amd64")
STAMP = ".complete"
MANIFEST = ".manifest"
STAMP_HEADER = "labkit-kernel-cache 1"
#: Files up to this size are hashed on every quick check (vmlinuz,
#: Module.symvers...); larger ones (vmlinux) only by --verify.
QUICK_HASH_LIMIT = 16 << 20
#: Where apt keeps its package lists (what a resolution depends on).
APT_LISTS = "/var/lib/apt/lists"
CONTAINER_HINT = "see README: container"


class FetchError(Exception):
    """A kernel could not be fetched; the message says why and what to do."""


def root():
    """CACHE/kernels: one directory per release."""
    return os.path.join(paths.cache_dir(), "kernels")


def release_dir(release):
    """The cache directory of RELEASE."""
    return os.path.join(root(), release)


def image_path(release, top=None):
    """The cached vmlinuz of RELEASE (in TOP, default its directory)."""
    return os.path.join(top or release_dir(release), "boot",
                        f"vmlinuz-{release}")


def vmlinux_path(release, top=None):
    """The cached uncompressed vmlinux of RELEASE."""
    return os.path.join(top or release_dir(release), "vmlinux")


def tree_path(release, top=None):
    """The cached kbuild tree of RELEASE (what `make -C` is given)."""
    return os.path.join(top or release_dir(release), "usr", "src",
                        f"linux-headers-{release}")


def sha256_file(path):
    """The SHA-256 of the file at PATH, in hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --- the stamp ---------------------------------------------------------

class StampError(Exception):
    """A stamp that does not parse."""


def format_stamp(release, debs, files, manifest_digest):
    """The text of a stamp: DEBS are (name, version, sha256), FILES
    (relative path, size, sha256)."""
    lines = [STAMP_HEADER, f"release {release}"]
    lines += [f"deb {n} {v} {s}" for n, v, s in debs]
    lines += [f"file {p} {size} {s}" for p, size, s in files]
    lines.append(f"manifest {manifest_digest}")
    return "\n".join(lines) + "\n"


def parse_stamp(text):
    """Parse a stamp's TEXT into a dict: release, debs [(name, version,
    sha256)], files [(path, size, sha256)], manifest. Raises StampError."""
    lines = text.splitlines()
    if not lines or lines[0] != STAMP_HEADER:
        raise StampError("not a kernel stamp (first line)")
    out = {"release": None, "debs": [], "files": [], "manifest": None}
    hexa = re.compile(r"[0-9a-f]{64}$")
    for line in lines[1:]:
        words = line.split(" ")
        if words[0] == "release" and len(words) == 2:
            out["release"] = words[1]
        elif words[0] == "deb" and len(words) == 4 and hexa.match(words[3]):
            out["debs"].append(tuple(words[1:]))
        elif (words[0] == "file" and len(words) == 4
              and words[2].isdigit() and hexa.match(words[3])
              and not words[1].startswith("/") and ".." not in words[1]):
            out["files"].append((words[1], int(words[2]), words[3]))
        elif words[0] == "manifest" and len(words) == 2 \
                and hexa.match(words[1]):
            out["manifest"] = words[1]
        else:
            raise StampError(f"unexpected line {line!r}")
    if not out["release"] or not out["debs"] or not out["files"] \
            or not out["manifest"]:
        raise StampError("incomplete stamp")
    return out


#: The trees whose every file had its size, in this process: the stamp's
#: path -> its (inode, modification time, size). A run checks each tree
#: once (about 60 ms for Debian's 16,000 files), not on every call.
_sizes_checked = {}


def stamp_problem(release, top=None, hashes=False, deep=False):
    """Why the cache directory of RELEASE (or TOP) is not a complete kernel
    of that release, or None when it is.

    Always: the stamp parses, names RELEASE, and lists the vmlinuz, the
    vmlinux and the tree's Makefile, each present with its size; the
    manifest has the SHA-256 the stamp gives, and every file it lists has
    its size (once per process and stamp: _sizes_checked). HASHES: also
    the SHA-256 of the listed files up to QUICK_HASH_LIMIT. DEEP: the
    SHA-256 of every listed file and of every file in the manifest.
    """
    top = top or release_dir(release)
    stamp_file = os.path.join(top, STAMP)
    try:
        with open(stamp_file, encoding="utf-8") as f:
            seen = os.fstat(f.fileno())
            stamp = parse_stamp(f.read())
    except OSError:
        return "no stamp (not fetched, or the fetch did not finish)"
    except (StampError, UnicodeDecodeError) as e:
        return f"bad stamp: {e}"
    if stamp["release"] != release:
        return f"the stamp is for {stamp['release']}"
    listed = {p for p, _, _ in stamp["files"]}
    for need in (image_path(release, "."), vmlinux_path(release, "."),
                 os.path.join(tree_path(release, "."), "Makefile")):
        if os.path.normpath(need) not in listed:
            return f"the stamp does not list {os.path.normpath(need)}"
    for rel, size, digest in stamp["files"]:
        path = os.path.join(top, rel)
        try:
            have = os.path.getsize(path)
        except OSError:
            return f"{path} is missing"
        if have != size:
            return f"{path} has {have} bytes, not {size}: truncated?"
        if (deep or (hashes and size <= QUICK_HASH_LIMIT)) \
                and sha256_file(path) != digest:
            return f"{path} does not have its SHA-256: corrupt"
    key = (seen.st_ino, seen.st_mtime_ns, seen.st_size)
    if not deep and _sizes_checked.get(stamp_file) == key:
        return None
    try:
        entries = read_manifest(top, stamp["manifest"])
    except StampError as e:
        return str(e)
    problem = (_hashes_problem if deep else _sizes_problem)(top, entries)
    if problem is None:
        _sizes_checked[stamp_file] = key
    return problem


def read_manifest(top, digest):
    """TOP's manifest as [(sha256, size, path)], once its SHA-256 is
    DIGEST (the stamp's). Raises StampError saying what is wrong."""
    path = os.path.join(top, MANIFEST)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise StampError(f"{path}: {e.strerror}") from e
    if hashlib.sha256(data).hexdigest() != digest:
        raise StampError(f"{path} does not have its SHA-256: corrupt")
    entries = []
    for line in data.decode("utf-8", "surrogateescape").splitlines():
        entry = line.split("  ", 2)
        if len(entry) != 3 or not entry[1].isdigit():
            raise StampError(f"{path}: bad line {line[:80]!r}")
        entries.append((entry[0], int(entry[1]), entry[2]))
    return entries


def _sizes_problem(top, entries):
    """The first of the manifest's ENTRIES below TOP that is missing or
    has another size, said in a line; None when every one has its size.
    One stat(2) a file, relative to its open directory."""
    by_dir = {}
    for _, size, rel in entries:
        where, _, name = rel.rpartition("/")
        by_dir.setdefault(where, []).append((name, size))
    for where, files in by_dir.items():
        folder = os.path.join(top, where)
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return f"{folder} is missing"
        try:
            for name, size in files:
                try:
                    have = os.stat(name, dir_fd=fd,
                                   follow_symlinks=False).st_size
                except OSError:
                    return f"{os.path.join(folder, name)} is missing"
                if have != size:
                    return (f"{os.path.join(folder, name)} has {have} "
                            f"bytes, not {size}: truncated?")
        finally:
            os.close(fd)
    return None


def _hashes_problem(top, entries):
    """The first of the manifest's ENTRIES below TOP that is missing or
    differs from it (size or SHA-256), said in a line; None when none."""
    for want, size, rel in entries:
        full = os.path.join(top, rel)
        try:
            if os.path.getsize(full) != size or sha256_file(full) != want:
                return f"{full} differs from the manifest: corrupt"
        except OSError:
            return f"{full} is missing"
    return None


def build_failure_hint(tree):
    """What to add when a module build against TREE failed: when TREE is
    a kernel tree in the kit's cache, a line saying how to check it (a
    damaged file the sizes do not show); else ""."""
    inside = os.path.realpath(root()) + os.sep
    if not os.path.realpath(tree).startswith(inside):
        return ""
    return (f"the kernel tree {tree} is in the kit's cache: if the kit's "
            "own modules fail to build too, run `tools/fetch-kernels "
            "--verify` (it checks every file and fetches again what "
            "differs)")


def write_manifest(top):
    """Write TOP/.manifest (every regular file below TOP but the stamp and
    the manifest); return its SHA-256."""
    lines = []
    for base, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(base, name)
            rel = os.path.relpath(full, top)
            if rel in (STAMP, MANIFEST) or os.path.islink(full):
                continue
            lines.append(f"{sha256_file(full)}  {os.path.getsize(full)}  "
                         f"{rel}\n")
    path = os.path.join(top, MANIFEST)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(lines)
    return sha256_file(path)


def _version_key(release):
    """6.1.0-9 before 6.1.0-57 (the same as kernels.version_key)."""
    return [int(p) if p.isdigit() else p
            for p in re.split(r"(\d+)", release)]


def cached_releases(top=None):
    """The releases in the cache (or in TOP, another user's CACHE/kernels)
    with a stamp that checks (quick: sizes only), oldest first."""
    top = top or root()
    try:
        names = sorted(os.listdir(top), key=_version_key)
    except OSError:
        return []
    return [n for n in names if not n.startswith(".")
            and stamp_problem(n, top=os.path.join(top, n)) is None]


# --- the one absolute line ---------------------------------------------

_INCLUDE = re.compile(r"^include\s+/usr/src/([^/\s]+)/Makefile\s*$")


def rewrite_include(text):
    """Debian's headers Makefile says `include /usr/src/X-common/Makefile`;
    return TEXT with that line naming the sibling tree relative to the
    Makefile's own directory (make -C or make -f, wherever the cache
    is), and the number of lines changed."""
    out, changed = [], 0
    for line in text.splitlines(keepends=True):
        m = _INCLUDE.match(line)
        if m:
            line = ("include $(dir $(lastword $(MAKEFILE_LIST)))"
                    f"../{m.group(1)}/Makefile\n")
            changed += 1
        out.append(line)
    return "".join(out), changed


def make_relative(top):
    """Rewrite the unpacked tree below TOP for where it is: the headers
    Makefile's include line, and any absolute symbolic link whose target
    is inside the tree (none in Debian 12's packages so far). Returns the
    list of what was changed; raises FetchError on an include line that
    names a tree the packages did not bring."""
    changed = []
    src = os.path.join(top, "usr", "src")
    for name in sorted(os.listdir(src)) if os.path.isdir(src) else ():
        makefile = os.path.join(src, name, "Makefile")
        if not os.path.isfile(makefile) or os.path.islink(makefile):
            continue
        with open(makefile, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
        for m in re.finditer(r"^include\s+(/\S+)", text, re.M):
            target = m.group(1)
            if not _INCLUDE.match(m.group(0)) or not os.path.isfile(
                    os.path.join(top, target.lstrip("/"))):
                raise FetchError(f"{makefile}: `include {target}` names a "
                                 "file the packages did not bring")
        new, n = rewrite_include(text)
        if n:
            with open(makefile, "w", encoding="utf-8",
                      errors="surrogateescape") as f:
                f.write(new)
            changed.append(os.path.relpath(makefile, top))
    for base, dirs, files in os.walk(top):
        for name in dirs + files:
            full = os.path.join(base, name)
            if not os.path.islink(full):
                continue
            target = os.readlink(full)
            inside = os.path.join(top, target.lstrip("/"))
            if target.startswith("/") and os.path.lexists(inside):
                os.unlink(full)
                os.symlink(os.path.relpath(inside, base), full)
                changed.append(os.path.relpath(full, top))
    return changed


# --- resolving the packages with apt-cache ------------------------------

def _apt(cmd):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, errors="replace", check=False,
                          env=dict(os.environ, LC_ALL="C"))
    return proc.returncode, proc.stdout, proc.stderr


def parse_depends(text):
    """`apt-cache depends` output -> {package: [its Depends, in order]}."""
    deps, current = {}, None
    for line in text.splitlines():
        if line and not line[0].isspace():
            current = line.strip()
            deps.setdefault(current, [])
            continue
        m = re.match(r"\s*\|?Depends:\s+(\S+)$", line)
        if m and current and not m.group(1).startswith("<"):
            deps[current].append(m.group(1))
    return deps


def parse_show(text):
    """`apt-cache show` output -> {package: {field: value}} (first record
    of each package)."""
    records = {}
    for block in text.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            m = re.match(r"([A-Za-z0-9-]+):\s*(.*)$", line)
            if m:
                fields[m.group(1)] = m.group(2)
        if "Package" in fields:
            records.setdefault(fields["Package"], fields)
    return records


def not_debian_message(detail=""):
    """What a host whose apt cannot see Debian 12's kernels is told."""
    return ("apt on this machine does not offer Debian 12's kernel packages "
            f"({', '.join(METAPACKAGES)}){detail}: it is not Debian 12 (e.g. "
            "Ubuntu), or its package lists are missing. Grade in the kit's "
            f"container ({CONTAINER_HINT})")


def resolve():
    """Ask apt-cache which packages make Debian 12's kernels now: a list
    of {release, debs: [{name, version, sha256, size, installed}]}."""
    if not shutil.which("apt-cache") or not shutil.which("apt-get"):
        raise FetchError("no apt here: the kit fetches Debian 12's kernels "
                         f"with apt ({CONTAINER_HINT})")
    rc, out, err = _apt(["apt-cache", "depends", *METAPACKAGES])
    metas = parse_depends(out)
    images = {}
    for meta in METAPACKAGES:
        image = next((d for d in metas.get(meta, [])
                      if re.match(r"linux-image-\d\S*$", d)), None)
        if image is None:
            raise FetchError(not_debian_message(
                f" (apt-cache: {err.strip() or 'no image behind ' + meta})"))
        images[meta] = image[len("linux-image-"):]
    headers = [f"linux-headers-{r}" for r in images.values()]
    rc, out, err = _apt(["apt-cache", "depends", *headers])
    hdeps = parse_depends(out)
    kernels, names = [], []
    for release, header in zip(images.values(), headers):
        deps = hdeps.get(header, [])
        common = next((d for d in deps if re.match(
            r"linux-headers-\S+-common$", d)), None)
        kbuild = next((d for d in deps if d.startswith("linux-kbuild-")),
                      None)
        if not common or not kbuild:
            raise FetchError(not_debian_message(
                f" ({header}: no common headers or kbuild package; "
                f"{err.strip()})"))
        pkgs = [f"linux-image-{release}", header, common, kbuild]
        kernels.append({"release": release, "packages": pkgs})
        names += pkgs
    rc, out, err = _apt(["apt-cache", "show", "--no-all-versions", *names])
    show = parse_show(out)
    for kernel in kernels:
        debs = []
        for name in kernel.pop("packages"):
            rec = show.get(name)
            if not rec or "SHA256" not in rec or "Version" not in rec:
                raise FetchError(not_debian_message(
                    f" (apt-cache show {name}: {err.strip() or 'no SHA256'})"))
            debs.append({"name": name, "version": rec["Version"],
                         "sha256": rec["SHA256"],
                         "size": int(rec.get("Size", 0)),
                         "installed": int(rec.get("Installed-Size", 0))})
        kernel["debs"] = debs
    return kernels


def apt_lists_signature():
    """What the resolution depends on: apt's package lists (names, sizes,
    modification times) and its sources."""
    sig = []
    for d in (APT_LISTS, "/etc/apt/sources.list.d", "/etc/apt"):
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for name in names:
            full = os.path.join(d, name)
            if d == "/etc/apt" and name != "sources.list":
                continue
            try:
                st = os.stat(full)
            except OSError:
                continue
            sig.append([full, st.st_size, st.st_mtime_ns])
    return sig


def resolve_cached():
    """resolve(), remembered in CACHE/kernels/.resolved until apt's lists
    change (apt-cache takes seconds on a loaded machine)."""
    memo = os.path.join(root(), ".resolved")
    sig = apt_lists_signature()
    try:
        with open(memo, encoding="utf-8") as f:
            saved = json.load(f)
        if saved.get("signature") == sig and saved.get("kernels"):
            return saved["kernels"]
    except (OSError, ValueError):
        pass
    kernels = resolve()
    os.makedirs(root(), exist_ok=True)
    tmp = f"{memo}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"signature": sig, "kernels": kernels}, f)
        os.replace(tmp, memo)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _no_space(root()) from e
        raise
    return kernels


def stamp_matches(release, debs, top=None):
    """Whether RELEASE's stamp was made from exactly DEBS (resolve()'s)."""
    try:
        with open(os.path.join(top or release_dir(release), STAMP),
                  encoding="utf-8") as f:
            stamp = parse_stamp(f.read())
    except (OSError, StampError, UnicodeDecodeError):
        return False
    return sorted(stamp["debs"]) == sorted(
        (d["name"], d["version"], d["sha256"]) for d in debs)


# --- fetching -----------------------------------------------------------

def _say(msg):
    print(f"fetch-kernels: {msg}", flush=True)


def _no_space(where, need=None):
    free = shutil.disk_usage(where).free >> 20
    more = f"; it needs about {need >> 20} MB" if need else ""
    return FetchError(f"not enough disk space in {where} ({free} MB free"
                      f"{more}): nothing was left half-written; free some "
                      "space (or set LABKIT_CACHE to a disk with room) and "
                      "run `make deps` again")


def needed_bytes(debs):
    """About what fetching DEBS takes on disk at its peak: the .debs, the
    unpacked headers and kbuild trees, and the image's boot/ plus the
    vmlinux (about 7 times the image's vmlinuz; 100 MB is ample)."""
    total = sum(d["size"] for d in debs)
    total += sum(d["installed"] << 10 for d in debs
                 if not d["name"].startswith("linux-image-"))
    return total + (100 << 20)


def _download(deb, directory):
    """apt-get download DEB into DIRECTORY, checked against its SHA-256,
    retried once. Returns the .deb's path."""
    cmd = ["apt-get", "download", "-q", f"{deb['name']}={deb['version']}"]
    if os.geteuid() == 0:
        # root's apt drops to _apt, which cannot write a private temp dir.
        cmd[2:2] = ["-o", "APT::Sandbox::User=root"]
    why = ""
    for attempt in (1, 2):
        for old in os.listdir(directory):
            if old.startswith(deb["name"] + "_"):
                os.unlink(os.path.join(directory, old))
        proc = subprocess.run(cmd, cwd=directory, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              errors="replace", check=False)
        got = [f for f in os.listdir(directory)
               if f.startswith(deb["name"] + "_") and f.endswith(".deb")]
        if proc.returncode == 0 and len(got) == 1:
            path = os.path.join(directory, got[0])
            if sha256_file(path) == deb["sha256"]:
                return path
            why = (f"{got[0]} does not have the SHA-256 apt's index gives "
                   "(truncated or corrupt)")
        else:
            lines = [ln for ln in proc.stdout.splitlines()
                     if ln.startswith(("E:", "Err", "W:"))]
            why = "; ".join(lines[-3:]) or proc.stdout.strip()[-300:]
            if "No space left" in proc.stdout:
                raise _no_space(directory)
        if attempt == 1:
            _say(f"  {deb['name']}: download failed ({why}); trying again")
    raise FetchError(
        f"could not download {deb['name']} {deb['version']} from Debian's "
        f"archive, twice: {why}. Check the network; if apt says 404, its "
        "package lists are out of date: as root, `apt-get update`")


def _unpack(deb, dest):
    """Unpack DEB into DEST: the image package's boot/ only (its modules
    are hundreds of MB the VM never loads), the others whole."""
    if deb["name"].startswith("linux-image-"):
        fsys = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb["path"]],
                                stdout=subprocess.PIPE)
        tar = subprocess.run(["tar", "-x", "-C", dest, "--wildcards",
                              "./boot/*"], stdin=fsys.stdout,
                             stderr=subprocess.PIPE, text=True, check=False)
        fsys.stdout.close()
        rc = fsys.wait()
        err, ok = tar.stderr, rc == 0 and tar.returncode == 0
    else:
        proc = subprocess.run(["dpkg-deb", "-x", deb["path"], dest],
                              stderr=subprocess.PIPE, text=True, check=False)
        err, ok = proc.stderr, proc.returncode == 0
    if not ok:
        if "No space left" in err:
            raise OSError(errno.ENOSPC, "No space left on device")
        raise FetchError(f"unpacking {os.path.basename(deb['path'])} "
                         f"failed: {err.strip()[-300:]}")


def fetch(kernel):
    """Fetch KERNEL (one entry of resolve()) into the cache, replacing
    whatever is there only once the new tree is complete."""
    from . import kernels  # vmlinux extraction; kernels imports kcache
    release, debs = kernel["release"], kernel["debs"]
    os.makedirs(root(), exist_ok=True)
    need = needed_bytes(debs)
    if shutil.disk_usage(root()).free < need:
        raise _no_space(root(), need)
    work = tempfile.mkdtemp(prefix=f".fetch-{release}.", dir=root())
    full = False
    try:
        debdir = os.path.join(work, "debs")
        top = os.path.join(work, "tree")
        os.mkdir(debdir)
        os.mkdir(top)
        mb = sum(d["size"] for d in debs) >> 20
        _say(f"{release}: downloading {len(debs)} packages ({mb} MB) with "
             "apt-get download")
        for deb in debs:
            deb = dict(deb, path=_download(deb, debdir))
            _say(f"  {os.path.basename(deb['path'])}: SHA-256 as in the "
                 "archive's index; unpacking")
            _unpack(deb, top)
            os.unlink(deb["path"])
        changed = make_relative(top)
        for rel in changed:
            _say(f"  {rel}: absolute path made relative")
        if not os.path.isfile(image_path(release, top)) or not \
                os.path.isfile(os.path.join(tree_path(release, top),
                                            "Makefile")):
            raise FetchError(f"{release}: the packages brought no vmlinuz "
                             "or no headers Makefile")
        _say(f"  extracting the vmlinux from vmlinuz-{release}")
        data = kernels.extract_vmlinux(image_path(release, top))
        with open(vmlinux_path(release, top), "wb") as f:
            f.write(data)
        files = []
        for path in (image_path(release, top), vmlinux_path(release, top),
                     *(os.path.join(tree_path(release, top), n) for n in
                       ("Makefile", ".config", "Module.symvers"))):
            if os.path.isfile(path):
                files.append((os.path.relpath(path, top),
                              os.path.getsize(path), sha256_file(path)))
        manifest = write_manifest(top)
        stamp = format_stamp(
            release, [(d["name"], d["version"], d["sha256"]) for d in debs],
            files, manifest)
        with open(os.path.join(top, STAMP), "w", encoding="utf-8") as f:
            f.write(stamp)
            f.flush()
            os.fsync(f.fileno())
        # The one step that makes it visible: a rename. An older tree of
        # the same release (incomplete or from other packages) goes first.
        final = release_dir(release)
        if os.path.lexists(final):
            os.rename(final, os.path.join(work, "old"))
        os.rename(top, final)
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        full = True
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if full:
        raise _no_space(root(), need)
    _say(f"{release}: ready in {release_dir(release)}")


class _Lock:
    """An exclusive lock on CACHE/kernels/.lock: two `make test` at once
    fetch a kernel once."""

    def __enter__(self):
        os.makedirs(root(), exist_ok=True)
        self._f = open(os.path.join(root(), ".lock"), "w")
        fcntl.flock(self._f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        self._f.close()


def ensure(verify=False, verbose=False):
    """Make the cache hold Debian 12's current 6.1 and 6.12 kernels, each
    checked (VERIFY: every file's SHA-256 against its manifest). Quiet when
    they are there. Returns their releases; raises FetchError."""
    with _Lock():
        kernels = resolve_cached()
        for kernel in kernels:
            release = kernel["release"]
            problem = None
            if not stamp_matches(release, kernel["debs"]):
                problem = ("not in the cache" if not os.path.lexists(
                    release_dir(release)) else
                    "its stamp does not match the archive's packages")
            else:
                problem = stamp_problem(release, hashes=True, deep=verify)
            if problem:
                if os.path.lexists(release_dir(release)):
                    _say(f"{release}: {problem}: fetching it again")
                try:
                    fetch(kernel)
                except FetchError as e:
                    older = _same_series(release)
                    if not older:
                        raise
                    # A newer kernel that cannot come now does not stop
                    # the runs on the one that is there.
                    _say(f"{e}")
                    _say(f"{release}: not fetched; the runs use "
                         f"{older} meanwhile")
                    continue
                problem = stamp_problem(release, hashes=True)
                if problem:
                    raise FetchError(f"{release}: still not right after "
                                     f"fetching it: {problem}")
            elif verbose:
                _say(f"{release}: ready in {release_dir(release)}")
        current = {k["release"] for k in kernels}
        others = [r for r in cached_releases() if r not in current]
        if others and verbose:
            _say(f"also cached (older packages): {', '.join(others)}; "
                 "`make clean-cache` removes everything")
        return [k["release"] for k in kernels]


def _series(release):
    """6.1.0-57-amd64 -> "6.1", 6.12.117+deb12-amd64 -> "6.12"."""
    return ".".join(re.split(r"[.-]", release)[:2])


def _same_series(release):
    """The newest other complete cached release of RELEASE's series."""
    same = [r for r in cached_releases()
            if r != release and _series(r) == _series(release)]
    return same[-1] if same else None


def clean():
    """Remove everything the kit put in its cache (make clean-cache): the
    kernels, vmlinux images, kernel tools, snapshots and the debug kernel,
    then the cache directory itself if nothing else is left in it. Returns
    the paths removed."""
    top = paths.cache_dir()
    removed = []
    try:
        names = sorted(os.listdir(top))
    except OSError:
        return removed
    for name in names:
        if name in ("kernels", "vmlinux", "snapshots", "debug-kernel") or \
                name.startswith("linux-source-"):
            full = os.path.join(top, name)
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.rmtree(full)
            else:
                os.unlink(full)
            removed.append(full)
    try:
        os.rmdir(top)
    except OSError:
        pass
    return removed
