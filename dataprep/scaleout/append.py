"""Append mode: new sources deduplicated against a dataset already published.

`dataprep run NEW... --out DIR2 --append DIR1` reads DIR1, the output folder of an earlier
run, and never writes to it:

- its units (`DIR1/shards/<item>/units.parquet` of a many-source run) join the
  cross-source dedup ahead of every new source, so a new unit that copies a published one
  (exactly, or MinHash near-duplicate at `--dedup-threshold`, over the same code
  shingles) makes no pair and no LLM call;
- its published rows (`DIR1/dataset/<split>.parquet`) are checked in the decontaminate
  stage: a new pair of any split equal or near (the pair filter's word 5-gram Jaccard,
  at the near-duplicate threshold) to a published row is dropped, its reason naming the
  row.

Example:
    check(Path("out-2025"), Path("out-2026"))        # DIR1 resolved, or a one-line error
    refs, state = published_units(Path("out-2025"))   # dedup.UnitRef of each published unit
    with Published.load(Path("out-2025")) as rows: ...  # its rows, memory-mapped
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dataprep.errors import InputError
from dataprep.hashing import content_hash
from dataprep.models import SPLITS

OPTION = "--append"
PUBLISHED = "published"
"""The source name of DIR1's units in the dedup (`published:<source>:<unit id>`)."""


def check(path: str | Path, out: str | Path) -> Path:
    """DIR1, resolved: an earlier output folder (dataset rows or shards), not --out."""
    dir1 = Path(path).expanduser()
    if dir1.resolve() == Path(out).expanduser().resolve():
        raise InputError(
            f"{OPTION} {path} is --out itself: give the earlier run's folder and a new --out"
        )
    if not dir1.is_dir():
        raise InputError(f"{OPTION} {path}: no such folder: give an earlier run's --out")
    if not _row_files(dir1) and not (dir1 / "shards" / "plan.json").is_file():
        raise InputError(
            f"{OPTION} {path}: holds neither dataset/*.parquet nor shards/plan.json: give "
            "the --out folder of an earlier dataprep run"
        )
    return dir1.resolve()


def _row_files(dir1: Path) -> list[Path]:
    return [p for s in SPLITS if (p := dir1 / "dataset" / f"{s}.parquet").is_file()]


def _items(dir1: Path) -> list[dict[str, Any]]:
    plan = dir1 / "shards" / "plan.json"
    if not plan.is_file():
        return []
    try:
        return json.loads(plan.read_text(encoding="utf-8"))
    except ValueError:
        raise InputError(
            f"{plan} is not JSON: {OPTION} reads an earlier run's plan; run that job again"
        ) from None


def units_state(dir1: Path | None) -> Any:
    """What the dedup's cache key takes of DIR1: each item's units file, by its manifest."""
    if dir1 is None:
        return None
    state = []
    for item in _items(dir1):
        manifest = dir1 / "shards" / item["key"] / "slice.json"
        try:
            files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        except (OSError, ValueError, KeyError):
            files = None
        state.append((item["key"], files))
    return [str(dir1), state]


def published_units(dir1: Path) -> list:
    """A `dedup.UnitRef` for each unit in DIR1's shards, keyed ahead of every new source."""
    from dataprep.scaleout import dedup
    from dataprep.scaleout import items as it
    from dataprep.scaleout.dedup import unit_text

    refs = []
    for item in _items(dir1):
        path = dir1 / "shards" / item["key"] / "units.parquet"
        if not path.is_file():
            continue
        src = item["source"]
        cols = ["id", "path", "kind", "qualified_name", "code"]
        for row in it.read_table(path, cols):
            refs.append(
                dedup.UnitRef(
                    key=(-1, src["url"], row["path"], row["id"]),
                    unit_id=f"{PUBLISHED}:{src['name']}:{row['id']}",
                    code=unit_text(row["kind"], row["qualified_name"], row["code"]),
                )
            )
    return refs


@dataclass(frozen=True)
class Row:
    """What the near-duplicate check reads of a published row."""

    id: str
    instruction: str
    input: str
    output: str


def rows_state(dir1: Path) -> list[tuple[str, int, int]]:
    """(file, size, modification time) of DIR1's row files: a changed one re-runs the check."""
    return [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in _row_files(dir1)]


_COLUMNS = ["id", "instruction", "input", "output"]


class Published:
    """DIR1 and its published rows (each id once, the first split's), as the decontaminate
    stage takes them: copied a batch at a time from DIR1's Parquet files into an Arrow
    file in a private temporary folder (local disk), then memory-mapped. Iterating them
    or reading some by id holds no Python copy of them all, only their ids.

    Example: with Published.load("out-1") as published: len(published), published.fetch(["a"])
    """

    def __init__(self, dir1: Path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.dir = Path(dir1)
        self._tmp = tempfile.TemporaryDirectory(prefix="dataprep-published-")
        path = Path(self._tmp.name) / "rows.arrow"
        schema = pa.schema([(name, pa.string()) for name in _COLUMNS])
        seen: set[str] = set()
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
            for file in _row_files(self.dir):
                for batch in pq.ParquetFile(file).iter_batches(4096, columns=_COLUMNS):
                    ids = batch.column("id").to_pylist()
                    keep = [i for i, pid in enumerate(ids) if pid not in seen]
                    seen.update(ids)
                    if keep:
                        batch = batch.select(_COLUMNS).take(pa.array(keep))
                        writer.write_batch(pa.record_batch(batch.columns, schema=schema))
        self.table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
        self.position = {pid: i for i, pid in enumerate(self.table.column("id").to_pylist())}

    @classmethod
    def load(cls, dir1: str | Path) -> Published:
        return cls(Path(dir1))

    def __len__(self) -> int:
        return len(self.position)

    def __iter__(self) -> Iterator[Row]:
        for batch in self.table.to_batches(4096):
            for r in batch.to_pylist():
                yield Row(r["id"], r["instruction"] or "", r["input"] or "", r["output"] or "")

    def fetch(self, ids: Iterable[str]) -> dict[str, Row]:
        import pyarrow as pa

        ids = list(ids)
        taken = self.table.take(pa.array([self.position[i] for i in ids], type=pa.int64()))
        return {
            r["id"]: Row(r["id"], r["instruction"] or "", r["input"] or "", r["output"] or "")
            for r in taken.to_pylist()
        }

    def close(self) -> None:
        self.table = None
        self._tmp.cleanup()

    def __enter__(self) -> Published:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def state(dir1: Path | None) -> Any:
    """The decontaminate stage's fingerprint of DIR1 (nothing without --append)."""
    if dir1 is None:
        return None
    return content_hash("append", str(dir1), rows_state(dir1))


__all__ = ["check", "published_units", "Published", "units_state"]
