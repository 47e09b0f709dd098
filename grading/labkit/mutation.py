# SPDX-License-Identifier: GPL-2.0
"""Mechanical mutation analysis: `make mutation LAB=NN` (grading/mutate).

The hand-written mutants of grading/mutants/NN-name/*.patch were written
together with the tests, so they say little about what the tests miss.
Here the mutants are made by rule instead: every statement, condition,
comparison, lock, wake-up and return value of the reference solution is
changed in turn, one change per mutant, and each mutant is built and
graded by the kit's own grading path (runner.grade, as `make check` grades
its mutants). A mutant is

  killed      when a test failed, or the run ended in crash, timeout or
              flood (a run stops at its first failed test: one is
              enough, and a mutant that hangs one test would otherwise
              hang many; --every-test runs them all);
  surviving   when it scored full marks: no test tells it from the
              solution;
  not built   when it does not compile (the compiler is the judge of
              which deletions make sense);
  equivalent  when grading/mutants/NN-name/equivalent.txt lists it, with
              one line saying why no test can tell it apart. It must
              still survive: a listed mutant that is killed is reported
              as a stale entry.

With a second kernel (Campaign's then_kver: grading/mutate's
--then-kver, by default the debug kernel when it is built), the mutants
that survive on the first are graded again there, and one killed there
counts as killed, its detail naming the kernel ("on debug: TEST"): its
fault injection, lockdep and KASAN reach what Debian's kernels cannot.

Generation is pure Python and deterministic. Each mutant has a stable id,
OP-LINE-HASH: its operator, the line of its first changed line, and six
hex digits of a hash of the original and the mutated text of the lines it
changes (not of their position), so that an equivalent.txt entry whose
line moved is still recognised (and reported as moved).

Results are cached in build/mutation/cache/ under a digest of the mutated
sources, the kernel and every input of the lab's test program and grader,
so a campaign that is interrupted, or run again after a change, grades
only what changed. The report of a lab goes to
grading/mutants/NN-name/mechanical.md (instructor-only, like the patches:
it quotes the solution), with the digests it was made from in its first
lines, which report_is_current() compares with the tree's.
"""

import concurrent.futures
import difflib
import hashlib
import json
import os
import queue
import re
import shutil
import threading
import time

from . import batch, build, kernels, paths, results, runner
from .verdicts import MutantStatus, Status, Verdict

#: Bumped whenever the rules below change what is generated: a report made
#: by another version is stale.
GENERATOR_VERSION = 1

#: The operators, in the order reports list them, with what they do.
OPERATORS = {
    "del": "delete one simple statement",
    "drop": "drop one call to a wake-up, kill_fasync, poll_wait, an "
            "unlock or a teardown function",
    "nocheck": "drop the check of a copy_*_user / kfifo_*_user result",
    "neg": "negate the condition of an if or a while",
    "relop": "swap a relational operator",
    "bound": "move the bound of a comparison by one",
    "nointr": "make an interruptible lock or wait uninterruptible",
    "retval": "return another of the usual return values",
    "retvar": "return another size-like variable of the function",
}

#: Calls whose statement the "drop" operator deletes (instead of "del").
DROP_CALLS = re.compile(
    r"^(wake_up\w*|kill_fasync|poll_wait|mutex_unlock|up|spin_unlock\w*|"
    r"misc_deregister|cdev_del|device_destroy|class_destroy|"
    r"debugfs_remove\w*|unregister_chrdev_region)$")

#: The calls whose result "nocheck" stops checking.
USER_COPY = re.compile(r"\b(copy_(?:to|from)_user|kfifo_(?:to|from)_user)"
                       r"\s*\(")

#: Interruptible calls and what "nointr" makes of them (ARGS: the call's
#: arguments). wait_event() is a statement, not an expression: it needs
#: GCC's statement expression.
UNINTERRUPTIBLE = {
    "mutex_lock_interruptible": "(mutex_lock({args}), 0)",
    "down_interruptible": "(down({args}), 0)",
    "wait_event_interruptible": "({{ wait_event({args}); 0; }})",
}
_INTERRUPTIBLE = re.compile(r"\b(" + "|".join(UNINTERRUPTIBLE) + r")\s*\(")

#: The return values "retval" swaps, and what each becomes: an error
#: becomes 0 and the error it is most often confused with; 0 becomes
#: -EAGAIN. One other error is enough to show whether a test checks the
#: exact errno of that path, and 0 whether it checks that it fails at all.
RETURN_SWAPS = {"0": ("-EAGAIN",),
                "-EAGAIN": ("0", "-ENOSPC"),
                "-ENOSPC": ("0", "-EAGAIN"),
                "-EFAULT": ("0", "-EAGAIN"),
                "-ERESTARTSYS": ("0", "-EINTR"),
                "-EINTR": ("0", "-ERESTARTSYS")}
_RETURN_VALUE = r"(-E(?:AGAIN|FAULT|NOSPC|RESTARTSYS|INTR)|0)"
#: "return V;" and "ret = V;" (a return value kept in a variable).
_RETURN_STMT = re.compile(r"\breturn\s+" + _RETURN_VALUE + r"\s*;")
_RETURN_ASSIGN = re.compile(r"\b(?:ret|err|error|retval|rc)\s*"
                            r"(?<![=!<>])=(?!=)\s*" + _RETURN_VALUE +
                            r"\s*;")

#: Size-like names "retvar" swaps in "return NAME;", when the function
#: has both (as parameters or locals of its outermost block).
SIZE_NAMES = ("count", "copied", "done", "written", "ret", "n", "len")

#: Relational operators and what "relop" makes of each: the boundary
#: (< and <=) and the negation (< and >=).
RELOP_SWAPS = {"<": ("<=", ">="), "<=": ("<", ">"), ">": (">=", "<="),
               ">=": (">", "<"), "==": ("!=",), "!=": ("==",)}
_RELOP = re.compile(r"(?<![<>=!\-])(<=|>=|==|!=|<|>)(?![<>=])")

_KEYWORDS = {"return", "goto", "break", "continue", "case", "default",
             "if", "else", "while", "for", "do", "switch", "sizeof"}
_TYPE_WORDS = {"int", "char", "long", "short", "unsigned", "signed", "void",
               "bool", "const", "volatile", "static", "struct", "enum",
               "union", "size_t", "ssize_t", "loff_t", "u8", "u16", "u32",
               "u64", "s8", "s16", "s32", "s64", "__poll_t", "dev_t",
               "umode_t"}
_DECL = re.compile(r"^(?:[A-Za-z_]\w*\s+|[A-Za-z_]\w*\s*\*+\s*)+\**"
                   r"([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*(?:=|;|,)")
_IDENT = re.compile(r"[A-Za-z_]\w*")


class MutationError(Exception):
    """A lab without a solution, or an equivalent.txt that is wrong."""


# --- Reading C ------------------------------------------------------------

def mask(text):
    """TEXT with comments, the insides of string and character literals,
    and preprocessor lines replaced by spaces (newlines kept), so that
    positions in the result are positions in TEXT."""
    out = list(text)
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c == "#":
            # A preprocessor line, with its continuation lines.
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out[i] = " "
                    i += 2
                    continue
                out[i] = " "
                i += 1
            continue
        if c == "\n":
            line_start = True
            i += 1
            continue
        if c in " \t":
            i += 1
            continue
        line_start = False
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            for j in range(i, end):
                if text[j] != "\n":
                    out[j] = " "
            i = end
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                out[i] = " "
                i += 1
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                if text[j] == "\\":
                    out[j] = " "
                    j += 1
                out[j] = " "
                j += 1
            i = j + 1
        else:
            i += 1
    return "".join(out)


def _match(masked, i):
    """The index just past the bracket that closes the one at I."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = []
    for j in range(i, len(masked)):
        c = masked[j]
        if c in pairs:
            stack.append(pairs[c])
        elif c in ")]}":
            if not stack or stack.pop() != c:
                raise MutationError(f"unbalanced {c!r} at offset {j}")
            if not stack:
                return j + 1
    raise MutationError(f"unclosed {masked[i]!r} at offset {i}")


def _prev_char(masked, i):
    """The last non-space character before I ('' if none)."""
    j = i - 1
    while j >= 0 and masked[j].isspace():
        j -= 1
    return masked[j] if j >= 0 else ""


class Function:
    """One function definition: its parameters and its body's parts."""

    def __init__(self, name, params, body_start, body_end):
        self.name = name
        #: Parameter names.
        self.params = params
        #: Offsets of the body's { and just past its }.
        self.body_start = body_start
        self.body_end = body_end
        #: Simple statements: (start, end just past the ;, depth, sole
        #: body of a brace-less if/else/while/for).
        self.statements = []
        #: Conditions of if and while: (start, end) inside the parentheses.
        self.conditions = []
        #: Names declared in the body's outermost block.
        self.locals = []


def functions(masked):
    """The function definitions in MASKED (see mask())."""
    found = []
    depth = 0
    i = 0
    while i < len(masked):
        c = masked[i]
        if c == "{" and depth == 0 and _prev_char(masked, i) == ")":
            end = _match(masked, i)
            # The parameter list: the parentheses that end before the {.
            close = masked.rindex(")", 0, i)
            level, j = 0, close
            while j >= 0:
                if masked[j] == ")":
                    level += 1
                elif masked[j] == "(":
                    level -= 1
                    if level == 0:
                        break
                j -= 1
            name = _IDENT.findall(masked[max(0, j - 80):j])
            params = [_IDENT.findall(p)[-1] for p in
                      masked[j + 1:close].split(",")
                      if _IDENT.findall(p) and p.strip() != "void"]
            fn = Function(name[-1] if name else "?", params, i, end)
            _parse_body(masked, fn)
            found.append(fn)
            i = end
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        i += 1
    return found


def _parse_body(masked, fn):
    """Fill FN's statements, conditions and locals from its body."""
    pos = fn.body_start + 1
    end = fn.body_end - 1
    depth = 1
    pending = False  # the next statement is the sole body of a control
    while pos < end:
        while pos < end and masked[pos].isspace():
            pos += 1
        if pos >= end:
            break
        c = masked[pos]
        word = _IDENT.match(masked, pos)
        word = word.group(0) if word else ""
        if c == "{":
            depth += 1
            pending = False
            pos += 1
        elif c == "}":
            depth -= 1
            pos += 1
        elif c == ";":
            pending = False
            pos += 1
        elif word in ("if", "while", "for", "switch"):
            open_ = masked.index("(", pos)
            close = _match(masked, open_)
            if word in ("if", "while"):
                fn.conditions.append((open_ + 1, close - 1))
            pending = True
            pos = close
        elif word in ("else", "do"):
            pending = True
            pos += len(word)
        elif word in ("case", "default") or (
                word and re.match(r"[A-Za-z_]\w*\s*:(?!:)", masked[pos:])):
            pos = masked.index(":", pos) + 1
        else:
            stop = _statement_end(masked, pos, end)
            if masked[stop - 1] != ";":
                # A macro with a block (list_for_each_entry(...) {): a
                # header, not a statement.
                pending = True
                pos = stop
                continue
            fn.statements.append((pos, stop, depth, pending))
            if depth == 1:
                decl = _declared(masked[pos:stop])
                if decl:
                    fn.locals.append(decl)
            pending = False
            pos = stop


def _statement_end(masked, pos, end):
    """Just past the ; that ends the statement at POS, or the position of
    a { that opens a block at its top level (a macro loop's body)."""
    i = pos
    while i < end:
        c = masked[i]
        if c in "([":
            i = _match(masked, i)
            continue
        if c == "{":
            if _prev_char(masked, i) in "=,(":
                i = _match(masked, i)
                continue
            return i
        if c == ";":
            return i + 1
        i += 1
    return end


def _declared(statement):
    """The name a declaration STATEMENT declares, or None."""
    flat = " ".join(statement.split())
    first = _IDENT.match(flat)
    if not first or first.group(0) in _KEYWORDS:
        return None
    match = _DECL.match(flat)
    if match:
        return match.group(1)
    return None


def _first_word(statement):
    match = _IDENT.match(statement.lstrip())
    return match.group(0) if match else ""


# --- Mutants --------------------------------------------------------------

class Mutant:
    """One mechanical mutant: TEXT[start:end] of FILE becomes REPLACEMENT."""

    def __init__(self, op, file, text, start, end, replacement):
        self.op = op
        self.file = file
        self.start = start
        self.end = end
        self.replacement = replacement
        self.source = text
        #: 1-based number of the first line the mutant changes.
        self.line = text.count("\n", 0, start) + 1
        first = text.rfind("\n", 0, start) + 1
        # A span of whole lines ends with its newline: stop there.
        stop = end - 1 if end > start and text[end - 1] == "\n" else end
        last = text.find("\n", stop)
        last = len(text) if last < 0 else last
        before = text[first:last]
        after = text[first:start] + replacement + text[end:last]
        #: The lines the mutant changes, before and after.
        self.before = before
        self.after = after
        key = "\0".join((op, file, " ".join(before.split()),
                         " ".join(after.split())))
        #: A hash of what changes, not of where: equivalent.txt entries
        #: follow it when the line moves.
        self.hash = hashlib.sha1(key.encode()).hexdigest()[:6]
        self.id = f"{op}-{self.line}-{self.hash}"

    @property
    def mutated(self):
        """The whole file, mutated."""
        return (self.source[:self.start] + self.replacement +
                self.source[self.end:])

    def diff(self, context=3):
        """The unified diff the mutant makes to the solution."""
        return "".join(difflib.unified_diff(
            self.source.splitlines(True), self.mutated.splitlines(True),
            f"a/{self.file}", f"b/{self.file}", n=context))

    def short_diff(self, limit=3):
        """The mutant's removed and added lines, at most LIMIT of them
        (an ellipsis says when there are more)."""
        lines = [line.rstrip("\n") for line in
                 self.diff(0).splitlines(True)[2:]
                 if line[:1] in "-+"]
        if len(lines) > limit:
            lines = lines[:limit - 1] + [f"  ... ({len(lines) - limit + 1} "
                                         f"more lines)"]
        return lines


def _span_lines(text, start, end):
    """START..END widened to whole lines (END just past the newline)."""
    first = text.rfind("\n", 0, start) + 1
    last = text.find("\n", end)
    return first, len(text) if last < 0 else last + 1


def _statement_mutants(text, masked, fn, name, skip):
    """del and drop: each simple statement that fills its own lines."""
    found = []
    for start, stop, _, sole in fn.statements:
        stmt = masked[start:stop]
        word = _first_word(stmt)
        if (word.startswith("pr_") or word.startswith("MODULE_")
                or _declared(stmt)):
            continue
        first, last = _span_lines(text, start, stop)
        if masked[first:start].strip() or masked[stop:last].strip():
            continue  # shares a line with other code
        call = re.match(r"\s*([A-Za-z_]\w*)\s*\(", stmt)
        op = "drop" if call and DROP_CALLS.match(call.group(1)) else "del"
        indent = text[first:start]
        # The sole body of a brace-less if/else/while becomes an empty
        # statement, so that the control does not take the next one.
        repl = f"{indent};\n" if sole else ""
        found.append(Mutant(op, name, text, first, last, repl))
    return found


def _condition_mutants(text, masked, fn, name, skip):
    """neg: !(condition) for each if and while."""
    return [Mutant("neg", name, text, a, b, f"!({text[a:b]})")
            for a, b in fn.conditions]


def _nocheck_mutants(text, masked, fn, name, skip):
    """nocheck: the check of a copy_*_user / kfifo_*_user result never
    holds: a condition around the call, or the first condition after the
    call's statement that reads its result, becomes (condition) && 0."""
    found = []
    body = masked[fn.body_start:fn.body_end]
    for call in USER_COPY.finditer(body):
        at = fn.body_start + call.start()
        inside = [c for c in fn.conditions if c[0] <= at < c[1]]
        if inside:
            cond = inside[-1]
        else:
            stmt = [s for s in fn.statements if s[0] <= at < s[1]]
            if not stmt:
                continue
            start, stop = stmt[0][:2]
            text_ = masked[start:stop]
            names = set()
            assign = re.match(r"\s*(?:.*?\b)?([A-Za-z_]\w*)\s*(?<![=!<>])="
                              r"(?!=)", text_)
            if assign:
                names.add(assign.group(1))
            if call.group(1).startswith("kfifo"):
                # kfifo_*_user(fifo, buf, len, &copied): copied is checked.
                open_ = at + call.end() - call.start() - 1
                args = masked[open_ + 1:_match(masked, open_) - 1]
                last = re.fullmatch(r"\s*&\s*([A-Za-z_]\w*)\s*",
                                    args.rsplit(",", 1)[-1])
                if last:
                    names.add(last.group(1))
            later = [c for c in fn.conditions if c[0] >= stop and any(
                re.search(rf"\b{re.escape(n)}\b", masked[c[0]:c[1]])
                for n in names)]
            if not later:
                continue
            cond = later[0]
        a, b = cond
        found.append(Mutant("nocheck", name, text, a, b,
                            f"({text[a:b]}) && 0"))
    return found


def _relop_mutants(text, masked, fn, name, skip):
    """relop and bound, for every comparison in the body."""
    found = []
    body = masked[fn.body_start:fn.body_end]
    for m in _RELOP.finditer(body):
        a = fn.body_start + m.start()
        b = fn.body_start + m.end()
        if skip(a):
            continue
        for other in RELOP_SWAPS[m.group(1)]:
            found.append(Mutant("relop", name, text, a, b, other))
        operand = _right_operand(masked, b, fn.body_end)
        if operand is None:
            continue
        s, e = operand
        value = text[s:e]
        if value in ("NULL", "true", "false"):
            continue
        literal = re.fullmatch(r"(0[xX][0-9a-fA-F]+|\d+)([uUlL]*)", value)
        for delta in (1, -1):
            if literal:
                number = int(literal.group(1), 0) + delta
                digits = (hex(number) if literal.group(1)[:2].lower() == "0x"
                          and number >= 0 else str(number))
                repl = digits + literal.group(2)
            elif re.fullmatch(r"[\w.\->\[\]]+(\([^()]*\))?", value):
                repl = f"{value} {'+' if delta > 0 else '-'} 1"
            else:
                repl = f"({value}) {'+' if delta > 0 else '-'} 1"
            found.append(Mutant("bound", name, text, s, e, repl))
    return found


def _right_operand(masked, i, limit):
    """(start, end) of the right operand of a comparison whose operator
    ends at I: up to a ), ], comma, ;, ?, :, &&, ||, a bitwise operator or
    another comparison at its own level."""
    while i < limit and masked[i].isspace():
        i += 1
    start = j = i
    while j < limit:
        c = masked[j]
        if c in "([":
            j = _match(masked, j)
            continue
        if c in ")],;?:{}":
            break
        pair = masked[j:j + 2]
        # &, &&, |, ||, ^ (not &=, and not a unary & opening the operand)
        if c in "&|^" and j > start and masked[j - 1] != c \
                and masked[j + 1:j + 2] != "=":
            break
        # another comparison (not ->, <<, >>)
        if pair in ("<=", ">=", "==", "!=") or (
                c in "<>" and masked[j + 1:j + 2] not in "<>="
                and masked[j - 1:j] not in "<>-"):
            break
        j += 1
    end = j
    while end > start and masked[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def _return_mutants(text, masked, fn, name, skip):
    """retval: a usual return value swapped for another (RETURN_SWAPS);
    retvar: return NAME; with another size-like name the function has."""
    found = []
    body = masked[fn.body_start:fn.body_end]
    for pattern in (_RETURN_STMT, _RETURN_ASSIGN):
        for m in pattern.finditer(body):
            a = fn.body_start + m.start(1)
            b = fn.body_start + m.end(1)
            if skip(a):
                continue
            for other in RETURN_SWAPS[m.group(1)]:
                found.append(Mutant("retval", name, text, a, b, other))
    names = set(fn.params) | set(fn.locals)
    for m in re.finditer(r"\breturn\s+([A-Za-z_]\w*)\s*;", body):
        var = m.group(1)
        if var not in SIZE_NAMES or var not in names:
            continue
        a = fn.body_start + m.start(1)
        for other in SIZE_NAMES:
            if other != var and other in names:
                found.append(Mutant("retvar", name, text, a,
                                    a + len(var), other))
    return found


def _nointr_mutants(text, masked, fn, name, skip):
    """nointr: the interruptible lock or wait becomes the plain one."""
    found = []
    body = masked[fn.body_start:fn.body_end]
    for m in _INTERRUPTIBLE.finditer(body):
        a = fn.body_start + m.start()
        open_ = fn.body_start + m.end() - 1
        close = _match(masked, open_)
        args = text[open_ + 1:close - 1]
        found.append(Mutant("nointr", name, text, a, close,
                            UNINTERRUPTIBLE[m.group(1)].format(args=args)))
    return found


_GENERATORS = (_statement_mutants, _condition_mutants, _nocheck_mutants,
               _relop_mutants, _return_mutants, _nointr_mutants)


def mutants_of(text, name):
    """Every mutant of the C source TEXT (file name NAME), sorted by line,
    then operator; duplicates (the same mutated file) only once."""
    masked = mask(text)
    found = []
    for fn in functions(masked):
        # Nothing inside a pr_*() statement is mutated: what it prints is
        # not what the device does.
        quiet = [(s, e) for s, e, _, _ in fn.statements
                 if _first_word(masked[s:e]).startswith("pr_")]

        def skip(at, quiet=quiet):
            return any(s <= at < e for s, e in quiet)

        for generate in _GENERATORS:
            found.extend(m for m in generate(text, masked, fn, name, skip)
                         if not skip(m.start) or m.op in ("del", "drop"))
    order = list(OPERATORS)
    found.sort(key=lambda m: (m.line, order.index(m.op), m.start,
                              m.replacement))
    seen = set()
    unique = []
    for mutant in found:
        key = hashlib.sha1(mutant.mutated.encode()).digest()
        if key not in seen:
            seen.add(key)
            unique.append(mutant)
    return unique


def generate(lab):
    """Every mutant of LAB's reference solution (its .c files)."""
    if not os.path.isdir(lab.solution_dir):
        raise MutationError(f"{lab.name}: no solutions/{lab.name}/")
    found = []
    for name in lab.student_files:
        if not name.endswith(".c"):
            continue
        with open(os.path.join(lab.solution_dir, name),
                  encoding="utf-8") as f:
            text = f.read()
        for mutant in mutants_of(text, name):
            if len([n for n in lab.student_files if n.endswith(".c")]) > 1:
                mutant.id = f"{name[:-2]}:{mutant.id}"
            found.append(mutant)
    return found


def sample(mutants, limit):
    """A deterministic subset of LIMIT mutants, spread over the file and
    the operators (the LIMIT smallest hashes of their ids), in order."""
    if not limit or limit >= len(mutants):
        return list(mutants)
    chosen = sorted(mutants, key=lambda m: hashlib.sha1(
        m.id.encode()).hexdigest())[:limit]
    keep = {id(m) for m in chosen}
    return [m for m in mutants if id(m) in keep]


# --- equivalent.txt -------------------------------------------------------

def equivalent_path(lab):
    """grading/mutants/NN-name/equivalent.txt."""
    return os.path.join(lab.mutants_dir, "equivalent.txt")


def read_equivalent(lab):
    """{id: why} from LAB's equivalent.txt ({} without one). One entry a
    line: the mutant's id, white space, one line saying why no test can
    tell it from the solution; # starts a comment line."""
    path = equivalent_path(lab)
    entries = {}
    if not os.path.exists(path):
        return entries
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            words = line.split(None, 1)
            if len(words) < 2 or not re.fullmatch(
                    r"(?:[\w.-]+:)?[a-z]+-\d+-[0-9a-f]{6}", words[0]):
                raise MutationError(
                    f"{path}:{number}: want 'ID WHY' (an id as "
                    f"grading/mutate --list prints it, then the reason): "
                    f"{line!r}")
            entries[words[0]] = words[1]
    return entries


def _id_parts(mutant_id):
    """(operator, hash) of an id: what survives the line moving."""
    base = mutant_id.rsplit(":", 1)[-1]
    op, _, rest = base.partition("-")
    prefix = mutant_id[:-len(base)]
    return prefix + op, rest.rsplit("-", 1)[-1]


def match_equivalent(mutants, entries):
    """Pair the equivalent.txt ENTRIES with MUTANTS: by id, or else by
    operator and hash when exactly one mutant has them (its line moved).
    Returns ({mutant id: (entry id, why)}, [entry ids matching nothing])."""
    by_id = {m.id: m for m in mutants}
    by_parts = {}
    for m in mutants:
        by_parts.setdefault(_id_parts(m.id), []).append(m)
    matched, unmatched = {}, []
    for entry, why in entries.items():
        if entry in by_id:
            matched[entry] = (entry, why)
            continue
        moved = by_parts.get(_id_parts(entry), [])
        if len(moved) == 1 and moved[0].id not in entries:
            matched[moved[0].id] = (entry, why)
        else:
            unmatched.append(entry)
    return matched, unmatched


# --- Digests --------------------------------------------------------------

def _digest_files(files, root=paths.TOP):
    h = hashlib.sha256()
    for path in sorted(files):
        if os.path.isfile(path):
            h.update(os.path.relpath(path, root).encode() + b"\0")
            with open(path, "rb") as f:
                h.update(f.read())
            h.update(b"\0")
    return h.hexdigest()


def _files_under(directory):
    if not os.path.isdir(directory):
        return []
    return [os.path.join(top, name)
            for top, _, names in os.walk(directory) for name in names]


def solution_digest(lab):
    """A digest of LAB's reference sources (solutions/NN-name/*.c, *.h)."""
    return _digest_files(os.path.join(lab.solution_dir, name)
                         for name in lab.student_files)


#: Files of a lab's tests that never decide whether a mutant is killed:
#: known-bugs (tools/mkhints) holds hints, which change a report's text;
#: points (labs/NN-name/tests/points, grading/hidden/NN-name/points)
#: holds the weights, which decide a score. A mutant is killed when a
#: test failed or the run crashed or timed out, and survives when no test
#: failed, whatever the tests are worth.
_NOT_TESTS = ("known-bugs", "points")


def tests_digest(lab):
    """A digest of LAB's tests: labs/NN-name/tests/ (test program,
    grade.sh), grading/hidden/NN-name/ and the shared test code its test
    programs are made of (build.test_code_of(): every userspace/*.c, and
    the userspace headers the lab's sources and those .c files include):
    a test body of fifo_tests.h is as much Lab 04's tests as one of its
    own file, and no part of Lab 07's, which does not include it. Not
    known-bugs nor the points files (_NOT_TESTS): hints and weights change
    a report's text or a score, never whether a mutant is killed, so
    changing them leaves the mutation reports current."""
    return _digest_files({os.path.abspath(f)
                          for f in _files_under(lab.tests_dir) +
                          _files_under(lab.hidden_dir) +
                          build.test_code_of(lab)
                          if os.path.basename(f) not in _NOT_TESTS})


def kit_digest(lab):
    """A digest of everything besides the module source that decides a
    grade (batch.kit_digest: the lab's tests, the userspace helpers, common/
    headers, the lab's Kbuild files, the guest's scripts, the VM's
    settings). Part of every cache key, with the kernel."""
    return batch.kit_digest(lab, "")


def equivalent_digest(lab):
    """A digest of LAB's equivalent.txt (of nothing, without one)."""
    return _digest_files([equivalent_path(lab)])


# --- Campaign -------------------------------------------------------------

#: What a graded mutant came to (records read back from the cache hold
#: the plain strings, which compare equal to these).
KILLED, SURVIVED, NOT_BUILT, ERROR = (MutantStatus.KILLED,
                                     MutantStatus.SURVIVED,
                                     MutantStatus.NOT_BUILT,
                                     MutantStatus.ERROR)


def cache_dir(lab):
    """Where the graded mutants of LAB are kept."""
    return os.path.join(paths.build_root(), "mutation", "cache", lab.name)


def _cache_key(lab, kver, kit, mutant):
    h = hashlib.sha256()
    for part in (kernels.identity(kver), kit, mutant.file, mutant.mutated):
        h.update(part.encode() + b"\0")
    for name in lab.student_files:
        if name != mutant.file:
            with open(os.path.join(lab.solution_dir, name), "rb") as f:
                h.update(name.encode() + b"\0" + f.read() + b"\0")
    return h.hexdigest()


def judge(result):
    """(status, detail) of a graded mutant from its LabResult: killed
    when a test failed or the run crashed, timed out or flooded,
    surviving when no test failed. The points never enter into it (see
    tests_digest)."""
    if result.verdict == Verdict.BUILD_FAILED:
        return NOT_BUILT, ""
    if result.errors or result.verdict in (Verdict.ERROR, Verdict.MISSING):
        return ERROR, "; ".join(result.errors) or str(result.verdict)
    failed = [t.name for t in result.tests if t.status != Status.PASSED]
    if result.verdict != Verdict.COMPLETE:
        return KILLED, " ".join([result.verdict] + failed)
    if failed:
        return KILLED, " ".join(failed)
    return SURVIVED, ""


class FirstFailure:
    """The on_output callback of a mutant's run (runner.grade): it notes
    the first test the autograder reports as failed ("not ok N NAME" at
    the top level of its TAP) and then asks for the run to stop there,
    since one failed test is all it takes to kill a mutant. A run with no
    failure goes to its end, and judge() decides on the whole result."""

    def __init__(self):
        #: The first failed test's name, or None.
        self.name = None
        self._partial = ""

    def __call__(self, text):
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            match = results.RESULT_LINE.match(line.rstrip("\r"))
            if match and match.group(1) == "not ok":
                self.name = self.name or match.group(2)
        return self.name is not None


def _grade_one(lab, kver, mutant, slot, stop_at_first_failure=True):
    """Write MUTANT's tree (None: the solution's) in build slot SLOT,
    grade it; return a record. A mutant's run stops at its first failed
    test unless STOP_AT_FIRST_FAILURE is False (the solution's always
    goes to its end)."""
    root = os.path.join(paths.build_root(), "mutation", "trees", kver,
                        lab.name, f"slot{slot}")
    lab_copy = os.path.join(root, lab.name)
    os.makedirs(lab_copy, exist_ok=True)
    for name in lab.student_files:
        if mutant is not None and name == mutant.file:
            with open(os.path.join(lab_copy, name), "w",
                      encoding="utf-8") as f:
                f.write(mutant.mutated)
        else:
            shutil.copyfile(os.path.join(lab.solution_dir, name),
                            os.path.join(lab_copy, name))
    start = time.monotonic()
    first = (FirstFailure() if mutant is not None and stop_at_first_failure
             else None)
    result, _ = runner.grade(lab, root, kver,
                             tag=f"mutation-{lab.number}-slot{slot}",
                             work_root=os.path.join(paths.build_root(),
                                                    "mutation", "modules"),
                             label=f"{lab.name} mutant "
                             f"{mutant.id if mutant else 'none'}",
                             on_output=first)
    if first is not None and first.name:
        status, detail = KILLED, f"{first.name} (first failure: run stopped)"
    else:
        status, detail = judge(result)
    return {"id": mutant.id if mutant else None, "status": status,
            "detail": detail,
            "verdict": result.verdict, "score": result.score,
            "max_score": result.max_score,
            "elapsed": round(time.monotonic() - start, 1)}


class Campaign:
    """Grade LAB's mechanical mutants (MUTANTS, default all) on KVER,
    JOBS at once, reusing cached results; then, with THEN_KVER, grade
    those that survived on KVER again on THEN_KVER (the debug kernel,
    whose fault injection, lockdep and KASAN reach what KVER cannot)."""

    def __init__(self, lab, kver, jobs=1, mutants=None, limit=None,
                 say=print, fresh=False, every_test=False, then_kver=None):
        self.lab = lab
        #: The kernel of the second pass, or None.
        self.then_kver = then_kver
        #: Mutants killed on THEN_KVER only (their ids).
        self.killed_then = set()
        #: Run each mutant's tests to the end, not only to the first
        #: failure (FirstFailure), to see every test that catches it.
        self.every_test = every_test
        self.kver = kver
        self.jobs = max(1, jobs)
        #: The digest of the solution the mutants are made from.
        self.solution = solution_digest(lab)[:16]
        self.all = generate(lab)
        self.mutants = mutants if mutants is not None else sample(
            self.all, limit)
        #: The sample size, when the campaign grades a sample.
        self.limit = (limit if mutants is None and limit
                      and limit < len(self.all) else None)
        self.say = say
        #: Grade again even what the cache holds (to see a flaky test).
        self.fresh = fresh
        self.records = {}
        self.graded_now = 0
        self.seconds = 0.0
        self.tests_changed = False
        #: {kit digest: None, or why the solution fails with those tests}
        self.baseline = {}

    def run(self):
        """Grade every mutant not already in the cache, then the second
        pass (then_kver); return {mutant id: record}."""
        self._run_pass()
        if self.then_kver and self.then_kver != self.kver:
            survivors = [m for m in self.mutants
                         if self.records.get(m.id, {}).get("status")
                         == SURVIVED]
            self.say(f"{self.lab.name}: {len(survivors)} mutants survived "
                     f"on {self.kver}; grading them on {self.then_kver}")
            if survivors:
                then = Campaign(self.lab, self.then_kver, self.jobs,
                                mutants=survivors, say=self.say,
                                fresh=self.fresh,
                                every_test=self.every_test)
                then.run()
                self.killed_then = merge_then(self.records, then.records,
                                              self.then_kver)
                self.graded_now += then.graded_now
                self.seconds += then.seconds
                self.tests_changed = self.tests_changed or \
                    then.tests_changed
        return self.records

    def _run_pass(self):
        """Grade, on self.kver, every mutant not already in the cache."""
        lab, kver = self.lab, self.kver
        os.makedirs(cache_dir(lab), exist_ok=True)
        kit = kit_digest(lab)
        tests = tests_digest(lab)[:16]
        todo = []
        for mutant in self.mutants:
            path = os.path.join(cache_dir(lab), _cache_key(
                lab, kver, kit, mutant) + ".json")
            try:
                if self.fresh:
                    raise OSError("graded again")
                with open(path, encoding="utf-8") as f:
                    record = json.load(f)
                record.update(id=mutant.id, cached=True, tests=tests)
                self.records[mutant.id] = record
            except (OSError, ValueError):
                todo.append(mutant)
        total = len(self.mutants)
        self.say(f"{lab.name}: {len(self.all)} mutants generated, "
                 f"{total} in this campaign"
                 f"{f' (--limit {self.limit})' if self.limit else ''}, "
                 f"{total - len(todo)} already graded, {len(todo)} to grade "
                 f"on {kver}, {self.jobs} at once")
        if not todo:
            return self.records
        # Shared build products first, so parallel runs do not race.
        build.guest_exit_program()
        build.guest_results_sync_program()
        build.test_program(lab)
        build.hidden_program(lab)
        slots = queue.Queue()
        for slot in range(self.jobs):
            slots.put(slot)
        lock = threading.Lock()
        done = [total - len(todo)]
        started = time.monotonic()

        def work(mutant):
            # The tests may change while the campaign runs (someone is
            # writing them): a result is kept, under the digest of the
            # tests it was graded with, only if they did not change while
            # it was graded, and the solution scores full marks with them.
            kit = kit_digest(lab)
            tests = tests_digest(lab)[:16]
            slot = slots.get()
            try:
                broken = self._check_solution(kit, slot)
                if broken:
                    record = {"id": mutant.id, "status": ERROR,
                              "detail": broken, "elapsed": 0.0}
                else:
                    record = _grade_one(lab, kver, mutant, slot,
                                        not self.every_test)
            finally:
                slots.put(slot)
            record["tests"] = tests
            path = os.path.join(cache_dir(lab), _cache_key(
                lab, kver, kit, mutant) + ".json")
            with lock:
                if kit_digest(lab) != kit:
                    self.tests_changed = True
                    record["tests"] = "changing"
                elif record["status"] != ERROR:
                    with open(path + ".tmp", "w", encoding="utf-8") as f:
                        json.dump(record, f, indent=1)
                    os.replace(path + ".tmp", path)
                self.records[mutant.id] = record
                self.graded_now += 1
                done[0] += 1
                detail = f" ({record['detail']})" if record["detail"] else ""
                self.say(f"[{done[0]}/{total}] {mutant.id:<22} "
                         f"{record['status']}{detail[:90]} "
                         f"{record['elapsed']:.1f}s")

        with concurrent.futures.ThreadPoolExecutor(self.jobs) as pool:
            for _ in pool.map(work, todo):
                pass
        self.seconds = time.monotonic() - started
        return self.records

    def _check_solution(self, kit, slot):
        """None when the unchanged solution scores full marks with the
        tests of digest KIT (graded once per digest, and cached), else
        why not: a mutant graded with such tests says nothing."""
        lab = self.lab
        if kit in self.baseline:
            return self.baseline[kit]
        path = os.path.join(cache_dir(lab), hashlib.sha256(
            f"{kernels.identity(self.kver)}\0{kit}\0solution\0"
            f"{solution_digest(lab)}"
            .encode()).hexdigest() + ".json")
        try:
            with open(path, encoding="utf-8") as f:
                record = json.load(f)
        except (OSError, ValueError):
            # Twice if need be: a test that fails once on the solution
            # (a flaky test, or one being written) should not void the
            # campaign; twice, it does, for this run only.
            for _ in range(2):
                self.say("grading the solution itself with these tests")
                record = _grade_one(lab, self.kver, None, slot)
                if record["status"] == SURVIVED:
                    break
            if kit_digest(lab) == kit and record["status"] == SURVIVED:
                with open(path, "w", encoding="utf-8") as f:
                    json.dump(record, f, indent=1)
        if record["status"] == SURVIVED:
            why = None
        else:
            why = (f"the solution itself is {record['status']} with these "
                   f"tests ({record['detail']})")
            self.say(f"{lab.name}: {why}: mutants graded with these tests "
                     f"are not counted")
        self.baseline[kit] = why
        return why


def merge_then(records, then_records, then_kver):
    """Put the second pass's THEN_RECORDS (graded on THEN_KVER) into
    RECORDS, the first pass's: a mutant killed there is killed, with the
    kernel named in its detail ("on debug: TEST"); a kit error there is
    a kit error (the report is then not written). A mutant that survived
    there too keeps its record. Return the ids killed there."""
    killed = set()
    for mutant_id, then in then_records.items():
        if then["status"] in (KILLED, ERROR):
            record = dict(then)
            record["kver"] = then_kver
            record["detail"] = f"on {then_kver}: {then['detail']}"
            records[mutant_id] = record
            if then["status"] == KILLED:
                killed.add(mutant_id)
    return killed


# --- Report ---------------------------------------------------------------

def report_path(lab):
    """grading/mutants/NN-name/mechanical.md: instructor-only, as it
    quotes the solution."""
    return os.path.join(lab.mutants_dir, "mechanical.md")


_STAMP = re.compile(r"^<!-- mutation-report (.*) -->$", re.M)


def _stamp(lab, tests=None, solution=None):
    """The digests a report is made from, as key=value words (TESTS and
    SOLUTION: those digests, if not the tree's)."""
    return {"generator": str(GENERATOR_VERSION),
            "solution": solution or solution_digest(lab)[:16],
            "tests": tests or tests_digest(lab)[:16],
            "equivalent": equivalent_digest(lab)[:16]}


def graded_with(campaign):
    """The digest of the tests the campaign's mutants were graded with,
    or "mixed" when they were not all graded with the same tests."""
    seen = {r.get("tests") for r in campaign.records.values()}
    return seen.pop() if len(seen) == 1 else "mixed"


def summarize(campaign):
    """The classification of a campaign's mutants: a dict of lists of
    (mutant, record, extra) and the stale equivalent.txt entries."""
    lab = campaign.lab
    entries = read_equivalent(lab)
    matched, unmatched = match_equivalent(campaign.all, entries)
    groups = {k: [] for k in ("killed", "not built", "equivalent",
                              "surviving", "error", "stale")}
    for mutant in campaign.mutants:
        record = campaign.records.get(mutant.id)
        if record is None:
            continue
        status = record["status"]
        entry = matched.get(mutant.id)
        if entry and status == SURVIVED:
            groups["equivalent"].append((mutant, record, entry))
            continue
        if entry:
            groups["stale"].append((mutant, record, entry))
        key = {SURVIVED: "surviving", KILLED: "killed",
               NOT_BUILT: "not built", ERROR: "error"}[status]
        groups[key].append((mutant, record, entry))
    for mutant_id, entry in matched.items():
        if entry[0] != mutant_id:
            groups["stale"].append((None, {"id": mutant_id}, entry))
    for entry in unmatched:
        groups["stale"].append((None, {"id": None}, (entry,
                                                     entries[entry])))
    return groups


def summary_line(campaign, groups):
    """The one line the campaign ends with."""
    built = (len(campaign.records) - len(groups["not built"]) -
             len(groups["error"]))
    sampled = (f" (sample, --limit {campaign.limit})" if campaign.limit
               else "")
    line = (f"{campaign.lab.name}: {len(campaign.all)} generated, "
            f"{len(campaign.records)} graded{sampled}, {built} built, "
            f"{len(groups['killed'])} killed{_then_part(campaign)}, "
            f"{len(groups['equivalent'])} equivalent, "
            f"{len(groups['surviving'])} surviving")
    if groups["error"]:
        line += f", {len(groups['error'])} kit errors"
    if groups["stale"]:
        line += f", {len(groups['stale'])} stale equivalent.txt entries"
    return line


def _then_part(campaign):
    """The words ' (N of them only on KVER)' for a campaign with a second
    pass; '' without one."""
    if not campaign.then_kver:
        return ""
    return (f" ({len(campaign.killed_then)} of them only on "
            f"{campaign.then_kver})")


def write_report(campaign, groups):
    """Write LAB's report (report_path); return its path."""
    lab = campaign.lab
    stamp = _stamp(lab, graded_with(campaign), campaign.solution)
    out = []
    out.append(f"# Mechanical mutants of {lab.name}\n")
    out.append("<!-- mutation-report " + " ".join(
        f"{k}={v}" for k, v in stamp.items()) + " -->\n")
    out.append(f"Made by `make mutation LAB={lab.number}` "
               f"(grading/mutate; docs/mutation.md says how to read it) "
               f"on {campaign.kver}, from solutions/{lab.name} "
               f"(digest `{stamp['solution']}`) and the lab's tests "
               f"(labs/{lab.name}/tests, grading/hidden/{lab.name} and "
               f"the shared test code it is built with, userspace/*.c "
               f"and the userspace headers these include: "
               f"digest `{stamp['tests']}`).")
    if campaign.then_kver:
        out.append(f" The mutants that survived on {campaign.kver} were "
                   f"graded again on {campaign.then_kver}; a mutant "
                   f"killed only there says so (\"on "
                   f"{campaign.then_kver}: ...\").")
    else:
        out.append(" No second kernel: a mutant that only the debug "
                   "kernel's checks or fault injection can kill survives "
                   "here.")
    if stamp["tests"] == "mixed" or campaign.tests_changed:
        out.append(" The tests changed during the run, so the mutants "
                   "were not all graded with the same tests (the report "
                   "counts as stale): run it again.")
    out.append("\n\n")
    built = (len(campaign.records) - len(groups["not built"]) -
             len(groups["error"]))
    scope = (f"{len(campaign.records)}: a deterministic sample "
             f"(`--limit {campaign.limit}`)" if campaign.limit
             else f"{len(campaign.records)}: all")
    out.append("| | |\n|---|---|\n")
    for label, value in (("generated", len(campaign.all)),
                         ("graded", scope), ("built", built),
                         ("not built", len(groups["not built"])),
                         ("killed", len(groups["killed"])),
                         *([(f"of which killed only on "
                             f"{campaign.then_kver}",
                             len(campaign.killed_then))]
                           if campaign.then_kver else []),
                         ("equivalent", len(groups["equivalent"])),
                         ("surviving", len(groups["surviving"])),
                         ("kit errors", len(groups["error"])),
                         ("stale equivalent.txt entries",
                          len(groups["stale"]))):
        out.append(f"| {label} | {value} |\n")

    out.append("\n## Surviving mutants\n\n")
    if not groups["surviving"]:
        out.append("None.\n")
    for mutant, _, _ in groups["surviving"]:
        out.append(f"- `{mutant.id}` (line {mutant.line}, "
                   f"{OPERATORS[mutant.op]}):\n\n  ```diff\n")
        out.extend(f"  {line}\n" for line in mutant.short_diff())
        out.append("  ```\n")

    out.append("\n## Equivalent mutants (equivalent.txt)\n\n")
    if not groups["equivalent"]:
        out.append("None.\n")
    for mutant, _, (entry, why) in groups["equivalent"]:
        out.append(f"- `{mutant.id}` (line {mutant.line}): {why}\n")

    if groups["stale"]:
        out.append("\n## Stale equivalent.txt entries\n\n")
        for mutant, record, (entry, *why) in groups["stale"]:
            if mutant is not None:
                by = f" by {record['detail']}" if record["detail"] else ""
                out.append(f"- `{entry}`: listed as equivalent, but "
                           f"{record['status']}{by}\n")
            elif record["id"]:
                out.append(f"- `{entry}`: the mutant is now "
                           f"`{record['id']}` (its line moved): update "
                           f"the id\n")
            else:
                out.append(f"- `{entry}`: matches no mutant (or, its "
                           f"line gone, several: give the current id)\n")

    out.append("\n## By operator\n\n| operator | graded | not built | "
               "killed | equivalent | surviving |\n|---|---|---|---|---|"
               "---|\n")
    for op in OPERATORS:
        counts = [sum(1 for m, _, _ in groups[g] if m and m.op == op)
                  for g in ("not built", "killed", "equivalent",
                            "surviving")]
        graded = sum(1 for m in campaign.mutants
                     if m.op == op and m.id in campaign.records)
        if graded:
            out.append(f"| {op}: {OPERATORS[op]} | {graded} | " +
                       " | ".join(str(c) for c in counts) + " |\n")

    out.append("\n## Every graded mutant\n\nA mutant's run stops at its "
               "first failed test, unless the campaign was run with "
               "`--every-test`.\n\n| id | status | failed tests "
               "or verdict |\n|---|---|---|\n")
    for mutant in campaign.mutants:
        record = campaign.records.get(mutant.id)
        if record:
            out.append(f"| `{mutant.id}` | {record['status']} | "
                       f"{record['detail']} |\n")
    path = report_path(lab)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write("".join(out))
    os.replace(path + ".tmp", path)
    return path


def report_is_current(lab):
    """(True, why) when LAB's report was made from the solution, tests,
    equivalent.txt and generator of this tree; else (False, why)."""
    path = report_path(lab)
    rel = os.path.relpath(path, paths.TOP)
    try:
        with open(path, encoding="utf-8") as f:
            match = _STAMP.search(f.read(4096))
    except OSError:
        return False, (f"no {rel}: run make mutation LAB={lab.number}")
    if not match:
        return False, f"{rel} has no mutation-report stamp"
    made = dict(word.split("=", 1) for word in match.group(1).split()
                if "=" in word)
    now = _stamp(lab)
    changed = [k for k in now if made.get(k) != now[k]]
    if changed:
        return False, (f"{rel} is stale: {', '.join(changed)} changed "
                       f"since it was made; run make mutation "
                       f"LAB={lab.number}")
    return True, f"{rel} is current"
