# SPDX-License-Identifier: GPL-2.0
"""Where the kit's tree, build output and caches live."""

import os

#: The kit's top-level directory (this file is grading/labkit/paths.py).
TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def cache_dir():
    """Per-user cache shared by every clone: vmlinux images, kernel tools."""
    base = os.environ.get("LABKIT_CACHE")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(
            os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "chardev-labkit")
    return base


def build_root():
    """The clone's own build output (make clean removes it)."""
    return os.environ.get("LABKIT_BUILD") or os.path.join(TOP, "build")
