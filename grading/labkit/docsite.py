# SPDX-License-Identifier: GPL-2.0
"""The reference site (`make docs`): build it, find its broken links, and
look at it in a real browser.

The site is Doxygen's HTML in build/docs/html, made from docs/Doxyfile
after tools/mkdocpages has written the "what changed" pages. Doxygen
fails on any warning (WARN_AS_ERROR), so an undocumented function is a
failed build.
"""

import html.parser
import os
import re
import shutil
import struct
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


#: Where the browser test leaves its screenshots.
SCREENSHOTS = os.path.join(paths.TOP, "build", "docs", "screenshots")

#: The pages the browser test opens: (screenshot name, page, texts the
#: rendered page must show). "What changed in Lab 07" is only in the
#: navigation tree, which the site's JavaScript builds: seeing it means the
#: scripts ran.
BROWSER_PAGES = (
    ("main", "index.html",
     ("The stages", "/dev/mypipe/mypipe_in", "What changed in Lab 07")),
    ("lab04", "md_labs_04_blocking_README.html",
     ("Lab 04", "wait_event_interruptible", "What changed in Lab 07")),
)

#: Screenshot size, and the smallest PNG a page with content makes.
WINDOW = (1280, 900)
MIN_PNG_BYTES = 20000


def _chromium(args, url):
    """Run headless Chromium on URL with ARGS, letting the page's scripts
    run for up to 5 s of virtual time. Returns (stdout, stderr)."""
    cmd = ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
           "--hide-scrollbars", f"--window-size={WINDOW[0]},{WINDOW[1]}",
           "--virtual-time-budget=5000", "--enable-logging=stderr",
           "--v=0", *args, url]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          errors="replace", timeout=120, check=False)
    return proc.stdout, proc.stderr


def _png_size(path):
    """(width, height) of the PNG at PATH, or None if it is not one."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def browser_check(root=HTML, shots=SCREENSHOTS):
    """Open BROWSER_PAGES in headless Chromium: take a screenshot of each
    into SHOTS, and check that each rendered page shows its texts, that
    its scripts raised no error, and that every link of the rendered page
    (the navigation tree included) that stays in the site leads to a file.
    Returns (ok, details)."""
    if not shutil.which("chromium"):
        return False, ["chromium is not installed: run `make deps`"]
    os.makedirs(shots, exist_ok=True)
    ok, details = True, []
    for name, page, texts in BROWSER_PAGES:
        path = os.path.join(root, page)
        url = "file://" + urllib.parse.quote(path)
        shot = os.path.join(shots, f"{name}.png")
        if os.path.exists(shot):
            os.unlink(shot)
        _chromium([f"--screenshot={shot}"], url)
        size = _png_size(shot)
        if size != WINDOW or os.path.getsize(shot) < MIN_PNG_BYTES:
            ok = False
            details.append(f"{page}: no screenshot of {WINDOW[0]}x"
                           f"{WINDOW[1]} with content (got {size})")
        dom, log = _chromium(["--dump-dom"], url)
        for text in texts:
            if text not in dom:
                ok = False
                details.append(f"{page}: the rendered page lacks {text!r}")
        errors = [line for line in log.splitlines()
                  if re.search(r":CONSOLE[:(]", line) and
                  re.search(r"Uncaught|Error", line)]
        if errors:
            ok = False
            details += [f"{page}: script error: {e}" for e in errors[:5]]
        parser = _Links()
        parser.feed(dom)
        local = [link for link in parser.links
                 if not urllib.parse.urlparse(link).scheme
                 or link.startswith("file:")]
        dead = []
        for link in local:
            target = urllib.parse.unquote(urllib.parse.urlparse(link).path)
            if target and not os.path.exists(os.path.normpath(
                    os.path.join(root, target))):
                dead.append(link)
        if dead:
            ok = False
            details += [f"{page}: broken link {link}" for link in dead[:10]]
        details.append(f"{page}: screenshot {os.path.relpath(shot, paths.TOP)}"
                       f", {len(local)} links in the rendered page")
    return ok, details
