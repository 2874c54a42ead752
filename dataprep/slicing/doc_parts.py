"""Parts of a documentation section: where a long section is cut, and the names of parts.

A section over its limit is cut at a changelog version's subsections first, then at
paragraph boundaries (blank lines outside fenced and indented code), then between list
items; a paragraph, list item or code block is never cut. A part is named by its
subsection (" > Bug Fixes") or by its first words (' (from "Money is a record of…")'),
with more words until the parts of a section differ; never by a number.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

SEPARATOR = " > "
INTRODUCTION = "Introduction"  # a cut version's text before its first subsection
MAX_LEAD_CHARS = 80  # the first (six) words that name a part
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")

_LINE = re.compile(r"[^\n]*\n|[^\n]+$")


def lines_of(text: str) -> list[str]:
    """Lines with their endings, split on "\n" only (their lengths add up to the text)."""
    return _LINE.findall(text)


SEPARATOR_LINE = re.compile(r"^[ \t]*([=\-*_~#+.])\1{2,}[ \t]*$")
LIST_ITEM = re.compile(r"^ {0,3}(?:[-*+o•]|\d{1,3}[.)])[ \t]+\S")


def trim_end(text: str, start: int, end: int) -> int:
    """The end of a span without trailing blank lines and separator lines (`=====`, `---`);
    a line that closes a block (an AsciiDoc `----` after an opening one) stays."""
    while True:
        while end > start and text[end - 1].isspace():
            end -= 1
        line_start = max(text.rfind("\n", start, end) + 1, start)
        last = text[line_start:end]
        if end > start and SEPARATOR_LINE.match(last):
            lines = [line.strip() for line in text[start:end].split("\n")]
            if lines.count(last.strip()) % 2 == 1:
                end = line_start
                continue
        return end


COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_ADOC_META = re.compile(r"(?m)^(?::!?[\w-]+!?:.*|//(?!/).*)$")  # attribute entries, comments


def no_text(text: str) -> bool:
    """Whether a text holds nothing to read: blank, HTML comments, AsciiDoc attributes."""
    return not _ADOC_META.sub("", COMMENT.sub("", text)).strip()


def split_section(
    text: str,
    start: int,
    body: int,
    end: int,
    subheads: list[tuple[int, int, str]],
    cap: int,
    fences: re.Pattern = FENCE,
) -> list[tuple[int, int, str]]:
    """(start, end, qualifier) of each part of the section text[start:end] (its heading
    ends at `body`; `subheads`: (start, body, title) of a changelog version's subsections):
    one part with no qualifier when the section fits `cap`, otherwise parts named by
    subsection or first words.

    Example: a 2,000-character section "## A" of two paragraphs -> [(0, 900, ' (from
    "First words of part one…")'), (902, 2000, ' (from "First words of part two…")')]
    """
    if end - start <= cap:
        return [(start, end, "")]
    parts: list[_Part] = []
    chunks = _subsection_chunks(text, start, body, end, subheads)
    if len(chunks) > 1 and chunks[0][2] is None:
        chunks[0] = (*chunks[0][:2], INTRODUCTION, chunks[0][3])
    for a, b, sub, body in chunks:
        spans = _pack(text, a, b, body, cap, fences)
        parts += [_Part(x, y, sub, len(spans) > 1, body) for x, y in spans]
    return _name_parts(text, parts)


@dataclass
class _Part:
    start: int
    end: int
    sub: str | None  # the subsection of a changelog version it comes from
    cut: bool  # one of several parts of that subsection (or of the section)
    body: int  # where the text after the part's heading starts


def _subsection_chunks(text: str, start: int, body: int, end: int, subheads: list):
    """(start, end, subsection title or None, body start) of a version's subsections, and
    of its text before them; the whole section when it has none. A subsection (or the
    version heading) with no text of its own is left out."""
    heads = [(start, body, None)] + [(a, b, t) for a, b, t in subheads if a < end]
    chunks = []
    for k, (a, body, title) in enumerate(heads):
        b = trim_end(text, a, heads[k + 1][0] if k + 1 < len(heads) else end)
        if not no_text(text[body:b]):
            chunks.append((a, b, title, body))
    return chunks


def _pack(
    text: str, a: int, b: int, body: int, cap: int, fences: re.Pattern
) -> list[tuple[int, int]]:
    """Spans of text[a:b] of at most `cap` characters where the paragraphs allow: whole
    paragraphs packed together, the heading kept with the paragraph after it; a paragraph
    over `cap` is cut at its list items, and one that has none is kept whole."""
    if b - a <= cap:
        return [(a, b)]
    spans = []
    for x, y in _greedy(_blocks(text, a, b, fences), body, cap):
        items = _items(text, x, y, fences) if y - x > cap else []
        spans += _greedy(items, body, cap) if len(items) > 1 else [(x, y)]
    return spans


def _greedy(spans: list[tuple[int, int]], body: int, cap: int) -> list[tuple[int, int]]:
    """Adjacent spans joined while they fit `cap`; one that ends at or before `body` (the
    heading) is always joined with the next."""
    packed: list[list[int]] = []
    for x, y in spans:
        if packed and (packed[-1][1] <= body or y - packed[-1][0] <= cap):
            packed[-1][1] = y
        else:
            packed.append([x, y])
    return [(x, y) for x, y in packed]


def _blocks(text: str, a: int, b: int, fences: re.Pattern) -> list[tuple[int, int]]:
    """Paragraphs of text[a:b]: runs of lines between blank lines, where a code block
    (fenced, or indented four spaces after a blank line) stays one paragraph."""
    blocks: list[tuple[int, int]] = []
    start = last = None
    gap = fence = False
    pos = a
    for line in lines_of(text[a:b]):
        stripped = line.rstrip("\r\n")
        if not fence and not stripped.strip():
            gap = start is not None
        else:
            if start is not None and gap and not fence and not _indented(stripped):
                blocks.append((start, last))
                start = None
            start = pos if start is None else start
            last, gap = pos + len(stripped), False
        if fences.match(stripped):
            fence = not fence
        pos += len(line)
    if start is not None:
        blocks.append((start, last))
    return blocks


def _indented(line: str) -> bool:
    return line.startswith(("    ", "\t"))


def _items(text: str, a: int, b: int, fences: re.Pattern) -> list[tuple[int, int]]:
    """A paragraph cut before each of its list items, outside code blocks; text before
    the first item goes with it."""
    starts, fence, pos = [a], False, a
    for line in lines_of(text[a:b]):
        stripped = line.rstrip("\r\n")
        if fences.match(stripped):
            fence = not fence
        elif not fence and pos > a and LIST_ITEM.match(stripped):
            starts.append(pos)
        pos += len(line)
    if len(starts) > 1 and not LIST_ITEM.match(text[a : starts[1]]):
        del starts[1]  # the lines before the first item (a version line, say) stay with it
    ends = [*starts[1:], b]
    return [(s, trim_end(text, s, e)) for s, e in zip(starts, ends, strict=True)]


# -- names of parts ------------------------------------------------------------------------

_MARKUP = re.compile(r"\*\*|__|`|^#+\s*|^=+\s*|^>\s*|^\s*(?:[-*+o•]|\d{1,3}[.)])\s+", re.M)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)|:\w+:`([^`]*)`")


def _name_parts(text: str, parts: list[_Part]) -> list[tuple[int, int, str]]:
    """Qualifiers that tell a section's parts apart: " > Sub" for a whole subsection,
    ' (from "first words…")' otherwise (" > Sub (from ...)" in a cut subsection), with
    more words until no two parts share one."""
    if len(parts) == 1 and parts[0].sub is None:
        return [(parts[0].start, parts[0].end, "")]
    words = [6] * len(parts)
    while True:
        names = [_qualifier(text, part, n) for part, n in zip(parts, words, strict=True)]
        counts = Counter(names)
        again = [i for i, name in enumerate(names) if counts[name] > 1 and words[i] < 30]
        if not again:
            return [(p.start, p.end, name) for p, name in zip(parts, names, strict=True)]
        for i in again:
            words[i] += 4


def _qualifier(text: str, part: _Part, n: int) -> str:
    sub = f"{SEPARATOR}{part.sub}" if part.sub else ""
    if part.sub and not part.cut:
        return sub
    lead = _first_words(text[max(part.start, part.body) : part.end], n)
    return f'{sub} (from "{lead}")'


def _first_words(text: str, n: int) -> str:
    """The first `n` words of a part, markup taken out, with "…" when more follow."""
    words: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line or FENCE.match(line) or SEPARATOR_LINE.match(line):
            continue
        line = _LINK.sub(lambda m: m.group(1) or m.group(2) or "", line)
        words += _MARKUP.sub("", line).replace('"', "'").split()
        if len(words) > n:
            break
    lead = " ".join(words[:n])
    limit = MAX_LEAD_CHARS * n // 6
    if len(lead) > limit:  # a long word (a URL, a line of symbols)
        return lead[:limit].rstrip() + "…"
    return lead + ("…" if len(words) > n else "")
