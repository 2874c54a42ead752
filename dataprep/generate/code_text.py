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

from dataprep.generate.java_facts import skip_annotations

_CLOSING = re.compile(r"^[ \t]*[)}\]]")
_CONTINUATION = 4  # relative indent kept for continuation lines when the base is unknown


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _base_indent(lines: list[str]) -> int:
    """The indentation the first line had in its file, read from the other lines.

    A declaration that ends with a closing brace ends at its own indentation; one whose
    first line is an annotation continues at it on the next line; otherwise the other lines
    are continuations, indented one step further than the declaration.
    """
    rest = [ln for ln in lines[1:] if ln.strip()]
    if not rest:
        return 0
    if _CLOSING.match(rest[-1]):
        return _indent(rest[-1])
    if lines[0].lstrip().startswith("@") and not lines[0].rstrip().endswith((",", "(")):
        return _indent(rest[0])
    return max(0, min(_indent(ln) for ln in rest) - _CONTINUATION)


@lru_cache(maxsize=256)  # one unit's code is dedented for several tasks
def dedent_code(code: str) -> str:
    """`code` with the indentation its first line had removed from every other line."""
    lines = code.split("\n")
    if len(lines) < 2:
        return code
    base = _base_indent(lines)
    if base == 0:
        return code
    out = [lines[0]]
    for line in lines[1:]:
        cut = min(base, _indent(line))
        out.append(line[cut:])
    return "\n".join(out)


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


def fim_split(code: str, key: str) -> tuple[str, str] | None:
    """A fill-in-the-middle task over a method: (the code with 1 to 4 whole body lines,
    braces balanced, replaced by a marker; the lines taken out), chosen by a hash of `key`;
    None for a method too short to have a middle.

    Example: fim_split("int f() {\n    int a = 1;\n    a++;\n    a *= 2;\n    return a;\n}", "k")
        -> ("int f() {\n    int a = 1;\n    // <FILL...>\n    return a;\n}", "    a++;")
    """
    lines = dedent_code(code).split("\n")
    body = [i for i in range(1, len(lines) - 1) if lines[i].strip()]
    if len(body) < 4:
        return None
    shapes = [_shape(line) for line in lines]
    spans = [
        (start, size)
        for size in range(1, 5)
        for start in body[1:-1]
        if start + size <= body[-1]
        and _balanced_span(lines, shapes, start, size)
        and _leads(lines[start : start + size])
    ]
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


_LITERAL_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')
_BRACKETS = ("{}", "()", "[]")
_BRACKET_RE = re.compile(r"[{}()\[\]]")


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


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _leads(lines: list[str]) -> bool:
    """The span's first line is its least indented, so the dedented answer starts at column
    0: an answer that starts with spaces merges with the prompt's last newline into one
    token, which a prompt/completion trainer can then neither mask nor train cleanly (a
    continuation line such as `.anyMatch(...)` first)."""
    first = _indent(lines[0])
    return all(_indent(line) >= first for line in lines[1:] if line.strip())


def _balanced_span(lines: list[str], shapes: list, start: int, size: int) -> bool:
    """`_balanced(lines[start:start + size])` from the lines' shapes."""
    if lines[start].strip() in ("", "{", "}", "};") or not lines[start + size - 1].strip():
        return False
    for kind in range(len(_BRACKETS)):
        depth = 0
        for i in range(start, start + size):
            net, low = shapes[i][kind]
            if depth + low < 0:
                return False
            depth += net
        if depth:
            return False
    return True


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
