"""LLM answers and decisions travel with the shards: each work item's cached answers, and
the verdicts on its pairs, in files of its own.

The LLM stages (Evol-Instruct, the judge, output-first balancing) run on the merged store
DIR/dataprep.db, whose `llm_cache` is keyed by (model, messages, sampling options with
seed, schema, stage version), never by a server's URL. Each cached answer also names the
unit it was about, so after the LLM stage every work item gets the answers of its own
units as `DIR/shards/<item>/llm.parquet` (sorted by key; columns key, model, request,
response), with a manifest `llm.json` (settings, counts, sha256) written after it. A run
whose merged store lacks them (the store deleted, DIR copied to another machine without
it) loads them back into the cache before any LLM stage, so it makes no call.

An item's file is rewritten only when its answers change (another model, more units);
answers are only ever added, since the store loads the shards before it exports them.

Example:
    loaded = load(store, items, out)         # answers the store did not hold
    written = export(store, items, out, dropped)   # {"items": 3, "answers": 120, ...}
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

from dataprep import outdir
from dataprep.scaleout import items as it
from dataprep.scaleout import steps

PHASE = "llm"
FILE = "llm.parquet"
COLUMNS = ("key", "model", "request", "response")
SETTINGS = "llm-answers-1"
"""The manifest's settings: an answer is valid whatever the run's settings (its key holds
every input of the request), so only the file format is named."""


def _owners(items: list[it.Item], out: Path, dropped: dict) -> dict[str, str]:
    """Unit id -> the key of the first item whose surviving units hold it (the merged
    store's unit ids, which copies in several sources share)."""
    owner: dict[str, str] = {}
    for item in items:
        path = out / it.SHARDS_DIR / item.key / "units.parquet"
        for row in it.read_table(path, ["id"]):
            if steps.unit_ref(item.source, row["id"]) not in dropped:
                owner.setdefault(row["id"], item.key)
    return owner


def _unit_of(request: str) -> str | None:
    try:
        data = json.loads(request)
    except ValueError:
        return None
    return data.get("unit") if isinstance(data, dict) else None


def export(store: Any, items: list[it.Item], out: Path, dropped: dict) -> dict[str, int]:
    """Write each item's cached answers beside its shards; returns the counts (items
    written, answers exported, answers whose unit is in no item)."""
    owner = _owners(items, out, dropped)
    by_item: dict[str, list[dict[str, str]]] = {}
    orphans = 0
    for key, model, request, response in store.cache_rows():
        item = owner.get(_unit_of(request) or "")
        if item is None:
            orphans += 1
            continue
        by_item.setdefault(item, []).append(
            {"key": key, "model": model, "request": request, "response": response}
        )
    written = answers = 0
    for item in items:
        rows = by_item.get(item.key)
        if not rows:
            continue
        answers += len(rows)
        data = _parquet(rows, _string_schema(COLUMNS))
        written += _write_shard(out, item, PHASE, SETTINGS, FILE, data, {"answers": len(rows)})
    return {"items_written": written, "answers": answers, "unattributed": orphans}


def _string_schema(columns: tuple[str, ...]):
    import pyarrow as pa

    return pa.schema([pa.field(c, pa.string()) for c in columns])


def _parquet(rows: list[dict[str, Any]], schema) -> bytes:
    """The rows as Parquet bytes (the schema's columns): the same rows give the same bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist([{c: r[c] for c in schema.names} for r in rows], schema=schema)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def _write_shard(
    out: Path, item: it.Item, phase: str, settings: str, name: str, data: bytes, counts: dict
) -> int:
    """Write one of an item's shard files and its manifest, unless the manifest already
    verifies with these very bytes (the file stays as it is); returns 1 if written."""
    item_dir = out / it.SHARDS_DIR / item.key
    digest = hashlib.sha256(data).hexdigest()
    manifest = it.verify(item_dir, phase, settings)
    if manifest is not None and manifest["files"].get(name) == digest:
        return 0
    outdir.write_file(out, item_dir / name, data)
    it.write_manifest(out, item_dir, phase, item.key, settings, counts, {name: digest})
    return 1


def load(store: Any, items: list[it.Item], out: Path) -> dict[str, int]:
    """Add every verified item's answers the store lacks to its LLM cache; an item whose
    file does not match its manifest is passed over (its answers are asked again)."""
    loaded = found = bad = 0
    for item in items:
        item_dir = out / it.SHARDS_DIR / item.key
        if not (item_dir / f"{PHASE}.json").is_file():
            continue
        if it.verify(item_dir, PHASE, SETTINGS) is None:
            bad += 1
            continue
        rows = it.read_table(item_dir / FILE, list(COLUMNS))
        found += len(rows)
        loaded += store.cache_import(
            (r["key"], r["model"], r["request"], r["response"]) for r in rows
        )
    return {"answers": found, "loaded": loaded, "items_unverified": bad}


DECISIONS_PHASE = "decisions"
DECISIONS_FILE = "decisions.parquet"
DECISION_COLUMNS = ("pair_id", "stage", "kept", "reason", "detail")
DECISIONS_SETTINGS = "decisions-1"


def export_decisions(store: Any, items: list[it.Item], out: Path, dropped: dict) -> dict[str, int]:
    """Write each item's decisions (the filters', balance's and decontamination's verdicts
    on the pairs of its units, made on the merged store) beside its shards as
    `decisions.parquet` with a manifest `decisions.json`: the durable record of what was
    dropped and why, per item. A file is rewritten only when its rows change."""
    owner = _owners(items, out, dropped)
    by_item: dict[str, list[dict[str, Any]]] = {}
    for pair_id, unit_id, stage, kept, reason, detail in store.decision_rows():
        item = owner.get(unit_id)
        if item is not None:
            by_item.setdefault(item, []).append(
                {"pair_id": pair_id, "stage": stage, "kept": bool(kept), "reason": reason,
                 "detail": detail}
            )  # fmt: skip
    written = rows_out = 0
    for item in items:
        rows = by_item.get(item.key, [])
        rows_out += len(rows)
        if not (out / it.SHARDS_DIR / item.key).is_dir():
            continue
        data = _parquet(rows, _decision_schema())
        counts = {"decisions": len(rows), "dropped": sum(not r["kept"] for r in rows)}
        written += _write_shard(
            out, item, DECISIONS_PHASE, DECISIONS_SETTINGS, DECISIONS_FILE, data, counts
        )
    return {"items_written": written, "decisions": rows_out}


def _decision_schema():
    import pyarrow as pa

    types = {"kept": pa.bool_()}
    return pa.schema([pa.field(c, types.get(c, pa.string())) for c in DECISION_COLUMNS])


__all__ = ["export", "export_decisions", "load", "FILE", "PHASE", "DECISIONS_FILE"]
