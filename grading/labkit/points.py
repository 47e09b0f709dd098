# SPDX-License-Identifier: GPL-2.0
"""Read a points file: what each test of a lab is worth.

A lab's labs/NN-name/tests/points and its hidden tests'
grading/hidden/NN-name/points share one format: one test per line,
  NAME POINTS               (a lab's own tests)
  NAME POINTS VISIBILITY    (hidden tests: Gradescope's visibility)
either followed by the word "volume" for a volume test (see VOLUME),
with blank lines and '#' comments ignored. POINTS is a whole number or
a whole number and a half (5, 12, 0.5, 2.5), nothing finer; the lab's
own tests add up to exactly LAB_TOTAL. The guest reads only the first
column (which tests exist); the host alone turns results into points
with the rest.

Points and scores are kept exact: a whole number as an int, a half as a
float (halves and their sums are exact in binary floating point, so a
total compares exactly), and every report prints them with show().
"""

import re

#: What a test's name may be (the guest also checks the names it is
#: sent: grading/guest/init).
TEST_NAME = re.compile(r"^[a-z0-9_]+$")
#: A number of points as a file or a report states it: ASCII digits,
#: then ".5" for a half.
NUMBER = r"[0-9]+(?:\.5)?"
#: The rule NUMBER stands for, for messages.
RULE = "a whole number or a whole number and a half (5, 12, 0.5, 2.5)"
#: The least a test can be worth beside 0, and so the least two scores
#: can differ by.
HALF = 0.5

#: What a lab's own tests add up to.
LAB_TOTAL = 100

#: The last word of a volume test's line. A volume test runs many
#: callers at once without ordering them, and catches a racy driver by
#: the number of calls, not by their order: whether it catches one
#: depends on the run. Its points count only when every other test of
#: the run passed (results.from_run), so that a driver another test
#: fails gets the same score in every run.
VOLUME = "volume"


class Table(list):
    """A points file's rows, [(name, points)] or [(name, points,
    visibility)], and the names of its volume tests (see VOLUME)."""

    def __init__(self, rows=(), volume=()):
        super().__init__(rows)
        #: The names of the rows marked VOLUME.
        self.volume = frozenset(volume)


class PointsError(Exception):
    """A points file that cannot be read as one."""


def value(text):
    """The number of points TEXT states (see NUMBER): an int for a whole
    number, a float for a half. ValueError for anything else: a sign,
    other decimals ("0.25", "1.0"), non-ASCII digits, spaces."""
    if not re.fullmatch(NUMBER, text):
        raise ValueError(f"not {RULE}: {text!r}")
    return float(text) if text.endswith(".5") else int(text)


def exact(number):
    """NUMBER (points, a score or a sum of them) as the kit keeps it: an
    int when it is a whole number (100.0 becomes 100), else the float."""
    return int(number) if number == int(number) else number


def show(number):
    """NUMBER of points as every report prints it: "98", "97.5", never
    "98.0"."""
    return str(exact(number))


def score_range(text):
    """(low, high) of TEXT, a score "N" or a range "LOW..HIGH" (each a
    number of points: see value), as a hostile module's "Score:" states
    it. ValueError for another text, or LOW above HIGH."""
    low, dots, high = text.partition("..")
    low = value(low.strip())
    high = value(high.strip()) if dots else low
    if low > high:
        raise ValueError(f"{text!r}: {show(low)} is above {show(high)}")
    return low, high


def out_of(score, full, width=0):
    """SCORE of FULL as reports print it, "97.5/100", with SCORE
    right-aligned in WIDTH characters."""
    return f"{show(score):>{width}}/{show(full)}"


def column_width(scores, least):
    """The characters a column of SCORES takes when shown: LEAST (the
    width of the whole numbers it is meant for), or more for a half."""
    return max([least] + [len(show(score)) for score in scores])


def parse(text, where, visibilities=None):
    """The Table in points file TEXT (named WHERE in messages):
    [(name, points)], or with VISIBILITIES (the allowed third column's
    values) [(name, points, visibility)], each row perhaps marked VOLUME.
    Raises PointsError for a line with the wrong number of words, a name
    the guest could not report, a number of points that is not a whole
    number or a half (see value), an unknown visibility or a test listed
    twice."""
    table, seen, volume = [], set(), set()
    width = 2 if visibilities is None else 3
    want = "NAME POINTS" if width == 2 else "NAME POINTS VISIBILITY"
    want += f" [{VOLUME}]"
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        bad = f"{where}:{number}: want '{want}'"
        if len(words) == width + 1 and words[-1] == VOLUME:
            words.pop()
            volume.add(words[0])
        if len(words) != width:
            raise PointsError(f"{bad}: {line.strip()!r}")
        name, points = words[0], words[1]
        if not TEST_NAME.match(name):
            raise PointsError(f"{bad}, a name of a-z, 0-9 and _: {name!r}")
        try:
            worth = value(points)
        except ValueError:
            raise PointsError(f"{bad}, POINTS {RULE}: {points!r}") from None
        if width == 3 and words[2] not in visibilities:
            raise PointsError(f"{bad}, VISIBILITY one of "
                              f"{', '.join(visibilities)}: {words[2]!r}")
        if name in seen:
            raise PointsError(f"{where}:{number}: {name} is listed twice")
        seen.add(name)
        table.append((name, worth, *words[2:]))
    return Table(table, volume)


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
    table, or None: its points must add up to LAB_TOTAL exactly."""
    total = exact(sum(row[1] for row in table))
    if total != LAB_TOTAL:
        return (f"the points of {lab} add up to {show(total)}, not "
                f"{LAB_TOTAL}")
    return None
