# SPDX-License-Identifier: GPL-2.0
"""Build what a VM run needs: a lab's modules from some source tree, its
test program, and the guest's helper program.

Module builds keep one directory per (kernel, source tree, lab) under
build/modules/, and copy a file in only when its content changed, so kbuild
rebuilds incrementally: `make test` after touching a module recompiles just
that module.
"""

import fcntl
import filecmp
import glob
import hashlib
import os
import re
import shutil
import subprocess
import threading

from . import kcache, kernels, paths


class BuildError(Exception):
    """A build that could not even start (missing tools or files)."""


def kernel_tools():
    """The files `make deps` extracted from Debian's linux-source package.

    Returns the directory that holds scripts/checkpatch.pl and
    tools/testing/selftests/kselftest_harness.h (newest source version).
    """
    found = sorted(glob.glob(os.path.join(paths.cache_dir(),
                                          "linux-source-*", ".complete")),
                   key=kernels.version_key)
    if not found:
        raise BuildError("the kselftest harness and checkpatch are missing: "
                         "run `make deps` first")
    return os.path.dirname(found[-1])


def harness_dir():
    """Directory holding kselftest_harness.h and its kselftest.h."""
    return os.path.join(kernel_tools(), "tools", "testing", "selftests")


def sync_file(src, dst):
    """Copy SRC to DST unless DST already has the same content; return DST."""
    if os.path.exists(dst) and filecmp.cmp(src, dst, shallow=False):
        return dst
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


def sync_common(top):
    """Copy the kit's common/*.h into TOP/common; return the copies.

    Module builds mirror the kit's layout (TOP/labs/NN-name beside
    TOP/common), so the labs' Kbuild finds the headers at ../../common.
    """
    return [sync_file(header, os.path.join(top, "common",
                                           os.path.basename(header)))
            for header in sorted(glob.glob(os.path.join(paths.TOP,
                                                        "common", "*.h")))]


def _newer(target, sources):
    try:
        built = os.path.getmtime(target)
    except OSError:
        return True
    return any(os.path.getmtime(s) > built for s in sources)


def _run(cmd, cwd=None):
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          errors="replace", check=False)
    return proc.returncode, proc.stdout


class ModuleBuild:
    """The outcome of building one lab's modules."""

    def __init__(self, ok, log, modules, directory):
        #: True when every module built.
        self.ok = ok
        #: Everything kbuild printed.
        self.log = log
        #: Paths of the built .ko files.
        self.modules = modules
        #: The build directory.
        self.directory = directory

    @property
    def warnings(self):
        """Compiler and sparse warnings and errors, as file:line lines."""
        return [line for line in self.log.splitlines()
                if re.search(r":\d+(:\d+)?: (warning|error)", line)]


def tree_tag(src_root):
    """A short, stable directory name for a source tree."""
    real = os.path.realpath(src_root)
    for known in ("labs", "solutions"):
        if real == os.path.join(os.path.realpath(paths.TOP), known):
            return known
    digest = hashlib.sha1(real.encode()).hexdigest()[:10]
    return f"tree-{digest}"


def modules(lab, src_dir, kver, tag, extra_make_args=(), work_root=None,
            host=False):
    """Build LAB's modules for KVER from the student files in SRC_DIR.

    SRC_DIR is the lab's directory in the source tree (e.g. labs/01-...).
    TAG names the build directory (see tree_tag) under WORK_ROOT (default:
    the clone's build/modules). EXTRA_MAKE_ARGS go to kbuild (e.g. W=1,
    C=2). HOST: build against the host's tree of KVER even when the kit's
    cache has one (kernels.build_dir).
    """
    top = os.path.join(work_root or os.path.join(paths.build_root(),
                                                 "modules"), kver, tag)
    # Two builds with one TAG at once (make check runs the demo with and
    # without STEP side by side) would write the same files: the second
    # waits, then finds the first one's build current.
    os.makedirs(top, exist_ok=True)
    with open(os.path.join(top, ".build-lock"), "w",
              encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _modules_locked(lab, src_dir, kver, top, extra_make_args,
                               host)


def _modules_locked(lab, src_dir, kver, top, extra_make_args, host):
    """modules(), with the build directory TOP locked."""
    out = os.path.join(top, "labs", lab.name)
    inputs = []
    for name in lab.student_files:
        src = os.path.join(src_dir, name)
        if not os.path.isfile(src):
            return ModuleBuild(False, f"{src}: no such file (this lab's "
                               f"student files are: "
                               f"{', '.join(lab.student_files)})", [], out)
        inputs.append(sync_file(src, os.path.join(out, name)))
    for name in lab.kit_files:
        inputs.append(sync_file(os.path.join(lab.lab_dir, name),
                                os.path.join(out, name)))
    inputs += sync_common(top)
    built = kbuild(out, kver, extra_make_args, inputs=inputs, host=host)
    # Messages name the student's own files, not the build copies.
    shown = os.path.abspath(src_dir)
    if shown.startswith(os.getcwd() + os.sep):
        shown = os.path.relpath(shown)
    built.log = built.log.replace(out + os.sep, shown + os.sep)
    return built


#: The kit's own kernel modules, not a lab's, relative to the kit's top:
#: the name taker, which the tests load beside a lab's module to take one
#: of its names first (userspace/name_taker.h).
KIT_MODULES = os.path.join("grading", "kmod")


def kit_modules(kver, extra_make_args=(), host=False, tag="kit-modules"):
    """Build the kit's own modules (KIT_MODULES) for KVER, next to the
    labs' builds (build/modules/KVER/TAG/kmod; HOST: against the host's
    tree, in TAG-host, see kernels.build_dir); return the ModuleBuild.

    Cached as a lab's build is (kbuild runs again only when a source or
    an argument changed), and locked the same way: two grades at once
    (grade-batch) build it once. A failure is the kit's, not a student's:
    it raises BuildError with kbuild's output.
    """
    top = os.path.join(paths.build_root(), "modules", kver,
                       f"{tag}-host" if host else tag)
    os.makedirs(top, exist_ok=True)
    with open(os.path.join(top, ".build-lock"), "w",
              encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        out = os.path.join(top, "kmod")
        src = os.path.join(paths.TOP, KIT_MODULES)
        sources = [os.path.join(src, "Kbuild")] + sorted(
            glob.glob(os.path.join(src, "*.[ch]")))
        inputs = [sync_file(path, os.path.join(out,
                                               os.path.basename(path)))
                  for path in sources]
        built = kbuild(out, kver, extra_make_args, inputs=inputs,
                       host=host)
    if not built.ok:
        hint = kcache.build_failure_hint(kernels.build_dir(kver, host))
        raise BuildError(f"the kit's own modules ({KIT_MODULES}/) did "
                         f"not build for {kver}:\n"
                         + "\n".join(built.log.splitlines()[-30:])
                         + (f"\n{hint}" if hint else ""))
    return built


def _digest(inputs, extra):
    """A digest of the INPUTS files (their paths and contents) and EXTRA."""
    h = hashlib.sha256("\0".join(extra).encode())
    for path in inputs:
        h.update(path.encode() + b"\0")
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def kbuild(directory, kver, extra_make_args=(), inputs=(), host=False):
    """Run kbuild on the out-of-tree module in DIRECTORY for KVER (HOST:
    against the host's tree, see kernels.build_dir).

    If INPUTS (the files the build reads) are given and neither they nor
    the arguments changed since the last successful build, kbuild is not
    run again: even a no-op kbuild run costs a second or more.
    """
    cmd = ["make", "-C", kernels.build_dir(kver, host), f"M={directory}",
           *extra_make_args, "modules"]
    stamp = os.path.join(directory, ".labkit.stamp")
    digest = _digest(inputs, cmd) if inputs else None
    kos = sorted(glob.glob(os.path.join(directory, "*.ko")))
    if digest and kos:
        try:
            with open(stamp, encoding="utf-8") as f:
                if f.readline().strip() == digest:
                    return ModuleBuild(True, f.read(), kos, directory)
        except OSError:
            pass
    rc, log = _run(cmd)
    # kbuild's notice that BTF needs a vmlinux in the headers tree is noise.
    log = "\n".join(line for line in log.splitlines()
                    if not line.startswith("Skipping BTF generation"))
    kos = sorted(glob.glob(os.path.join(directory, "*.ko")))
    ok = rc == 0 and bool(kos)
    if ok and digest:
        with open(stamp, "w", encoding="utf-8") as f:
            f.write(digest + "\n" + log)
    elif os.path.exists(stamp):
        os.unlink(stamp)
    return ModuleBuild(ok, log, kos, directory)


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _static_program(sources, headers, out, include_dirs):
    """Compile SOURCES into the static program OUT unless it is current.

    Source paths in the program's messages (a failed assertion's file:line)
    are shown relative to the directory of the first source, or else to
    the kit's top directory.
    """
    if not _newer(out, list(sources) + list(headers)):
        return
    os.makedirs(os.path.dirname(out), exist_ok=True)
    prefix = os.path.dirname(os.path.abspath(sources[0])) + "/"
    # Two grades at once (grade-batch, two make test) may both find the
    # program stale: each compiles into a file of its own, and the last
    # rename wins with a whole program.
    tmp = f"{out}.tmp.{os.getpid()}.{threading.get_ident()}"
    # -U_FORTIFY_SOURCE: the tests hand the driver counts larger than
    # their buffers on purpose (a read of SIZE_MAX into 64 bytes must
    # return the 10 bytes there), which a fortified libc aborts before the
    # call: Ubuntu's gcc (Gradescope's image, make native there) fortifies
    # by default, Debian's does not.
    cmd = ["gcc", "-static", "-O2", "-g", "-std=gnu11", "-Wall", "-Werror",
           "-U_FORTIFY_SOURCE",
           f"-fmacro-prefix-map={prefix}=",
           f"-fmacro-prefix-map={paths.TOP}/=",
           *[f"-I{d}" for d in include_dirs], *sources, "-lpthread",
           "-o", tmp]
    rc, log = _run(cmd)
    if rc != 0:
        _remove(tmp)
        raise BuildError(f"building {os.path.basename(out)} failed:\n{log}")
    os.replace(tmp, out)


def shared_test_code():
    """The shared test code every lab's test program is built with,
    (sources, headers): userspace/*.c and userspace/*.h (the test bodies
    Labs 02-06 share, fifo_tests.h and minor_tests.h, and the helpers),
    not userspace/'s folders (the bench, the demos)."""
    userspace = os.path.join(paths.TOP, "userspace")
    return (sorted(glob.glob(os.path.join(userspace, "*.c"))),
            sorted(glob.glob(os.path.join(userspace, "*.h"))))


#: An #include of a header of the kit's own, by "name.h" (the harness's
#: <...> system headers are Debian's).
_LOCAL_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"', re.M)


def included_headers(sources, dirs):
    """The headers SOURCES include by #include "name.h", and those these
    include in turn: each looked for as the compiler does, first next to
    the file that includes it, then in DIRS in order; one found nowhere
    (the kselftest harness's, which are Debian's) is left out. Every
    #include counts, whatever #if may leave out, so the list never holds
    fewer than the compiler reads. Returns sorted absolute paths."""
    seen = set()
    todo = [os.path.abspath(path) for path in sources]
    while todo:
        path = todo.pop()
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        for name in _LOCAL_INCLUDE.findall(text):
            for where in [os.path.dirname(path)] + list(dirs):
                found = os.path.abspath(os.path.join(where, name))
                if os.path.isfile(found):
                    if found not in seen:
                        seen.add(found)
                        todo.append(found)
                    break
    return sorted(seen)


def test_code_of(lab):
    """The files LAB's test programs are made of besides their own C
    sources: every userspace/*.c (each test program links them all) and
    the headers that the lab's test sources, its hidden ones or those .c
    files include (included_headers()). A header only other labs include
    (Labs 02-06's fifo_tests.h, for Labs 01 and 07) is not among them."""
    shared, _ = shared_test_code()
    userspace = os.path.join(paths.TOP, "userspace")
    return shared + included_headers(lab.test_sources + lab.hidden_sources +
                                     shared, [userspace])


def _harness_program(sources, name, lab):
    """Build SOURCES with the shared test code (shared_test_code()) and
    the kselftest harness into the static program NAME of LAB; return its
    path."""
    userspace = os.path.join(paths.TOP, "userspace")
    harness = harness_dir()
    out = os.path.join(paths.build_root(), "userspace", lab.name, name)
    shared, headers = shared_test_code()
    headers = sorted(headers +
                     glob.glob(os.path.join(harness, "kselftest*.h")))
    _static_program(sources + shared, headers, out, [userspace, harness])
    return out


def test_program(lab):
    """Build LAB's statically linked test program; return its path."""
    return _harness_program(lab.test_sources, lab.test_program, lab)


def hidden_program(lab):
    """Build LAB's hidden test program (grading/hidden/NN-name/) and put
    its points file beside it, so that its directory is what the
    autograder's LAB_HIDDEN_DIR wants; return the program's path, or None
    when the lab has no hidden tests."""
    sources = lab.hidden_sources
    if not sources:
        return None
    name = os.path.basename(sources[0])[:-len(".c")]
    out = _harness_program(sources, name, lab)
    sync_file(lab.hidden_points_file,
              os.path.join(os.path.dirname(out), "points"))
    return out


def guest_program(folder, name):
    """Build userspace/FOLDER/NAME.c, a static program a guest script runs
    (not linked into the labs' test programs), with the headers of
    userspace/FOLDER; return its path."""
    src = os.path.join(paths.TOP, "userspace", folder)
    out = os.path.join(paths.build_root(), "userspace", folder, name)
    _static_program([os.path.join(src, f"{name}.c")],
                    sorted(glob.glob(os.path.join(src, "*.h"))), out,
                    [src])
    return out


def bench_program(name="fifo_bench"):
    """Build userspace/bench/NAME.c; return its path."""
    return guest_program("bench", name)


def _guest_helper(name):
    """Build the guest's helper grading/guest/NAME.c into a static
    program; return its path."""
    src = os.path.join(paths.TOP, "grading", "guest", f"{name}.c")
    out = os.path.join(paths.build_root(), "guest", name)
    _static_program([src], [], out, [])
    return out


def guest_exit_program():
    """Build the guest's vm-exit helper; return its path."""
    return _guest_helper("vm-exit")


def guest_results_sync_program():
    """Build the guest's results-sync helper (the autograder's answer to
    the test program's userspace/results_sync.h); return its path."""
    return _guest_helper("results-sync")
