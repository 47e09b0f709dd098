# SPDX-License-Identifier: GPL-2.0
"""Read a points file: what each test of a lab is worth.

A lab's labs/NN-name/tests/points and its hidden tests'
grading/hidden/NN-name/points share one format: one test per line,
  NAME POINTS               (a lab's own tests)
  NAME POINTS VISIBILITY    (hidden tests: Gradescope's visibility)
with blank lines and '#' comments ignored. The guest reads only the
first column (which tests exist); the host alone turns results into
points with the rest.
"""

import re

_NAME = re.compile(r"^[a-z0-9_]+$")

#: What a lab's own tests add up to.
LAB_TOTAL = 100


class PointsError(Exception):
    """A points file that cannot be read as one."""


def parse(text, where, visibilities=None):
    """The table in points file TEXT (named WHERE in messages):
    [(name, points)], or with VISIBILITIES (the allowed third column's
    values) [(name, points, visibility)]. Raises PointsError for a line
    with the wrong number of words, a name the guest could not report, a
    number of points that is not a whole number, an unknown visibility
    or a test listed twice."""
    table, seen = [], set()
    width = 2 if visibilities is None else 3
    want = "NAME POINTS" if width == 2 else "NAME POINTS VISIBILITY"
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        bad = f"{where}:{number}: want '{want}'"
        if len(words) != width:
            raise PointsError(f"{bad}: {line.strip()!r}")
        name, points = words[0], words[1]
        if not _NAME.match(name):
            raise PointsError(f"{bad}, a name of a-z, 0-9 and _: {name!r}")
        if not points.isdigit() or not points.isascii():
            raise PointsError(f"{bad}, POINTS a whole number: {points!r}")
        if width == 3 and words[2] not in visibilities:
            raise PointsError(f"{bad}, VISIBILITY one of "
                              f"{', '.join(visibilities)}: {words[2]!r}")
        if name in seen:
            raise PointsError(f"{where}:{number}: {name} is listed twice")
        seen.add(name)
        table.append((name, int(points), *words[2:]))
    return table


def read(path, visibilities=None):
    """The table of the points file PATH (see parse); PointsError when it
    is missing or malformed."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise PointsError(f"{path}: cannot read the points file: "
                          f"{e}") from e
    return parse(text, path, visibilities)


def total_problem(table, lab):
    """Why TABLE, the lab LAB's own [(name, points)], is not a lab's
    table, or None: its points must add up to LAB_TOTAL."""
    total = sum(row[1] for row in table)
    if total != LAB_TOTAL:
        return f"the points of {lab} add up to {total}, not {LAB_TOTAL}"
    return None
