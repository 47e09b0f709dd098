# SPDX-License-Identifier: GPL-2.0
"""tools/install-deps (make deps) with its commands replaced: the packages
it installs (tools, never a kernel), what it says without root or a usable
sudo, and its faults after the tools (the linux-source extraction, a
failed kernel fetch). No apt, no root, no network: dpkg-query, id, sudo,
apt-get, tar and fetch-kernels are small scripts in a temporary PATH."""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from labkit import paths

SCRIPT = os.path.join(paths.TOP, "tools", "install-deps")

#: The fake commands: each logs its arguments, then does what the
#: FAKE_* variables say.
FAKES = {
    "dpkg-query": '[ -n "$FAKE_INSTALLED" ] && printf installed; exit 0',
    "id": '[ "$1" = -u ] && echo "$FAKE_UID" && exit 0; exec /usr/bin/id "$@"',
    "sudo": '[ "$1" = -n ] && exit "$FAKE_SUDO_RC"; exec "$@"',
    "apt-get": "exit 0",
    "tar": 'echo "tar: No space left on device" >&2; exit 2',
}


def debian_12():
    """Whether this host is Debian 12 (install-deps wants it before it
    installs anything)."""
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return False
    return 'ID=debian' in text and 'VERSION_ID="12"' in text


@unittest.skipUnless(debian_12(), "install-deps installs on Debian 12 only")
class InstallDepsTest(unittest.TestCase):
    """install-deps in a temporary PATH of fakes and a temporary cache."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self._tmp.cleanup)
        self.bin = os.path.join(self._tmp.name, "bin")
        self.log = os.path.join(self._tmp.name, "log")
        self.cache = os.path.join(self._tmp.name, "cache")
        os.mkdir(self.bin)
        for name, body in FAKES.items():
            self.fake(name, body)

    def fake(self, name, body, where=None):
        """Write the fake command NAME (into WHERE, default the PATH's)."""
        path = os.path.join(where or self.bin, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(f'#!/bin/sh\necho "{name} $*" >>"$FAKE_LOG"\n{body}\n')
        os.chmod(path, 0o755)

    def run_deps(self, *args, script=SCRIPT, uid=1000, sudo_rc=1,
                 installed=False, **env):
        """Run SCRIPT ARGS as uid UID (sudo -n exits SUDO_RC); return
        (exit status, output, the commands the fakes were given)."""
        environ = {"PATH": f"{self.bin}:/usr/bin:/bin", "HOME": self._tmp.name,
                   "LABKIT_CACHE": self.cache, "FAKE_LOG": self.log,
                   "FAKE_UID": str(uid), "FAKE_SUDO_RC": str(sudo_rc),
                   "FAKE_INSTALLED": "1" if installed else "", **env}
        proc = subprocess.run([script, *args], env=environ,
                              stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              check=False)
        try:
            with open(self.log, encoding="utf-8") as f:
                calls = f.read().splitlines()
        except FileNotFoundError:
            calls = []
        return proc.returncode, proc.stdout, calls

    def packages(self, *args, **env):
        """The packages install-deps ARGS asks root for when none is
        installed, from its one line without sudo."""
        rc, out, calls = self.run_deps(*args, **env)
        self.assertEqual(rc, 1, out)
        m = re.search(r"'sudo apt-get install --no-install-recommends "
                      r"([^']+)'", out)
        self.assertIsNotNone(m, out)
        return m.group(1).split()

    def test_no_usable_sudo_gives_one_line_with_the_command(self):
        rc, out, calls = self.run_deps()
        self.assertEqual(rc, 1)
        self.assertEqual(len(out.splitlines()), 1, out)
        self.assertRegex(out, r"^deps: .*no usable sudo.*'sudo apt-get "
                         r"install --no-install-recommends qemu-system-x86 "
                         r"[^']*busybox-static[^']*'.*make deps again\n$")
        self.assertNotIn("installing with sudo", out)
        self.assertNotIn("apt-get", "\n".join(c for c in calls
                                              if not c.startswith("sudo -n")))

    def test_no_kernel_package_is_ever_installed(self):
        kernel = re.compile(r"linux-(image|headers|modules)-")
        for args, env in (((), {}), ((), {"LABKIT_DOCS_TOOLS": "0"}),
                          (("--container",), {})):
            with self.subTest(args=args, env=env):
                names = self.packages(*args, **env)
                self.assertTrue(names)
                self.assertEqual([n for n in names if kernel.match(n)], [])

    def test_root_installs_the_tools_with_apt_get(self):
        rc, out, calls = self.run_deps(uid=0)
        self.assertIn("deps: installing (tools only, no kernel): "
                      "qemu-system-x86 ", out)
        install = [c for c in calls if c.startswith("apt-get install")]
        self.assertEqual(len(install), 1, calls)
        self.assertIn(" qemu-system-x86 ", install[0])
        self.assertNotRegex(install[0], r" linux-(image|headers)-")
        self.assertFalse([c for c in calls if c.startswith("sudo")])
        # The fakes install nothing: it says so and fails.
        self.assertEqual(rc, 1)
        self.assertIn("still missing after apt-get", out)

    def test_passwordless_sudo_installs_with_sudo(self):
        rc, out, calls = self.run_deps(sudo_rc=0)
        self.assertIn("deps: installing with sudo (tools only, no kernel)",
                      out)
        self.assertTrue([c for c in calls if c.startswith("sudo env ")
                         and "apt-get install" in c], calls)

    def tools_installed(self):
        """A copy of install-deps beside a fetch-kernels that fails, with
        every tool installed; return the copy's path."""
        if not glob.glob("/usr/src/linux-source-*.tar.xz"):
            self.skipTest("no /usr/src/linux-source-*.tar.xz here")
        tools = os.path.join(self._tmp.name, "tools")
        os.mkdir(tools)
        shutil.copy(SCRIPT, tools)
        self.fake("fetch-kernels", "exit 1", where=tools)
        return os.path.join(tools, "install-deps")

    def extracted(self):
        """Make the harness's extraction look done (its stamp)."""
        tarball = sorted(glob.glob("/usr/src/linux-source-*.tar.xz"))[-1]
        st = os.stat(tarball)
        dest = os.path.join(self.cache, os.path.basename(tarball)[:-7])
        os.makedirs(dest)
        with open(os.path.join(dest, ".complete"), "w",
                  encoding="utf-8") as f:
            f.write(f"{tarball} {st.st_size} {int(st.st_mtime)}\n")

    def test_failed_fetch_without_sudo_gives_a_hint_not_apt_get(self):
        script = self.tools_installed()
        self.extracted()
        rc, out, calls = self.run_deps(script=script, installed=True)
        self.assertEqual(rc, 1)
        self.assertEqual(len(out.splitlines()), 1, out)
        self.assertRegex(out, r"^deps: fetching the kernels failed .*"
                         r"'sudo apt-get update'")
        self.assertFalse([c for c in calls if c.startswith("apt-get")
                          or c.startswith("sudo env")], calls)
        self.assertEqual(len([c for c in calls
                              if c.startswith("fetch-kernels")]), 1)

    def test_failed_fetch_as_root_updates_and_fetches_once_more(self):
        script = self.tools_installed()
        self.extracted()
        rc, out, calls = self.run_deps(script=script, installed=True, uid=0)
        self.assertEqual(rc, 1)
        self.assertIn("apt-get update -q", calls)
        self.assertEqual(len([c for c in calls
                              if c.startswith("fetch-kernels")]), 2)
        self.assertIn("the kernels could not be fetched, even with fresh "
                      "package lists", out)

    def test_failed_extraction_says_so_and_leaves_nothing(self):
        script = self.tools_installed()
        rc, out, calls = self.run_deps(script=script, installed=True)
        self.assertEqual(rc, 1)
        self.assertRegex(out, r"deps: extracting from \S+ into \S+ failed "
                         r"\(above\): free some space .*--reinstall "
                         r"linux-source-")
        self.assertEqual(os.listdir(self.cache), [])
        self.assertFalse([c for c in calls
                          if c.startswith("fetch-kernels")])


if __name__ == "__main__":
    unittest.main()
