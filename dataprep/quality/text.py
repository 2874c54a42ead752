"""Is a text code or prose, and is a code text undedented: line-shape checks, no parser."""

from __future__ import annotations

import re

KIND_CHARS = 2000  # text_kind reads this much of a text: enough to tell code from prose


_MOD = (
    r"(?:(?:public|protected|private|static|final|abstract|default|synchronized|native"
    r"|sealed|non-sealed|strictfp|transient|volatile)[ \t]+)"
)
_MODS = _MOD + "*"
# One `Type name` of a parameter list; possessive quantifiers, so that a long line that is
# not one fails in linear time.
_PARAM = (
    r"(?:final[ \t]++)?(?:@[\w$.]++[ \t]++)*+[\w$.]++(?:<[^\n>]*+>++)?(?:\[\]|\.\.\.)*+"
    r"[ \t]++[\w$]++[ \t]*+"
)
CODE_LINE_RE = re.compile(
    r"^[ \t]*(?:"
    r"@(?!(?:param|return|throws|exception|see|since|author|version|serial)\b)[\w$]"  # annotation
    r"|[{}()\].]|//|/\*|\*/|&&|\|\||[?:=][ \t]"  # brace, chained call, comment, operator
    r"|(?:extends|implements|throws|permits)[ \t]+[\w$]"  # a header's continuation
    rf"|(?:{_PARAM},[ \t]*+)++(?://[^\n]*)?$"  # parameters: `int a, int b,`
    rf"|(?:{_PARAM},[ \t]*+)*+{_PARAM}\)[^\n]*$"  # the last ones: `int c)`
    r"|[\w$.]+(?:<[^\n]*>)?[ \t]*\([^\n]*[,(]$"  # `Name(Type a,` opening a parameter list
    r"|(?:if|for|while|switch|catch|synchronized)[ \t]*\("
    r"|(?:try|do|else|finally)[ \t]*(?:\{|$)"
    r"|(?:return|throw|yield|assert|break|continue)\b[^\n]*;"
    r"|new[ \t]+[A-Z][\w$]*[ \t]*[(<\[]"
    r"|(?:import|package)[ \t]+[\w.*]+[ \t]*;"
    r"|case\b[^\n]*(?::|->)[^\n]*$|default[ \t]*(?::|->)"
    rf"|{_MODS}(?:class|interface|enum|record|@interface)[ \t]+[\w$]"
    # a method's header: after a modifier, `Type name(`; without one, only where parameters
    # follow (or nothing): prose has "Returns the (cached) value", "Sets header(s) on"
    rf"|{_MOD}+(?:<[^\n]*?>[ \t]+)?[\w$.]+(?:<[^\n]*>)?(?:\[\])*[ \t]+[\w$]+[ \t]*\("
    rf"|(?:<[^\n]*?>[ \t]+)?[\w$.]+(?:<[^\n]*>)?(?:\[\])*[ \t]+[\w$]+\((?:[ \t]*$|{_PARAM},"
    rf"|(?:{_PARAM},[ \t]*+)*+(?:{_PARAM})?\)[ \t]*(?:[{{;]|throws\b|$))"
    r"|[^\n]*(?:[;{}]|->|\)[ \t]*\{)[ \t]*(?://[^\n]*)?$"  # ends like a statement or block
    r"|(?:[-*+]|\d+\.)[ \t]+`[^`\n]+`[ \t]*$"  # a list item that is only inline code
    r"|[\w$-]+(?:\.[\w$-]+)+[ \t]*=(?!=)"  # a property: `compiler.err.x=\\`, `a.b = c`
    r"|[\w$.]+(?:<[^\n]*>)?[ \t]*\([^\n]*\)[ \t]*(?:throws\b[^\n]*)?$"  # NAME(...) alone
    r")",
    re.M,
)
INLINE_TAG_RE = re.compile(r"\{@\w+[^{}\n]*\}")
NONBLANK_RE = re.compile(r"^[ \t]*\S", re.M)
STRING_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`\n]+`')
WORD_RE = re.compile(r"(?<![\w$.@{#])[A-Za-z][a-z]+(?:'[a-z]+)?(?![\w$(])")
FENCE_RE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\1[ \t]*$", re.M | re.S)


def text_kind(text: str) -> str:
    """`prose`, `code` or `short` (a token, a name, a literal, nothing).

    Code: at least half of the non-blank lines look like Java (`CODE_LINE_RE`, which takes
    a Markdown list item that is only inline code for code); prose: otherwise, with at least
    four words outside string literals and inline code, or a sentence of two or more; a doc
    comment (`/** ... */`) is prose, and fenced blocks of Markdown are left out.

    Example: text_kind("Returns the booking, or null.") -> "prose";
    text_kind("int a = 1;") -> "code"; text_kind("login") -> "short".
    """
    stripped = text.strip()
    if not stripped:
        return "short"
    if stripped.startswith("/**") and stripped.endswith("*/"):
        return "prose"
    if "{@" in stripped:  # Javadoc inline tags are markup in prose, not braces of code
        stripped = INLINE_TAG_RE.sub("tag", stripped)
    if stripped[-1] in "};" and CODE_LINE_RE.match(stripped):  # fast path: code at both ends
        return "code"
    if "\n" not in stripped and " " not in stripped:  # one token: a name, a literal, `@Test`
        return "code" if CODE_LINE_RE.match(stripped) else "short"
    if len(stripped) > KIND_CHARS:  # the head tells; the cut line may be partial
        stripped = stripped[: stripped.rfind("\n", 0, KIND_CHARS) + 1 or KIND_CHARS].rstrip()
    if "```" in stripped or "~~~" in stripped:
        outside = FENCE_RE.sub("", stripped)
        if not outside.strip():
            return "code"
        stripped = outside
    if _mostly_code(stripped, len(NONBLANK_RE.findall(stripped))):
        return "code"
    if '"' in stripped or "`" in stripped:
        stripped = STRING_RE.sub('""', stripped)
    words = 0  # counted up to 4: all the answer reads
    for _ in WORD_RE.finditer(stripped):
        words += 1
        if words == 4:
            break
    sentence = words >= 2 and stripped[0].isupper() and stripped[-1] in ".!?"
    return "prose" if words >= 4 or sentence else "short"


def _mostly_code(text: str, lines: int) -> bool:
    """Whether `CODE_LINE_RE` finds matches in `text` and at least half as many as its
    `lines` non-blank lines: it matches at a line's start and never past its end (one match
    a line at most, never on a blank line), so the lines are tried one at a time until the
    answer is known (the same answer as counting `findall`'s matches)."""
    need = max(1, (lines + 1) // 2)  # matches * 2 >= lines, and one at least
    candidates = [line for line in text.split("\n") if line and not line.isspace()]
    left = len(candidates)
    if left < need:
        return False
    found = 0
    match = CODE_LINE_RE.match
    for line in candidates:
        left -= 1
        if match(line):
            found += 1
            if found >= need:
                return True
        elif found + left < need:
            return False
    return False


INDENT_RE = re.compile(r"^([ \t]*)\S", re.M)
BLOCK_SPLIT_RE = re.compile(r"\n[ \t]*\n(?=[^\s}])")
# an annotation line, then (blank lines aside) a line further in that is not an annotation
ANNOTATION_ABOVE_RE = re.compile(
    r"^([ \t]*)@(?!interface\b)[\w$.]+(?:\([^\n]*\))?[ \t]*\n(?:[ \t]*\n)*\1[ \t]+[^@\s]",
    re.M,
)


def undedented(text: str) -> bool:
    """True for multi-line code whose first line sits left of all the others where that
    is not a continuation (see the module docstring). Blocks that a blank line and a line
    at column 0 separate (several constructors in one answer) are checked one by one.

    Example: undedented("void a() {\\n        b();\\n    }") -> True;
    undedented("void a() {\\n    b();\\n}") -> False.
    """
    if "\n" not in text.strip():
        return False
    if "\t" in text:
        text = text.expandtabs(4)
    if "@" in text and ANNOTATION_ABOVE_RE.search(text):  # `@Autowired` at 0, its field further in
        return True
    return any(_undedented_block(block) for block in BLOCK_SPLIT_RE.split(text.strip("\n")))


def _undedented_block(block: str) -> bool:
    indents = [len(m) for m in INDENT_RE.findall(block)]
    if len(indents) < 2:
        return False
    first, rest = indents[0], min(indents[1:])
    if rest <= first:
        return False
    lines = block.strip().split("\n")
    if lines[-1].lstrip().startswith("}"):
        return True
    if all(line.lstrip().startswith("*") for line in lines[1:] if line.strip()):
        return rest > first + 1
    return lines[0].rstrip().endswith((";", "{", "}"))


def multiline_code(text: str, kind: str) -> bool:
    return "\n" in text.strip() and (kind == "code" or text.lstrip().startswith("/*"))
