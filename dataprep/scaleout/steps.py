"""The two per-item phases as datatrove pipeline steps: slice, then generate.

Each step is a `PipelineStep` whose `run(data, rank, world_size)` takes the items
`rank, rank + world_size, ...` of the plan, so any executor (local, Ray, Slurm) runs it
and the number of tasks never changes what an item holds. Each item works in a SQLite
scratch store on local disk (today's schema and stage code: `slicing.stage.slice_stage`,
`pipeline.generate_stage`) and ends with immutable Parquet shards plus a manifest under
`DIR/shards/<item key>/`; an item whose manifest verifies is skipped, so a killed job
resumes where it stopped.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from datatrove.pipeline.base import PipelineStep

from dataprep.hashing import content_hash
from dataprep.scaleout import items as it

SLICE_MODULES = ("dataprep.slicing", "dataprep.languages", "dataprep.secrets", "dataprep.pipeline")
GENERATE_MODULES = ("dataprep.generate", "dataprep.pipeline")


def unit_ref(source: dict[str, Any], unit_id: str) -> str:
    """A unit's id across sources (the same file in a fork has the same unit id)."""
    return f"{source['name']}:{unit_id}"


def slice_settings(item: it.Item, parser: str) -> str:
    from dataprep import slicing
    from dataprep.stages import code_version

    version = getattr(slicing, "SLICER_VERSION", "1")
    return content_hash(
        "scaleout-slice", item.key, item.source["commit"], item.source.get("state"), parser,
        version,
        code_version(SLICE_MODULES),
    )  # fmt: skip


def generate_settings(item: it.Item, units_sha: str, dropped: list[str], seed: int) -> str:
    from dataprep.generate.tasks import templates_fingerprint
    from dataprep.stages import code_version

    return content_hash(
        "scaleout-generate", item.key, units_sha, sorted(dropped), seed,
        templates_fingerprint(), code_version(GENERATE_MODULES),
    )  # fmt: skip


def _config(root: Path, scratch: Path, settings: dict[str, Any]):
    from dataprep.pipeline import RunConfig

    return RunConfig(
        path=root, out=scratch, parser=settings["parser"], jobs=1, seed=settings["seed"]
    )


def _info(item: it.Item) -> dict[str, Any]:
    commit = item.source["commit"]
    return {
        "repo": item.source["name"],
        "commit": None if commit.startswith("digest:") else commit,
        "only": item.owns,
    }


class ItemStep(PipelineStep):
    """Runs `process(item)` for each item of this rank; subclasses name the phase."""

    type = "dataprep"
    phase = ""

    def __init__(self, out: str, scratch: str, plan: str, settings: dict[str, Any]):
        super().__init__()
        self.out, self.scratch, self.plan, self.settings = out, scratch, plan, settings

    def run(self, data, rank: int = 0, world_size: int = 1):
        from dataprep.sources import Source, checkout

        plan = it.load_plan(Path(self.plan))
        for item in plan[rank::world_size]:
            item_dir = Path(self.out) / it.SHARDS_DIR / item.key
            if self.done(item, item_dir):
                self.stat_update("items_skipped")
                continue
            source = Source.from_dict(item.source)
            root = checkout(source)  # the cached clone, made on this machine when missing
            counts = self.process(item, item_dir, root, Path(self.scratch) / item.key)
            self.stat_update("items_done")
            for name, value in counts.items():
                if isinstance(value, int) and not isinstance(value, bool):
                    self.stat_update(name, value=value)
        return data

    def done(self, item: it.Item, item_dir: Path) -> bool:
        raise NotImplementedError

    def process(self, item: it.Item, item_dir: Path, root: Path, scratch: Path) -> dict:
        raise NotImplementedError


class SliceItems(ItemStep):
    """Slice an item's files into its scratch store; write units.parquet and slice.json."""

    name = "slice items"
    phase = "slice"

    def done(self, item, item_dir):
        settings = slice_settings(item, self.settings["parser"])
        return it.verify(item_dir, "slice", settings) is not None

    def process(self, item, item_dir, root, scratch):
        from dataprep.errors import InputError
        from dataprep.slicing.stage import slice_stage
        from dataprep.stages import Context
        from dataprep.store import Store

        work = scratch / "slice"
        work.mkdir(parents=True, exist_ok=True)
        with Store.open(work) as store:  # resumes: files whose digest is known are kept
            ctx = Context(store=store, config=_config(root, work, self.settings), info=_info(item))
            try:
                counts = slice_stage(ctx)
            except InputError:  # a bucket (or source) with nothing to slice
                counts = {"files": 0, "units_sliced": 0}
                store.forget_files(list(store.file_digests()))
            units = store.units()
        rows = [
            {
                "id": u.id,
                "path": u.path,
                "kind": u.kind,
                "qualified_name": u.qualified_name,
                "code": u.code,
                "data": u.model_dump_json(),
            }
            for u in units
        ]
        out = Path(self.out)
        sha = it.write_table(out, item_dir / "units.parquet", rows, it.UNIT_COLUMNS)
        counts = {k: v for k, v in counts.items() if isinstance(v, int)}
        counts["units"] = len(rows)
        settings = slice_settings(item, self.settings["parser"])
        it.write_manifest(
            out, item_dir, "slice", item.key, settings, counts, {"units.parquet": sha}
        )
        shutil.rmtree(work, ignore_errors=True)  # the shard holds it all now
        return counts


def dropped_of(item: it.Item, dedup: dict[str, Any]) -> list[str]:
    prefix = f"{item.source['name']}:"
    return sorted(u for u in dedup.get("dropped", {}) if u.startswith(prefix))


class GenerateItems(ItemStep):
    """Template pairs of an item's units that survived the global dedup: pairs.parquet."""

    name = "generate items"
    phase = "generate"

    def _dedup(self) -> dict[str, Any]:
        if not hasattr(self, "_dedup_cache"):
            path = Path(self.out) / it.SHARDS_DIR / it.DEDUP_FILE
            self._dedup_cache = json.loads(path.read_text(encoding="utf-8"))
        return self._dedup_cache

    def _settings(self, item: it.Item, item_dir: Path) -> str | None:
        manifest = json.loads((item_dir / "slice.json").read_text(encoding="utf-8"))
        units_sha = manifest["files"]["units.parquet"]
        return generate_settings(
            item, units_sha, dropped_of(item, self._dedup()), self.settings["seed"]
        )

    def done(self, item, item_dir):
        return it.verify(item_dir, "generate", self._settings(item, item_dir)) is not None

    def process(self, item, item_dir, root, scratch):
        from dataprep.models import Unit
        from dataprep.pipeline import generate_stage
        from dataprep.stages import Context
        from dataprep.store import Store

        dropped = set(dropped_of(item, self._dedup()))
        rows = it.read_table(item_dir / "units.parquet", ["id", "path", "data"])
        by_path: dict[str, list[Unit]] = {}
        skipped = 0
        for row in rows:
            if unit_ref(item.source, row["id"]) in dropped:
                skipped += 1
                continue
            by_path.setdefault(row["path"], []).append(Unit.model_validate_json(row["data"]))
        work = scratch / "generate"
        shutil.rmtree(work, ignore_errors=True)  # our scratch: rebuilt from the units shard
        work.mkdir(parents=True)
        with Store.open(work) as store:
            for path in sorted(by_path):
                store.put_file(path, None, "ok", by_path[path])
            ctx = Context(store=store, config=_config(root, work, self.settings), info=_info(item))
            counts = Counter(generate_stage(ctx))
            pairs = store.pairs(generator="template")
        shutil.rmtree(work, ignore_errors=True)
        out = Path(self.out)
        data = [
            {
                "id": p.id,
                "unit_id": p.unit_id,
                "generator": p.generator,
                "task": p.task,
                "path": p.path,
                "data": p.model_dump_json(),
            }
            for p in pairs
        ]
        sha = it.write_table(out, item_dir / "pairs.parquet", data, it.PAIR_COLUMNS)
        counts = {k: v for k, v in counts.items() if isinstance(v, int) and not isinstance(v, bool)}
        counts.update(pairs=len(data), units_deduplicated=skipped)
        settings = self._settings(item, item_dir)
        it.write_manifest(
            out, item_dir, "generate", item.key, settings, counts, {"pairs.parquet": sha}
        )
        return counts
