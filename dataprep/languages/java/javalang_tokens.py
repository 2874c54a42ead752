"""javalang's tokens with character offsets and matched brackets, for the javalang backend.

javalang's tree gives start positions only; these helpers find where declarations,
annotations, type arguments and comment gaps begin and end, by token index.
"""

from __future__ import annotations

import re

import javalang
from javalang.tokenizer import JavaTokenizer

MODIFIERS = frozenset(
    "public protected private static abstract final native synchronized transient "
    "volatile strictfp default".split()
)
_OPEN = {"(": ")", "[": "]", "{": "}"}


class ExactTokenizer(JavaTokenizer):
    """javalang's tokenizer without its unicode-escape decoding, so that every
    token's position indexes the text exactly as written (escapes inside string and
    character literals are still read as part of the literal)."""

    def pre_tokenize(self) -> None:
        self.data = self.decode_data()
        self.length = len(self.data)


class Tokens:
    """The token list of one file with character offsets and matched brackets."""

    def __init__(self, text: str):
        self.text = text
        # a byte-order mark is no token; a blank of the same length keeps the offsets
        scan = " " + text[1:] if text.startswith("\ufeff") else text
        self.toks = list(ExactTokenizer(scan).tokenize())
        line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.starts: list[int] = []
        for tok in self.toks:
            line, column = tok.position
            offset = line_starts[line - 1] + column - 1
            if "\n" in tok.value:  # a text block read as strings: positions drift from here
                raise Unreadable(line, "a text block")
            if not text.startswith(tok.value, offset):
                raise Unreadable(line, "token positions do not match the text")
            self.starts.append(offset)
        self.index = {tok.position: i for i, tok in enumerate(self.toks)}
        self.match = self._match_brackets()

    def _match_brackets(self) -> dict[int, int]:
        match: dict[int, int] = {}
        stack: list[int] = []
        for i, tok in enumerate(self.toks):
            value = tok.value
            if value in _OPEN and is_separator(tok):
                stack.append(i)
            elif value in (")", "]", "}") and is_separator(tok) and stack:
                j = stack.pop()
                match[i], match[j] = j, i
        return match

    def value(self, i: int) -> str:
        return self.toks[i].value if 0 <= i < len(self.toks) else ""

    def end(self, i: int) -> int:
        """Character offset just past token i."""
        return self.starts[i] + len(self.toks[i].value)

    def slice(self, first: int, last: int) -> str:
        """The exact text from token `first` to token `last`, inclusive."""
        return self.text[self.starts[first] : self.end(last)]

    def line(self, i: int) -> int:
        return self.toks[i].position[0]

    def at(self, position) -> int:
        return self.index[tuple(position)]

    def skip_group(self, i: int) -> int:
        """Index past the bracket group opening at i (or i + 1 for any other token)."""
        return self.match.get(i, i) + 1

    def find(self, i: int, stops: tuple[str, ...], skip: tuple[str, ...] = ("(", "[")) -> int:
        """First index >= i whose token is in `stops`, jumping over groups opened by `skip`."""
        n = len(self.toks)
        while i < n:
            value = self.toks[i].value
            if value in stops and is_separator(self.toks[i]):
                return i
            i = self.skip_group(i) if value in skip and i in self.match else i + 1
        raise Unreadable(self.line(n - 1) if n else 1)

    def decl_start(self, i: int) -> int:
        """Walk back from token i over the modifiers and annotations in front of it."""
        j = i - 1
        while j >= 0:
            tok = self.toks[j]
            if tok.value in MODIFIERS and not isinstance(tok, javalang.tokenizer.Identifier):
                j -= 1
                continue
            k = j
            if tok.value == ")" and j in self.match:
                k = self.match[j] - 1
            k = self._qualified_name_start(k)
            if k is not None and self.value(k - 1) == "@":
                j = k - 2
                continue
            break
        return j + 1

    def _qualified_name_start(self, k: int) -> int | None:
        if not isinstance(self.toks[k], javalang.tokenizer.Identifier):
            return None
        while self.value(k - 1) == "." and isinstance(
            self.toks[k - 2] if k >= 2 else None, javalang.tokenizer.Identifier
        ):
            k -= 2
        return k

    def annotation_end(self, i: int) -> int:
        """The last token of the annotation whose `@` is token i."""
        j = i + 1
        while self.value(j + 1) == ".":
            j += 2
        if self.value(j + 1) == "(":
            j = self.match[j + 1]
        return j

    def angle_end(self, i: int) -> int:
        """The `>` closing the `<` at token i (javalang splits `>>` into two tokens)."""
        depth = 0
        while i < len(self.toks):
            value = self.value(i)
            if value == "<":
                depth += 1
            elif value == ">":
                depth -= 1
                if depth == 0:
                    return i
            i = self.skip_group(i) if value in ("(", "[") else i + 1
        raise Unreadable(self.line(i - 1))

    def split_commas(self, first: int, last: int) -> list[tuple[int, int]]:
        """Token ranges between the top-level commas of first..last (generics kept whole)."""
        parts, start, depth, i = [], first, 0, first
        while i <= last:
            value = self.value(i)
            if value == "<":
                depth += 1
            elif value == ">":
                depth -= 1
            elif value == "," and depth == 0:
                parts.append((start, i - 1))
                start = i + 1
            i = self.skip_group(i) if value in ("(", "[", "{") else i + 1
        if start <= last:
            parts.append((start, last))
        return parts

    def comments(self, start: int, end: int) -> list[tuple[int, int]]:
        """Block comments in a gap between two tokens, as (start, end) offsets."""
        text, found, i = self.text, [], start
        while i < end:
            if text.startswith("//", i):
                newline = text.find("\n", i)
                i = end if newline < 0 else newline + 1
            elif text.startswith("/*", i):
                close = text.find("*/", i + 2)
                found.append((i, end if close < 0 else close + 2))
                i = found[-1][1]
            else:
                i += 1
        return found


class Unreadable(Exception):
    """Syntax javalang's parser lets through but misreads (a text block, a nested
    record), or a declaration whose extent the tokens do not show."""

    def __init__(self, line: int, what: str = "cannot find a declaration's extent"):
        super().__init__(line, what)
        self.line = line
        self.what = what


def is_separator(tok) -> bool:
    return isinstance(tok, javalang.tokenizer.Separator)
