"""Evol-Instruct planning: which units are evolved, with what context, and which operation
each instruction gets in each round (all seeded, so a re-run plans the same calls).
"""

from __future__ import annotations

import random
from typing import Any

from dataprep.generate.evol_tasks import Operation, UnitContext, format_context
from dataprep.generate.llm import LLMOptions
from dataprep.hashing import content_hash
from dataprep.models import Unit
from dataprep.settings import CHARS_PER_TOKEN

EVOL_KINDS = (
    "class",
    "interface",
    "enum",
    "record",
    "annotation_type",
    "constructor",
    "method",
    "doc_section",
)


def int_seed(*parts: Any) -> int:
    return int(content_hash("evol-rng", *parts), 16)


def pick_operation(ops: list[Operation], seed: int, instruction_key: str, round_: int) -> Operation:
    """One operation per instruction per round, weighted, reproducible from the seed."""
    rng = random.Random(int_seed(seed, instruction_key, round_))
    return rng.choices(ops, weights=[op.weight for op in ops], k=1)[0]


def sample_units(units: list[Unit], n: int | None, seed: int) -> list[Unit]:
    """A seeded sample of n units (all when n is None), in a stable order. Units whose
    Javadoc says nothing come first: the LLM explains what the source does not."""
    from dataprep.generate.javadoc import javadoc_has_prose

    pool = sorted((u for u in units if u.kind in EVOL_KINDS), key=lambda u: u.id)
    if n is not None and n < len(pool):
        bare = [u for u in pool if not (u.javadoc and javadoc_has_prose(u.javadoc))]
        bare_ids = {u.id for u in bare}
        documented = [u for u in pool if u.id not in bare_ids]
        rng = random.Random(seed)
        chosen = rng.sample(bare, min(n, len(bare)))
        chosen += rng.sample(documented, n - len(chosen))
        pool = sorted(chosen, key=lambda u: u.id)
    return pool


def build_contexts(units: list[Unit]) -> dict[str, UnitContext]:
    """Unit id -> its context: enclosing type header (parent's declaration), file imports."""
    by_id = {u.id: u for u in units}
    types = {
        u.qualified_name: u
        for u in units
        if u.kind in ("class", "interface", "enum", "record", "annotation_type")
    }
    files = {u.path: u for u in units if u.kind == "file"}
    out = {}
    for u in units:
        parent = by_id.get(u.parent or "") or _enclosing_type(types, u.parent)
        header = (parent.declaration or parent.code) if parent else None
        file_unit = files.get(u.path)
        out[u.id] = UnitContext(u, header=header, imports=file_unit.code if file_unit else None)
    return out


def _enclosing_type(types: dict[str, Unit], name: str | None) -> Unit | None:
    """The nearest type unit enclosing `name`, for members of anonymous classes and enum
    constant bodies, which have no type unit of their own.

    Example: "a.Notifier$1" -> the unit of "a.Notifier"; "a.RoomType.SUITE" -> "a.RoomType"
    """
    while name:
        if name in types:
            return types[name]
        cut = max(name.rfind("$"), name.rfind("."))
        name = name[:cut] if cut > 0 else None
    return None


def fit_context(ctx: UnitContext, options: LLMOptions) -> tuple[UnitContext | None, str | None]:
    """Shorten a context that would not fit num_ctx (drop imports, then header), or skip it.

    Returns (context or None, what was done or None).
    """
    budget = (options.num_ctx - options.max_tokens - 200) * CHARS_PER_TOKEN  # 200: prompt frame
    steps = [
        (ctx, None),
        (UnitContext(ctx.unit, ctx.header, None), "dropped imports"),
        (UnitContext(ctx.unit, None, None), "dropped imports and header"),
    ]
    for candidate, note in steps:
        if len(format_context(candidate)) <= budget:
            return candidate, note
    return None, "context_too_long"
