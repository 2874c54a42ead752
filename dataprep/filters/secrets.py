"""Secrets that reached a pair (an LLM output, a unit stored before redaction), found by
the redactor's own rules (`dataprep.secrets`)."""

from __future__ import annotations

from dataprep.filters.core import Context, register
from dataprep.models import Pair


@register(
    "secrets",
    "secrets or personal data left in a pair (the redactor's own rules)",
    cacheable=True,
)
def leaked_secret(pair: Pair, ctx: Context) -> str | None:
    from dataprep.secrets import scan_text

    for name in ("instruction", "input", "output"):
        text = getattr(pair, name)
        rules = ctx.scans.get_or(text, scan_text)  # a unit's code is in many pairs
        if rules:
            return f"{rules[0]} in the {name}"  # the rule, never the value
    return None
