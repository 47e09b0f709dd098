# SPDX-License-Identifier: GPL-2.0
"""What leaves the instructor's clone, and the checks that it works.

Two artifacts come from one manifest, the files git tracks:

- the student tarball (`make dist-student`,
  build/dist/chardev-labkit-student.tar.gz): labs/, common/, userspace/,
  the VM runner, docs, `make deps`, with the GitHub Classroom workflow
  where GitHub looks for it; never the reference solutions, the mutants,
  the hostile modules or hidden tests;
- Gradescope's autograder.zip (`make gradescope`,
  build/gradescope/autograder.zip): setup.sh and run_autograder at the
  top, the kit (hidden tests included, solutions, mutants and hostile
  modules not), the kselftest harness headers, with `make gradescope
  LAB=NN` the list of labs the assignment grades and, with `make
  gradescope DEBUG_KERNEL=1`, the Debian package setup.sh builds the
  debug kernel from.

Only tracked files are shipped, so a stray file in the clone (a student's
submission, a scratch copy of a solution) cannot leak; with_untracked adds
the untracked files git does not ignore, for trying out a change before
it is committed.
"""

import json
import os
import re
import shutil
import stat
import subprocess
import tarfile
import tempfile
import time
import zipfile

from . import build, debug_source, labs, paths, points, results
from .verdicts import Status

STUDENT_TARBALL = os.path.join("dist", "chardev-labkit-student.tar.gz")
GRADESCOPE_ZIP = os.path.join("gradescope", "autograder.zip")
#: The one directory the student tarball unpacks into.
STUDENT_TOP = "chardev-labkit-student"

#: Never shipped: the answers, and the instructor's own test material.
INSTRUCTOR_ONLY = ("solutions/", "grading/mutants/", "grading/hostile/")

#: Shipped to Gradescope but not to students: a directory named "hidden"
#: anywhere (grading/hidden/NN-name/: see docs/grading.md) holds hidden
#: tests.
HIDDEN_DIR = "hidden"

#: Also left out of the student tarball: what only works with solutions/
#: (make check, skeletons, bench, measure, the site's "what changed"
#: pages, making these artifacts), the CI entry point that runs make
#: check, and the sources of the Gradescope scripts and of the Classroom
#: workflow (the workflow is shipped where GitHub looks for it).
STUDENT_LEAVES_OUT = (".ci/", "tools/mkskeleton", "tools/mkdocpages",
                      "grading/check", "grading/bench", "grading/dist",
                      "grading/measure-speed", "grading/gradescope/",
                      "grading/classroom/", "grading/mutate",
                      "tools/mkhints",
                      "grading/tests/",
                      # the container's own test (needs solutions/) and
                      # its base image for machines with no registry
                      "tools/check-container", "tools/mkbaseimage")

#: The kit's container, which students use on machines that are not Debian
#: 12 (docs/container.md): shipped to them, and checked for.
CONTAINERFILE = "Containerfile"
CONTAINER_FILES = (CONTAINERFILE, ".dockerignore",
                   ".devcontainer/devcontainer.json", "tools/container")

#: The GitHub Classroom workflow: its source, and its place in the tarball.
CLASSROOM_WORKFLOW = "grading/classroom/classroom.yml"
CLASSROOM_WORKFLOW_SHIPPED = ".github/workflows/classroom.yml"

GRADESCOPE_DIR = "grading/gradescope"
#: In the zip: which labs run_autograder grades, one per line.
GRADESCOPE_LABS = "autograder-labs"
#: In the zip: the kselftest harness headers, laid out as in the cache.
GRADESCOPE_KERNEL_TOOLS = "kernel-tools"
HARNESS_HEADERS = ("kselftest.h", "kselftest_harness.h")

#: The fields of one test that Gradescope's results.json needs.
GRADESCOPE_TEST_FIELDS = ("name", "score", "max_score", "status", "output",
                          "visibility")
GRADESCOPE_VISIBILITY = ("visible", "hidden", "after_due_date",
                         "after_published")


def containerfile_copies(text):
    """The sources of the COPY instructions of a Containerfile's TEXT
    (paths in the build context, in order; continuation lines joined;
    COPY --from=... copies from another image and is left out)."""
    joined = re.sub(r"\\\n", " ", text)
    sources = []
    for line in joined.splitlines():
        words = line.split()
        if not words or words[0].upper() != "COPY":
            continue
        args = words[1:]
        if any(a.startswith("--from") for a in args):
            continue
        args = [a for a in args if not a.startswith("--")]
        sources += args[:-1]
    return sources


class DistError(Exception):
    """An artifact that cannot be made (no git, a missing file)."""


def _under(path, rules):
    """True when PATH is one of RULES: a directory "x/" or a file "x"."""
    return any(path.startswith(rule) if rule.endswith("/") else path == rule
               for rule in rules)


def is_hidden_test(path):
    """True when PATH lies in a directory named HIDDEN_DIR."""
    return HIDDEN_DIR in path.split("/")[:-1]


def ships(path, kind):
    """True when the tracked file PATH goes into artifact KIND
    ("student" or "gradescope")."""
    if _under(path, INSTRUCTOR_ONLY):
        return False
    if kind == "gradescope":
        return True
    if kind != "student":
        raise ValueError(f"no artifact {kind!r}")
    return not is_hidden_test(path) and not _under(path, STUDENT_LEAVES_OUT)


def tracked_files(with_untracked=False):
    """The files of the kit git knows, relative to the top, sorted."""
    cmd = ["git", "-C", paths.TOP, "ls-files", "-z", "--cached"]
    if with_untracked:
        cmd += ["--others", "--exclude-standard"]
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
    except OSError as e:
        raise DistError(f"git: {e}") from e
    if proc.returncode != 0:
        raise DistError("the artifacts are made from the files git tracks, "
                        "but git ls-files failed: "
                        + proc.stderr.decode(errors="replace").strip())
    names = {n.decode() for n in proc.stdout.split(b"\0") if n}
    return sorted(names)


def manifest(kind, with_untracked=False):
    """[(file in the kit, path in the artifact)] for artifact KIND."""
    entries = []
    for path in tracked_files(with_untracked):
        if not ships(path, kind):
            continue
        if not os.path.isfile(os.path.join(paths.TOP, path)):
            # Deleted but not yet committed: nothing to ship.
            continue
        entries.append((path, path))
    if kind == "student":
        entries.append((CLASSROOM_WORKFLOW, CLASSROOM_WORKFLOW_SHIPPED))
    return entries


def _mode(path):
    """0755 for an executable file, 0644 otherwise."""
    return 0o755 if os.stat(path).st_mode & stat.S_IXUSR else 0o644


def _output(default, out):
    out = out or os.path.join(paths.build_root(), default)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    return out


def build_student_tarball(out=None, with_untracked=False):
    """Write the student tarball to OUT (default
    build/dist/chardev-labkit-student.tar.gz); return its path."""
    out = _output(STUDENT_TARBALL, out)
    entries = manifest("student", with_untracked)
    tmp = f"{out}.{os.getpid()}.tmp"
    with tarfile.open(tmp, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for src, name in entries:
            full = os.path.join(paths.TOP, src)
            info = tar.gettarinfo(full, f"{STUDENT_TOP}/{name}")
            # No trace of the instructor's account in the archive.
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = _mode(full)
            with open(full, "rb") as f:
                tar.addfile(info, f)
    os.replace(tmp, out)
    return out


def _zip_add(archive, name, full=None, data=None, mode=0o644):
    info = zipfile.ZipInfo(name, time.localtime(
        os.path.getmtime(full) if full else time.time())[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    # Unix permissions, so unzip keeps setup.sh and the tools executable.
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | mode) << 16
    if data is None:
        with open(full, "rb") as f:
            data = f.read()
    archive.writestr(info, data)


def build_gradescope_zip(out=None, lab_specs=(), with_untracked=False,
                         debug_kernel=False):
    """Write Gradescope's autograder.zip to OUT (default
    build/gradescope/autograder.zip); return its path.

    LAB_SPECS (lab numbers or names) are the labs the assignment grades;
    none means every lab of the kit. With DEBUG_KERNEL, the zip names the
    installed linux-source package (labkit/debug_source.py), from which
    setup.sh builds the debug kernel that run_autograder then grades on.
    """
    out = _output(GRADESCOPE_ZIP, out)
    chosen = [labs.find(spec).name for spec in lab_specs]
    source = None
    if debug_kernel:
        try:
            source = debug_source.record()
        except debug_source.DebugSourceError as e:
            raise DistError(f"autograder.zip with the debug kernel names "
                            f"the package it is built from: {e}") from e
    try:
        harness = build.harness_dir()
    except build.BuildError as e:
        raise DistError(f"autograder.zip ships the kselftest harness from "
                        f"the cache: {e}") from e
    tools_name = os.path.basename(build.kernel_tools())
    tmp = f"{out}.{os.getpid()}.tmp"
    with zipfile.ZipFile(tmp, "w") as archive:
        for script in ("setup.sh", "run_autograder"):
            full = os.path.join(paths.TOP, GRADESCOPE_DIR, script)
            if not os.path.isfile(full):
                raise DistError(f"{full}: no such file")
            _zip_add(archive, script, full, mode=0o755)
        for header in HARNESS_HEADERS:
            _zip_add(archive, "/".join((GRADESCOPE_KERNEL_TOOLS, tools_name,
                                        "tools/testing/selftests", header)),
                     os.path.join(harness, header))
        if chosen:
            _zip_add(archive, GRADESCOPE_LABS,
                     data="".join(f"{name}\n" for name in chosen).encode())
        if source:
            _zip_add(archive, debug_source.RECORD,
                     data=debug_source.format_record(source).encode())
        for src, name in manifest("gradescope", with_untracked):
            full = os.path.join(paths.TOP, src)
            _zip_add(archive, name, full, mode=_mode(full))
    os.replace(tmp, out)
    return out


# ---------------------------------------------------------------------------
# Checks, for grading/check: each returns (ok, details), details being the
# lines to show (what was run, how long it took, what went wrong).


def _clean_env(**extra):
    """The environment for a make or a script run inside an unpacked
    artifact: no variables or flags of an enclosing make (make check's
    LAB= or -j would leak into it), no build directory of this clone."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
                        "LAB", "SRC", "RESULTS", "KVER", "LABKIT_BUILD")}
    # The unpacked kit shares this clone's cache (vmlinux, harness).
    env["LABKIT_CACHE"] = paths.cache_dir()
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


def _run(cmd, cwd, env, timeout=900):
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              errors="replace", timeout=timeout, check=False)
        rc, out = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout if isinstance(e.stdout, str) else ""
        rc, out = None, out + f"\n(stopped after {timeout} s)"
    return rc, out, time.monotonic() - start


def _tail(text, lines=25):
    return ["  | " + line for line in text.splitlines()[-lines:]]


def _score_shown(score):
    """A results.last_score() as a check's details show it."""
    return points.out_of(*score) if score else "none"


def _forbidden(names):
    """The NAMES (paths inside the kit) no artifact may hold."""
    return [n for n in names if _under(n, INSTRUCTOR_ONLY)]


def check_student_tarball(kver=None):
    """Make the student tarball, check what it holds, unpack it in a
    temporary directory and use it as a student would: `make help`, `make
    check` (must refuse in one line: no solutions), `make test LAB=01` on
    the skeleton (graded, below 100) and on the reference flatbuf.c (100).
    Returns (ok, details)."""
    details = []
    ok = True
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="labkit-dist-") as tmp:
        try:
            tarball = build_student_tarball(
                os.path.join(tmp, os.path.basename(STUDENT_TARBALL)))
        except (DistError, OSError) as e:
            return False, [f"make dist-student failed: {e}"]
        with tarfile.open(tarball) as tar:
            members = tar.getmembers()
        names = []
        for m in members:
            if not m.name.startswith(STUDENT_TOP + "/") or not m.isfile():
                ok = False
                details.append(f"unexpected member {m.name!r}")
            names.append(m.name[len(STUDENT_TOP) + 1:])
        details.append(f"{len(names)} files, "
                       f"{os.path.getsize(tarball) // 1024} KiB")
        leaked = _forbidden(names) + [n for n in names if is_hidden_test(n)]
        if leaked:
            ok = False
            details.append("must not be in the tarball: " + ", ".join(leaked))
        for lab in labs.all_labs():
            # The student's files, and the points file students' make
            # test scores with.
            for name in lab.student_files + ["tests/points"]:
                if f"labs/{lab.name}/{name}" not in names:
                    ok = False
                    details.append(f"missing: labs/{lab.name}/{name}")
        if CLASSROOM_WORKFLOW_SHIPPED not in names:
            ok = False
            details.append(f"missing: {CLASSROOM_WORKFLOW_SHIPPED}")
        for name in CONTAINER_FILES:
            if name not in names:
                ok = False
                details.append(f"missing: {name} (the container)")

        unpacked = os.path.join(tmp, "unpacked")
        with tarfile.open(tarball) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(unpacked, filter="data")
            else:
                tar.extractall(unpacked)
        top = os.path.join(unpacked, STUDENT_TOP)
        env = _clean_env(KVER=kver)

        rc, out, took = _run(["make", "help"], top, env)
        details.append(f"make help: exit {rc}, {took:.1f} s")
        if rc != 0 or "make test" not in out:
            ok = False
            details += _tail(out)

        rc, out, took = _run(["make", "check"], top, env)
        lines = [line for line in out.splitlines() if line.strip()]
        details.append(f"make check (needs solutions/): exit {rc}, "
                       f"{len(lines)} line(s)")
        if rc == 0 or len(lines) != 1 or "solutions" not in out:
            ok = False
            details += _tail(out)

        rc, out, took = _run(["make", "test", "LAB=01"], top, env)
        score = results.last_score(out)
        details.append(f"make test LAB=01 (skeleton): exit {rc}, "
                       f"score {_score_shown(score)}, {took:.1f} s")
        if rc != 0 or not score or score[0] >= score[1]:
            ok = False
            details += _tail(out)

        lab = labs.find("01")
        ref = os.path.join(tmp, "reference")
        os.makedirs(os.path.join(ref, lab.name))
        for name in lab.student_files:
            shutil.copy(os.path.join(lab.solution_dir, name),
                        os.path.join(ref, lab.name, name))
        rc, out, took = _run(["make", "test", "LAB=01", f"SRC={ref}"], top,
                             env)
        score = results.last_score(out)
        details.append(f"make test LAB=01 SRC=(reference flatbuf.c): exit "
                       f"{rc}, score {_score_shown(score)}, {took:.1f} s")
        if rc != 0 or not score or score[0] != score[1]:
            ok = False
            details += _tail(out)
    details.append(f"total {time.monotonic() - start:.1f} s")
    return ok, details


def results_json_problems(data):
    """What keeps DATA (a parsed results.json) from being one Gradescope
    accepts with everything the kit promises: [] when nothing."""
    problems = []
    if not isinstance(data, dict):
        return ["results.json is not a JSON object"]
    for key in ("score", "execution_time"):
        if not isinstance(data.get(key), (int, float)) or isinstance(
                data.get(key), bool):
            problems.append(f"top-level {key!r} missing or not a number")
    tests = data.get("tests")
    if not isinstance(tests, list):
        return problems + ["'tests' missing or not a list"]
    for i, test in enumerate(tests):
        if not isinstance(test, dict):
            problems.append(f"tests[{i}] is not an object")
            continue
        missing = [f for f in GRADESCOPE_TEST_FIELDS if f not in test]
        if missing:
            problems.append(f"tests[{i}] ({test.get('name')!r}) lacks "
                            + ", ".join(missing))
            continue
        if not isinstance(test["score"], (int, float)) or not isinstance(
                test["max_score"], (int, float)):
            problems.append(f"tests[{i}]: score and max_score must be "
                            f"numbers")
        if test["status"] not in tuple(Status):
            problems.append(f"tests[{i}]: status {test['status']!r}")
        if test["visibility"] not in GRADESCOPE_VISIBILITY:
            problems.append(f"tests[{i}]: visibility {test['visibility']!r}")
        if not isinstance(test["name"], str) or not isinstance(
                test["output"], str):
            problems.append(f"tests[{i}]: name and output must be strings")
    return problems


def _run_autograder(top, kver):
    """Run TOP/run_autograder as Gradescope would, in the /autograder
    layout under TOP; return (exit status, output, seconds, results.json
    parsed or None, why not)."""
    env = _clean_env(AUTOGRADER_ROOT=top, KVER=kver)
    rc, out, took = _run([os.path.join(top, "run_autograder")], top, env)
    try:
        with open(os.path.join(top, "results", "results.json"),
                  encoding="utf-8") as f:
            return rc, out, took, json.load(f), None
    except (OSError, ValueError) as e:
        return rc, out, took, None, str(e)


def _autograde(top, kver, label, details):
    """Run run_autograder in TOP and note it in DETAILS as LABEL.
    Returns (results.json's data or None, problems with it, output)."""
    rc, out, took, data, why = _run_autograder(top, kver)
    details.append(f"run_autograder ({label}): exit {rc}, {took:.1f} s")
    if data is None:
        return None, [f"no valid results.json: {why}"], out
    return data, results_json_problems(data), out


def check_gradescope_zip(kver=None):
    """Make autograder.zip (for Lab 01), check what it holds, unpack it
    into a temporary /autograder layout (source/, submission/ with the
    reference flatbuf.c, results/) and run run_autograder there, without
    setup.sh (this host already has what it installs): results.json must
    have what Gradescope reads and Lab 01 full marks. Then once more with
    no submission at all: results.json must still be valid, score 0.
    Returns (ok, details)."""
    details = []
    ok = True
    start = time.monotonic()
    lab = labs.find("01")
    with tempfile.TemporaryDirectory(prefix="labkit-gradescope-") as tmp:
        try:
            zipped = build_gradescope_zip(os.path.join(tmp, "autograder.zip"),
                                          lab_specs=[lab.number])
        except (DistError, labs.LabError, OSError) as e:
            return False, [f"make gradescope failed: {e}"]
        top = os.path.join(tmp, "autograder")
        source = os.path.join(top, "source")
        with zipfile.ZipFile(zipped) as archive:
            infos = archive.infolist()
            names = [i.filename for i in infos]
            for info in infos:
                archive.extract(info, source)
                mode = (info.external_attr >> 16) & 0o777
                if mode:
                    os.chmod(os.path.join(source, info.filename), mode)
        details.append(f"{len(names)} files, "
                       f"{os.path.getsize(zipped) // 1024} KiB")
        leaked = _forbidden(names)
        if leaked:
            ok = False
            details.append("must not be in the zip: " + ", ".join(leaked))
        # The points files the scorer reads: the lab's, and the hidden
        # tests' (the zip carries them, the tarball does not).
        wanted = [os.path.relpath(lab.points_file, paths.TOP)]
        if lab.hidden_sources:
            wanted.append(os.path.relpath(lab.hidden_points_file, paths.TOP))
        for name in wanted:
            if name not in names:
                ok = False
                details.append(f"missing: {name}")
        for name in ("setup.sh", "run_autograder", "grading/grade"):
            if not os.access(os.path.join(source, name), os.X_OK):
                ok = False
                details.append(f"{name}: missing or not executable")
        if not ok:
            return False, details

        # Gradescope runs its copy of run_autograder in /autograder.
        shutil.copy(os.path.join(source, "run_autograder"), top)
        submission = os.path.join(top, "submission")
        os.makedirs(submission)
        for name in lab.student_files:
            shutil.copy(os.path.join(lab.solution_dir, name), submission)
        data, problems, out = _autograde(
            top, kver, f"reference {lab.student_files[0]}", details)
        if data is not None:
            mine = [t for t in data.get("tests", []) if isinstance(t, dict)
                    and str(t.get("name", "")).startswith(lab.name)]
            got = sum(t.get("score", 0) for t in mine)
            full = sum(t.get("max_score", 0) for t in mine)
            details.append(f"results.json: score {data.get('score')}, "
                           f"{len(data.get('tests') or [])} tests, "
                           f"{lab.name} {points.out_of(got, full)}")
            # Full marks include the hidden tests, which the zip ships.
            if not mine or got != full or full != lab.full_marks:
                problems.append(f"{lab.name} did not get full marks")
            for name, seen in lab.visibility.items():
                if not any(t.get("name") == f"{lab.name}: {name}" and
                           t.get("visibility") == seen for t in mine):
                    problems.append(f"hidden test {name} is not in "
                                    f"results.json with visibility {seen}")
        if problems:
            ok = False
            details += problems + _tail(out)

        # A submission that cannot be graded still gets a results.json.
        shutil.rmtree(submission)
        os.remove(os.path.join(top, "results", "results.json"))
        data, problems, out = _autograde(top, kver, "no submission",
                                         details)
        if data is not None and (data.get("score") != 0 or
                                 not data.get("output")):
            problems.append("expected score 0 with a message, got "
                            + json.dumps(data)[:300])
        if problems:
            ok = False
            details += problems + _tail(out)
    details.append(f"total {time.monotonic() - start:.1f} s")
    return ok, details


_STEP_LAB = re.compile(r"make test LAB=(\d\d)\b")


def check_classroom_workflow():
    """The Classroom workflow grades every lab of the kit, each in a step
    of its own that the reporter counts. Returns (ok, details)."""
    path = os.path.join(paths.TOP, CLASSROOM_WORKFLOW)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        return False, [str(e)]
    details = []
    graded = _STEP_LAB.findall(text)
    numbers = [lab.number for lab in labs.all_labs()]
    missing = [n for n in numbers if n not in graded]
    unknown = sorted(set(graded) - set(numbers))
    if missing:
        details.append("no step grades lab " + ", ".join(missing))
    if unknown:
        details.append("steps grade labs the kit lacks: "
                       + ", ".join(unknown))
    dupes = sorted({n for n in graded if graded.count(n) > 1})
    if dupes:
        details.append("labs graded twice: " + ", ".join(dupes))
    # The reporter adds up the steps named in its runners list and reads
    # each one's result from an environment variable.
    match = re.search(r"^\s*runners:\s*(\S+)\s*$", text, re.MULTILINE)
    runners = match.group(1).split(",") if match else []
    ids = re.findall(r"^\s*id:\s*(\S+)\s*$", text, re.MULTILINE)
    for n in numbers:
        step = f"lab-{n}"
        if step not in ids or step not in runners or (
                f"{step.upper()}_RESULTS" not in text):
            details.append(f"step {step}: missing its id, its place in the "
                           f"reporter's runners or its _RESULTS variable")
    for word in ("name: Autograding Tests", "run-autograding-tests:"):
        if word not in text:
            details.append(f"GitHub Classroom needs {word!r}")
    if not details:
        details.append(f"labs {', '.join(numbers)}: one step each")
        return True, details
    return False, details
