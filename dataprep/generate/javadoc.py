"""Javadoc as clean Markdown: the prose answers of explanation tasks.

A Javadoc comment is parsed into its description and block tags; inline tags and HTML
become Markdown: `{@link Foo#bar(int)}` -> `` `Foo.bar` ``, `{@code x}` -> `` `x` ``,
`<p>` -> a blank line, `<pre>` -> a fenced block, lists -> `-` items, entities decoded.
`{@inheritDoc}` is left to the caller (`Doc.inherits`), which can look up the overridden
declaration in the repository.

Example:
    doc = parse_javadoc("/** Adds {@code n}.\\n * @param n how many\\n * @return the sum */")
    doc.summary -> "Adds `n`."
    render_markdown(doc) -> "Adds `n`.\\n\\n**Parameters**\\n- `n`: how many\\n\\n**Returns** ..."
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import lru_cache

from dataprep.quality.text import text_kind

_LEADER = re.compile(r"^[ \t]*\*(?: ?)", re.M)
_BLOCK_TAG = re.compile(r"^@(\w+)\b[ \t]*", re.M)
_INLINE = re.compile(r"\{@(\w+)(?:[ \t\n]+([^{}]*(?:\{[^{}]*\}[^{}]*)*))?\}")
_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)\b[^<>]{0,400}>")
_WS = re.compile(r"[ \t]+")
_BLANKS = re.compile(r"\n{3,}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*\[(])")


@dataclass
class Doc:
    """A parsed Javadoc comment, in Markdown."""

    description: str = ""
    params: list[tuple[str, str]] = field(default_factory=list)
    returns: str = ""
    throws: list[tuple[str, str]] = field(default_factory=list)
    deprecated: str = ""
    inherits: bool = False  # says {@inheritDoc}: the overridden declaration's text applies

    @property
    def summary(self) -> str:
        """The first sentence of the description (Javadoc's own summary rule)."""
        text = self.description.split("\n\n", 1)[0].strip()
        return _SENTENCE_END.split(text, 1)[0].strip() if text else ""

    def is_empty(self) -> bool:
        return not (self.description or self.params or self.returns or self.throws)


def strip_comment(raw: str) -> str:
    """The comment's text without `/**`, `*/` and the leading `*` of each line."""
    text = raw.strip()
    if text.startswith("/**"):
        text = text[3:]
    elif text.startswith("/*"):
        text = text[2:]
    if text.endswith("*/"):
        text = text[:-2]
    lines = _LEADER.sub("", text).splitlines()
    # the common indentation left inside <pre> blocks and wrapped lines
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def parse_javadoc(raw: str) -> Doc:
    """Parse a Javadoc comment (with or without its delimiters) into a Markdown `Doc`."""
    text = strip_comment(raw)
    parts = _BLOCK_TAG.split(text)
    doc = Doc(description=to_markdown(parts[0]))
    doc.inherits = "{@inheritDoc}" in parts[0]
    for tag, body in zip(parts[1::2], parts[2::2], strict=True):
        body = body.strip()
        if tag == "param":
            name, rest = _head(body)
            name = name.strip()
            if name.startswith("<") and name.endswith(">"):
                name = name  # a type parameter: keep the brackets
            doc.params.append((name, to_markdown(rest)))
        elif tag == "return":
            doc.returns = to_markdown(body)
        elif tag in ("throws", "exception"):
            name, rest = _head(body)
            doc.throws.append((name.strip().rsplit(".", 1)[-1], to_markdown(rest)))
        elif tag == "deprecated":
            doc.deprecated = to_markdown(body) or "Deprecated."
    if doc.description.strip() in ("", "{@inheritDoc}"):
        doc.description = doc.description.replace("{@inheritDoc}", "").strip()
    return doc


def _inline(match: re.Match[str]) -> str:
    tag, body = match.group(1), (match.group(2) or "").strip()
    if tag in ("code", "literal"):
        body = html.unescape(body)
        return f"`{body}`" if tag == "code" else body
    if tag in ("link", "linkplain", "value"):
        target, label = _link_head(body)
        if label.strip():
            if tag == "linkplain":  # its label is prose, which may hold tags of its own
                return _INLINE.sub(_inline, label.strip())
            return f"`{_INLINE.sub(_inline_text, label.strip())}`"
        return f"`{_reference(target)}`" if target else ""
    if tag == "inheritDoc":
        return "{@inheritDoc}"
    if tag in ("docRoot",):
        return ""
    body = _INLINE.sub(_inline, body)  # a tag's text may hold tags of its own
    if tag == "return":  # JDK 16's inline form: the javadoc tool writes "Returns ..."
        return f"Returns {body}"
    return body  # {@index word}, {@summary text}, {@systemProperty x}


def _head(body: str) -> tuple[str, str]:
    """A tag's first word and the rest, split at any whitespace: a line break may part them
    (`{@link java.io.OutputStreamWriter` on one line, its label on the next).

    Example: _head("java.io.Writer\n Writer") -> ("java.io.Writer", "Writer")
    """
    parts = body.split(None, 1)
    return (parts[0], parts[1]) if len(parts) == 2 else (body.strip(), "")


def _inline_text(match: re.Match[str]) -> str:
    """An inline tag inside code font (a link's label): its text alone."""
    return html.unescape(match.group(2) or "")


def _link_head(body: str) -> tuple[str, str]:
    """A link's target and label (`_head`), where a member's parameter list may hold
    spaces: the target then runs to its closing parenthesis.

    Example: _link_head("Reader#read(char[], int, int) read")
        -> ("Reader#read(char[], int, int)", "read")
    """
    words = body.split(None, 1)
    if words and "(" in words[0] and ")" not in words[0]:
        close = body.find(")", body.find("("))
        if close != -1:
            return body[: close + 1], body[close + 1 :].strip()
    return _head(body)


def _reference(target: str) -> str:
    """How the javadoc tool shows a link without a label: the member with the parameter
    list it names (which tells overloads apart), its type by simple name.

    Examples: `java.util.List#add(Object)` -> `List.add(Object)`; `#size()` -> `size()`;
    `#put(K,\n V)` -> `put(K, V)`; `Foo#Foo(int)` -> `Foo(int)`; `java.io.Reader` -> `Reader`
    """
    name, paren, params = target.partition("(")
    owner, _, member = name.partition("#")
    owner = owner.rsplit(".", 1)[-1] if owner and not owner[:1].isupper() else owner
    owner = owner.rsplit(".", 1)[-1] if "." in owner else owner
    if paren:
        inner = params.rpartition(")")[0] if ")" in params else params
        types = (" ".join(t.split()) for t in inner.split(","))
        member += "(" + ", ".join(t for t in types if t) + ")"
    if owner and member and member.split("(", 1)[0] != owner:
        return f"{owner}.{member}"
    return member or owner


def _pre_block(match: re.Match[str]) -> str:
    body = match.group(1)
    body = _INLINE.sub(_inline_text, body)
    body = _TAG.sub("", body)
    body = html.unescape(body).strip("\n")
    lines = body.splitlines()
    indent = min((len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()), default=0)
    body = "\n".join(ln[indent:] for ln in lines)
    return f"\n\n\x00```\n{body}\n```\x00\n\n"


_PRE = re.compile(r"<pre\b[^>]*>(.*?)</pre>", re.S | re.I)
_HTML_MAP = [
    (re.compile(r"<\s*(?:p|P)\s*/?>|</p>", re.I), "\n\n"),
    (re.compile(r"<br\s*/?>", re.I), "\n"),
    (re.compile(r"<li\b[^>]*>", re.I), "\n- "),
    (re.compile(r"</li>", re.I), ""),
    (re.compile(r"</?[uo]l\b[^>]*>", re.I), "\n\n"),
    (re.compile(r"</?(?:b|strong)\b[^>]*>", re.I), "**"),
    (re.compile(r"</?(?:i|em)\b[^>]*>", re.I), "*"),
    (re.compile(r"</?(?:code|tt|var|kbd|samp)\b[^>]*>", re.I), "`"),
    (re.compile(r"<h[1-6]\b[^>]*>", re.I), "\n\n**"),
    (re.compile(r"</h[1-6]>", re.I), "**\n\n"),
    (re.compile(r"</?(?:dt|tr|table|thead|tbody|div|blockquote)\b[^>]*>", re.I), "\n"),
    (re.compile(r"<dd\b[^>]*>", re.I), "\n  "),
    (re.compile(r"</(?:dd|td|th)>", re.I), " "),
]


_FORMATTING = frozenset(
    "p br b strong i em code tt var kbd samp ul ol li dl dt dd a pre h1 h2 h3 h4 h5 h6 table "
    "thead tbody tfoot tr td th div span blockquote sup sub u s small big font hr caption "
    "center cite dfn abbr q nobr wbr".split()
)


# Tags within a line of text: one alone on a comment line (`<a href="...">` before its
# words on the next) leaves a mark, not a blank line, which would break the paragraph.
_INLINE_HTML = frozenset("a span sup sub u s small big font cite dfn abbr q nobr wbr".split())
_GONE = "\x01"  # where an inline tag was (`_blocks` drops it, and a line of nothing else)


def _known_tag(match: re.Match[str]) -> str:
    """Formatting HTML goes; any other tag is text the comment shows (`<script>`)."""
    name = match.group(1).lower()
    if name in _INLINE_HTML:
        return _GONE
    return "" if name in _FORMATTING else f"`{match.group(0)}`"


_CODE_SPAN = re.compile(r"(`[^`]{1,400}`)")  # what `{@code ...}` became, split out with it

# Code spans side by side (`{@link #f f}{@code (x)}`): "`f``(x)`" is a span of other
# text in Markdown's eyes, so they are joined: "`f(x)`"
_TOUCHING_CODE = re.compile(r"(?<=[^`\s])``(?=[^`\s])")


def to_markdown(text: str) -> str:
    """Javadoc body text (inline tags, HTML) as Markdown prose."""
    if "<" in text:  # (each HTML pattern starts with one; each inline tag with `{@`)
        text = _PRE.sub(_pre_block, text)
    chunks = text.split("\x00")
    out = []
    for i, chunk in enumerate(chunks):
        if i % 2:  # a fenced block from <pre>: already clean
            out.append(chunk)
            continue
        if "{@" in chunk:
            chunk = _INLINE.sub(_inline, chunk)
        if "<" in chunk:  # HTML outside code spans: `List<String>` holds no tag
            parts = _CODE_SPAN.split(chunk)
            for j in range(0, len(parts), 2):
                if "<" in parts[j]:
                    for pattern, repl in _HTML_MAP:
                        parts[j] = pattern.sub(repl, parts[j])
                    parts[j] = _TAG.sub(_known_tag, parts[j])
            chunk = "".join(parts)
        chunk = _blocks(html.unescape(chunk))
        out.append(_TOUCHING_CODE.sub("", chunk) if "``" in chunk else chunk)
    text = "\n\n".join(o.strip("\n") for o in out if o.strip())
    text = text.replace("`` ", "` ").replace("****", "")
    return _BLANKS.sub("\n\n", text).strip()


def _blocks(text: str) -> str:
    """Re-flow wrapped lines: paragraphs split by blank lines, `- ` items kept as a list
    (a blank line inside a list does not end it)."""
    blocks: list[list[str]] = []  # each: lines of one paragraph, or items of one list
    current: list[str] = []
    in_list = False
    for raw in text.split("\n"):
        if _GONE in raw:
            raw = raw.replace(_GONE, "")
            if not raw.strip():
                continue  # a line that held only an inline tag: no paragraph break
        line = _WS.sub(" ", raw).strip() if "\t" in raw or "  " in raw else raw.strip()
        if not line:
            if current and not in_list:
                blocks.append(current)
                current = []
            continue
        if line.startswith("- ") or line == "-":
            if current and not in_list:
                blocks.append(current)
                current = []
            in_list = True
            current.append(line)
        elif in_list and current and raw[:1] in (" ", "\t"):
            current[-1] += " " + line  # an item's wrapped line
        else:
            if in_list:
                blocks.append(current)
                current, in_list = [], False
            current.append(line)
    if current:
        blocks.append(current)
    out = []
    for block in blocks:
        if block[0].startswith("-"):
            items = [item for item in block if item.strip("- ")]
            out.append("\n".join(items))
        else:
            out.append(" ".join(block))
    return "\n\n".join(b for b in out if b)


def render_markdown(doc: Doc, include_description: bool = True) -> str:
    """The explanation answer: description, then parameters, return value, exceptions.
    An `{@inheritDoc}` is left out: the overridden declaration's words are not at hand
    here (`families.inherited` answers with them where a method has no words of its own)."""
    parts = []
    description = _own(doc.description) if include_description else ""
    if description:
        parts.append(description)
    if doc.params:
        parts.append(f"**Parameters**\n{_items(doc.params)}")
    if returns := _own(doc.returns):
        parts.append(f"**Returns** {returns}")
    if doc.throws:
        parts.append(f"**Throws**\n{_items(doc.throws)}")
    if deprecated := _own(doc.deprecated):
        parts.append(f"**Deprecated.** {deprecated}")
    return "\n\n".join(parts).strip()


def _items(named: list[tuple[str, str]]) -> str:
    """A Markdown list of (name, text) pairs: "- `name`: text", or "- `name`" alone."""
    own = ((name, _own(text)) for name, text in named)
    return "\n".join(f"- `{name}`: {text}" if text else f"- `{name}`" for name, text in own)


_INHERIT = re.compile(r"([ \t]*)\{@inheritDoc\}([ \t]*)")


def _own(text: str | None) -> str:
    """`text` without its `{@inheritDoc}` tags (one space kept between the words around).

    Example: _own("{@inheritDoc}\n\nAlso closes.") -> "Also closes."
    """
    if not text or "{@inheritDoc}" not in text:
        return text or ""
    text = _INHERIT.sub(lambda m: " " if m.group(1) and m.group(2) else "", text)
    return _BLANKS.sub("\n\n", text).strip()


def has_prose(doc: Doc, min_words: int = 3) -> bool:
    """Whether the description says something: not only `{@inheritDoc}` or a few words,
    and its first paragraph (the summary) is not a line of code (`text_kind`) — what a
    generated class's Javadoc holds when it quotes its resource line (`key=\\ {0} not
    found`), or a native method's when it quotes the C prototype it calls. Examples after
    the summary are welcome.

    Example: has_prose(parse_javadoc("/** compiler.err.x=\\ {0} not found */")) -> False
    """
    description = doc.description
    if len(description.split()) < min_words:
        return False
    return text_kind(description.split("\n\n", 1)[0]) != "code"


@lru_cache(maxsize=4096)
def javadoc_has_prose(javadoc: str) -> bool:
    """`has_prose` of a Javadoc comment's text, once: several tasks of a unit require it."""
    return has_prose(parse_javadoc(javadoc))
