# SPDX-License-Identifier: GPL-2.0
"""The Debian package the debug kernel is built from, named for a machine
that cannot install it with apt: Gradescope's Ubuntu image.

`make gradescope DEBUG_KERNEL=1` writes a record of the instructor's
installed `linux-source-6.12` into autograder.zip (where apt found it,
its size and SHA-256: record()), and Gradescope's setup.sh fetches that
very file with fetch() before it builds the debug kernel from it
(tools/build-debug-kernel). The download is checked against the record,
so Gradescope builds from the same source as the instructor's own
`make debug-kernel`, or stops and says why.

As a program, for setup.sh (from grading/):

    python3 -m labkit.debug_source fetch RECORD DIR

downloads the package the record names into DIR and prints its path.
"""

import dataclasses
import hashlib
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

from . import kernels

#: The package the debug kernel's source comes in: the one that installs
#: kernels.DEBUG_SOURCE (linux-source-6.12.tar.xz), named after it.
PACKAGE = os.path.basename(kernels.DEBUG_SOURCE).removesuffix(".tar.xz")
#: The record's name in autograder.zip.
RECORD = "debug-kernel-source"
#: How long one read from the mirror may take before fetch() gives up.
TIMEOUT = 60

_FIELDS = ("package", "version", "url", "size", "sha256")
# One line of `apt-get download --print-uris`:
# 'URL' FILE SIZE SHA256:HEX
_PRINT_URIS = re.compile(
    r"^'(?P<url>[^']+)' (?P<file>\S+) (?P<size>\d+) SHA256:(?P<sha>[0-9a-f]{64})$")


class DebugSourceError(Exception):
    """The package cannot be named, fetched, or is not the one named."""


@dataclasses.dataclass(frozen=True)
class Source:
    """One version of PACKAGE, where to fetch it and how to know it."""

    package: str
    version: str
    url: str
    size: int
    sha256: str

    @property
    def filename(self):
        """The .deb's file name, as apt names it."""
        return urllib.parse.unquote(self.url.rsplit("/", 1)[-1])


def parse_print_uris(text, package, version):
    """The Source in TEXT, the output of `apt-get download --print-uris
    PACKAGE=VERSION`."""
    for line in text.splitlines():
        m = _PRINT_URIS.match(line.strip())
        if m and m.group("file").startswith(f"{package}_"):
            return Source(package, version, m.group("url"),
                          int(m.group("size")), m.group("sha"))
    raise DebugSourceError(
        f"apt names no download for {package}={version} (its output: "
        f"{text.strip()[:200]!r}); run `apt-get update` and `make deps`")


def installed_version(package=PACKAGE):
    """The version of PACKAGE dpkg has installed."""
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status} ${Version}", package],
            capture_output=True, text=True, check=False).stdout
    except OSError as e:
        raise DebugSourceError(f"dpkg-query cannot run: {e}") from e
    words = out.split()
    if len(words) != 4 or words[2] != "installed":
        raise DebugSourceError(f"{package} is not installed: `make deps` "
                               "installs it (the debug kernel is built "
                               "from it)")
    return words[3]


def record(package=PACKAGE):
    """The Source of the installed version of PACKAGE, as apt would
    download it."""
    version = installed_version(package)
    try:
        proc = subprocess.run(
            ["apt-get", "download", "--print-uris", f"{package}={version}"],
            capture_output=True, text=True, check=False)
    except OSError as e:
        raise DebugSourceError(f"apt-get cannot run: {e}") from e
    return parse_print_uris(proc.stdout + proc.stderr, package, version)


def format_record(source):
    """SOURCE as the lines of RECORD: `field value`, one per line."""
    return "".join(f"{name} {getattr(source, name)}\n" for name in _FIELDS)


def parse_record(text):
    """The Source that TEXT (format_record()'s lines) names."""
    fields = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, value = line.strip().partition(" ")
        if name not in _FIELDS or not value or name in fields:
            raise DebugSourceError(f"{RECORD}: unexpected line {line!r}")
        fields[name] = value.strip()
    missing = [name for name in _FIELDS if name not in fields]
    if missing:
        raise DebugSourceError(f"{RECORD}: no {', '.join(missing)}")
    if not fields["size"].isdigit() or not re.fullmatch(
            r"[0-9a-f]{64}", fields["sha256"]):
        raise DebugSourceError(f"{RECORD}: a bad size or sha256")
    fields["size"] = int(fields["size"])
    return Source(**fields)


def fetch(source, directory, opener=None):
    """Download SOURCE into DIRECTORY and return the file's path, once
    its size and SHA-256 are the record's (OPENER: urlopen() or a
    stand-in for it)."""
    opener = opener or urllib.request.urlopen
    path = os.path.join(directory, source.filename)
    tmp = f"{path}.part"
    digest = hashlib.sha256()
    got = 0
    gone = (f"{source.package} {source.version} is not at {source.url} "
            f"any more (Debian's mirrors keep only the newest update). On "
            f"your machine run `apt-get update`, `make deps`, `make "
            f"debug-kernel` and `make gradescope DEBUG_KERNEL=1` again, "
            f"then upload the new autograder.zip")
    try:
        with opener(source.url, timeout=TIMEOUT) as response, \
                open(tmp, "wb") as out:
            while True:
                chunk = response.read(1 << 20)
                if not chunk:
                    break
                got += len(chunk)
                if got > source.size:
                    break
                digest.update(chunk)
                out.write(chunk)
    except urllib.error.HTTPError as e:
        _remove(tmp)
        if e.code in (404, 410):
            raise DebugSourceError(gone) from e
        raise DebugSourceError(f"{source.url}: {e}") from e
    except (OSError, urllib.error.URLError) as e:
        _remove(tmp)
        raise DebugSourceError(f"cannot download {source.url}: {e}") from e
    if got != source.size or digest.hexdigest() != source.sha256:
        _remove(tmp)
        have = (f"more than {source.size} bytes" if got > source.size else
                f"{got} bytes, SHA-256 {digest.hexdigest()}")
        raise DebugSourceError(
            f"{source.url} is not the package the instructor's kit named: "
            f"{have} (expected {source.size} bytes, SHA-256 "
            f"{source.sha256})")
    os.replace(tmp, path)
    return path


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def main(argv):
    """`fetch RECORD DIR`: download what RECORD names into DIR."""
    if len(argv) != 3 or argv[0] != "fetch":
        print("usage: python3 -m labkit.debug_source fetch RECORD DIR",
              file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            source = parse_record(f.read())
        print(fetch(source, argv[2]))
    except (OSError, DebugSourceError) as e:
        print(f"debug_source: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
