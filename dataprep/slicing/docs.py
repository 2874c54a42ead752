"""Documentation slicer: Markdown, AsciiDoc, reStructuredText, plain text, and HTML, xdoc
and Maven changes.xml pages (converted to Markdown first, markup.py), by headings.

A section runs from its heading line to the next heading (of any level), so nested
sections do not repeat their children's text; its heading path is the chain of headings
above it. A heading is never a unit of its own: a heading with no text of its own is
left out (its subsections carry the text), and a section is cut only after its first
paragraph. Text before the first heading is left out when it is a title line, a licence
header or only HTML comments.

Changelogs (docfiles.is_changelog: CHANGELOG.md, CHANGES, RELEASE-NOTES*.txt, NEWS,
changes.xml ...) give one unit per version: a heading whose title is a version
("## 1.17.1 (2023-11-27)", "Release 1.15.3 [2022-Aug-24]"), or in a changelog without
version headings a version line ("*** Release 1.1.1", "Version 3.7" in a centred title
block), starts a section that runs, subsections included, to the next version or
heading of the same level. Its heading path is ["Changelog", VERSION], its name the
version.

A section longer than MAX_SECTION_CHARS (a changelog version: MAX_VERSION_CHARS) is cut
into parts (doc_parts.py): a version at its subsections first (its text before them is its
"Introduction"); then at paragraph boundaries (blank lines outside code blocks and
indented code), packing paragraphs up to the limit; a paragraph over the limit at its
list items. A paragraph, list item or code block is never cut: one longer than the
limit is a part of its own (the filters drop what does not fit a model's context;
nothing is truncated).

Names. A unit that is a whole section: name = the last heading (the file name for text
before the first heading), qualified_name = the heading path joined with " > ". A part
is named by what it holds, never by its number: a version's subsection by its heading
("Changelog > 1.17.1 > Bug Fixes"), any other part by its first words
('Architecture > Design decisions (from "Money is a record of an amount…")'), taking
more words until the parts of a section differ. Every unit's `code` is an exact substring
of the file (of its Markdown, for the converted formats); two units of a file with the
same name and text get distinct ids (Unit.make_id's `repeat`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field

from dataprep.models import Unit
from dataprep.slicing.changelog import CHANGELOG, version_of
from dataprep.slicing.doc_parts import (
    COMMENT,
    FENCE,
    LIST_ITEM,
    SEPARATOR,
    SEPARATOR_LINE,
    lines_of,
    no_text,
    split_section,
    trim_end,
)
from dataprep.slicing.docfiles import is_changelog, is_mostly_licence
from dataprep.slicing.markup import to_markdown

MAX_SECTION_CHARS = 1500
MAX_VERSION_CHARS = 4000  # a changelog version is asked as a whole: a larger limit
MARKUP_LANGUAGES = ("html", "xdoc", "maven-changes")  # converted to Markdown first

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_ADOC_TITLE = re.compile(r"^(={1,6})[ \t]+(\S.*?)[ \t]*$")
_ADOC_BLOCK = re.compile(r"^(-{4,}|\.{4,}|={4,}|\+{4,}|/{4,}|_{4,}|\*{4,})[ \t]*$")
_RST_ADORN = re.compile(r"^([!-/:-@\[-`{-~])\1+[ \t]*$")


@dataclass
class _Section:
    level: int
    title: str
    start: int  # character offset of the heading line (or of the text, for the preamble)
    body_start: int  # offset just past the heading
    end: int = 0
    path: list[str] = field(default_factory=list)
    version: str | None = None  # a changelog version's section
    subheads: list[tuple[int, int, str]] = field(default_factory=list)  # (start, body, title)


# a heading: (first line, line after it, level, title, version or None)
Heading = tuple[int, int, int, str, "str | None"]


def slice_doc(
    relpath: str, text: str, repo: str, commit: str | None, language: str
) -> tuple[list[Unit], list[str]]:
    """Slice one documentation file: (doc_section units, errors (always empty)).

    Example: slice_doc("a.md", "# A\\ntext\\n## B\\nmore\\n", "r", None, "markdown")
    -> sections "A" and "A > B"
    """
    if language in MARKUP_LANGUAGES:
        markdown, source_lines = to_markdown(text, language)
        units = _slice_text(relpath, markdown, repo, commit, "markdown")
        units = [_to_source(unit, source_lines, language) for unit in units]
    else:
        units = _slice_text(relpath, text, repo, commit, language)
    return _unique_ids(units), []


def _slice_text(
    relpath: str, text: str, repo: str, commit: str | None, language: str
) -> list[Unit]:
    lines = lines_of(text)
    start = _front_matter_end(lines) if language in ("markdown", "asciidoc") else 0
    found = _HEADINGS[language](lines[start:])
    headings: list[Heading] = [(a + start, b + start, lvl, t, None) for a, b, lvl, t in found]
    if is_changelog(relpath):
        headings = _version_headings(lines, headings, start, _BLOCKS[language])
    filename = relpath.rsplit("/", 1)[-1]
    sections = _sections(text, lines, headings, filename, start)
    line_starts = _offsets(lines)
    units: list[Unit] = []
    for section in sections:
        units.extend(_section_units(relpath, text, section, repo, commit, language, line_starts))
    return units


def _to_source(unit: Unit, source_lines: list[int], language: str) -> Unit:
    """A unit of a page's Markdown, with the page's language and line span."""
    span = source_lines[unit.start_line - 1 : unit.end_line] or [1]
    return unit.model_copy(
        update={"language": language, "start_line": span[0], "end_line": max(span)}
    )


def _unique_ids(units: list[Unit]) -> list[Unit]:
    """Give a unit whose (name, text) repeats in the file its repeat number in the id."""
    seen: Counter = Counter()
    out = []
    for unit in units:
        key = (unit.kind, unit.qualified_name, unit.signature, unit.code)
        repeat = seen[key]
        seen[key] += 1
        if repeat:
            unit = unit.model_copy(update={"id": Unit.make_id(unit.path, *key, repeat=repeat)})
        out.append(unit)
    return out


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
        m = FENCE.match(stripped)
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
        or FENCE.match(above)
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


# -- changelog versions --------------------------------------------------------------------


def _version_headings(
    lines: list[str], headings: list[Heading], front: int, fences: re.Pattern
) -> list[Heading]:
    """The headings of a changelog with their versions; a changelog whose headings name no
    version gets its version lines as headings of level 0 (above every other heading)."""
    marked = [(a, b, lvl, t, version_of(t)) for a, b, lvl, t, _ in headings]
    if any(h[4] for h in marked):
        return marked
    heading_lines = {i for a, b, *_ in headings for i in range(a, b)}
    plain: list[Heading] = []
    fence = False
    for i in range(front, len(lines)):
        line = lines[i].rstrip("\r\n")
        if fences.match(line):
            fence = not fence
        if fence or i in heading_lines or not line.strip():
            continue
        version = version_of(line)
        if version is None:
            continue
        first = _title_block_start(lines, i, front)
        if first is not None and not (plain and first < plain[-1][1]):
            plain.append((first, i + 1, 0, line.strip(" \t*#=-"), version))
    return sorted(marked + plain)


def _title_block_start(lines: list[str], i: int, front: int) -> int | None:
    """Where a version line's title block starts: the line itself, or up to two short
    title lines above it ("Apache Commons Lang" above "Version 3.7"); None when the line
    does not start a block (it is inside a paragraph)."""
    first = i
    while first > front and i - first < 2:
        above = lines[first - 1].strip()
        if not above or SEPARATOR_LINE.match(above) or len(above) > 60:
            break
        if LIST_ITEM.match(lines[first - 1]) or above.endswith((".", ",", ";", ":")):
            return None
        first -= 1
    if first == front or not lines[first - 1].strip():
        return first
    return first if SEPARATOR_LINE.match(lines[first - 1].strip()) else None


# -- sections ------------------------------------------------------------------------------


def _sections(
    text: str, lines: list[str], headings: list[Heading], filename: str, start_line: int = 0
) -> list[_Section]:
    offsets = _offsets(lines)
    sections: list[_Section] = []
    first = headings[0][0] if headings else len(lines)
    start = offsets[start_line]
    while start < offsets[first] and text[start].isspace():
        start += 1
    if text[start : offsets[first]].strip():
        sections.append(_Section(-1, filename, start, start, offsets[first], []))
    stack: list[tuple[int, str]] = []
    n = 0
    while n < len(headings):
        line, after, level, title, version = headings[n]
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        m = n + 1
        while version and m < len(headings) and not headings[m][4] and headings[m][2] > level:
            m += 1  # a version's subsections belong to it
        subheads = [(offsets[a], offsets[b], t) for a, b, _, t, _ in headings[n + 1 : m]]
        end_line = headings[m][0] if m < len(headings) else len(lines)
        path = [CHANGELOG, version] if version else [t for _, t in stack]
        sections.append(
            _Section(
                level,
                version or title,
                offsets[line],
                offsets[after],
                offsets[end_line],
                path,
                version,
                subheads,
            )
        )
        n = m
    return sections


def _is_title_or_licence(text: str) -> bool:
    """Text before the first heading that is not worth a unit: a title or badge line, a
    licence header, or only comments."""
    plain = COMMENT.sub("", text).strip()
    if "\n" not in plain and len(plain.split()) <= 8 and not plain.endswith((".", ":")):
        return True
    return no_text(text) or is_mostly_licence(text)


def _section_units(
    relpath: str,
    text: str,
    section: _Section,
    repo: str,
    commit: str | None,
    language: str,
    line_starts: list[int],
) -> list[Unit]:
    end = trim_end(text, section.start, section.end)
    if no_text(text[section.body_start : end]):
        return []  # a heading with no text of its own (its subsections carry the text)
    if section.level < 0 and _is_title_or_licence(text[section.start : end]):
        return []
    cap = MAX_VERSION_CHARS if section.version else MAX_SECTION_CHARS
    parts = split_section(
        text, section.start, section.body_start, end, section.subheads, cap, _BLOCKS[language]
    )
    title = section.title or relpath.rsplit("/", 1)[-1]
    base = SEPARATOR.join(section.path) if section.path else title
    units = []
    for a, b, qualifier in parts:
        while a < b and text[a].isspace():
            a += 1  # a centred title block starts at its first word
        qualified_name = base + qualifier
        code = text[a:b]
        units.append(
            Unit(
                id=Unit.make_id(relpath, "doc_section", qualified_name, None, code),
                kind="doc_section",
                name=title,
                qualified_name=qualified_name,
                path=relpath,
                start_line=bisect_right(line_starts, a),
                end_line=bisect_right(line_starts, b - 1),
                code=code,
                language=language,
                repo=repo,
                commit=commit,
                heading_path=list(section.path),
            )
        )
    return units


_BLOCKS = {
    "markdown": FENCE,
    "asciidoc": _ADOC_BLOCK,
    "restructuredtext": re.compile(r"^(?!x)x"),  # literal blocks are indented: no fences
    "text": re.compile(r"^(?!x)x"),
}
