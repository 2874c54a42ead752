"""Indentation of a member's code: a member's `code` is an exact substring of its file, so
its first line starts at the declaration while the other lines keep the file's columns.
`dedent_code` takes the first line's column off the others, read from the code itself;
`dedent_by` takes off a column known from elsewhere (the member's Javadoc).

Example: dedent_code("public int a() {\\n        return 1;\\n    }")
    -> "public int a() {\\n    return 1;\\n}"
"""

from __future__ import annotations

import re
from functools import lru_cache

_CLOSING = re.compile(r"^[ \t]*[)}\]]")
_CONTINUATION = 4  # relative indent kept for continuation lines when the base is unknown


def indent(line: str) -> int:
    """The width of a line's leading whitespace."""
    return len(line) - len(line.lstrip())


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
        return indent(rest[-1])
    if lines[0].lstrip().startswith("@") and not lines[0].rstrip().endswith((",", "(")):
        return indent(rest[0])
    return max(0, min(indent(ln) for ln in rest) - _CONTINUATION)


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
        cut = min(base, indent(line))
        out.append(line[cut:])
    return "\n".join(out)


def dedent_by(code: str, base: int) -> str:
    """`code` with up to `base` columns of leading space taken off every line but the first.

    Example: dedent_by("f(int a,\\n        int b)", 4) -> "f(int a,\\n    int b)"
    """
    lines = code.split("\n")
    return "\n".join([lines[0], *(line[min(base, indent(line)) :] for line in lines[1:])])
