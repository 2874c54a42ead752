"""`dataprep run` over many sources: slice per item, dedup across sources, generate per
item, merge into DIR/dataprep.db, then today's filter .. report stages on one dataset.

1. slice: each work item (source, commit, path bucket) is sliced in a scratch store on
   local disk into `DIR/shards/<item>/units.parquet` (datatrove executor, many tasks);
2. dedup: every unit of every source goes through `dedup.find_duplicates` at once, keyed
   by (source priority, source URL, path, unit id) so the copy kept never depends on the
   number of tasks; a unit is dropped only for a copy kept in another source (one source
   keeps exactly what it makes alone). Forks and vendored copies then cost no pair and
   no LLM call;
3. generate: template pairs per item from its surviving units into `pairs.parquet`;
4. merge: the shards become the units and pairs of `DIR/dataprep.db` (with `repo` the
   source's name and `commit` its pinned commit), and filter, balance, split (by source
   and path), decontaminate, export and report run on it as for one repository.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataprep import outdir, store_home
from dataprep.console import progress
from dataprep.errors import DataprepError, InputError
from dataprep.hashing import content_hash
from dataprep.scaleout import items as it
from dataprep.scaleout import llmshards, steps

SOURCES_META = "scaleout.sources"
MERGED_META = "scaleout.merged"


@dataclass
class ScaleOptions:
    executor: str = "local"
    tasks: int | None = None
    """World size of each phase (default: `default_tasks`)."""
    workers: int = 1
    scratch: Path | None = None
    dedup_threshold: float = 0.85
    max_files: int = it.MAX_FILES
    executor_options: dict[str, Any] = field(default_factory=dict)
    skipped_sources: list[dict[str, str]] = field(default_factory=list)
    """Sources left out before the run (unreachable, licence), for the summary and card."""
    append: Path | None = None
    """`--append DIR1`: an earlier output folder whose units the new sources' are
    deduplicated against (scaleout.append); only read."""


def default_scratch(out: Path, executor: str) -> Path:
    """Local disk for the items' SQLite stores: DIR/.scratch for the local executor, the
    system temp folder otherwise or when DIR is on a network filesystem (a cluster's)."""
    if executor == "local" and not store_home.is_network(out):
        return Path(out) / ".scratch"
    key = content_hash("scratch", str(Path(out).resolve()))
    return Path(tempfile.gettempdir()) / f"dataprep-scratch-{key}"


def _phase_dir(out: Path, phase: str, parts: Any, tasks: int) -> Path:
    return Path(out) / ".scaleout" / "logs" / f"{phase}-{content_hash('phase', parts, tasks)}"


def default_tasks(n_items: int, opts: ScaleOptions) -> int:
    """One task per item (at most 64) locally, where a task is a fork; on Ray, where each
    task is a new actor and process that imports dataprep, one task per worker."""
    if opts.executor == "ray":
        return max(1, min(n_items, opts.workers))
    return max(1, min(n_items, 64))


def _run_phase(
    step, items: list[it.Item], todo: list[it.Item], opts: ScaleOptions, out: Path, parts: Any
) -> None:
    from dataprep.scaleout.executors import make_executor

    tasks = opts.tasks or default_tasks(len(items), opts)
    logging_dir = _phase_dir(out, step.phase, parts, tasks)
    keys = {i.key for i in todo}
    for rank in range(tasks):  # a task marked complete whose items no longer verify runs again
        if any(i.key in keys for i in items[rank::tasks]):
            (logging_dir / "completions" / f"{rank:05d}").unlink(missing_ok=True)
    executor = make_executor(
        opts.executor, [step], tasks, opts.workers, logging_dir, opts.executor_options
    )
    import signal

    # forked workers inherit the handlers: datatrove's pool ends them with SIGTERM, which
    # dataprep's CLI turns into KeyboardInterrupt (and a worker would then hang the pool)
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        executor.run()
    except DataprepError:
        raise
    except Exception as exc:  # a task failed: its log says where; finished items are kept
        what = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        raise InputError(
            f"a task of the {step.phase} phase failed ({what}): see its log under "
            f"{logging_dir / 'logs'}; run the same command again to resume"
        ) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_phase(
    items: list[it.Item], out: Path, phase: str, settings_of, opts: ScaleOptions
) -> list[dict]:
    manifests, missing = [], []
    for item in items:
        item_dir = out / it.SHARDS_DIR / item.key
        manifest = it.verify(item_dir, phase, settings_of(item, item_dir))
        if manifest is None:
            missing.append(item.key)
        else:
            manifests.append(manifest)
    if missing and opts.executor == "slurm":
        raise InputError(
            f"the {phase} phase of {len(missing)} work items was submitted to Slurm: run the "
            "same command again once its jobs have finished (squeue shows them)"
        )
    if missing:
        logs = out / ".scaleout" / "logs"
        raise InputError(
            f"{len(missing)} of {len(items)} work items did not finish the {phase} phase "
            f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}): see the task "
            f"logs under {logs}, then run the same command again to resume"
        )
    return manifests


# -- dedup -----------------------------------------------------------------------------------


def run_dedup(
    items: list[it.Item],
    manifests: list[dict],
    out: Path,
    threshold: float,
    published: Path | None = None,
) -> dict:
    """The global dedup over all units; cached in DIR/shards/dedup.json by its inputs.
    With `published` (--append DIR1), DIR1's units come ahead of every source: a new unit
    that copies one is dropped."""
    from dataprep.scaleout import append, dedup
    from dataprep.stages import code_version

    state = content_hash(
        "scaleout-dedup",
        [(m["key"], m["files"]["units.parquet"]) for m in manifests],
        [(i.key, i.source["priority"], i.source["url"]) for i in items],
        threshold,
        code_version(("dataprep.scaleout.dedup",)),
        *([append.units_state(published)] if published else []),
    )
    path = out / it.SHARDS_DIR / it.DEDUP_FILE
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached.get("state") == state:
            cached["cached"] = True
            return cached
    except (OSError, ValueError):
        pass
    refs, source_of = [], {}
    if published is not None:
        refs = append.published_units(published)
        source_of = {r.unit_id: append.PUBLISHED for r in refs}
    n_published = len(refs)
    for item in items:
        rows = it.read_table(
            out / it.SHARDS_DIR / item.key / "units.parquet",
            ["id", "path", "kind", "qualified_name", "code"],
        )
        src = item.source
        for row in rows:
            ref = steps.unit_ref(src, row["id"])
            source_of[ref] = src["name"]
            refs.append(
                dedup.UnitRef(
                    key=(src["priority"], src["url"], row["path"], row["id"]),
                    unit_id=ref,
                    code=dedup.unit_text(row["kind"], row["qualified_name"], row["code"]),
                )
            )
    start = time.perf_counter()
    found = dedup.find_duplicates(refs, threshold=threshold)
    seconds = round(time.perf_counter() - start, 3)
    dropped = {
        d: k
        for d, k in sorted(found.items())
        if source_of.get(d) != source_of.get(k) and source_of.get(d) != append.PUBLISHED
    }  # within one source, units stay as a one-source run makes them
    by_source = Counter(source_of[d] for d in dropped)
    result = {
        "state": state,
        "threshold": threshold,
        "units": len(refs) - n_published,
        "dropped": dropped,
        "dropped_by_source": dict(sorted(by_source.items())),
        "seconds": seconds,
    }
    if published is not None:
        result["published"] = {
            "dir": str(published),
            "units": n_published,
            "dropped": sum(1 for k in dropped.values() if source_of[k] == append.PUBLISHED),
        }
    data = (json.dumps(result, indent=1, sort_keys=True) + "\n").encode("utf-8")
    outdir.write_file(out, path, data)
    return result


# -- merge -----------------------------------------------------------------------------------


def merge(store, items: list[it.Item], out: Path, dedup: dict, generated: list[dict]) -> dict:
    """The shards into DIR/dataprep.db: surviving units and their template pairs."""
    from dataprep.models import Pair, Unit

    state = content_hash(
        "scaleout-merge",
        dedup["state"],
        [(m["key"], m["files"]["pairs.parquet"]) for m in generated],
    )
    counts = Counter(units=0, pairs_new=0, pairs_removed=0)
    if store.get_meta(MERGED_META) == state:
        return dict(counts, skipped=True)
    dropped = dedup.get("dropped", {})
    n_units = n_pairs = 0
    with store.transaction():  # item by item: memory holds one item's rows, and the ids
        store.clear_units()
        old_ids, new_ids = store.pair_ids("template"), set()
        for item in items:
            item_dir = out / it.SHARDS_DIR / item.key
            units = [
                Unit.model_validate_json(row["data"])
                for row in it.read_table(item_dir / "units.parquet", ["id", "data"])
                if steps.unit_ref(item.source, row["id"]) not in dropped
            ]
            store.add_units(units)
            pairs = [
                Pair.model_validate_json(r["data"])
                for r in it.read_table(item_dir / "pairs.parquet", ["data"])
            ]
            new_ids.update(p.id for p in pairs)
            counts["pairs_new"] += store.put_pairs([p for p in pairs if p.id not in old_ids])
            n_units, n_pairs = n_units + len(units), n_pairs + len(pairs)
        removed = sorted(old_ids - new_ids)
        store.delete_pairs(removed)
        counts["pairs_removed"] = len(removed)
        store.set_meta(MERGED_META, state)
    counts["units"], counts["pairs"] = n_units, n_pairs
    return dict(counts)


# -- the run ---------------------------------------------------------------------------------


def run_items(cfg, sources: list, opts: ScaleOptions) -> dict[str, Any]:
    """The per-item phases (slice, dedup, generate) into DIR/shards; the caller holds the
    output folder's lock. Returns the plan, the manifests, the dedup and the timings."""
    out = Path(cfg.out)
    scratch = Path(opts.scratch or default_scratch(out, opts.executor))
    settings = {"parser": cfg.parser, "seed": cfg.seed}
    timings: dict[str, float] = {}
    # 1. slice every item
    start = time.perf_counter()
    items = it.plan_items(sources, opts.max_files)
    plan = it.save_plan(out, items)
    step_args = (str(out), str(scratch), str(plan), settings)
    slice_parts = ("slice", [steps.slice_settings(i, cfg.parser) for i in items])
    todo = [
        i for i in items if not steps.SliceItems(*step_args).done(i, out / it.SHARDS_DIR / i.key)
    ]
    if todo:
        _run_phase(steps.SliceItems(*step_args), items, todo, opts, out, slice_parts)
    sliced = _check_phase(
        items, out, "slice", lambda i, d: steps.slice_settings(i, cfg.parser), opts
    )
    timings["slice"] = round(time.perf_counter() - start, 3)
    # 2. dedup across sources
    start = time.perf_counter()
    dedup = run_dedup(items, sliced, out, opts.dedup_threshold, opts.append)
    timings["dedup"] = round(time.perf_counter() - start, 3)
    # 3. generate per item
    start = time.perf_counter()
    gen_step = steps.GenerateItems(*step_args)
    todo_gen = [i for i in items if not gen_step.done(i, out / it.SHARDS_DIR / i.key)]
    if todo_gen:
        _run_phase(
            steps.GenerateItems(*step_args), items, todo_gen, opts, out,
            ("generate", slice_parts, dedup["state"]),
        )  # fmt: skip
    check = steps.GenerateItems(*step_args)
    generated = _check_phase(items, out, "generate", check._settings, opts)
    timings["generate"] = round(time.perf_counter() - start, 3)
    _remove_empty(scratch, items)
    return {
        "items": items,
        "sliced": sliced,
        "dedup": dedup,
        "generated": generated,
        "todo": todo,
        "todo_gen": todo_gen,
        "timings": timings,
    }


def _remove_empty(scratch: Path, items: list[it.Item]) -> None:
    """Every item is in its shards now: drop the scratch folders left empty (on this
    machine; a cluster's nodes keep theirs in their temp folder)."""
    for path in [*(scratch / i.key for i in items), scratch]:
        try:
            path.rmdir()
        except OSError:
            pass


def run_many(cfg, sources: list, opts: ScaleOptions) -> dict[str, Any]:
    """Every phase and stage over `sources` (pinned and checked out) into `cfg.out`."""
    from dataprep import pipeline, procs
    from dataprep.scaleout.executors import quiet_logs
    from dataprep.stages import Context, run_stages
    from dataprep.store import Store

    out = cfg.out = Path(cfg.out)
    cfg.path = sources[0].root
    pipeline.check_config(cfg)  # parser, style, split and balance options, before any work
    for source in sources:
        if out.resolve() == Path(source.root).resolve():
            raise InputError(f"--out is the source {source.spec} itself: choose another folder")
    outdir.check_out_dir(out, cfg.path, cfg.force)
    cfg.path = None
    quiet_logs()
    with outdir.locked(out):
        store_home.settle(out, cfg.store)  # on local disk: --out may be a shared filesystem
        with Store.open(out) as store:
            recorded = store.get_meta("source")
            if recorded and not str(recorded).startswith("sources:") and not cfg.force:
                raise InputError(
                    f"the store in {out} was made from one repository ({recorded}): choose a "
                    "new --out for many sources, or pass --force"
                )
            store.set_meta("source", "sources:" + ",".join(s.url for s in sources))
            pipeline._check_outputs(store, cfg)
        phases = run_items(cfg, sources, opts)
        items, sliced, dedup, generated = (
            phases["items"],
            phases["sliced"],
            phases["dedup"],
            phases["generated"],
        )
        todo, todo_gen, timings = phases["todo"], phases["todo_gen"], phases["timings"]
        # 4. one dataset
        with Store.open(out) as store:
            run_id = store.start_run("run", {**cfg.args(), "sources": [s.spec for s in sources]})
            try:
                start = time.perf_counter()
                merged = merge(store, items, out, dedup, generated)
                store.set_meta(SOURCES_META, _sources_meta(sources, opts))
                timings["merge"] = round(time.perf_counter() - start, 3)
                project = sources[0].name if len(sources) == 1 else out.resolve().name
                info = {"repo": project, "commit": None}  # the system prompt's project
                store.set_meta("scaleout.project", project)  # and `dataprep export`'s
                with progress() as bar:
                    ctx = Context(store=store, config=cfg, run_id=run_id, info=info, bar=bar)
                    ctx.counters.update(
                        slice=_slice_counts(sliced, {i.key for i in todo}),
                        generate=_generate_counts(generated, merged, {i.key for i in todo_gen}),
                        dedup={
                            "units": dedup["units"],
                            "dropped": len(dedup["dropped"]),
                            "by_source": dedup["dropped_by_source"],
                            "published": dedup.get("published"),
                        },
                    )
                    ctx.timings.update(timings)
                    stages = [
                        pipeline.FILTER,
                        pipeline.BALANCE,
                        *pipeline.EXPORT_STAGES,
                        pipeline.REPORT,
                    ]
                    # the items' exported answers first: a store without them calls nothing
                    ctx.counters["llm_shards"] = llmshards.load(store, items, out)
                    dropped = dedup.get("dropped", {})
                    if cfg.llm:
                        from dataprep.stages import Stage

                        def llm_stage(ctx: Context) -> dict:
                            data = pipeline.llm_stage(ctx)
                            if not cfg.dry_run:  # the answers travel with the shards now
                                llmshards.export(store, items, out, dropped)
                            return data

                        llm = [Stage("llm", run=llm_stage, always=True)]
                        stages = llm if cfg.dry_run else [*llm, *stages]
                    # as `dataprep run` does (`pipeline._run_stages`): a larger page cache
                    # for the stages' writes, fewer collections, what outlives a stage frozen
                    store.use_cache(64)
                    with procs.fewer_collections(freeze=True):
                        run_stages(ctx, stages)
                    exported = llmshards.export(store, items, out, dropped)  # judge, balance
                    ctx.counters["llm_shards"].update(exported=exported["answers"])
                    if not cfg.dry_run:  # the verdicts on each item's pairs, as shards
                        ctx.counters["decision_shards"] = llmshards.export_decisions(
                            store, items, out, dropped
                        )
                summary = pipeline._summary(ctx)
                summary["sources"] = _sources_meta(sources, opts)
                summary["items"] = len(items)
                summary["executor"] = opts.executor
            except BaseException as exc:
                status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
                store.finish_run(run_id, status, {"error": " ".join(str(exc).split())[:500]})
                raise
            store.finish_run(run_id, "done", {k: v for k, v in summary.items() if k != "sources"})
    return summary


def _sources_meta(sources: list, opts: ScaleOptions) -> list[dict[str, Any]]:
    rows = [
        {
            "name": s.name,
            "url": s.url,
            "commit": s.commit,
            "license": s.license,
            "priority": s.priority,
            "status": "used",
        }
        for s in sources
    ]
    return rows + [dict(s) for s in opts.skipped_sources]


def _slice_counts(manifests: list[dict], ran: set[str]) -> dict[str, Any]:
    """Slice counters as one run's: items skipped this time count as unchanged files."""
    total = Counter()
    for m in manifests:
        counts = {k: v for k, v in m["counts"].items() if isinstance(v, int)}
        if m["key"] not in ran:
            counts = {"files": counts.get("files", 0), "unchanged": counts.get("files", 0)}
        total.update(counts)
    return {
        "files": total["files"],
        "sliced": total["sliced"],
        "unchanged": total["unchanged"],
        "forgotten": total["forgotten"],
        "items": len(manifests),
        "items_skipped": len(manifests) - len(ran),
    }


def _generate_counts(manifests: list[dict], merged: dict, ran: set[str]) -> dict[str, Any]:
    total = Counter()
    for m in manifests:
        if m["key"] in ran:
            total.update({k: v for k, v in m["counts"].items() if isinstance(v, int)})
    return {
        "units_generated": total["units_generated"],
        "units_deduplicated": total["units_deduplicated"],
        "pairs_new": merged.get("pairs_new", 0),
        "pairs_removed": merged.get("pairs_removed", 0),
        "items_skipped": len(manifests) - len(ran),
    }


__all__ = ["ScaleOptions", "run_many", "run_dedup", "merge", "default_scratch"]
