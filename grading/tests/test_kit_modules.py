# SPDX-License-Identifier: GPL-2.0
"""The kit's own modules (grading/kmod/: the name taker) are built for the
kernel next to the labs' builds and go with every lab run: to the VM with
the lab's modules, and to make native's test program through
LAB_KIT_MODULE_DIR. kbuild and the VM are stand-ins here."""

import os
import tempfile
import types
import unittest
from unittest import mock

from labkit import build, paths, runner, vm


class KitModules(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.top = os.path.join(self.tmp.name, "kit")
        kmod = os.path.join(self.top, build.KIT_MODULES)
        os.makedirs(kmod)
        for name, text in (("Kbuild", "obj-m := taker.o\n"),
                           ("taker.c", "/* a module */\n"),
                           # What a kbuild run in the folder itself
                           # leaves: never copied.
                           ("taker.o", "object\n"),
                           ("taker.ko", "module\n")):
            with open(os.path.join(kmod, name), "w",
                      encoding="utf-8") as f:
                f.write(text)
        self.built = os.path.join(self.tmp.name, "build")
        self.calls = []
        self.ok = True
        patches = [mock.patch.object(paths, "TOP", self.top),
                   mock.patch.dict(os.environ,
                                   {"LABKIT_BUILD": self.built}),
                   mock.patch.object(build, "kbuild", self.fake_kbuild)]
        for p in patches:
            p.start()
            self.addCleanup(p.stop)

    def fake_kbuild(self, directory, kver, extra=(), inputs=(), host=False):
        self.calls.append((directory, kver, tuple(extra),
                           sorted(os.path.basename(i) for i in inputs),
                           host))
        kos = [os.path.join(directory, "taker.ko")] if self.ok else []
        return build.ModuleBuild(self.ok, "taker.c:1:1: error: no" if not
                                 self.ok else "", kos, directory)

    def test_sources_are_copied_next_to_the_labs_builds(self):
        built = build.kit_modules("6.1.0-57-amd64")
        want = os.path.join(self.built, "modules", "6.1.0-57-amd64",
                            "kit-modules", "kmod")
        self.assertEqual(want, built.directory)
        self.assertEqual([(want, "6.1.0-57-amd64", (),
                           ["Kbuild", "taker.c"], False)], self.calls)
        self.assertEqual(["Kbuild", "taker.c"], sorted(os.listdir(want)))

    def test_host_builds_go_to_a_directory_of_their_own(self):
        built = build.kit_modules("6.1.0-57-amd64", host=True)
        self.assertTrue(built.directory.endswith(
            os.path.join("kit-modules-host", "kmod")))
        self.assertTrue(self.calls[0][4])

    def test_a_failed_build_is_the_kits_error(self):
        self.ok = False
        with self.assertRaises(build.BuildError) as caught:
            build.kit_modules("6.12.118+deb12-amd64")
        self.assertIn("grading/kmod", str(caught.exception))
        self.assertIn("taker.c:1:1: error", str(caught.exception))

    def test_a_failed_build_against_the_cache_suggests_verify(self):
        """The kit's own modules failing against a kernel tree of the
        kit's cache point at a damaged tree: the message says how to
        check it (tools/fetch-kernels --verify)."""
        from labkit import kcache, kernels
        self.ok = False
        tree = os.path.join(kcache.root(), "6.12.118+deb12-amd64", "usr")
        with mock.patch.object(kernels, "build_dir", return_value=tree):
            with self.assertRaises(build.BuildError) as caught:
                build.kit_modules("6.12.118+deb12-amd64")
        self.assertIn("fetch-kernels --verify", str(caught.exception))


class FakeVm:
    """A vm.Vm that records the modules it is sent."""

    def __init__(self, lab, kver, **kwargs):
        self.sent = None
        self.aborted = False
        FakeVm.last = self

    def send_modules(self, module_paths):
        self.sent = list(module_paths)

    def abort(self):
        self.aborted = True

    def wait(self, on_output=None):
        return "outcome"


class Runs(unittest.TestCase):

    def setUp(self):
        self.lab = types.SimpleNamespace(name="05-poll")
        self.kit_calls = []

    def kit(self, kver, extra_make_args=(), host=False, tag="kit-modules"):
        self.kit_calls.append((kver, host))
        return build.ModuleBuild(True, "", ["/b/kit/kmod/taker.ko"],
                                 "/b/kit/kmod")

    def test_a_vm_run_sends_the_kit_modules_with_the_labs(self):
        lab_build = build.ModuleBuild(True, "", ["/b/lab/pollfifo.ko"],
                                      "/b/lab")
        with mock.patch.object(vm, "Vm", FakeVm), \
                mock.patch.object(build, "modules",
                                  return_value=lab_build), \
                mock.patch.object(build, "kit_modules", self.kit):
            outcome, built = runner._build_and_run(
                self.lab, "/src", "6.1.0-57-amd64", "t", (), None, None)
        self.assertEqual("outcome", outcome)
        self.assertIs(lab_build, built)
        self.assertEqual(["/b/lab/pollfifo.ko", "/b/kit/kmod/taker.ko"],
                         FakeVm.last.sent)
        self.assertEqual([("6.1.0-57-amd64", False)], self.kit_calls)

    def test_a_lab_that_does_not_build_sends_nothing(self):
        failed = build.ModuleBuild(False, "error", [], "/b/lab")
        with mock.patch.object(vm, "Vm", FakeVm), \
                mock.patch.object(build, "modules", return_value=failed), \
                mock.patch.object(build, "kit_modules", self.kit):
            outcome, _ = runner._build_and_run(
                self.lab, "/src", "6.1.0-57-amd64", "t", (), None, None)
        self.assertIsNone(outcome)
        self.assertTrue(FakeVm.last.aborted)
        self.assertIsNone(FakeVm.last.sent)

    def test_a_kit_module_that_does_not_build_stops_the_vm(self):
        lab_build = build.ModuleBuild(True, "", ["/b/lab/pollfifo.ko"],
                                      "/b/lab")

        def broken(*args, **kwargs):
            raise build.BuildError("the kit's own modules did not build")

        with mock.patch.object(vm, "Vm", FakeVm), \
                mock.patch.object(build, "modules",
                                  return_value=lab_build), \
                mock.patch.object(build, "kit_modules", broken), \
                self.assertRaises(build.BuildError):
            runner._build_and_run(self.lab, "/src", "6.1.0-57-amd64", "t",
                                  (), None, None)
        self.assertTrue(FakeVm.last.aborted)

    def test_make_native_names_the_kit_modules_directory(self):
        lab_build = build.ModuleBuild(True, "", ["/b/lab/pollfifo.ko"],
                                      "/b/lab")
        lab = types.SimpleNamespace(name="05-poll", grade_script="grade.sh")
        seen = {}

        def run(cmd, env=None, **kwargs):
            seen.update(env)
            return types.SimpleNamespace(stdout="", returncode=0)

        with mock.patch.object(build, "modules", return_value=lab_build), \
                mock.patch.object(build, "kit_modules", self.kit), \
                mock.patch.object(build, "test_program",
                                  return_value="/b/t/test_pollfifo"), \
                mock.patch.object(build, "hidden_program",
                                  return_value=None), \
                mock.patch.object(runner.subprocess, "run", run), \
                mock.patch.object(runner.results, "from_run",
                                  return_value="result"):
            self.assertEqual("result", runner.grade_native(
                lab, "/src", "6.1.0-57-amd64"))
        self.assertEqual("/b/lab", seen["LAB_MODULE_DIR"])
        self.assertEqual("/b/kit/kmod", seen["LAB_KIT_MODULE_DIR"])
        self.assertEqual([("6.1.0-57-amd64", True)], self.kit_calls)


if __name__ == "__main__":
    unittest.main()
