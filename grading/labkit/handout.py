# SPDX-License-Identifier: GPL-2.0
"""A lab's handout (labs/NN-name/README.md) must say what each test is
worth as the lab's points file does.

The handout's table of tests has rows "| TESTS | POINTS | CHECKS |".
TESTS is one test name in backquotes, or several separated by commas
with POINTS "N each" ("`module_loads`, `module_unloads`, ... | 5 each");
those rows are compared with the points file. A row that names its
tests in words ("the shared FIFO tests (56) | 0.5 each") is not. Other
tables (the rules and their tests) have no number in their second cell
and are left alone.
"""

import re

from . import points as points_file

_ROW = re.compile(r"^\|\s*(`[a-z0-9_]+`(?:\s*,\s*`[a-z0-9_]+`)*)\s*\|"
                  rf"\s*({points_file.NUMBER})(\s+each)?\s*\|")
_NAME = re.compile(r"`([a-z0-9_]+)`")


def stated(text):
    """[(test name, points, line number)] for every test a row of TEXT,
    a handout, gives a number of points."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _ROW.match(line)
        if not match:
            continue
        names = _NAME.findall(match.group(1))
        if len(names) > 1 and not match.group(3):
            continue    # "| `a`, `b` | 5 |": points for the pair, not each
        worth = points_file.value(match.group(2))
        found.extend((name, worth, number) for name in names)
    return found


def mismatches(text, table, where):
    """Why TEXT, the handout WHERE, disagrees with TABLE, the lab's own
    points [(name, points)]: one line per test it gives other points than
    TABLE, or names that TABLE does not have."""
    worth = dict(table)
    problems = []
    for name, value, number in stated(text):
        if name not in worth:
            problems.append(f"{where}:{number}: {name} has "
                            f"{points_file.show(value)} points in the "
                            f"handout but is not in the points file")
        elif worth[name] != value:
            problems.append(f"{where}:{number}: {name} has "
                            f"{points_file.show(value)} points in the "
                            f"handout, {points_file.show(worth[name])} in "
                            f"the points file")
    return problems
