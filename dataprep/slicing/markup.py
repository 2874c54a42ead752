"""HTML, Maven xdoc and Maven changes.xml pages as Markdown, for the doc slicer.

`to_markdown(text, language)` returns the Markdown and a map from its lines to the
source's, so a section cut from the Markdown keeps the line span of the page it came
from. Headings become `#` headings (xdoc `<section name>` and `<subsection name>` by
depth, HTML `<h1>`..`<h6>`), `<pre>`/`<source>` fenced code blocks (dedented), `<code>`
backticks, lists `- ` items, tables Markdown tables, absolute links `[text](url)`.
Scripts, styles, comments (licence headers), navigation and the page head (the title
aside) are left out. A changes.xml `<release>` becomes `## VERSION (DATE)` with one
`- Type: text (ISSUE). Thanks to NAME.` line per `<action>`.
"""

from __future__ import annotations

import re
import textwrap
from bisect import bisect_right
from html.parser import HTMLParser

_SKIP = frozenset("script style noscript nav form button svg template select".split())
_SKIP_ID = re.compile(r"(?i)\b(?:nav\w*|menu|toc|breadcrumbs?|footer|sidebar|banner\w*)\b")
_BLOCK = frozenset(
    "p div section article main header aside blockquote dl dt dd hr figure figcaption "
    "center address body document subsection ul ol table".split()
)
_CODE_INLINE = frozenset("code tt kbd samp var".split())
_PRE = frozenset({"pre", "source"})
_HEADING = re.compile(r"^h([1-6])$")
_ACTION_TYPES = {"add": "Added", "fix": "Fixed", "update": "Changed", "remove": "Removed"}


class _Writer:
    """Markdown text with the source line of each piece, written block by block."""

    def __init__(self):
        self.parts: list[str] = []
        self.size = 0
        self.marks: list[tuple[int, int]] = []  # (Markdown offset, source line)

    def write(self, text: str, line: int) -> None:
        if text:
            self.marks.append((self.size, line))
            self.parts.append(text)
            self.size += len(text)

    def tail(self) -> str:
        return "".join(self.parts[-3:])[-2:]

    def block_break(self) -> None:
        tail = self.tail()
        if self.size and tail != "\n\n":
            self.parts.append("\n" if tail.endswith("\n") else "\n\n")
            self.size += len(self.parts[-1])

    def line_break(self) -> None:
        if self.size and not self.tail().endswith("\n"):
            self.parts.append("\n")
            self.size += 1

    def result(self) -> tuple[str, list[int]]:
        """(Markdown, the source line of each Markdown line)."""
        text = "".join(self.parts).strip("\n") + "\n"
        lead = len("".join(self.parts)) - len("".join(self.parts).lstrip("\n"))
        offsets = [o for o, _ in self.marks]
        lines, pos = [], 0
        for md_line in text.split("\n")[:-1]:
            i = bisect_right(offsets, pos + lead) - 1
            lines.append(self.marks[i][1] if i >= 0 else 1)
            pos += len(md_line) + 1
        return text, lines


class _PageParser(HTMLParser):
    """One pass over an HTML or xdoc page, writing Markdown."""

    def __init__(self, xdoc: bool):
        super().__init__(convert_charrefs=True)
        self.xdoc = xdoc
        self.out = _Writer()
        self.skip = 0  # depth inside left-out elements
        self.skip_tags: list[str] = []
        self.in_head = False
        self.title: str | None = None
        self.title_buf: list[str] | None = None
        self.heading: tuple[int, list[str], int] | None = None  # (level, text, line)
        self.section_depth = 0
        self.pre: list[str] | None = None
        self.pre_line = 0
        self.lists: list[list] = []  # [kind, counter]
        self.table: list[list[str]] | None = None
        self.cell: list[str] | None = None
        self.link: str | None = None
        self.first_heading: str | None = None
        self.has_h1 = False

    # -- helpers ---------------------------------------------------------------------------

    def _line(self) -> int:
        return self.getpos()[0]

    def _inline(self, text: str) -> None:
        """Append running text: whitespace collapsed, no space at the start of a line."""
        if self.cell is not None:
            self.cell.append(text)
            return
        if self.heading is not None:
            self.heading[1].append(text)
            return
        text = re.sub(r"\s+", " ", text)
        if self._at_line_start():
            text = text.lstrip()
            if text.startswith(("#", "```", "~~~", "=", "---")):
                text = "\\" + text  # running text must not read as a heading or fence
        elif self.out.tail().endswith(" "):
            text = text.lstrip()
        self.out.write(text, self._line())

    def _heading(self, level: int, title: str, line: int) -> None:
        title = " ".join(title.split())
        if not title:
            return
        if self.first_heading is None:
            self.first_heading = title
        self.out.block_break()
        self.out.write(f"{'#' * level} {title}", line)
        self.out.block_break()

    # -- parser events ---------------------------------------------------------------------

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.skip:
            if tag == self.skip_tags[-1]:
                self.skip += 1
            return
        if tag in _SKIP or _SKIP_ID.search(
            " ".join(filter(None, (attrs.get("id"), attrs.get("class"))))
        ):
            if tag not in ("body", "document", "section", "subsection"):
                self.skip, self.skip_tags = 1, [*self.skip_tags, tag]
                return
        if tag in ("head", "properties"):
            self.in_head = True
        elif tag == "title":
            self.title_buf = []
        elif self.in_head:
            return
        elif self.xdoc and tag in ("section", "subsection"):
            self.section_depth += 1
            self._heading(self.section_depth, attrs.get("name") or "", self._line())
        elif (m := _HEADING.match(tag)) and self.pre is None:
            self.has_h1 = self.has_h1 or m.group(1) == "1"
            self.out.block_break()
            self.heading = (int(m.group(1)), [], self._line())
        elif tag in _PRE:
            self.out.block_break()
            self.pre, self.pre_line = [], self._line()
        elif self.pre is not None:
            return
        elif tag in ("ul", "ol"):
            self._list_break()
            self.lists.append([tag, 0])
        elif tag == "li":
            self.out.line_break()
            depth = max(len(self.lists), 1)
            kind = self.lists[-1] if self.lists else ["ul", 0]
            kind[1] += 1
            marker = f"{kind[1]}. " if kind[0] == "ol" else "- "
            self.out.write("  " * (depth - 1) + marker, self._line())
        elif tag == "table":
            self.out.block_break()
            self.table = []
        elif tag == "tr" and self.table is not None:
            self.table.append([])
        elif tag in ("td", "th") and self.table is not None:
            self.cell = []
        elif tag in ("br",):
            if self.cell is not None:
                self.cell.append(" ")
            else:
                self.out.line_break()
        elif tag in _CODE_INLINE:
            self._inline("`")
        elif tag == "a":
            href = attrs.get("href") or ""
            self.link = href if href.startswith(("http://", "https://")) else None
            if self.link:
                self._inline("[")
        elif (tag == "dt" or tag in _BLOCK) and self.cell is None:
            self.out.block_break()

    def _at_line_start(self) -> bool:
        return self.cell is None and (not self.out.size or self.out.tail().endswith("\n"))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr", "img", "meta", "link", "input"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if self.skip:
            if tag == self.skip_tags[-1]:
                self.skip -= 1
                if not self.skip:
                    self.skip_tags.pop()
            return
        if tag in ("head", "properties"):
            self.in_head = False
        elif tag == "title" and self.title_buf is not None:
            self.title = " ".join("".join(self.title_buf).split()) or None
            self.title_buf = None
        elif self.in_head:
            return
        elif self.xdoc and tag in ("section", "subsection"):
            self.section_depth = max(self.section_depth - 1, 0)
            self.out.block_break()
        elif _HEADING.match(tag) and self.heading is not None:
            level, text, line = self.heading
            self.heading = None
            self._heading(level, "".join(text), line)
        elif tag in _PRE and self.pre is not None:
            code = textwrap.dedent("".join(self.pre).expandtabs(4)).strip("\n")
            self.pre = None
            if code.strip():
                self.out.write(f"```\n{code}\n```", self.pre_line)
                self.out.block_break()
        elif self.pre is not None:
            return
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self._list_break()
        elif tag in ("td", "th") and self.cell is not None and self.table:
            self.table[-1].append(" ".join("".join(self.cell).split()).replace("|", "\\|"))
            self.cell = None
        elif tag == "table" and self.table is not None:
            self._write_table()
        elif tag in _CODE_INLINE:
            self._inline("`")
        elif tag == "a" and self.link:
            self._inline(f"]({self.link})")
            self.link = None
        elif (tag in _BLOCK or tag in ("li", "dt", "dd")) and self.cell is None:
            if tag in ("li", "dt"):
                self.out.line_break()
            else:
                self.out.block_break()

    def _list_break(self) -> None:
        """A list starts and ends a block; a nested one starts on the next line."""
        if self.lists:
            self.out.line_break()
        else:
            self.out.block_break()

    def _write_table(self) -> None:
        rows = [r for r in self.table or [] if any(c.strip() for c in r)]
        self.table = None
        if not rows:
            return
        width = max(len(r) for r in rows)
        lines = ["| " + " | ".join(r + [""] * (width - len(r))) + " |" for r in rows]
        lines.insert(1, "|" + " --- |" * width)
        self.out.block_break()
        self.out.write("\n".join(lines), self._line())
        self.out.block_break()

    def handle_data(self, data):
        if self.skip:
            return
        if self.title_buf is not None:
            self.title_buf.append(data)
        elif self.in_head:
            return
        elif self.pre is not None:
            self.pre.append(data)
        elif data.strip() or self.out.size:
            if data.strip() or not self._at_line_start():
                self._inline(data)

    def unknown_decl(self, data):
        if data.startswith("CDATA["):
            self.handle_data(data[len("CDATA[") :])

    def handle_comment(self, data):
        if data.startswith("[CDATA[") and data.endswith("]]"):
            self.handle_data(data[len("[CDATA[") : -2])  # newer parsers: CDATA as a comment


def html_to_markdown(text: str, xdoc: bool = False) -> tuple[str, list[int]]:
    """An HTML page or xdoc document as Markdown, and each Markdown line's source line.

    The page title becomes a `#` heading above the rest when the page has no heading of
    its own that says the same (xdoc sections are shifted one level down under it).
    Example: html_to_markdown("<h1>Guide</h1><p>Use <code>x</code>.</p>")
    -> ("# Guide\\n\\nUse `x`.\\n", [1, 1, 1])
    """
    parser = _PageParser(xdoc)
    if xdoc:
        parser.section_depth = 0
    parser.feed(text)
    parser.close()
    markdown, lines = parser.out.result()
    markdown = re.sub(r"[ \t]+\n", "\n", markdown)
    title = parser.title
    if title and title != parser.first_heading and not parser.has_h1:
        shift = 1 if xdoc else 0
        if shift:
            markdown = re.sub(r"(?m)^(#{1,5}) ", r"#\1 ", _outside_fences_marker(markdown))
            markdown = markdown.replace("\x00", "")
        markdown = f"# {title}\n\n{markdown}"
        lines = [lines[0] if lines else 1] * 2 + lines
    return markdown, lines


def _outside_fences_marker(markdown: str) -> str:
    """Mark `#` lines inside fenced blocks (with a NUL) so a heading shift leaves them."""
    out, fence = [], False
    for line in markdown.split("\n"):
        if line.startswith("```"):
            fence = not fence
        out.append("\x00" + line if fence and line.startswith("#") else line)
    return "\n".join(out)


class _ChangesParser(HTMLParser):
    """Maven changes.xml: one `## VERSION (DATE)` section per <release>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out = _Writer()
        self.action: dict | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        line = self.getpos()[0]
        if tag == "release":
            date = attrs.get("date", "").strip()
            heading = attrs.get("version", "").strip() + (f" ({date})" if date else "")
            self.out.block_break()
            self.out.write(f"## {heading}", line)
            self.out.block_break()
            if attrs.get("description", "").strip():
                self.out.write(" ".join(attrs["description"].split()), line)
                self.out.block_break()
        elif tag == "action":
            self.action, self.text = {**attrs, "line": line, "issues": [], "thanks": []}, []
            for key, target in (("issue", "issues"), ("due-to", "thanks")):
                if attrs.get(key, "").strip():
                    self.action[target].append(attrs[key].strip())
        elif tag == "fixes" and self.action is not None and attrs.get("issue"):
            self.action["issues"].append(attrs["issue"].strip())
        elif tag == "dueto" and self.action is not None and attrs.get("name"):
            self.action["thanks"].append(attrs["name"].strip())

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "action":
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag == "action" and self.action is not None:
            action, self.action = self.action, None
            text = " ".join("".join(self.text).split())
            kind = _ACTION_TYPES.get(action.get("type", "").lower(), "")
            if kind[:3].lower() == text[:3].lower():
                kind = ""  # "Removed: Removed the ..." says it twice
            item = f"- {kind}: {text}" if kind else f"- {text}"
            if action["issues"]:
                item = item.rstrip(".") + f" ({', '.join(action['issues'])})."
            if action["thanks"]:
                item = item.rstrip(".") + f". Thanks to {', '.join(action['thanks'])}."
            self.out.line_break()
            self.out.write(item, action["line"])
        elif tag == "release":
            self.out.block_break()

    def handle_data(self, data):
        if self.action is not None:
            self.text.append(data)

    def unknown_decl(self, data):
        if data.startswith("CDATA["):
            self.handle_data(data[len("CDATA[") :])


def changes_to_markdown(text: str) -> tuple[str, list[int]]:
    """A Maven changes.xml as a Markdown changelog, and each Markdown line's source line.

    Example: changes_to_markdown('<release version="1.2" date="2024-01-05"><action
    type="fix" issue="X-1">Null check.</action></release>')
    -> ("## 1.2 (2024-01-05)\\n\\n- Fixed: Null check. (X-1)\\n", [1, 1, 1])
    """
    parser = _ChangesParser()
    parser.feed(text)
    parser.close()
    return parser.out.result()


def to_markdown(text: str, language: str) -> tuple[str, list[int]]:
    """Markdown for a page in `language` ("html", "xdoc", "maven-changes")."""
    if language == "maven-changes":
        return changes_to_markdown(text)
    return html_to_markdown(text, xdoc=language == "xdoc")
