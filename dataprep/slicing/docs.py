"""Documentation slicer: Markdown, AsciiDoc, reStructuredText and plain text by headings.

A section runs from its heading line to the next heading (of any level), so nested
sections do not repeat their children's text; its heading path is the chain of
headings above it. A section longer than MAX_SECTION_CHARS is cut on paragraph
boundaries (blank lines outside code blocks) into parts of at most that size where
the paragraphs allow. Every unit's `code` is an exact substring of the file.

Units: kind "doc_section", name = the last heading (the file name for text before the
first heading), qualified_name = the heading path joined with " > " (plus " (part K of
N)" for split sections), heading_path = the headings from the top.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dataprep.models import Unit

MAX_SECTION_CHARS = 1500
SEPARATOR = " > "

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_ADOC_TITLE = re.compile(r"^(={1,6})[ \t]+(\S.*?)[ \t]*$")
_ADOC_BLOCK = re.compile(r"^(-{4,}|\.{4,}|={4,}|\+{4,}|/{4,}|_{4,}|\*{4,})[ \t]*$")
_RST_ADORN = re.compile(r"^([!-/:-@\[-`{-~])\1+[ \t]*$")


@dataclass
class _Section:
    level: int
    title: str
    start: int  # character offset of the heading line (or 0 for the preamble)
    body_start: int  # offset just past the heading
    end: int = 0
    path: list[str] = field(default_factory=list)


def slice_doc(
    relpath: str, text: str, repo: str, commit: str | None, language: str
) -> tuple[list[Unit], list[str]]:
    """Slice one documentation file: (doc_section units, errors (always empty)).

    Example: slice_doc("a.md", "# A\\ntext\\n## B\\nmore\\n", "r", None, "markdown")
    -> sections "A" and "A > B"
    """
    lines = _lines(text)
    start = _front_matter_end(lines) if language in ("markdown", "asciidoc") else 0
    headings = _HEADINGS[language](lines[start:])
    headings = [(a + start, b + start, level, title) for a, b, level, title in headings]
    sections = _sections(text, lines, headings, relpath.rsplit("/", 1)[-1], start)
    units: list[Unit] = []
    for section in sections:
        units.extend(_section_units(relpath, text, section, repo, commit, language))
    return units, []


_LINE = re.compile(r"[^\n]*\n|[^\n]+$")


def _lines(text: str) -> list[str]:
    """Lines with their endings, split on "\n" only (their lengths add up to the text)."""
    return _LINE.findall(text)


def _offsets(lines: list[str]) -> list[int]:
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line)
    offsets.append(pos)
    return offsets


def _markdown_headings(lines: list[str]) -> list[tuple[int, int, int, str]]:
    """(first line, line after the heading, level, title) of each heading outside fences."""
    found, fence = [], None
    for i, line in enumerate(lines):
        stripped = line.rstrip("\r\n")
        m = _FENCE.match(stripped)
        if m:
            marker = m.group(1)
            if fence is None:
                fence = marker
            elif (
                marker[0] == fence[0]
                and len(marker) >= len(fence)
                and not stripped.strip()[len(marker) :]
            ):
                fence = None
            continue
        if fence is not None:
            continue
        m = _ATX.match(stripped)
        if m:
            found.append((i, i + 1, len(m.group(1)), (m.group(2) or "").strip()))
            continue
        m = _SETEXT.match(stripped)
        if m and i > 0 and _is_setext_title(lines, i, found):
            level = 1 if m.group(1)[0] == "=" else 2
            found.append((i - 1, i + 1, level, lines[i - 1].strip()))
    return found


def _is_setext_title(lines: list[str], i: int, found: list) -> bool:
    """A setext underline needs a one-line paragraph above it (blank line before that)."""
    above = lines[i - 1].strip()
    if (
        not above
        or _ATX.match(above)
        or _FENCE.match(above)
        or above.startswith(("-", "*", "|", ">"))
    ):
        return False
    if found and found[-1][1] > i - 1:
        return False
    return i < 2 or not lines[i - 2].strip()


def _asciidoc_headings(lines: list[str]) -> list[tuple[int, int, int, str]]:
    found, block = [], None
    for i, line in enumerate(lines):
        stripped = line.rstrip("\r\n")
        m = _ADOC_BLOCK.match(stripped)
        if m:
            block = None if block == m.group(1) else (block or m.group(1))
            continue
        if block is not None:
            continue
        m = _ADOC_TITLE.match(stripped)
        if m:
            found.append((i, i + 1, len(m.group(1)), m.group(2)))
    return found


def _underline_headings(lines: list[str], overlines: bool) -> list[tuple[int, int, int, str]]:
    """reStructuredText-style titles: a line underlined (and optionally overlined) with
    punctuation at least as long as the title; levels in order of first appearance."""
    found, styles, i = [], [], 0
    while i < len(lines) - 1:
        title = lines[i].rstrip("\r\n")
        under = lines[i + 1].rstrip("\r\n")
        over = None
        if overlines and _RST_ADORN.match(title) and i + 2 < len(lines):
            over, title, under = title, under, lines[i + 2].rstrip("\r\n")
            if not (title.strip() and _RST_ADORN.match(under) and under[0] == over[0]):
                over, title, under = None, lines[i].rstrip("\r\n"), lines[i + 1].rstrip("\r\n")
        if (
            title.strip()
            and not title.startswith((" ", "\t"))
            and not _RST_ADORN.match(title)
            and _RST_ADORN.match(under)
            and len(under.rstrip()) >= len(title.rstrip())
            and (i == 0 or not lines[i - 1].strip() or over is not None)
        ):
            style = (under[0], over is not None)
            if style not in styles:
                styles.append(style)
            height = 3 if over is not None else 2
            found.append((i, i + height, styles.index(style) + 1, title.strip()))
            i += height
            continue
        i += 1
    return found


_HEADINGS = {
    "markdown": _markdown_headings,
    "asciidoc": _asciidoc_headings,
    "restructuredtext": lambda lines: _underline_headings(lines, overlines=True),
    "text": lambda lines: _underline_headings(lines, overlines=False),
}


def _front_matter_end(lines: list[str]) -> int:
    """The line after a YAML front matter block (`---` ... `---`), or 0 when there is none.

    Front matter is metadata for site generators, not text: it is left out of the units.
    """
    if not lines or lines[0].rstrip("\r\n") != "---":
        return 0
    for i in range(1, len(lines)):
        if lines[i].rstrip("\r\n") in ("---", "..."):
            return i + 1
    return 0


def _sections(
    text: str, lines: list[str], headings: list, filename: str, start_line: int = 0
) -> list[_Section]:
    offsets = _offsets(lines)
    sections: list[_Section] = []
    first = headings[0][0] if headings else len(lines)
    start = offsets[start_line]
    while start < offsets[first] and text[start].isspace():
        start += 1
    if text[start : offsets[first]].strip():
        sections.append(_Section(0, filename, start, start, offsets[first], []))
    stack: list[tuple[int, str]] = []
    for n, (line, after, level, title) in enumerate(headings):
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        end_line = headings[n + 1][0] if n + 1 < len(headings) else len(lines)
        sections.append(
            _Section(
                level,
                title,
                offsets[line],
                offsets[after],
                offsets[end_line],
                [t for _, t in stack],
            )
        )
    return sections


def _section_units(
    relpath: str, text: str, section: _Section, repo: str, commit: str | None, language: str
) -> list[Unit]:
    end = section.end
    while end > section.start and text[end - 1].isspace():
        end -= 1
    if not text[section.body_start : end].strip():
        return []  # a heading with no text of its own (its subsections carry the text)
    parts = _split(text, section.start, end, fences=_BLOCKS[language])
    title = section.title or relpath.rsplit("/", 1)[-1]
    base = SEPARATOR.join(section.path) if section.path else title
    units = []
    for k, (a, b) in enumerate(parts, start=1):
        qualified_name = base if len(parts) == 1 else f"{base} (part {k} of {len(parts)})"
        code = text[a:b]
        units.append(
            Unit(
                id=Unit.make_id(relpath, "doc_section", qualified_name, None, code),
                kind="doc_section",
                name=title,
                qualified_name=qualified_name,
                path=relpath,
                start_line=text.count("\n", 0, a) + 1,
                end_line=text.count("\n", 0, b) + 1,
                code=code,
                language=language,
                repo=repo,
                commit=commit,
                heading_path=list(section.path),
            )
        )
    return units


_BLOCKS = {
    "markdown": _FENCE,
    "asciidoc": _ADOC_BLOCK,
    "restructuredtext": re.compile(r"^(?!x)x"),  # literal blocks are indented: no fences
    "text": re.compile(r"^(?!x)x"),
}


def _split(
    text: str, start: int, end: int, cap: int = MAX_SECTION_CHARS, fences: re.Pattern = _FENCE
) -> list[tuple[int, int]]:
    """Cut text[start:end] into spans of at most `cap` characters on paragraph boundaries
    (then line boundaries, then hard cuts for a single overlong line), never inside a
    fenced code block."""
    if end - start <= cap:
        return [(start, end)]
    cuts = _paragraph_cuts(text, start, end, fences)
    spans, a, last = [], start, start
    for cut in [*cuts, end]:
        if cut - a > cap and last > a:
            spans.append((a, last))
            a = _skip_blank(text, last, end)
        last = cut
    spans.append((a, end))
    result = []
    for a, b in spans:
        result.extend(_split_lines(text, a, b, cap) if b - a > cap else [(a, b)])
    return [(a, b) for a, b in result if text[a:b].strip()]


def _paragraph_cuts(text: str, start: int, end: int, fences: re.Pattern) -> list[int]:
    """Offsets where a paragraph ends (before a blank line), outside code blocks."""
    cuts, fence = [], False
    pos = start
    for line in _lines(text[start:end]):
        if fences.match(line.rstrip("\r\n")):
            fence = not fence
        elif not fence and not line.strip() and pos > start:
            back = pos
            while back > start and text[back - 1] in "\r\n":
                back -= 1
            if back > start and (not cuts or cuts[-1] != back):
                cuts.append(back)
        pos += len(line)
    return cuts


def _skip_blank(text: str, pos: int, end: int) -> int:
    while pos < end and text[pos].isspace():
        pos += 1
    return pos


def _split_lines(text: str, a: int, b: int, cap: int) -> list[tuple[int, int]]:
    spans, start, pos = [], a, a
    for line in _lines(text[a:b]):
        if pos + len(line) - start > cap and pos > start:
            spans.append((start, pos))
            start = pos
        pos += len(line)
    spans.append((start, b))
    result = []
    for s, e in spans:
        while e - s > cap:  # a single line longer than the cap
            result.append((s, s + cap))
            s += cap
        result.append((s, e))
    return [(s, e) for s, e in result if s < e]
