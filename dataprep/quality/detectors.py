"""The other detectors: explanations asked for, markup in prose, bare annotations, doc
rows from files that are not documentation."""

from __future__ import annotations

import re
from functools import lru_cache

from dataprep.generate.java_facts import is_test_path as _is_test_path

# a row's path repeats over its pairs: look each up once
is_test_path = lru_cache(maxsize=1 << 16)(_is_test_path)


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
