"""Code as it appears in prompts and answers: dedented, with a name masked, bare.

A member's `code` is an exact substring of its file, so its first line starts at the
declaration while the other lines keep the file's indentation. Answers and inputs show it
dedented, keeping relative indentation; the exact text stays in the unit and its span.

Example:
    dedent_code("public int a() {\\n        return 1;\\n    }")
        -> "public int a() {\\n    return 1;\\n}"
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from functools import lru_cache

from dataprep.generate.indent import dedent_code as dedent_code  # (found here by many)
from dataprep.generate.indent import indent as _indent
from dataprep.generate.java_facts import skip_annotations


def dedent_comment(comment: str) -> str:
    """A block comment with its continuation lines aligned under its first line.

    Example: dedent_comment("/**\n     * Adds.\n     */") -> "/**\n * Adds.\n */"
    """
    lines = comment.strip().split("\n")
    return "\n".join(
        [lines[0]]
        + [(" " + ln.lstrip()) if ln.lstrip().startswith("*") else ln for ln in lines[1:]]
    )


def strip_annotations(code: str) -> str:
    """`code` without its leading annotations (what gives a test method away)."""
    return dedent_code(code[skip_annotations(code) :].lstrip())


def mask_name(code: str, name: str, mask: str = "____") -> str:
    """`code` with every whole-word occurrence of `name` replaced by `mask`.

    Example: mask_name("int size() { return size(); }", "size") -> "int ____() { ... ____(); }"
    """
    if not name:
        return code
    # what re.sub(rf"(?<![\w$]){re.escape(name)}(?![\w$])", mask, code) does, without
    # compiling a pattern for each name (more names than re's cache holds)
    out, start, size = [], 0, len(name)
    at = code.find(name)
    while at >= 0:
        end = at + size
        if (at == 0 or not _WORD_CHAR.match(code, at - 1)) and not _WORD_CHAR.match(code, end):
            out += [code[start:at], mask]
            start = end
            at = code.find(name, end)
        else:
            at = code.find(name, at + 1)
    return "".join(out) + code[start:] if out else code


_WORD_CHAR = re.compile(r"[\w$]")


FIM_MARK = "    // <FILL: the missing lines go here>"


def fim_split(code: str, key: str, semicolons: bool = True) -> tuple[str, str] | None:
    """A fill-in-the-middle task over a method: (the code with 1 to 4 whole body lines,
    braces balanced, replaced by a marker; the lines taken out), chosen by a hash of `key`;
    None for a method too short to have a middle. `semicolons`: the language ends its
    statements with `;` (Java); else (Kotlin) a statement ends on a line that leaves
    nothing open.

    Example: fim_split("int f() {\n    int a = 1;\n    a++;\n    a *= 2;\n    return a;\n}", "k")
        -> ("int f() {\n    int a = 1;\n    // <FILL...>\n    return a;\n}", "    a++;")
    """
    lines = dedent_code(code).split("\n")
    body = [i for i in range(1, len(lines) - 1) if lines[i].strip()]
    if len(body) < 4:
        return None
    spans = _spans(lines, body, semicolons)
    if not spans:
        return None
    digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")
    start, size = spans[digest % len(spans)]
    # dedented: an answer that starts with spaces merges with the prompt's last newline into
    # one token, which a prompt/completion trainer can then neither mask nor train cleanly
    middle = textwrap.dedent("\n".join(lines[start : start + size])).strip("\n")
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    masked = lines[:start] + [indent + FIM_MARK.strip()] + lines[start + size :]
    return "\n".join(masked), middle


def _spans(lines: list[str], body: list[int], semicolons: bool = True) -> list[tuple[int, int]]:
    """The (start, size) of the spans `fim_split` chooses from, by size then start: 1 to 4
    lines within the body, led by their first line (`_leads`) and balanced (`_balanced`).
    A start's spans grow a line at a time, the brackets' depths with them: a span that
    closes what it did not open spoils every longer one."""
    by_size: list[list[tuple[int, int]]] = [[], [], [], []]
    last = body[-1]
    stripped = [line.strip() for line in lines]
    shapes = [_shape(line) if _BRACKET_RE.search(line) else _FLAT for line in lines]
    bare = [_LITERAL_RE.sub('""', line) if '"' in line or "'" in line else line for line in lines]
    comment, block = _comment_lines(bare)
    code = [_code_of(line) for line in bare]
    for start in body[1:-1]:
        if stripped[start] in ("", "{", "}", "};"):
            continue
        if block[start] and block[start] == block[start - 1]:
            continue  # inside a block comment: the prompt would end mid-comment
        if _continues(code[start]) or _open_ended(_code_before(code, comment, start)):
            continue  # mid-statement: the answer would begin with `+ x` or finish `a =`
        d0 = d1 = d2 = 0
        for size in range(1, _leads(lines, start, min(4, last - start)) + 1):
            (n0, l0), (n1, l1), (n2, l2) = shapes[start + size - 1]
            if d0 + l0 < 0 or d1 + l1 < 0 or d2 + l2 < 0:
                break
            d0, d1, d2 = d0 + n0, d1 + n1, d2 + n2
            end = start + size - 1
            # an answer ends where a statement does: not on a comment, nor inside one (a
            # comment alone, `// ignore`, is no code to fill in), nor on `if (x)`, `else`,
            # `a =` or `x +`, whose statement goes on after the gap
            if not (d0 or d1 or d2) and not comment[end] and _ends(code[end], semicolons):
                if semicolons or not _continues(_code_after(code, comment, end)):
                    by_size[size - 1].append((start, size))
    return [span for spans in by_size for span in spans]


def _ends(code: str, semicolons: bool) -> bool:
    """Whether a line's code ends a statement: on `;` or `}` in Java; in Kotlin, which
    needs no `;`, on any line that leaves nothing open (`a =`, `x +`, `f(a,`, `else`)."""
    if semicolons:
        return code.endswith((";", "}"))
    return bool(code) and not _open_ended(code) and code != "else"


def _code_of(line: str) -> str:
    """A line's code (its literals already emptied), stripped, without a comment at its end.

    Example: _code_of('    x(""); // ok') -> 'x("");'
    """
    line = line.split("//", 1)[0]
    if line.rstrip().endswith("*/") and "/*" in line:
        line = line[: line.rfind("/*")]
    return line.strip()


_OPERATORS = ("+", "-", "*", "/", "&", "|", "^", "%", "?", ":", ".", "=")  # carry a statement on


def _continues(code: str) -> bool:
    """Whether a line's code carries on the statement above it (`+ x`, `.map(f)`, `? a`,
    the `else` of an `if`)."""
    if code.startswith("else") and (len(code) == 4 or not code[4].isidentifier()):
        return True
    return code.startswith(_OPERATORS) and not code.startswith(("++", "--", "//", "/*"))


def _open_ended(code: str) -> bool:
    """Whether a line's code leaves its statement open for the next line (`a =`, `x +`,
    `f(a,`), so that line cannot begin an answer."""
    if code.endswith(":"):  # `case 1:`, `default:` and labels end a line; `a ? b :` does not
        return not (code.startswith(("case ", "default")) or code[:-1].isidentifier())
    return code.endswith((*_OPERATORS, ",", "(")) and not code.endswith(("++", "--", "*/"))


def _code_before(code: list[str], comment: list[bool], at: int) -> str:
    """The code of the nearest line above `at` that holds code ("" when none)."""
    for i in range(at - 1, -1, -1):
        if code[i] and not comment[i]:
            return code[i]
    return ""


def _code_after(code: list[str], comment: list[bool], at: int) -> str:
    """The code of the nearest line below `at` that holds code ("" when none)."""
    for i in range(at + 1, len(code)):
        if code[i] and not comment[i]:
            return code[i]
    return ""


def _comment_lines(lines: list[str]) -> tuple[list[bool], list[int]]:
    """Per line (its literals already emptied): whether it holds a comment and no code,
    and the number of the block comment over several lines that it is part of (0: none).

    Example: _comment_lines(["/* a", " b */", "x(); // c", "// d"])
        -> ([True, True, False, True], [1, 1, 0, 0])
    """
    comment: list[bool] = []
    block: list[int] = []
    number, inside = 0, False
    for line in lines:
        text = line.strip()
        if inside:
            comment.append(True)
            block.append(number)
            inside = "*/" not in text
            continue
        opens = text.rfind("/*")
        if opens != -1 and "*/" not in text[opens + 2 :]:
            number += 1
            inside = True
            comment.append(opens == 0)
            block.append(number)
            continue
        comment.append(text.startswith("//") or (text.startswith("/*") and text.endswith("*/")))
        block.append(0)
    return comment, block


_LITERAL_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')
_BRACKETS = ("{}", "()", "[]")
_BRACKET_RE = re.compile(r"[{}()\[\]]")
_FLAT = ((0, 0), (0, 0), (0, 0))  # the shape of a line without brackets


@lru_cache(maxsize=8192)  # lines repeat: `}`, `return null;`, `if (x == null) {`
def _shape(line: str) -> tuple[tuple[int, int], ...]:
    """Per bracket kind, a line's net depth and the lowest depth it reaches (literals left
    out; none spans lines), so a span's balance is a sum over its lines, not a rescan."""
    found = _BRACKET_RE.findall(_LITERAL_RE.sub("", line))  # depths change only at these
    out = []
    for open_, close in _BRACKETS:
        depth = low = 0
        for ch in found:
            if ch == open_:
                depth += 1
            elif ch == close:
                depth -= 1
                low = min(low, depth)
        out.append((depth, low))
    return tuple(out)


def _leads(lines: list[str], start: int, most: int) -> int:
    """How many of the `most` lines from `start` a span may take so that its first line is
    its least indented (blank lines aside), so the dedented answer starts at column 0: an
    answer that starts with spaces merges with the prompt's last newline into one token,
    which a prompt/completion trainer can then neither mask nor train cleanly (a
    continuation line such as `.anyMatch(...)` first)."""
    first = _indent(lines[start])
    for size in range(2, most + 1):
        line = lines[start + size - 1]
        if line.strip() and _indent(line) < first:
            return size - 1
    return most


def _balanced(lines: list[str]) -> bool:
    """Whole statements: brackets balance, and it starts and ends on a statement's line."""
    text = re.sub(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'', "", "\n".join(lines))
    if lines[0].strip() in ("", "{", "}", "};") or not lines[-1].strip():
        return False
    for open_, close in ("{}", "()", "[]"):  # never closes what it did not open
        depth = 0
        for ch in text:
            depth += (ch == open_) - (ch == close)
            if depth < 0:
                return False
        if depth:
            return False
    return True
