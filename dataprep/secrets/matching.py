"""What every rule shares: the Finding and Match records, placeholders, case-folded
patterns and keyword tries."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

PLACEHOLDER_RE = re.compile(r"<SECRET:[a-z0-9_]+:\d+>")


@dataclass(frozen=True)
class Finding:
    """A secret found: the rule that matched and where (never the value)."""

    rule: str
    field: str | None = None
    row: int | str | None = None


@dataclass(frozen=True)
class Match:
    """A span of text that holds a secret (internal: the caller owns the text)."""

    rule: str
    start: int
    end: int
    priority: int = 5


MAX_TOKEN = 1024  # the longest value any rule takes as one secret


def word_char(text: str, i: int) -> bool:
    """Is text[i] part of an identifier (and inside the text)?"""
    return 0 <= i < len(text) and (text[i].isalnum() or text[i] in "_$")


class Folded:
    """A case-insensitive regex, run on the lower-cased text: several times faster than
    re.IGNORECASE. Spans are the text's unless lower-casing changed the length (a few
    non-ASCII letters), where the IGNORECASE twin runs on the text. Read values from the
    text by span: the match's groups may be lower-cased."""

    def __init__(self, pattern: str):
        self.lower = re.compile(pattern)
        self.ignorecase = re.compile(pattern, re.IGNORECASE)

    def finditer(self, text: str, lower: str) -> Iterator[re.Match[str]]:
        if len(lower) == len(text):
            return self.lower.finditer(lower)
        return self.ignorecase.finditer(text)

    def search(self, text: str, lower: str, pos: int) -> re.Match[str] | None:
        if len(lower) == len(text):
            return self.lower.search(lower, pos)
        return self.ignorecase.search(text, pos)


def trie_regex(words: Iterable[str]) -> str:
    """One alternation of literal words, factored by prefix, so that the regex engine tries
    one branch per position instead of one per word. Example: ["ab", "ac"] -> "a(?:b|c)"."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)
