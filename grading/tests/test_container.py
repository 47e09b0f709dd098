# SPDX-License-Identifier: GPL-2.0
"""The kit's container (docs/container.md), without building it: what the
Containerfile takes from the kit ships to students, the devcontainer
points at it, and tools/container gives podman or docker the options the
docs promise (with a stand-in engine that prints its arguments)."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from labkit import dist, paths


def read(rel):
    with open(os.path.join(paths.TOP, rel), encoding="utf-8") as f:
        return f.read()


class Containerfile(unittest.TestCase):
    def test_copies_parses_continuations_and_skips_other_images(self):
        text = ("FROM x\nCOPY a b /dst/\nCOPY --chown=1:1 c \\\n  d /e/\n"
                "COPY --from=builder /x /y\nRUN true\ncopy f /g\n")
        self.assertEqual(["a", "b", "c", "d", "f"],
                         dist.containerfile_copies(text))

    def test_what_it_copies_ships_to_students(self):
        copies = dist.containerfile_copies(read(dist.CONTAINERFILE))
        self.assertIn("tools/install-deps", copies)
        self.assertIn("tools/fetch-kernels", copies)
        for src in copies:
            self.assertTrue(os.path.isfile(os.path.join(paths.TOP, src)),
                            f"the Containerfile copies {src}, which the "
                            f"kit does not have")
            self.assertTrue(dist.ships(src, "student"),
                            f"the Containerfile copies {src}, which the "
                            f"student tarball leaves out")

    def test_fetch_kernels_imports_only_what_is_copied(self):
        # fetch-kernels runs in the image with only the copied modules.
        copies = set(dist.containerfile_copies(read(dist.CONTAINERFILE)))
        for module in ("kcache", "kernels", "paths"):
            for imported in re.findall(r"from \. import ([\w, ]+)",
                                       read(f"grading/labkit/{module}.py")):
                for name in imported.replace(" ", "").split(","):
                    self.assertIn(f"grading/labkit/{name}.py", copies,
                                  f"{module}.py imports {name}")

    def test_base_is_debian_12_and_cache_is_set(self):
        text = read(dist.CONTAINERFILE)
        froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
        self.assertEqual(["docker.io/library/debian:12"], froms)
        self.assertRegex(text, r"LABKIT_CACHE=/\S+")

    def test_container_files_ship_and_the_test_tools_do_not(self):
        for name in dist.CONTAINER_FILES:
            self.assertTrue(os.path.isfile(os.path.join(paths.TOP, name)),
                            name)
            self.assertTrue(dist.ships(name, "student"), name)
        for name in ("tools/check-container", "tools/mkbaseimage"):
            self.assertFalse(dist.ships(name, "student"), name)


class Devcontainer(unittest.TestCase):
    def test_builds_the_containerfile_as_its_user(self):
        conf = json.loads(read(".devcontainer/devcontainer.json"))
        self.assertEqual("../Containerfile", conf["build"]["dockerfile"])
        self.assertEqual("..", conf["build"]["context"])
        user = conf["remoteUser"]
        self.assertRegex(read(dist.CONTAINERFILE),
                         rf"useradd\b.*\b{re.escape(user)}\b")


class ToolsContainer(unittest.TestCase):
    """tools/container with stand-in engines on PATH."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="labkit-container-")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.bin = os.path.join(self.tmp, "bin")
        os.mkdir(self.bin)
        for engine in ("podman", "docker"):
            self.stub(engine, 'printf "%s\\n" "$@"')

    def stub(self, name, body):
        path = os.path.join(self.bin, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"#!/bin/sh\n{body}\n")
        os.chmod(path, 0o755)

    def run_tool(self, *args, top=paths.TOP, **env):
        environ = {"PATH": f"{self.bin}:/usr/bin:/bin", "HOME": self.tmp}
        environ.update(env)
        proc = subprocess.run([os.path.join(top, "tools", "container"),
                               *args], cwd=top, env=environ,
                              stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, check=False)
        self.assertEqual(0, proc.returncode, proc.stderr)
        return proc.stdout.splitlines()

    def test_podman_build_is_chrooted_and_takes_the_local_base(self):
        argv = self.run_tool("build", LABKIT_CONTAINER_ENGINE="podman")
        self.assertEqual("build", argv[0])
        for flag in ("--isolation", "chroot", "--pull=missing", "-t",
                     "chardev-labkit"):
            self.assertIn(flag, argv)
        self.assertEqual(os.path.join(paths.TOP, "Containerfile"),
                         argv[argv.index("-f") + 1])
        self.assertEqual(paths.TOP, argv[-1])

    def test_podman_run_uses_runc_and_fixed_ulimits(self):
        self.stub("runc", "exit 0")
        argv = self.run_tool("make", "test", "LAB=01",
                             LABKIT_CONTAINER_ENGINE="podman")
        self.assertEqual(["--runtime", "runc", "run", "--rm", "-i"],
                         argv[:5])
        self.assertIn("nofile=1024:1024", argv)
        self.assertTrue(any(a.startswith("nproc=") for a in argv))
        self.assertIn(f"{paths.TOP}:{paths.TOP}", argv)
        self.assertEqual(["chardev-labkit", "make", "test", "LAB=01"],
                         argv[-4:])
        self.assertIn("chardev-labkit-snapshots:"
                      "/var/cache/chardev-labkit/snapshots", argv)

    def test_snapshot_volume_is_where_the_image_has_its_cache(self):
        cache = re.search(r"LABKIT_CACHE=(\S+)",
                          read(dist.CONTAINERFILE)).group(1)
        argv = self.run_tool("true", LABKIT_CONTAINER_ENGINE="docker",
                             LABKIT_SNAPSHOT_VOLUME="v")
        self.assertIn(f"v:{cache}/snapshots", argv)
        argv = self.run_tool("true", LABKIT_CONTAINER_ENGINE="docker",
                             LABKIT_SNAPSHOT_VOLUME="")
        self.assertFalse([a for a in argv if "snapshots" in a], argv)

    def test_podman_runtime_can_be_podmans_own(self):
        self.stub("runc", "exit 0")
        argv = self.run_tool("true", LABKIT_CONTAINER_ENGINE="podman",
                             LABKIT_PODMAN_RUNTIME="")
        self.assertNotIn("--runtime", argv)
        argv = self.run_tool("true", LABKIT_CONTAINER_ENGINE="podman",
                             LABKIT_PODMAN_RUNTIME="crun")
        self.assertEqual(["--runtime", "crun", "run"], argv[:3])

    def test_docker_gets_no_podman_options(self):
        self.stub("runc", "exit 0")
        argv = self.run_tool("build", LABKIT_CONTAINER_ENGINE="docker")
        self.assertNotIn("--isolation", argv)
        argv = self.run_tool("true", LABKIT_CONTAINER_ENGINE="docker")
        self.assertEqual(["run", "--rm", "-i"], argv[:3])
        self.assertNotIn("--ulimit", argv)
        self.assertNotIn("--runtime", argv)

    def test_environment_is_passed_through(self):
        argv = self.run_tool("true", LABKIT_CONTAINER_ENGINE="docker",
                             LABKIT_SEED="7", ACCEL="tcg")
        self.assertIn("LABKIT_SEED", argv)
        self.assertIn("ACCEL", argv)
        self.assertNotIn("LABKIT_VCPUS", argv)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to chown")
    def test_rootful_runs_as_the_clone_owner(self):
        top = os.path.join(self.tmp, "clone")
        os.makedirs(os.path.join(top, "tools"))
        shutil.copy(os.path.join(paths.TOP, "tools", "container"),
                    os.path.join(top, "tools"))
        os.chown(top, 4321, 4322)
        argv = self.run_tool("true", top=top,
                             LABKIT_CONTAINER_ENGINE="docker")
        self.assertEqual("4321:4322", argv[argv.index("--user") + 1])
        self.assertIn(f"{top}:{top}", argv)
        os.chown(top, 0, 0)
        argv = self.run_tool("true", top=top,
                             LABKIT_CONTAINER_ENGINE="docker")
        self.assertNotIn("--user", argv)
        self.assertNotIn("--userns=keep-id", argv)


if __name__ == "__main__":
    unittest.main()
