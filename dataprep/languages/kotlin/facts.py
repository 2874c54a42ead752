"""Facts the template generator reads from Kotlin units (the Java ones are in
dataprep.generate.java_facts): each is text of the source as written."""

from __future__ import annotations

import re

from dataprep.models import Unit

CALLABLE_KINDS = ("method", "function", "constructor")
_ANNOTATION = re.compile(r"@(?:[A-Za-z_]\w*:)?[A-Za-z_][\w.]*\s*")


def signature_of(unit: Unit) -> str | None:
    """A function's or constructor's header as written, without annotations and body.

    Example: a unit with declaration "@Test\\nfun cancels(id: Long): Boolean"
    -> "fun cancels(id: Long): Boolean"
    """
    if unit.kind not in CALLABLE_KINDS or not unit.declaration:
        return None
    return skip_annotations(unit.declaration).rstrip() or None


def skip_annotations(code: str) -> str:
    """`code` without its leading annotations (`@Name`, `@get:Name`, with arguments).

    Example: skip_annotations('@Suppress("x") @JvmStatic fun f()') -> "fun f()"
    """
    i = 0
    while True:
        while i < len(code) and code[i].isspace():
            i += 1
        match = _ANNOTATION.match(code, i)
        if match is None:
            return code[i:]
        i = match.end()
        if code.startswith("(", i):
            i = _close(code, i) + 1


def _close(code: str, i: int) -> int:
    """Index of the `)` matching the `(` at i, skipping string and char literals."""
    depth = 0
    while i < len(code):
        ch = code[i]
        if ch in "\"'":
            quote = '"""' if code.startswith('"""', i) else ch
            end = code.find(quote, i + len(quote))
            while quote != '"""' and end > 0 and code[end - 1] == "\\":
                end = code.find(quote, end + 1)
            i = len(code) if end < 0 else end + len(quote)
            continue
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return i
        i += 1
    return len(code) - 1
