"""Comments in Java source text: where they are, and a declaration without them.

A unit's `code` is exact, comments included; its `declaration` (and the signature the
templates read from a header) must not carry a remark such as `@Override // why`. Both
Java parsers and dataprep.generate.java_facts use these helpers on the same text, so
they agree.

Example: without_comments("@Override // why\\n    public int f()")
-> "@Override\\n    public int f()"
"""

from __future__ import annotations

import re

_START = re.compile(r"[\"'/]")  # what can open a literal or a comment
_LINE_END = re.compile(r"[\r\n]")
_MARK = "\x00"  # where a comment was, while the lines around it are tidied
_AROUND_MARK = re.compile(r"[ \t]*(?:\x00[ \t]*)+")
_NO_SPACE_AFTER = frozenset("([<{.@")
_NO_SPACE_BEFORE = frozenset(")]>},;.")


def comment_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every `//` and `/* */` comment outside string, text block and
    character literals (a line comment ends before its line end; an unclosed one at the text's end).

    Example: comment_spans('f("//x"); // y') -> [(10, 14)]
    """
    spans: list[tuple[int, int]] = []
    n, i = len(text), 0
    while (found := _START.search(text, i)) is not None:
        i = found.start()
        ch = text[i]
        if ch == "/":
            after = text[i + 1 : i + 2]
            if after == "/":
                newline = _LINE_END.search(text, i)
                end = n if newline is None else newline.start()
            elif after == "*":
                end = text.find("*/", i + 2)
                end = n if end < 0 else end + 2
            else:
                i += 1
                continue
            spans.append((i, end))
            i = end
        elif text.startswith('"""', i):
            i = _text_block_end(text, i + 3)
        else:
            i = _literal_end(text, i)
    return spans


def _text_block_end(text: str, i: int) -> int:
    """Index past the `\"\"\"` that closes a text block whose content starts at i."""
    n = len(text)
    while i < n:
        if text[i] == "\\":
            i += 2
        elif text.startswith('"""', i):
            return i + 3
        else:
            i += 1
    return n


def _literal_end(text: str, i: int) -> int:
    """Index past the string or character literal opening at i (it ends at its line)."""
    quote, n, i = text[i], len(text), i + 1
    while i < n and text[i] != quote and text[i] != "\n":
        i += 2 if text[i] == "\\" else 1
    return min(i + 1, n)


def without_comments(text: str) -> str:
    """`text` with its comments taken out: a line that held only comments goes, a comment
    at a line's end goes with the blanks before it, one between two words leaves a space.

    Example: without_comments("@Deprecated /* x */ public int g(int /* a */ a)")
    -> "@Deprecated public int g(int a)"
    """
    if "/" not in text or _MARK in text:
        return text
    spans = comment_spans(text)
    if not spans:
        return text
    parts, pos = [], 0
    for start, end in spans:
        parts += [text[pos:start], _MARK]
        pos = end
    parts.append(text[pos:])
    lines = []
    for line in "".join(parts).split("\n"):
        if _MARK in line:
            line = _AROUND_MARK.sub(_gap, line)
            if not line.strip():
                continue  # the line held comments only
        lines.append(line)
    return "\n".join(lines)


def _gap(match: re.Match[str]) -> str:
    """What stands where comments (and the blanks around them) were taken out of a line."""
    line = match.string
    left = line[: match.start()].replace(_MARK, "")
    right = line[match.end() :].replace(_MARK, "")
    if not left.strip():
        return match.group()[: len(match.group()) - len(match.group().lstrip(" \t"))]
    if not right.strip():
        return ""
    if left[-1] in _NO_SPACE_AFTER or right[0] in _NO_SPACE_BEFORE:
        return ""
    return " "
