# SPDX-License-Identifier: GPL-2.0
"""The reference site (`make docs`): build it, and find its broken links.

The site is Doxygen's HTML in build/docs/html, made from docs/Doxyfile
after tools/mkdocpages has written the "what changed" pages. Doxygen
fails on any warning (WARN_AS_ERROR), so an undocumented function is a
failed build.
"""

import html.parser
import os
import subprocess
import urllib.parse

from . import paths

#: Where the site's pages are, once built.
HTML = os.path.join(paths.TOP, "build", "docs", "html")


def build():
    """Generate the pages and run doxygen from the top of the kit.

    Returns (ok, output lines): ok when both succeeded and doxygen printed
    nothing (it is QUIET, so anything it prints is a warning)."""
    lines = []
    for cmd in ([os.path.join(paths.TOP, "tools", "mkdocpages")],
                ["doxygen", os.path.join("docs", "Doxyfile")]):
        proc = subprocess.run(cmd, cwd=paths.TOP, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              errors="replace", check=False)
        lines += proc.stdout.splitlines()
        if proc.returncode:
            return False, lines + [f"{cmd[0]} exited with "
                                   f"{proc.returncode}"]
    return not lines, lines


class _Links(html.parser.HTMLParser):
    """Collects the href and src attributes of one page."""

    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        self.links += [v for k, v in attrs if k in ("href", "src") and v]


def broken_links(root=HTML):
    """Links between the site's own files that lead nowhere, as
    (page, link) pairs; also how many such links there are in all.
    Links with a scheme (http:, mailto:) and in-page anchors are not the
    site's own."""
    broken, count = [], 0
    for directory, _, files in os.walk(root):
        for name in sorted(files):
            if not name.endswith(".html"):
                continue
            page = os.path.join(directory, name)
            parser = _Links()
            with open(page, encoding="utf-8", errors="replace") as f:
                parser.feed(f.read())
            for link in parser.links:
                url = urllib.parse.urlparse(link)
                if url.scheme or not url.path:
                    continue
                count += 1
                target = os.path.normpath(os.path.join(
                    directory, urllib.parse.unquote(url.path)))
                if not os.path.exists(target):
                    broken.append((os.path.relpath(page, root), link))
    return broken, count
