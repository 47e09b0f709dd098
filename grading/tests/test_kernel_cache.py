# SPDX-License-Identifier: GPL-2.0
"""The kernels in the kit's cache (labkit/kcache.py) and kernels.py's choice
between them and the host's: stamps, the include-line rewrite, apt-cache's
output, cache-or-host. No network, no VM: fake trees in a temp dir."""

import errno
import hashlib
import os
import subprocess
import tempfile
import unittest
from unittest import mock

from labkit import kcache, kernels

REL = "6.1.0-99-amd64"
DEBS = [("linux-image-6.1.0-99-amd64", "6.1.1-1", "a" * 64),
        ("linux-headers-6.1.0-99-amd64", "6.1.1-1", "b" * 64)]


def fake_release(cache, release=REL, debs=DEBS):
    """Make CACHE/kernels/RELEASE as fetch() leaves it, from small files;
    return its directory."""
    top = os.path.join(cache, "kernels", release)
    files = {
        f"boot/vmlinuz-{release}": b"MZ" + b"z" * 1000,
        "vmlinux": b"\x7fELF" + b"v" * 3000,
        f"usr/src/linux-headers-{release}/Makefile":
            b"include $(dir $(lastword $(MAKEFILE_LIST)))../x-common/"
            b"Makefile\n",
        f"usr/src/linux-headers-{release}/Module.symvers": b"0x1\tf\n",
        "usr/src/x-common/include/linux/fs.h": b"/* fs */\n",
    }
    for rel, data in files.items():
        path = os.path.join(top, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    listed = [(rel, len(files[rel]),
               kcache.sha256_file(os.path.join(top, rel)))
              for rel in files if not rel.endswith("fs.h")]
    digest = kcache.write_manifest(top)
    with open(os.path.join(top, kcache.STAMP), "w", encoding="utf-8") as f:
        f.write(kcache.format_stamp(release, debs, listed, digest))
    return top


class CacheTest(unittest.TestCase):
    """A temporary LABKIT_CACHE and a temporary host /boot, /lib/modules."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.cache = os.path.join(self._tmp.name, "cache")
        self.boot = os.path.join(self._tmp.name, "boot")
        self.modules = os.path.join(self._tmp.name, "modules")
        for d in (self.cache, self.boot, self.modules):
            os.makedirs(d)
        patches = [mock.patch.dict(os.environ, {"LABKIT_CACHE": self.cache}),
                   mock.patch.dict(kcache._sizes_checked, clear=True),
                   mock.patch.object(kernels, "BOOT", self.boot),
                   mock.patch.object(kernels, "MODULES", self.modules)]
        for p in patches:
            p.start()
            self.addCleanup(p.stop)
        os.environ.pop(kernels.DEBUG_ENV, None)

    def tearDown(self):
        self._tmp.cleanup()

    def host_kernel(self, release, headers=True):
        """Make the fake host have RELEASE's image (and headers)."""
        with open(os.path.join(self.boot, f"vmlinuz-{release}"), "wb") as f:
            f.write(b"MZ")
        if headers:
            os.makedirs(os.path.join(self.modules, release, "build"))


class StampTest(CacheTest):
    def test_round_trip(self):
        text = kcache.format_stamp(REL, DEBS, [("vmlinux", 5, "c" * 64)],
                                   "d" * 64)
        stamp = kcache.parse_stamp(text)
        self.assertEqual(stamp["release"], REL)
        self.assertEqual(stamp["debs"], DEBS)
        self.assertEqual(stamp["files"], [("vmlinux", 5, "c" * 64)])
        self.assertEqual(stamp["manifest"], "d" * 64)

    def test_bad_stamps_do_not_parse(self):
        good = kcache.format_stamp(REL, DEBS, [("vmlinux", 5, "c" * 64)],
                                   "d" * 64)
        for bad in ("", "shipped in autograder.zip\n",
                    good.replace("deb ", "deb  ", 1),
                    good.replace("c" * 64, "c" * 63),
                    good.replace("vmlinux", "/etc/passwd"),
                    good.replace("vmlinux", "../../vmlinux"),
                    "\n".join(good.splitlines()[:-1])):
            with self.subTest(bad=bad[:40]):
                with self.assertRaises(kcache.StampError):
                    kcache.parse_stamp(bad)

    def test_complete_tree_checks(self):
        fake_release(self.cache)
        self.assertIsNone(kcache.stamp_problem(REL))
        self.assertIsNone(kcache.stamp_problem(REL, hashes=True))
        self.assertIsNone(kcache.stamp_problem(REL, deep=True))
        self.assertEqual(kcache.cached_releases(), [REL])

    def test_no_stamp_is_no_kernel(self):
        top = fake_release(self.cache)
        os.unlink(os.path.join(top, kcache.STAMP))
        self.assertIn("no stamp", kcache.stamp_problem(REL))
        self.assertEqual(kcache.cached_releases(), [])

    def test_stamp_of_another_release(self):
        top = fake_release(self.cache)
        os.rename(top, os.path.join(self.cache, "kernels", "6.1.0-98-amd64"))
        self.assertIn("the stamp is for",
                      kcache.stamp_problem("6.1.0-98-amd64"))

    def test_truncated_file_is_found_by_size(self):
        top = fake_release(self.cache)
        os.truncate(os.path.join(top, "vmlinux"), 100)
        self.assertIn("truncated", kcache.stamp_problem(REL))

    def test_corrupt_file_is_found_by_its_sha256(self):
        top = fake_release(self.cache)
        with open(os.path.join(top, f"boot/vmlinuz-{REL}"), "r+b") as f:
            f.seek(10)
            f.write(b"X")
        self.assertIsNone(kcache.stamp_problem(REL))  # same size
        self.assertIn("corrupt", kcache.stamp_problem(REL, hashes=True))

    def test_deep_check_reads_every_file(self):
        top = fake_release(self.cache)
        with open(os.path.join(top, "usr/src/x-common/include/linux/fs.h"),
                  "r+b") as f:
            f.write(b"//")
        self.assertIsNone(kcache.stamp_problem(REL, hashes=True))
        self.assertIn("fs.h", kcache.stamp_problem(REL, deep=True))

    def test_truncated_header_is_found_by_the_manifests_sizes(self):
        top = fake_release(self.cache)
        os.truncate(os.path.join(top, "usr/src/x-common/include/linux/fs.h"),
                    3)
        problem = kcache.stamp_problem(REL)
        self.assertRegex(problem, r"fs\.h has 3 bytes, not 9: truncated")
        self.assertEqual(kcache.cached_releases(), [])
        self.assertEqual(kernels.usable(), [])

    def test_header_missing_from_the_tree_is_found(self):
        top = fake_release(self.cache)
        os.unlink(os.path.join(top, "usr/src/x-common/include/linux/fs.h"))
        self.assertRegex(kcache.stamp_problem(REL), r"fs\.h is missing")

    def test_a_changed_manifest_is_not_trusted(self):
        top = fake_release(self.cache)
        with open(os.path.join(top, kcache.MANIFEST), "r+b") as f:
            f.truncate(80)
        self.assertRegex(kcache.stamp_problem(REL),
                         r"\.manifest does not have its SHA-256")

    def test_sizes_are_checked_once_a_process_and_stamp(self):
        fake_release(self.cache)
        with mock.patch.object(kcache, "read_manifest",
                               wraps=kcache.read_manifest) as read:
            for _ in range(3):
                self.assertIsNone(kcache.stamp_problem(REL))
            self.assertEqual(read.call_count, 1)
            # A new stamp (the kernel fetched again) is checked again.
            top = fake_release(self.cache)
            os.utime(os.path.join(top, kcache.STAMP), ns=(1, 1))
            self.assertIsNone(kcache.stamp_problem(REL))
            self.assertEqual(read.call_count, 2)

    def test_build_failure_hint_names_fetch_kernels_verify(self):
        fake_release(self.cache)
        hint = kcache.build_failure_hint(kcache.tree_path(REL))
        self.assertIn("tools/fetch-kernels --verify", hint)
        self.assertEqual(len(hint.splitlines()), 1)
        self.assertEqual(kcache.build_failure_hint(
            os.path.join(self.modules, REL, "build")), "")

    def test_missing_listed_file(self):
        top = fake_release(self.cache)
        os.unlink(os.path.join(top, "vmlinux"))
        self.assertIn("missing", kcache.stamp_problem(REL))

    def test_stamp_matches_the_packages(self):
        fake_release(self.cache)
        debs = [{"name": n, "version": v, "sha256": s} for n, v, s in DEBS]
        self.assertTrue(kcache.stamp_matches(REL, debs))
        debs[0]["sha256"] = "e" * 64
        self.assertFalse(kcache.stamp_matches(REL, debs))
        self.assertFalse(kcache.stamp_matches("6.1.0-1-amd64", debs))


class EnsureTest(CacheTest):
    """kcache.ensure() with apt and the network replaced."""

    def ensure_with(self, release, fetch_error):
        debs = [{"name": "linux-image-" + release, "version": "1",
                 "sha256": "f" * 64, "size": 1, "installed": 1}]

        def fake_fetch(kernel):
            raise kcache.FetchError(fetch_error)
        with mock.patch.object(kcache, "resolve_cached",
                               return_value=[{"release": release,
                                              "debs": debs}]), \
                mock.patch.object(kcache, "fetch", fake_fetch), \
                mock.patch.object(kcache, "_say"):
            return kcache.ensure()

    def test_a_current_kernel_is_not_fetched(self):
        fake_release(self.cache)
        debs = [{"name": n, "version": v, "sha256": h} for n, v, h in DEBS]
        with mock.patch.object(kcache, "resolve_cached",
                               return_value=[{"release": REL,
                                              "debs": debs}]), \
                mock.patch.object(kcache, "fetch") as fetch:
            self.assertEqual(kcache.ensure(), [REL])
        fetch.assert_not_called()

    def test_a_truncated_header_is_fetched_again(self):
        top = fake_release(self.cache)
        os.truncate(os.path.join(top, "usr/src/x-common/include/linux/fs.h"),
                    0)
        debs = [{"name": n, "version": v, "sha256": h} for n, v, h in DEBS]
        with mock.patch.object(kcache, "resolve_cached",
                               return_value=[{"release": REL,
                                              "debs": debs}]), \
                mock.patch.object(kcache, "fetch",
                                  side_effect=lambda kernel: fake_release(
                                      self.cache)) as fetch, \
                mock.patch.object(kcache, "_say") as say:
            self.assertEqual(kcache.ensure(), [REL])
        fetch.assert_called_once()
        self.assertRegex(say.call_args_list[0].args[0],
                         rf"^{REL}: .*fs\.h has 0 bytes, not 9: truncated\?: "
                         "fetching it again$")
        self.assertIsNone(kcache.stamp_problem(REL))

    def test_failed_fetch_without_a_kernel_of_its_series_fails(self):
        fake_release(self.cache, "6.12.1+deb12-amd64")
        with self.assertRaisesRegex(kcache.FetchError, "no network"):
            self.ensure_with("6.1.0-100-amd64", "no network")

    def test_failed_fetch_of_a_newer_kernel_keeps_the_older(self):
        fake_release(self.cache)  # 6.1.0-99
        self.ensure_with("6.1.0-100-amd64", "no network")
        self.assertEqual(kcache.cached_releases(), [REL])

    def kernel(self):
        return {"release": "6.1.0-100-amd64", "debs": [
            {"name": "linux-image-6.1.0-100-amd64", "version": "1",
             "sha256": "f" * 64, "size": 1 << 20, "installed": 1}]}

    def test_failed_download_leaves_nothing(self):
        with mock.patch.object(kcache, "_download",
                               side_effect=kcache.FetchError("twice")), \
                mock.patch.object(kcache, "_say"):
            with self.assertRaisesRegex(kcache.FetchError, "twice"):
                kcache.fetch(self.kernel())
        self.assertEqual(sorted(os.listdir(kcache.root())), [])

    def test_full_disk_is_said_before_fetching(self):
        usage = mock.Mock(free=10 << 20)
        with mock.patch("shutil.disk_usage", return_value=usage), \
                mock.patch.object(kcache, "_download") as download:
            with self.assertRaisesRegex(kcache.FetchError,
                                        "not enough disk space.*10 MB free"):
                kcache.fetch(self.kernel())
        download.assert_not_called()

    def test_full_disk_while_unpacking_leaves_nothing(self):
        def full(deb, dest):
            with open(os.path.join(dest, "half"), "w") as f:
                f.write("x")
            raise OSError(28, "No space left on device")
        deb = os.path.join(self._tmp.name, "x.deb")
        with mock.patch.object(kcache, "_download", return_value=deb), \
                mock.patch.object(kcache, "_unpack", full), \
                mock.patch.object(kcache, "_say"):
            with self.assertRaisesRegex(kcache.FetchError,
                                        "not enough disk space"):
                kcache.fetch(self.kernel())
        self.assertEqual(sorted(os.listdir(kcache.root())), [])

    def test_full_disk_while_writing_resolved_says_so_and_leaves_no_tmp(self):
        kernels_ = [{"release": REL, "debs": []}]

        def full(obj, f):
            f.write("{")
            raise OSError(errno.ENOSPC, "No space left on device")
        with mock.patch.object(kcache, "resolve", return_value=kernels_), \
                mock.patch.object(kcache.json, "dump", full):
            with self.assertRaises(kcache.FetchError) as cm:
                kcache.resolve_cached()
        message = str(cm.exception)
        self.assertRegex(message, r"^not enough disk space in .*kernels "
                         r"\(\d+ MB free\): nothing was left half-written")
        self.assertEqual(len(message.splitlines()), 1)
        self.assertEqual(os.listdir(kcache.root()), [])

    def test_releases_in_version_order(self):
        for r in ("6.1.0-9-amd64", "6.12.1+deb12-amd64", "6.1.0-57-amd64"):
            fake_release(self.cache, r)
        self.assertEqual(kcache.cached_releases(),
                         ["6.1.0-9-amd64", "6.1.0-57-amd64",
                          "6.12.1+deb12-amd64"])


class DownloadTest(unittest.TestCase):
    """kcache._download() with apt-get download replaced: no network."""

    DATA = b"!<arch>\ndebian-binary\n"
    DEB = {"name": "linux-kbuild-6.1", "version": "6.1.192-3",
           "sha256": hashlib.sha256(DATA).hexdigest()}

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self._tmp.cleanup)
        self.dir = self._tmp.name

    def apt(self, *outcomes):
        """A stand-in for subprocess.run: one OUTCOME a call, in turn:
        "ok" writes the .deb, "corrupt" a wrong one, else apt's output."""
        calls = []

        def run(cmd, cwd, **kwargs):
            outcome = outcomes[len(calls)]
            calls.append(cmd)
            if outcome in ("ok", "corrupt"):
                with open(os.path.join(
                        cwd, "linux-kbuild-6.1_6.1.192-3_amd64.deb"),
                        "wb") as f:
                    f.write(self.DATA if outcome == "ok" else b"junk")
                return subprocess.CompletedProcess(cmd, 0, "Get:1 ...")
            return subprocess.CompletedProcess(cmd, 100, outcome)
        return run, calls

    def download(self, *outcomes):
        """_download() with apt's OUTCOMES; return (result or the
        FetchError, apt-get's commands, what was said)."""
        run, calls = self.apt(*outcomes)
        with mock.patch.object(kcache.subprocess, "run", run), \
                mock.patch.object(kcache, "_say") as say:
            try:
                got = kcache._download(self.DEB, self.dir)
            except kcache.FetchError as e:
                got = e
        return got, calls, [c.args[0] for c in say.call_args_list]

    def test_a_failed_download_is_retried_once(self):
        got, calls, said = self.download(
            "Err:1 http://deb.debian.org x\nE: Failed to fetch x  "
            "Connection timed out", "ok")
        self.assertEqual(got, os.path.join(
            self.dir, "linux-kbuild-6.1_6.1.192-3_amd64.deb"))
        self.assertEqual(len(calls), 2)
        self.assertIn("linux-kbuild-6.1=6.1.192-3", calls[0])
        self.assertEqual(len(said), 1)
        self.assertRegex(said[0], r"linux-kbuild-6\.1: download failed "
                         r"\(Err:1 .*E: Failed to fetch .*\); trying again")

    def test_two_failures_give_one_clear_message(self):
        got, calls, said = self.download("E: Failed to fetch x  404",
                                         "E: Failed to fetch x  404")
        self.assertIsInstance(got, kcache.FetchError)
        self.assertEqual(len(calls), 2)
        self.assertRegex(str(got), r"^could not download linux-kbuild-6\.1 "
                         r"6\.1\.192-3 from Debian's archive, twice: E: "
                         r"Failed to fetch x  404\. .*apt-get update")
        self.assertEqual(len(str(got).splitlines()), 1)

    def test_a_corrupt_download_is_fetched_again_and_removed(self):
        got, calls, said = self.download("corrupt", "ok")
        self.assertTrue(got.endswith(".deb"))
        self.assertEqual(len(calls), 2)
        self.assertIn("does not have the SHA-256", said[0])
        self.assertEqual(os.listdir(self.dir), [os.path.basename(got)])

    def test_a_full_disk_is_not_retried(self):
        got, calls, said = self.download(
            "E: Write error - write (28: No space left on device)")
        self.assertRegex(str(got), "^not enough disk space")
        self.assertEqual(len(calls), 1)


class RewriteTest(CacheTest):
    def test_debian_include_line(self):
        text = ("include /usr/src/linux-headers-6.12.117+deb12-common/"
                "Makefile\n")
        new, n = kcache.rewrite_include(text)
        self.assertEqual(n, 1)
        self.assertEqual(new, "include $(dir $(lastword $(MAKEFILE_LIST)))"
                         "../linux-headers-6.12.117+deb12-common/Makefile\n")

    def test_other_lines_untouched(self):
        text = "# x\ninclude scripts/Kbuild.include\nobj-m := a.o\n"
        self.assertEqual(kcache.rewrite_include(text), (text, 0))

    def test_make_relative(self):
        top = os.path.join(self._tmp.name, "tree")
        src = os.path.join(top, "usr", "src")
        os.makedirs(os.path.join(src, "h-amd64"))
        os.makedirs(os.path.join(src, "h-common"))
        with open(os.path.join(src, "h-common", "Makefile"), "w") as f:
            f.write("all:\n")
        with open(os.path.join(src, "h-amd64", "Makefile"), "w") as f:
            f.write("include /usr/src/h-common/Makefile\n")
        mods = os.path.join(top, "lib", "modules", "r")
        os.makedirs(mods)
        os.symlink("/usr/src/h-amd64", os.path.join(mods, "build"))
        os.symlink("/elsewhere", os.path.join(mods, "outside"))
        changed = kcache.make_relative(top)
        self.assertEqual(sorted(changed), ["lib/modules/r/build",
                                           "usr/src/h-amd64/Makefile"])
        self.assertEqual(os.readlink(os.path.join(mods, "build")),
                         "../../../usr/src/h-amd64")
        self.assertEqual(os.readlink(os.path.join(mods, "outside")),
                         "/elsewhere")
        with open(os.path.join(src, "h-amd64", "Makefile")) as f:
            self.assertNotIn("/usr/src", f.read())

    def test_include_of_a_tree_not_brought_fails(self):
        top = os.path.join(self._tmp.name, "tree")
        os.makedirs(os.path.join(top, "usr", "src", "h-amd64"))
        with open(os.path.join(top, "usr/src/h-amd64/Makefile"), "w") as f:
            f.write("include /usr/src/h-missing/Makefile\n")
        with self.assertRaises(kcache.FetchError):
            kcache.make_relative(top)


class AptOutputTest(unittest.TestCase):
    def test_parse_depends(self):
        text = ("linux-image-amd64\n  Depends: linux-image-6.1.0-57-amd64\n"
                "linux-headers-6.1.0-57-amd64\n"
                "  Depends: linux-headers-6.1.0-57-common\n"
                " |Depends: linux-image-6.1.0-57-amd64\n"
                "  Depends: <linux-initramfs-tool>\n"
                "  Depends: linux-kbuild-6.1\n  Suggests: x\n")
        self.assertEqual(kcache.parse_depends(text), {
            "linux-image-amd64": ["linux-image-6.1.0-57-amd64"],
            "linux-headers-6.1.0-57-amd64": [
                "linux-headers-6.1.0-57-common",
                "linux-image-6.1.0-57-amd64", "linux-kbuild-6.1"]})

    def test_parse_show(self):
        text = ("Package: a\nVersion: 1\nSize: 10\nSHA256: " + "f" * 64 +
                "\nDescription: x\n y\n\nPackage: b\nVersion: 2\n")
        show = kcache.parse_show(text)
        self.assertEqual(show["a"]["SHA256"], "f" * 64)
        self.assertEqual(show["b"]["Version"], "2")

    def test_no_apt_points_to_the_container(self):
        with mock.patch("shutil.which", return_value=None):
            with self.assertRaisesRegex(kcache.FetchError,
                                        "README: container"):
                kcache.resolve()

    def test_apt_without_debian_kernels_points_to_the_container(self):
        def fake_apt(cmd):
            return 100, "", "E: No packages found"
        with mock.patch("shutil.which", return_value="/usr/bin/apt-cache"), \
                mock.patch.object(kcache, "_apt", fake_apt):
            with self.assertRaisesRegex(kcache.FetchError,
                                        "not Debian 12.*README: container"):
                kcache.resolve()


class ChoiceTest(CacheTest):
    def test_cached_kernel_is_usable(self):
        top = fake_release(self.cache)
        self.assertEqual(kernels.usable(), [REL])
        self.assertEqual(kernels.select(None), REL)
        self.assertEqual(kernels.where(REL), "cache")
        self.assertEqual(kernels.build_dir(REL),
                         os.path.join(top, "usr/src", f"linux-headers-{REL}"))
        self.assertEqual(kernels.vmlinux(REL), os.path.join(top, "vmlinux"))

    def test_cache_first_when_both(self):
        top = fake_release(self.cache)
        self.host_kernel(REL)
        self.assertEqual(kernels.usable(), [REL])
        self.assertEqual(kernels.where(REL), "cache")
        self.assertTrue(kernels.build_dir(REL).startswith(top))
        # make native loads into the running kernel: the host's tree.
        self.assertEqual(kernels.build_dir(REL, host=True),
                         os.path.join(self.modules, REL, "build"))

    def test_host_kernel_needs_its_headers(self):
        self.host_kernel("5.15.0-1-generic")
        self.host_kernel("6.8.0-1-generic", headers=False)
        self.assertEqual(kernels.usable(), ["5.15.0-1-generic"])
        self.assertEqual(kernels.where("5.15.0-1-generic"), "host")
        self.assertEqual(kernels.build_dir("5.15.0-1-generic"),
                         os.path.join(self.modules, "5.15.0-1-generic",
                                      "build"))
        with self.assertRaisesRegex(kernels.KernelError, "not usable"):
            kernels.select("6.8.0-1-generic")

    def test_union_newest_by_default(self):
        fake_release(self.cache, "6.12.117+deb12-amd64")
        self.host_kernel(REL)
        self.assertEqual(kernels.usable(), [REL, "6.12.117+deb12-amd64"])
        self.assertEqual(kernels.select(None), "6.12.117+deb12-amd64")
        self.assertEqual(kernels.where(REL), "host")

    def test_incomplete_cache_falls_back_to_the_host(self):
        top = fake_release(self.cache)
        os.unlink(os.path.join(top, kcache.STAMP))
        self.host_kernel(REL)
        self.assertEqual(kernels.where(REL), "host")
        self.assertEqual(kernels.build_dir(REL),
                         os.path.join(self.modules, REL, "build"))

    def test_instructor_grading_prefers_the_debug_kernel_when_built(self):
        fake_release(self.cache, "6.12.117+deb12-amd64")
        with mock.patch.object(kernels, "debug_problem", return_value=None):
            self.assertEqual(kernels.DEBUG,
                             kernels.select(None, prefer_debug=True))
            self.assertEqual("6.12.117+deb12-amd64", kernels.select(None))
            self.assertEqual("6.12.117+deb12-amd64",
                             kernels.select(kernels.DEBIAN,
                                            prefer_debug=True))
            with mock.patch.dict(os.environ, {kernels.DEBUG_ENV: "0"}):
                self.assertEqual("6.12.117+deb12-amd64",
                                 kernels.select(None, prefer_debug=True))
        with mock.patch.object(kernels, "debug_problem",
                               return_value="not built"):
            self.assertEqual("6.12.117+deb12-amd64",
                             kernels.select(None, prefer_debug=True))

    def test_no_kernel_says_make_deps(self):
        with self.assertRaisesRegex(kernels.KernelError, "make deps"):
            kernels.select(None)

    def test_clean_removes_what_the_kit_put(self):
        fake_release(self.cache)
        for d in ("vmlinux", "snapshots", "linux-source-6.12"):
            os.makedirs(os.path.join(self.cache, d))
        removed = kcache.clean()
        self.assertEqual(len(removed), 4)
        self.assertFalse(os.path.exists(self.cache))

    def test_clean_leaves_what_is_not_the_kits(self):
        fake_release(self.cache)
        mine = os.path.join(self.cache, "my-notes.txt")
        with open(mine, "w") as f:
            f.write("x")
        kcache.clean()
        self.assertEqual(os.listdir(self.cache), ["my-notes.txt"])


if __name__ == "__main__":
    unittest.main()
