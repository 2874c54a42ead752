"""Quality measures of a dataset: what a reviewer of training data checks first.

Pure functions over rows (Pair records, or dicts with the export's columns: id,
instruction, input, output, task, path, unit_kind, unit_id, label) and, for coverage, the
repository's units (Unit records or dicts). No SQL and no parser: precompiled regexes and
one pass over the rows, so 250k rows take seconds.

Each measure has a value, its goal (the project's quality goals), pass/fail and three examples
of each defect found. How each is detected:

- answerable: the output (whitespace-normalised) occurs in the instruction + input at word
  boundaries (outputs of 4+ characters that are not a bare identifier); an identifier
  answer occurs as a declared name in the input (`void NAME(`, `class NAME`, `NAME =`); the
  answer is the path's package (or package.Type, or the file's stem) and the prompt shows
  the path; a label task whose input shows the give-away (`LABEL_CUES`): a `yes` row with
  the cue, or a `no` row without it when most `yes` rows of the task show it.
- undedented: a multi-line code (or doc comment) output or input whose first line is less
  indented than every other line, where that cannot be a continuation: the last line is a
  closing `}`, or the first line ends a statement (`;`, `{`, `}`); a doc comment's ` * `
  lines may sit one column in; also an annotation line with the declaration below it
  further in. Blocks separated by a blank line and a line at column 0 count one by one.
- explanation_without_prose: the instruction asks to explain, describe, summarise, "how
  does", "how is X implemented", "what does X do", "what is X for", and the output is not
  prose (`text_kind`: at least half of its lines look like code, or it is a short token).
- markup_in_prose: a prose output with `{@link`, `{@code`, `{@inheritDoc}`, HTML tags or
  entities, `@param`/`@return`/`@throws` lines, a `/**`, `*/` or a lone `*` line.
- coverage: non-private types and methods (not in anonymous or private types) of main
  (non-test) paths with a knowledge pair: a knowledge family, an answer in prose or
  multi-line code, not answerable from the prompt.
- families: each row's family (`TASK_FAMILY`, then `FAMILY_RULES` on the task id); an
  explanation or overview answered without prose counts as code recall. The goal counts
  the knowledge families other than code recall that hold at least 1% of the rows.
- test_trivia: rows about units on test paths whose family is neither tests nor usage.
- bare_annotations: an output that is only annotations without arguments (`@Test`).
- non_doc_docs: doc_section rows from files that are not documentation (`non_doc_reason`).
- replacement_chars: rows with U+FFFD in instruction, input or output.

Example:
    q = measure_quality(store.kept_pairs(), store.units())
    q["met"], q["goals"]  # -> (4, 10)
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any

from dataprep.generate.java_facts import TEST_ANNOTATIONS
from dataprep.generate.java_facts import is_test_path as _is_test_path

EXAMPLES = 3
SHORT = 200
KIND_CHARS = 2000  # text_kind reads this much of a text: enough to tell code from prose

# a row's path repeats over its pairs: look each up once
is_test_path = lru_cache(maxsize=1 << 16)(_is_test_path)

# --- goals ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Goal:
    """A target for a measure: `value op target`, a share (0..1) or a count."""

    op: str
    target: float
    share: bool = True

    def met(self, value: float) -> bool:
        return value <= self.target if self.op == "<=" else value >= self.target

    def text(self) -> str:
        sign = "≤" if self.op == "<=" else "≥"
        return f"{sign} {fmt(self.target, self.share)}"


def fmt(value: float, share: bool = True) -> str:
    """A share as a percent, a count as an integer. Example: fmt(0.3125) -> "31.2%"."""
    if not share:
        return str(int(value))
    pct = value * 100
    return (f"{pct:.0f}" if pct >= 10 else f"{pct:.1f}").removesuffix(".0") + "%"


# name -> (title, goal), in the order of the report's table
MEASURES: dict[str, tuple[str, Goal]] = {
    "answerable": ("rows answerable from the prompt", Goal("<=", 0.03)),
    "undedented": ("multi-line code not dedented", Goal("<=", 0.005)),
    "explanation_without_prose": (
        "explanation instructions answered without prose",
        Goal("<=", 0.05),
    ),
    "markup_in_prose": ("raw markup in prose answers", Goal("<=", 0.02)),
    "coverage": (
        "non-private main-code methods and types with a knowledge pair",
        Goal(">=", 0.95),
    ),
    "test_trivia": ("trivia about test code", Goal("<=", 0.05)),
    "bare_annotations": ("bare-annotation answers", Goal("<=", 0.01)),
    "non_doc_docs": ("doc rows from non-doc files", Goal("<=", 0, share=False)),
    "replacement_chars": ("rows with replacement characters (U+FFFD)", Goal("<=", 0, False)),
    "families": ("knowledge families beyond code recall with ≥ 1% of rows", Goal(">=", 5, False)),
}
SHORT_NAMES = {
    "answerable": "answerable from the prompt",
    "undedented": "undedented code",
    "explanation_without_prose": "explanations without prose",
    "markup_in_prose": "markup in prose",
    "coverage": "main-code coverage",
    "test_trivia": "test trivia",
    "bare_annotations": "bare annotations",
    "non_doc_docs": "non-doc doc rows",
    "replacement_chars": "U+FFFD rows",
    "families": "knowledge families",
}

# --- families ---------------------------------------------------------------------------

# family -> (knowledge?, what it holds). Knowledge families teach the codebase; the others
# are trivia (names, declarations, labels) that a model can read off the source.
FAMILIES: dict[str, tuple[bool, str]] = {
    "code": (True, "code recall: a declaration's code"),
    "explanation": (True, "what a method or constructor does, in prose"),
    "overview": (True, "what a type or package is for"),
    "docs": (True, "documentation sections and Javadoc"),
    "usage": (True, "usage and values from tests and examples"),
    "tests": (True, "which tests cover a unit, writing a test"),
    "implement": (True, "implement from the contract, fill in the middle"),
    "relations": (True, "callers, callees, subtypes, overrides, routes to handlers"),
    "api": (True, "the API a type offers, whether a member exists"),
    "configuration": (True, "configuration keys, SQL schema, views"),
    "changelog": (True, "what changed in a version"),
    "names": (False, "names and owners of declarations, packages"),
    "declarations": (False, "signatures, headers, field declarations and values"),
    "annotations": (False, "annotations and route mappings as written"),
    "imports": (False, "import lists"),
    "labels": (False, "classification labels (is this a test)"),
    "other": (False, "tasks no rule maps"),
}
TASK_FAMILY: dict[str, str] = {
    "method.code": "code",
    "constructor.code": "code",
    "type.constructors": "code",
    "method.explain": "explanation",
    "constructor.explain": "explanation",
    "type.explain": "overview",
    "doc.section": "docs",
    "signature.javadoc": "docs",
    "javadoc.signature": "docs",
    "test.covers": "tests",
    "test.write": "tests",
    "method.implement": "implement",
    "http.handler": "relations",
    "http.flow": "relations",
    "type.users": "relations",
    "type.methods": "api",
    "enum.constants": "api",
    "constant.explain": "explanation",
    "method.name": "names",
    "type.name": "names",
    "member.owner": "names",
    "file.package": "names",
    "member.signature": "declarations",
    "type.declaration": "declarations",
    "type.fields": "declarations",
    "field.declaration": "declarations",
    "field.initializer": "declarations",
    "member.annotations": "annotations",
    "type.annotations": "annotations",
    "http.route": "annotations",
    "file.imports": "imports",
    "method.is_test": "labels",
}
# For task ids not in TASK_FAMILY (the first rule whose pattern occurs in the id wins).
FAMILY_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), f)
    for p, f in [
        (r"\.is_|\.has_|label", "labels"),
        (r"test", "tests"),
        (r"usage|example|value|returns", "usage"),
        (r"implement|fim|fill|body|contract", "implement"),
        (r"call|relation|override|subtype|super|hierarch|uses|handler", "relations"),
        (r"exist|api|methods", "api"),
        (r"overview|package\.|purpose|type\.explain", "overview"),
        (r"config|propert|yaml|schema|sql|view", "configuration"),
        (r"changelog|release|version|changes", "changelog"),
        (r"explain|describe|summar", "explanation"),
        (r"doc", "docs"),
        (r"code", "code"),
        (r"name|owner", "names"),
        (r"signature|declaration|initializer|field", "declarations"),
        (r"annotation|route", "annotations"),
        (r"import", "imports"),
    ]
]
# Families of tasks that may be about test code (their subject is a test, not trivia).
TEST_FAMILIES = frozenset({"tests", "usage"})
PROSE_FAMILIES = frozenset({"explanation", "overview"})


@lru_cache(maxsize=4096)
def family_of(task: str) -> str:
    """The family of a task id. Example: family_of("method.is_test") -> "labels"."""
    if task in TASK_FAMILY:
        return TASK_FAMILY[task]
    for pattern, family in FAMILY_RULES:
        if pattern.search(task):
            return family
    return "other"


# --- text: code or prose ----------------------------------------------------------------

_MODS = (
    r"(?:(?:public|protected|private|static|final|abstract|default|synchronized|native"
    r"|sealed|non-sealed|strictfp|transient|volatile)[ \t]+)*"
)
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
    rf"|{_MODS}(?:<[^\n]*?>[ \t]+)?[\w$.]+(?:<[^\n]*>)?(?:\[\])*[ \t]+[\w$]+[ \t]*\("
    r"|[^\n]*(?:[;{}]|->|\)[ \t]*\{)[ \t]*(?://[^\n]*)?$"  # ends like a statement or block
    r"|(?:[-*+]|\d+\.)[ \t]+`[^`\n]+`[ \t]*$"  # a list item that is only inline code
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
    lines = len(NONBLANK_RE.findall(stripped))
    code = len(CODE_LINE_RE.findall(stripped))
    if code and code * 2 >= lines:
        return "code"
    if '"' in stripped or "`" in stripped:
        stripped = STRING_RE.sub('""', stripped)
    words = len(WORD_RE.findall(stripped))
    sentence = words >= 2 and stripped[0].isupper() and stripped[-1] in ".!?"
    return "prose" if words >= 4 or sentence else "short"


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


def _multiline_code(text: str, kind: str) -> bool:
    return "\n" in text.strip() and (kind == "code" or text.lstrip().startswith("/*"))


# --- answerable from the prompt ---------------------------------------------------------

IDENT_RE = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
LABEL_ANSWERS = frozenset({"yes", "no", "true", "false"})
TEST_ANNOTATION_RE = re.compile(
    r"@\s*(?:[\w$]+\s*\.\s*)*(?:" + "|".join(sorted(TEST_ANNOTATIONS)) + r")\b"
)
TEST_NAME_RE = re.compile(r"[\w$>\]][ \t\n]+(?:test[\w$]*|[\w$]*Test(?:[A-Z\d_][\w$]*)?)\s*\(")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")


def shows_test_cue(text: str) -> bool:
    """The give-away of `method.is_test`: a test annotation, or a method named like a test.

    Example: shows_test_cue("@Test void cancels() {}") -> True;
    shows_test_cue("void cancel() {}") -> False.
    """
    if TEST_ANNOTATION_RE.search(text):
        return True
    brace = text.find("{")
    return bool(TEST_NAME_RE.search(text[: brace if brace >= 0 else len(text)]))


# label task -> the cue in its input that tells the `yes` label
LABEL_CUES: dict[str, Callable[[str], bool]] = {"method.is_test": shows_test_cue}


def _occurs(haystack: str, needle: str) -> bool:
    """`needle` in `haystack`, not inside a longer word at either end."""
    at, n = 0, len(needle)
    word_start, word_end = needle[0] in _WORD_CHARS, needle[-1] in _WORD_CHARS
    while (at := haystack.find(needle, at)) >= 0:
        before = haystack[at - 1] if at else " "
        after = haystack[at + n] if at + n < len(haystack) else " "
        if not (word_start and before in _WORD_CHARS) and not (word_end and after in _WORD_CHARS):
            return True
        at += 1
    return False


_DECL_BEFORE = re.compile(r"(?:[\w$>\]]|\bclass|\binterface|\benum|\brecord|@interface)\s+$")
_DECL_AFTER = re.compile(r"\s*(?:[(<{=;,]|extends\b|implements\b|permits\b|$)")
_NOT_TYPES = frozenset({"return", "new", "throw", "else", "case", "yield", "assert"})


def declares(text: str, name: str) -> bool:
    """True when `text` declares `name` (a type, method, field or variable).

    Example: declares("public int nights() { return n; }", "nights") -> True;
    declares("return nights();", "nights") -> False.
    """
    at = 0
    while (at := text.find(name, at)) >= 0:
        end = at + len(name)
        before = text[max(0, at - 40) : at]
        ok_edges = (not at or text[at - 1] not in _WORD_CHARS) and (
            end >= len(text) or text[end] not in _WORD_CHARS
        )
        if ok_edges and _DECL_BEFORE.search(before) and _DECL_AFTER.match(text, end):
            words = before.split()
            if not words or words[-1] not in _NOT_TYPES:
                return True
        at = end
    return False


def _path_names(path: str) -> tuple[str, str, str]:
    """(dotted directory, dotted directory + stem, stem) of a source path."""
    p = PurePosixPath(path)
    directory = ".".join(p.parent.parts)
    return directory, f"{directory}.{p.stem}" if directory else p.stem, p.stem


def _from_path(path: str, answer: str, prompt: str) -> bool:
    if not path or path not in prompt or not IDENT_RE.fullmatch(answer):
        return False
    directory, qualified, stem = _path_names(path)
    return (
        answer == stem
        or any(answer == d or d.endswith("." + answer) for d in (directory, qualified) if d)
        and "." in answer
    )


def answerable(row: dict, label_leaks: set[str] = frozenset()) -> str | None:
    """Why the row's answer can be read from its prompt (None when it cannot).

    `label_leaks`: label tasks whose `yes` rows mostly show the cue, so that its absence
    gives `no` away too.

    Example: answerable({"task": "method.name", "instruction": "Name this method.",
    "input": "void cancel() {}", "output": "cancel", ...}) -> "declared name in the input"
    """
    output = " ".join(row["output"].split())
    if not output:
        return None
    task, text = row["task"], row["input"] or ""
    cue = LABEL_CUES.get(task)
    if cue is not None or row.get("label") or output.lower() in LABEL_ANSWERS:
        if cue is None:
            return None
        shown = cue(text)
        if output.lower() == "yes" and shown:
            return "label cue in the input"
        if output.lower() == "no" and not shown and task in label_leaks:
            return "label cue absent (the task's yes rows show it)"
        return None
    prompt = row["instruction"] + "\n" + text
    if len(output) > len(prompt):  # whitespace-normalised, it still could not occur
        return None
    if _from_path(row.get("path") or "", output, prompt):
        return "the path shows it"
    if IDENT_RE.fullmatch(output):
        if "." not in output:
            return "declared name in the input" if declares(text, output) else None
        return "in the prompt" if _occurs(prompt, output) else None
    if len(output) >= 4 and _occurs(" ".join(prompt.split()), output):
        return "in the prompt"
    return None


def _label_leaks(rows: list[dict]) -> set[str]:
    """Label tasks whose `yes` rows mostly (≥ 50%) show the cue in their input."""
    shown, yes = Counter(), Counter()
    for row in rows:
        cue = LABEL_CUES.get(row["task"])
        if cue is not None and row["output"].strip().lower() == "yes":
            yes[row["task"]] += 1
            shown[row["task"]] += cue(row["input"] or "")
    return {task for task, n in yes.items() if shown[task] * 2 >= n}


# --- the other detectors ----------------------------------------------------------------

# On the lowercased instruction: an imperative at the start of a sentence (anchored:
# `.match`), then the questions anywhere (`.search`); two patterns, since one with
# `(?:^|...)` in front is slow, and EXPLAIN_HINT_RE first, which most rows fail.
EXPLAIN_HINT_RE = re.compile(r"explain|describ|summar|overview|purpose|why|what|how")
EXPLAIN_START_RE = re.compile(
    r"(?:(?:please|briefly|can you|could you)\s+)?(?:explain|describe|summari[sz]e)\b"
    r"|.*?[.?!:;]\s+(?:please\s+|briefly\s+)?(?:explain|describe|summari[sz]e)\b",
)
EXPLAIN_RE = re.compile(
    r"\b(?:(?:can|could) you (?:explain|describe|summari[sz]e)\b"
    r"|summary of\b|overview of\b|purpose of\b|why\b"
    r"|what(?:'s| is| are) [^?.]{1,80}? (?:used )?for\b"
    r"|what (?:does|do) [^?.]{1,120}? do\b"
    r"|how (?:does|do) "
    r"|how (?:is|are) [^?.]{1,120}? (?:implemented|computed|calculated|handled|validated"
    r"|done|working)\b)",
)


def asks_explanation(instruction: str) -> bool:
    """True when the instruction asks to explain, describe or summarise.

    Example: asks_explanation("How does cancel work?") -> True;
    asks_explanation("Show the code of cancel.") -> False.
    """
    text = instruction.lower()
    if not EXPLAIN_HINT_RE.search(text):
        return False
    return bool(EXPLAIN_START_RE.match(text) or EXPLAIN_RE.search(text))


MARKUP_RE = re.compile(
    r"\{@(?:link|linkplain|code|literal|inheritDoc|value|docRoot|index|summary)\b"
    r"|</?(?:p|br|ul|ol|li|pre|b|i|u|s|em|strong|tt|code|kbd|var|samp|cite|small|big|font|a"
    r"|table|tr|td|th|h[1-6]|blockquote|dl|dt|dd|hr|div|span|sup|sub|caption|thead|tbody"
    r"|img|center|section|script|style|iframe)\b[^>\n]*>"
    # old Javadoc writes tags in capitals; single capitals only bare (`<T>` is a type)
    r"|</?(?:PRE|UL|OL|LI|CODE|TT|BR|EM|STRONG|TABLE|TR|TD|TH|DL|DT|DD|HR|H[1-6]|BLOCKQUOTE"
    r"|DIV|SPAN|SUP|SUB|FONT|A[ \t])\b[^>\n]*>|</?[PBI]>"
    r"|&(?:lt|gt|amp|nbsp|quot|#\d+);"
    r"|^[ \t]*(?:\*[ \t]*)?@(?:param|return|throws|exception|see|since|author|version"
    r"|deprecated|serial|implSpec|implNote|apiNote)\b"
    r"|/\*\*|\*/|^[ \t]*\*[ \t]*$",
    re.M,
)
BARE_ANNOTATIONS_RE = re.compile(r"(?:@(?!interface\b)[\w$]+(?:\.[\w$]+)*(?:\(\s*\))?\s*)+")

# Doc files that are not documentation, by path (checked in this order):
NON_DOC_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("approval file", re.compile(r"\.(?:approved|received)\.[^/]*$", re.I)),
    ("banner", re.compile(r"(?:^|/)banner\.(?:txt|text)$", re.I)),
    (
        "licence text",
        re.compile(
            r"(?:^|/)(?:LICEN[CS]E|COPYING|NOTICE|COPYRIGHT|UNLICENSE|THIRD[-_]PARTY[-_]"
            r"NOTICES?)(?:[-_.][^/]*)?$",
            re.I,
        ),
    ),
    (
        "changelog fragment",
        re.compile(
            r"(?:^|/)(?:changelog\.d|newsfragments|\.changeset|\.changes|unreleased"
            r"|changes/unreleased)/[^/]+$",
            re.I,
        ),
    ),
    ("test data", re.compile(r"(?:^|/)(?:testdata|test-data|test_data|test-resources)/", re.I)),
]


def non_doc_reason(path: str) -> str | None:
    """Why a doc section's file is not documentation, or None when it is.

    Rules: approval files (`*.approved.*`, `*.received.*`), banners (`banner.txt`),
    licence texts (LICENSE, COPYING, NOTICE, COPYRIGHT, third-party notices, any
    extension), changelog fragments (`changelog.d/`, `newsfragments/`, `.changeset/`,
    `.changes/`, `unreleased/`), test resources (a `test`/`tests` folder, `testdata/`).

    Example: non_doc_reason("src/test/resources/a.md") -> "test resource";
    non_doc_reason("docs/guide.md") -> None.
    """
    for reason, pattern in NON_DOC_RULES:
        if pattern.search(path):
            return reason
    return "test resource" if is_test_path(path) else None


# --- coverage ---------------------------------------------------------------------------

COVERED_KINDS = frozenset({"method", "class", "interface", "enum", "record", "annotation_type"})


def _get(record: Any, key: str) -> Any:
    return record.get(key) if isinstance(record, dict) else getattr(record, key, None)


def coverage_targets(units: Iterable[Any]) -> list[dict]:
    """The non-private types and methods of main code that should have a knowledge pair:
    not on a test path, not private, not inside an anonymous class or a private type."""
    units = [u for u in units if _get(u, "kind") in COVERED_KINDS]
    private = {
        _get(u, "qualified_name")
        for u in units
        if _get(u, "kind") != "method" and "private" in (_get(u, "modifiers") or ())
    }
    out = []
    for u in units:
        qualified = _get(u, "qualified_name")
        if is_test_path(_get(u, "path")) or "private" in (_get(u, "modifiers") or ()):
            continue
        if "$" in qualified or (private and _inside(_get(u, "parent") or "", private)):
            continue
        out.append(
            {
                "id": _get(u, "id"),
                "kind": _get(u, "kind"),
                "name": qualified,
                "path": _get(u, "path"),
            }
        )
    return out


def _inside(parent: str, private: set[str]) -> bool:
    """True when `parent` or a type enclosing it is in `private` (qualified names)."""
    while parent:
        if parent in private:
            return True
        parent = parent.rpartition(".")[0]
    return False


# --- the measure ------------------------------------------------------------------------


def _short(text: str, n: int = SHORT) -> str:
    """Shortened, newlines kept (they show indentation), at most 6 lines."""
    text = "\n".join(text.strip("\n").split("\n")[:6])
    return text if len(text) <= n else text[: n - 1] + "…"


def _example(row: dict, why: str | None = None) -> dict[str, Any]:
    out = {
        "id": row["id"],
        "task": row["task"],
        "instruction": _short(row["instruction"]),
        "input": _short(row["input"] or ""),
        "output": _short(row["output"]),
    }
    if why:
        out["why"] = why
    return out


def _rows(pairs: Iterable[Any]) -> list[dict]:
    return [p if isinstance(p, dict) else p.__dict__ for p in pairs]


def _spread(items: list, k: int = EXAMPLES) -> list:
    """k items spread evenly over the list (examples from all over, not the first file)."""
    if len(items) <= k:
        return list(items)
    return [items[i * len(items) // k] for i in range(k)]


class _Tally:
    """Count, denominator and examples of one measure."""

    def __init__(self) -> None:
        self.count, self.of, self.examples = 0, 0, []

    def see(self, defect: bool, row: dict | None = None, why: str | None = None) -> None:
        self.of += 1
        if defect:
            self.count += 1
            if row is not None and len(self.examples) < 50:
                self.examples.append(_example(row, why))


def measure_quality(pairs: Iterable[Any], units: Iterable[Any] | None = None) -> dict[str, Any]:
    """Every measure over `pairs` (the kept or exported rows); coverage needs `units`.

    Returns {"rows", "met", "goals", "measures": {name: {title, value, display, count, of,
    goal, passed, examples, ...}}, "families": {family: {rows, share, knowledge}}, "seconds"}.
    """
    start = time.perf_counter()
    rows = _rows(pairs)
    leaks = _label_leaks(rows)
    t = {name: _Tally() for name in MEASURES if name not in ("coverage", "families")}
    families: Counter[str] = Counter()
    knowledge_units: set[str] = set()
    for row in rows:
        out_kind = text_kind(row["output"])
        why = answerable(row, leaks)
        t["answerable"].see(bool(why), row, why)
        _undedented(t["undedented"], row, out_kind)
        if asks_explanation(row["instruction"]):
            t["explanation_without_prose"].see(out_kind != "prose", row, out_kind)
        if out_kind == "prose":
            found = MARKUP_RE.search(row["output"])
            t["markup_in_prose"].see(bool(found), row, found and found.group(0).strip())
        family = family_of(row["task"])
        if family in PROSE_FAMILIES and out_kind != "prose":
            family = "code"
        families[family] += 1
        trivia = is_test_path(row["path"]) and family not in TEST_FAMILIES
        t["test_trivia"].see(trivia, row, family)
        bare = bool(BARE_ANNOTATIONS_RE.fullmatch(row["output"].strip()))
        t["bare_annotations"].see(bare, row)
        if row["unit_kind"] == "doc_section":
            reason = non_doc_reason(row["path"])
            t["non_doc_docs"].see(bool(reason), row, reason)
        fffd = (
            "\ufffd" in row["instruction"]
            or "\ufffd" in (row["input"] or "")
            or "\ufffd" in row["output"]
        )
        t["replacement_chars"].see(fffd, row)
        if FAMILIES[family][0] and not why:
            if out_kind == "prose" or (out_kind == "code" and "\n" in row["output"].strip()):
                knowledge_units.add(row["unit_id"])
    measures = {name: _share_measure(name, tally) for name, tally in t.items()}
    for name in ("non_doc_docs", "replacement_chars"):
        measures[name] = _count_measure(name, t[name])
    measures["coverage"] = _coverage(units, knowledge_units)
    measures["families"], family_table = _families(families, len(rows))
    ordered = {name: measures[name] for name in MEASURES}
    return {
        "rows": len(rows),
        "met": sum(m["passed"] for m in ordered.values()),
        "goals": len(ordered),
        "measures": ordered,
        "families": family_table,
        "seconds": round(time.perf_counter() - start, 3),
    }


def _undedented(tally: _Tally, row: dict, out_kind: str) -> None:
    """Count the row when its output or input holds multi-line code; a defect when either
    is not dedented (`why` says which)."""
    texts = [("output", row["output"], out_kind)]
    if "\n" in (row["input"] or ""):
        texts.append(("input", row["input"], text_kind(row["input"])))
    multi = [(name, text) for name, text, kind in texts if _multiline_code(text, kind)]
    if multi:
        bad = [name for name, text in multi if undedented(text)]
        tally.see(bool(bad), row, " and ".join(bad))


def _share_measure(name: str, tally: _Tally) -> dict[str, Any]:
    title, goal = MEASURES[name]
    value = tally.count / tally.of if tally.of else 0.0
    return {
        "title": title,
        "value": round(value, 4),
        "display": fmt(value),
        "count": tally.count,
        "of": tally.of,
        "goal": goal.text(),
        "passed": goal.met(value),
        "examples": _spread(tally.examples),
    }


def _count_measure(name: str, tally: _Tally) -> dict[str, Any]:
    title, goal = MEASURES[name]
    return {
        **_share_measure(name, tally),
        "value": tally.count,
        "display": str(tally.count),
        "goal": goal.text(),
        "passed": goal.met(tally.count),
    }


def _coverage(units: Iterable[Any] | None, covered: set[str]) -> dict[str, Any]:
    title, goal = MEASURES["coverage"]
    targets = coverage_targets(units or [])
    missing = [u for u in targets if u["id"] not in covered]
    value = 1 - len(missing) / len(targets) if targets else 1.0
    by_kind: dict[str, list[int]] = {}
    for u in targets:
        entry = by_kind.setdefault(u["kind"], [0, 0])
        entry[0] += u["id"] in covered
        entry[1] += 1
    return {
        "title": title,
        "value": round(value, 4),
        "display": fmt(value),
        "count": len(targets) - len(missing),
        "of": len(targets),
        "goal": goal.text(),
        "passed": goal.met(value),
        "by_kind": {k: {"covered": c, "total": n} for k, (c, n) in sorted(by_kind.items())},
        "examples": _spread(missing),
    }


def _families(counts: Counter[str], total: int) -> tuple[dict[str, Any], dict[str, Any]]:
    title, goal = MEASURES["families"]
    table = {
        f: {"rows": n, "share": round(n / total, 4) if total else 0.0, "knowledge": FAMILIES[f][0]}
        for f, n in counts.most_common()
    }
    beyond = [f for f, v in table.items() if v["knowledge"] and f != "code" and v["share"] >= 0.01]
    knowledge = sum(v["rows"] for v in table.values() if v["knowledge"])
    return {
        "title": title,
        "value": len(beyond),
        "display": str(len(beyond)),
        "count": len(beyond),
        "of": len(table),
        "goal": goal.text(),
        "passed": goal.met(len(beyond)),
        "families": beyond,
        "knowledge_share": round(knowledge / total, 4) if total else 0.0,
        "examples": [],
    }, table


def summary_line(quality: dict[str, Any]) -> str:
    """One line for the terminal: goals met and the measures that miss theirs.

    Example: "Quality: 4 of 10 goals met (answerable from the prompt 31% > 3%, ...)"
    """
    missed = [
        f"{SHORT_NAMES[name]} {m['display']} (goal {m['goal']})"
        for name, m in quality["measures"].items()
        if not m["passed"]
    ]
    tail = f" ({', '.join(missed)})" if missed else ""
    return f"Quality: {quality['met']} of {quality['goals']} goals met{tail}"
