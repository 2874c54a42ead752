"""Cross-source unit dedup (PLACEHOLDER: exact matches only).

The full version (exact, then MinHash near-duplicates over code shingles) is written on
another branch with this same interface; this file only lets the scale-out runner work
until it lands, and is to be replaced by it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class UnitRef:
    key: tuple
    """Canonical key: (source priority, source url, path, unit id); the smallest is kept."""
    unit_id: str
    code: str
    """The text compared."""


def find_duplicates(units: Iterable[UnitRef], threshold: float = 0.85) -> dict[str, str]:
    """unit_id of each dropped copy -> unit_id of the copy kept (exact text matches only)."""
    kept: dict[bytes, UnitRef] = {}
    groups: dict[bytes, list[UnitRef]] = {}
    for unit in units:
        digest = hashlib.sha256(" ".join(unit.code.split()).encode("utf-8")).digest()
        groups.setdefault(digest, []).append(unit)
    out: dict[str, str] = {}
    for digest, members in groups.items():
        if len(members) < 2:
            continue
        first = kept[digest] = min(members, key=lambda u: u.key)
        for unit in members:
            if unit is not first:
                out[unit.unit_id] = first.unit_id
    return out
