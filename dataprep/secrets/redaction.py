"""Redaction: each secret replaced by a stable, numbered placeholder; the numbering lives
in the store as salted hashes, never the values."""

from __future__ import annotations

import hashlib
import secrets as _random
from collections import Counter
from typing import Any

from dataprep.models import Unit
from dataprep.secrets.matching import Finding
from dataprep.secrets.scanner import find_secrets

UNIT_TEXT_FIELDS = (
    "name", "qualified_name", "code", "signature", "declaration", "javadoc", "initializer",
    "type", "type_parameters", "package",
)  # fmt: skip
UNIT_LIST_FIELDS = (
    "modifiers", "annotations", "parameters", "extends", "implements", "permits", "throws",
    "imports", "heading_path",
)  # fmt: skip


def _follow(unit: Unit, changes: dict[str, Any], seen: dict[str, str]) -> None:
    """A value found in one field (`"X"` in a field's code, where the key names it) is
    replaced in every other field too: the `initializer` `"X"` alone says nothing that
    detection could see, yet it is the same secret."""
    values = sorted((v for v in seen if len(v) >= 4), key=len, reverse=True)
    if not values:
        return

    def scrub(text: str) -> str:
        for value in values:
            if value in text:
                text = text.replace(value, seen[value])
        return text

    for name in UNIT_TEXT_FIELDS:
        text = changes.get(name, getattr(unit, name))
        if isinstance(text, str) and text:
            fixed = scrub(text)
            if fixed != text:
                changes[name] = fixed
    for name in UNIT_LIST_FIELDS:
        items = changes.get(name, getattr(unit, name))
        fixed_items = [scrub(v) for v in items]
        if fixed_items != list(items):
            changes[name] = fixed_items


def _repeat_of(unit: Unit) -> int:
    """The repeat number the unit's id was made with (0 unless its text repeats in its file)."""
    fields = (unit.path, unit.kind, unit.qualified_name, unit.signature, unit.code)
    for repeat in range(64):
        if Unit.make_id(*fields, repeat=repeat) == unit.id:
            return repeat
    return 0


class Redactor:
    """Replaces secrets with stable, numbered placeholders; the numbering lives in the store.

    Example:
        r = Redactor(store)
        r.redact("user ops@grandhotel.io") -> ("user <SECRET:email:1>", ["email"])
    """

    def __init__(self, store=None):
        self.store = store
        meta = store.get_meta if store is not None else (lambda key, default=None: default)
        self.salt: str = meta("secrets.salt") or _random.token_hex(16)
        self.placeholders: dict[str, str] = dict(meta("secrets.placeholders", {}) or {})
        self._counts = Counter(p.split(":")[1] for p in self.placeholders.values())
        self._dirty = store is not None and meta("secrets.salt") is None

    def placeholder(self, rule: str, value: str) -> str:
        """The placeholder of `value` (the same value always gets the same one)."""
        key = hashlib.sha256(f"{self.salt}\x00{value}".encode()).hexdigest()[:24]
        if key not in self.placeholders:
            self._counts[rule] += 1
            self.placeholders[key] = f"<SECRET:{rule}:{self._counts[rule]}>"
            self._dirty = True
        return self.placeholders[key]

    def redact(self, text: str, seen: dict[str, str] | None = None) -> tuple[str, list[str]]:
        """`text` with every secret replaced, and the rules that matched (no values).
        `seen`, when given, collects value -> placeholder of what was replaced."""
        matches = find_secrets(text)
        if not matches:
            return text, []
        parts, last = [], 0
        for m in matches:
            value = text[m.start : m.end]
            placeholder = self.placeholder(m.rule, value)
            if seen is not None:
                seen[value] = placeholder
            parts += [text[last : m.start], placeholder]
            last = m.end
        parts.append(text[last:])
        return "".join(parts), [m.rule for m in matches]

    def redact_unit(self, unit: Unit) -> tuple[Unit, list[Finding]]:
        """The unit with every text field redacted (id recomputed when the code changed)."""
        new_unit, findings = self._redact_unit(unit)
        self.save()
        return new_unit, findings

    def _redact_unit(self, unit: Unit) -> tuple[Unit, list[Finding]]:
        changes: dict[str, Any] = {}
        findings: list[Finding] = []
        seen: dict[str, str] = {}
        for name in UNIT_TEXT_FIELDS:
            value = getattr(unit, name)
            if isinstance(value, str) and value:
                new, rules = self.redact(value, seen)
                if rules:
                    changes[name] = new
                    findings += [Finding(rule, name, unit.path) for rule in rules]
        for name in UNIT_LIST_FIELDS:
            values = getattr(unit, name)
            redacted = [self.redact(v, seen) for v in values]
            if any(rules for _, rules in redacted):
                changes[name] = [new for new, _ in redacted]
                findings += [
                    Finding(rule, name, unit.path) for _, rules in redacted for rule in rules
                ]
        if not changes:
            return unit, []
        _follow(unit, changes, seen)
        new_unit = unit.model_copy(update=changes)
        new_unit.id = Unit.make_id(
            new_unit.path,
            new_unit.kind,
            new_unit.qualified_name,
            new_unit.signature,
            new_unit.code,
            repeat=_repeat_of(unit),
        )
        return new_unit, findings

    def redact_units(self, units: list[Unit]) -> tuple[list[Unit], list[Finding]]:
        """Redact many units; `parent` links that named a changed unit id follow it. The
        placeholders are saved once, after the last unit (not once per unit)."""
        out, findings, renamed = [], [], {}
        for unit in units:
            new, found = self._redact_unit(unit)
            if new.id != unit.id:
                renamed[unit.id] = new.id
            out.append(new)
            findings += found
        if renamed:
            out = [
                u.model_copy(update={"parent": renamed[u.parent]}) if u.parent in renamed else u
                for u in out
            ]
        self.save()
        return out, findings

    def save(self) -> None:
        """Persist the salt and the hash -> placeholder map (never the values)."""
        if self.store is None or not self._dirty:
            return
        self.store.set_meta("secrets.salt", self.salt)
        self.store.set_meta("secrets.placeholders", self.placeholders)
        self._dirty = False
