"""All the rules together: non-overlapping findings in a text, and in dataset rows."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from typing import Any

from dataprep.secrets.credentials import (
    argument_matches,
    auth_matches,
    keyed_matches,
    url_matches,
)
from dataprep.secrets.matching import PLACEHOLDER_RE, Finding, Match
from dataprep.secrets.prose import prose_matches, table_matches
from dataprep.secrets.providers import pem_matches, provider_matches
from dataprep.secrets.shapes import email_matches, entropy_matches, ip_matches


def find_secrets(text: str) -> list[Match]:
    """Non-overlapping spans of `text` that hold secrets or personal data, in order.

    Example: find_secrets("key=AKIA7LRWFVEALKXWKKXZ") -> [Match("aws_access_key", 4, 24, 1)].
    """
    if len(text) < 6:  # the shortest finding, an e-mail address, has six characters
        return []
    lower = text.lower()
    found: list[Match] = []
    # each family is called only when a character or word it needs is in the text
    if "PRIVATE KEY" in text:
        pem_matches(text, lower, found)
    if len(text) >= 16:
        provider_matches(text, lower, found)
    url_matches(text, lower, found)
    auth_matches(text, lower, found)
    keyed_matches(text, lower, found)
    argument_matches(text, lower, found)
    prose_matches(text, lower, found)
    if "|-" in text or "| -" in text or "|:-" in text:
        table_matches(text, lower, found)
    if len(text) >= 16:
        entropy_matches(text, lower, found)
    if "@" in text:
        email_matches(text, lower, found)
    if "." in text:
        ip_matches(text, lower, found)
    return _non_overlapping(text, found) if found else []


def _non_overlapping(text: str, found: list[Match]) -> list[Match]:
    """Keep the strongest match where spans overlap; never split a placeholder.

    The spans taken so far are kept sorted, so each check is a binary search.
    """
    starts: list[int] = []
    ends: list[int] = []
    for m in PLACEHOLDER_RE.finditer(text):
        starts.append(m.start())
        ends.append(m.end())
    chosen: list[Match] = []
    for match in sorted(found, key=lambda m: (m.priority, m.start, -(m.end - m.start))):
        if match.end <= match.start:
            continue
        i = bisect.bisect_right(starts, match.start)
        if (i > 0 and ends[i - 1] > match.start) or (i < len(starts) and starts[i] < match.end):
            continue
        starts.insert(i, match.start)
        ends.insert(i, match.end)
        chosen.append(match)
    return sorted(chosen, key=lambda m: m.start)


def scan_text(text: str) -> list[str]:
    """The rules that match in `text`, one per finding (no values). Example: ["email"]."""
    return [m.rule for m in find_secrets(text)]


def scan_rows(
    rows: Iterable[Mapping[str, Any]], fields: Iterable[str] | None = None
) -> list[Finding]:
    """Findings in dataset rows (what `dataprep push` refuses on): row index, field, rule.

    Example: scan_rows([{"output": "mail ops@grandhotel.io"}]) ->
        [Finding(rule="email", field="output", row=0)]
    """
    wanted = set(fields) if fields is not None else None
    out: list[Finding] = []
    for index, row in enumerate(rows):
        for name, value in row.items():
            if isinstance(value, str) and (wanted is None or name in wanted):
                out.extend(Finding(rule, name, index) for rule in scan_text(value))
    return out
