"""Work items and their durable shards.

A work item is (source, commit, path bucket): a source of more than `MAX_FILES` files is
split by a hash of each file's path, so no item holds more than about that many files and
the split never depends on the number of tasks. An item's durable state lives under
`DIR/shards/<item key>/`: immutable Parquet shards (`units.parquet`, `pairs.parquet`) and
one manifest per phase (`slice.json`, `generate.json`) naming the item's key, the settings
hash, counts and the sha256 of each file. The manifest is written last, so an item is done
exactly when its manifest is there, its settings hash is today's and its files verify.

Example:
    items = plan_items(sources)            # [Item(key="shop-3f2a9c01b2d4-001of002", ...), ...]
    done = verify(out / "shards" / items[0].key, "slice", settings)   # manifest or None
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dataprep import outdir

MAX_FILES = 5000
SHARDS_DIR = "shards"
PLAN_FILE = "plan.json"
DEDUP_FILE = "dedup.json"

UNIT_COLUMNS = ("id", "path", "kind", "qualified_name", "code", "data")
PAIR_COLUMNS = ("id", "unit_id", "generator", "task", "path", "data")


@dataclass
class Item:
    key: str
    source: dict[str, Any]
    """`Source.as_dict()` of its source."""
    bucket: int
    buckets: int

    def owns(self, path: str) -> bool:
        return self.buckets == 1 or bucket_of(path, self.buckets) == self.bucket


def bucket_of(path: str, buckets: int) -> int:
    """The bucket of a path: a hash, so a file stays in its bucket as others come and go."""
    return int.from_bytes(hashlib.sha256(path.encode("utf-8")).digest()[:8], "big") % buckets


def count_files(root: Path) -> int:
    from dataprep.slicing import iter_files

    return sum(1 for e in iter_files(root) if e.skip is None)


def plan_items(sources: list, max_files: int = MAX_FILES) -> list[Item]:
    """The work items of pinned, checked-out sources, in source order then bucket order."""
    items = []
    for source in sources:
        # buckets sized for 80% of the cap: a hash spreads files unevenly, never by 25%
        n = max(1, math.ceil(count_files(source.root) / (0.8 * max_files)))
        commit = source.commit.removeprefix("digest:")[:12]
        for b in range(n):
            key = f"{source.name}-{commit}-{b + 1:03d}of{n:03d}"
            items.append(Item(key, source.as_dict(), b, n))
    return items


def save_plan(out: Path, items: list[Item]) -> Path:
    root = out / SHARDS_DIR
    root.mkdir(parents=True, exist_ok=True)
    path = root / PLAN_FILE
    data = [
        {"key": i.key, "source": i.source, "bucket": i.bucket, "buckets": i.buckets} for i in items
    ]
    outdir.write_file(out, path, (json.dumps(data, indent=1) + "\n").encode("utf-8"))
    return path


def load_plan(path: Path) -> list[Item]:
    return [Item(**d) for d in json.loads(Path(path).read_text(encoding="utf-8"))]


# -- shards and manifests --------------------------------------------------------------------


def write_table(out: Path, path: Path, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """Write rows as a Parquet file (atomically); returns its sha256."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(
        [{c: r.get(c) for c in columns} for r in rows],
        schema=pa.schema([pa.field(c, pa.string()) for c in columns]),
    )
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    data = buf.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    outdir.write_file(out, path, data)
    return hashlib.sha256(data).hexdigest()


def read_table(path: Path, columns: list[str] | None = None) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=columns).to_pylist()


def write_manifest(
    out: Path, item_dir: Path, phase: str, key: str, settings: str, counts: dict, files: dict
) -> dict:
    manifest = {"key": key, "phase": phase, "settings": settings, "counts": counts, "files": files}
    data = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode("utf-8")
    outdir.write_file(out, item_dir / f"{phase}.json", data)
    return manifest


def verify(item_dir: Path, phase: str, settings: str, check_files: bool = True) -> dict | None:
    """The phase's manifest when the item is done with today's settings and intact files."""
    path = item_dir / f"{phase}.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("settings") != settings:
        return None
    if check_files:
        for name, digest in manifest.get("files", {}).items():
            file = item_dir / name
            if not file.is_file() or outdir.sha256_file(file) != digest:
                return None
    return manifest
