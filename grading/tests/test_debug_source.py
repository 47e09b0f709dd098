# SPDX-License-Identifier: GPL-2.0
"""labkit.debug_source: the record of the package the debug kernel is
built from, which `make gradescope DEBUG_KERNEL=1` writes and Gradescope's
setup.sh fetches (no network: the mirror is a stand-in)."""

import hashlib
import io
import os
import tempfile
import unittest
import urllib.error
import zipfile
from unittest import mock

from labkit import debug_source, dist

DEB = b"!<arch>\n" + bytes(range(256)) * 64
URL = ("http://deb.debian.org/debian-security/pool/updates/main/l/"
       "linux-6.12/linux-source-6.12_6.12.118-1%7edeb12u1_all.deb")
SOURCE = debug_source.Source("linux-source-6.12", "6.12.118-1~deb12u1", URL,
                             len(DEB), hashlib.sha256(DEB).hexdigest())


class _Mirror:
    """urlopen() as a mirror that serves BODY, or fails with an HTTP
    STATUS."""

    def __init__(self, body=DEB, status=None):
        self.body, self.status, self.asked = body, status, []

    def __call__(self, url, timeout=None):
        self.asked.append(url)
        if self.status:
            raise urllib.error.HTTPError(url, self.status, "no", {}, None)
        return io.BytesIO(self.body)


class PrintUris(unittest.TestCase):
    def test_apt_line_gives_url_size_and_sha256(self):
        text = (f"'{URL}' linux-source-6.12_6.12.118-1~deb12u1_all.deb "
                f"{len(DEB)} SHA256:{SOURCE.sha256}\n")
        self.assertEqual(debug_source.parse_print_uris(
            text, "linux-source-6.12", "6.12.118-1~deb12u1"), SOURCE)

    def test_nothing_to_download_says_how_to_get_it(self):
        with self.assertRaisesRegex(debug_source.DebugSourceError,
                                    "apt-get update"):
            debug_source.parse_print_uris(
                "E: Version '6.12.1' for 'linux-source-6.12' was not found",
                "linux-source-6.12", "6.12.1")

    def test_filename_is_aptly_unquoted(self):
        self.assertEqual(SOURCE.filename,
                         "linux-source-6.12_6.12.118-1~deb12u1_all.deb")


class Record(unittest.TestCase):
    def test_round_trip(self):
        text = debug_source.format_record(SOURCE)
        self.assertEqual(debug_source.parse_record(text), SOURCE)

    def test_missing_or_unknown_or_bad_fields_are_refused(self):
        text = debug_source.format_record(SOURCE)
        for broken in (text.replace("sha256 ", "sha512 "),
                       "".join(text.splitlines(True)[:-1]),
                       text + "url http://elsewhere/x.deb\n",
                       text.replace(f"size {len(DEB)}", "size big")):
            with self.subTest(broken=broken), \
                    self.assertRaises(debug_source.DebugSourceError):
                debug_source.parse_record(broken)


class Fetch(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def _left(self):
        return sorted(os.listdir(self.dir.name))

    def test_the_named_file_is_kept(self):
        mirror = _Mirror()
        path = debug_source.fetch(SOURCE, self.dir.name, opener=mirror)
        self.assertEqual(mirror.asked, [URL])
        self.assertEqual(os.path.basename(path), SOURCE.filename)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), DEB)
        self.assertEqual(self._left(), [SOURCE.filename])

    def test_other_bytes_are_refused_and_removed(self):
        other = DEB[:-1] + b"x"
        for body in (other, DEB[:-1], DEB + b"more"):
            with self.subTest(size=len(body)):
                with self.assertRaisesRegex(debug_source.DebugSourceError,
                                            "is not the package"):
                    debug_source.fetch(SOURCE, self.dir.name,
                                       opener=_Mirror(body))
                self.assertEqual(self._left(), [])

    def test_a_version_gone_from_the_mirror_says_what_to_do(self):
        with self.assertRaisesRegex(debug_source.DebugSourceError,
                                    "make gradescope DEBUG_KERNEL=1"):
            debug_source.fetch(SOURCE, self.dir.name,
                               opener=_Mirror(status=404))
        self.assertEqual(self._left(), [])

    def test_main_prints_the_path_or_fails(self):
        record = os.path.join(self.dir.name, debug_source.RECORD)
        with open(record, "w", encoding="utf-8") as f:
            f.write(debug_source.format_record(SOURCE))
        out = io.StringIO()
        with mock.patch.object(debug_source.urllib.request, "urlopen",
                               _Mirror()), \
                mock.patch("sys.stdout", out):
            self.assertEqual(debug_source.main(
                ["fetch", record, self.dir.name]), 0)
        self.assertEqual(out.getvalue().strip(),
                         os.path.join(self.dir.name, SOURCE.filename))
        err = io.StringIO()
        with mock.patch.object(debug_source.urllib.request, "urlopen",
                               _Mirror(status=410)), \
                mock.patch("sys.stderr", err):
            self.assertEqual(debug_source.main(
                ["fetch", record, self.dir.name]), 1)
        self.assertIn("any more", err.getvalue())


class GradescopeZip(unittest.TestCase):
    """`make gradescope DEBUG_KERNEL=1` puts the record in the zip, and
    only then."""

    def _zip(self, debug_kernel):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        harness = os.path.join(tmp.name, "harness")
        os.mkdir(harness)
        for header in dist.HARNESS_HEADERS:
            with open(os.path.join(harness, header), "w",
                      encoding="utf-8") as f:
                f.write("/* stand-in */\n")
        out = os.path.join(tmp.name, "autograder.zip")
        with mock.patch.object(dist.build, "harness_dir",
                               return_value=harness), \
                mock.patch.object(dist.build, "kernel_tools",
                                  return_value="/c/linux-source-6.12"), \
                mock.patch.object(dist.debug_source, "record",
                                  return_value=SOURCE), \
                mock.patch.object(dist, "manifest", return_value=[]):
            dist.build_gradescope_zip(out, debug_kernel=debug_kernel)
        with zipfile.ZipFile(out) as archive:
            return {name: archive.read(name) for name in archive.namelist()}

    def test_record_only_when_asked(self):
        self.assertNotIn(debug_source.RECORD, self._zip(False))
        shipped = self._zip(True)
        self.assertEqual(debug_source.parse_record(
            shipped[debug_source.RECORD].decode()), SOURCE)
        self.assertIn("setup.sh", shipped)

    def test_no_installed_source_is_a_clear_error(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        out = os.path.join(tmp.name, "autograder.zip")
        with mock.patch.object(
                dist.debug_source, "installed_version",
                side_effect=debug_source.DebugSourceError(
                    "linux-source-6.12 is not installed")), \
                self.assertRaisesRegex(dist.DistError, "not installed"):
            dist.build_gradescope_zip(out, debug_kernel=True)
        self.assertEqual(os.listdir(tmp.name), [])


if __name__ == "__main__":
    unittest.main()
