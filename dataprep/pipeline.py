"""`dataprep run`: slice, redact, generate, filter, balance, split, export and report.

Each stage reads what the last one committed to `DIR/dataprep.db` and writes in its own
transactions, so a run killed at any moment loses nothing that was committed and the next
run continues where it stopped. Work is never done twice:
- slice: a file is re-sliced only when its digest (bytes, parser, slicer version) changed;
- generate: template candidates are cached per file, keyed by the file's unit ids;
- filter, balance, export: skipped when their inputs' fingerprint is the one of the last
  completed pass (and the dataset is still on disk).
Counters in the summary (and the `runs` row) say what each stage did.

Example:
    summary = run_pipeline(RunConfig(path=Path("fixtures/hotel-booking"), out=Path("out")))
    summary["rows_per_split"] -> {"train": 850, "validation": 100, "test": 50}
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from dataprep import outdir
from dataprep.console import console, progress, warn
from dataprep.errors import InputError
from dataprep.generate import templates as tgen
from dataprep.hashing import content_hash
from dataprep.models import Pair, Unit
from dataprep.store import Store

PIPELINE_VERSION = "1"
PARSERS = ("tree-sitter", "javalang")
SPLIT_BY = ("file", "module")
_MODULE_MARKERS = ("pom.xml", "build.gradle", "build.gradle.kts")


@dataclass
class RunConfig:
    """Everything `dataprep run` needs; the CLI fills it from its options."""

    path: Path
    out: Path
    parser: str = "tree-sitter"
    jobs: int = 1
    seed: int = 0
    style: str = "alpaca"
    split_by: str = "file"
    include_unreviewed: bool = False
    force: bool = False
    """Write into a non-empty --out without a store, or one made from another repository."""
    templates: bool = True
    # LLM generator (issue 4); None: templates only
    llm: str | None = None
    llm_host: str | None = None
    llm_timeout: float = 120.0
    llm_concurrency: int = 4
    evol_units: int | None = None
    dry_run: bool = False
    llm_options: dict[str, Any] = field(default_factory=dict)
    """Further keywords of `generate_with_llm` (rounds, questions, temperature, ...)."""
    # filters (issue 7)
    max_seq_len: int | None = None
    tokenizer: str | None = None
    filter_options: dict[str, Any] = field(default_factory=dict)

    def args(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: str(v) if isinstance(v, Path) else v for k, v in data.items()}


# -- small helpers -----------------------------------------------------------------------


def _has(module: str) -> bool:
    """Whether an optional stage's module is installed (stages land independently)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def module_finder(root: Path) -> Callable[[str], str | None]:
    """`path -> module`: the nearest Maven/Gradle module directory below the root, else the
    first path component.

    Example: with auth/pom.xml present, "auth/src/main/java/A.java" -> "auth".
    """
    root = Path(root)

    @lru_cache(maxsize=4096)
    def module_dir(directory: str) -> str | None:
        if directory in ("", "."):
            return None
        if any((root / directory / m).is_file() for m in _MODULE_MARKERS):
            return directory
        return module_dir(str(PurePosixPath(directory).parent))

    def module_of(path: str) -> str | None:
        found = module_dir(str(PurePosixPath(path).parent))
        return found if found is not None else tgen.default_module(path)

    return module_of


class _Stages:
    """Timings and counters per stage, and the one progress display."""

    def __init__(self, bar):
        self.bar = bar
        self.timings: dict[str, float] = {}
        self.counters: dict[str, dict[str, Any]] = {}

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Hide this display while a stage shows its own (rich allows one live display)."""
        live = self.bar.live.is_started
        if live:
            self.bar.stop()
        try:
            yield
        finally:
            if live:
                self.bar.start()

    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[int]:
        task = self.bar.add_task(name, total=total)
        start = time.perf_counter()
        try:
            yield task
        finally:
            self.timings[name] = round(time.perf_counter() - start, 3)
            self.bar.update(
                task,
                completed=self.bar.tasks[task].total or 1,
                total=self.bar.tasks[task].total or 1,
            )


# -- slice ---------------------------------------------------------------------------------


def _digest(data: bytes, parser: str, slicer_version: str) -> str:
    return hashlib.sha256(data + f"\x00{parser}\x00{slicer_version}".encode()).hexdigest()


def _slice_one(job: tuple) -> tuple[str, Any]:
    """Worker: slice one file's bytes (runs in a process pool when --jobs > 1)."""
    from dataprep import slicing

    root, relpath, data, parser, repo, commit = job
    result = slicing.slice_file(root, relpath, data, parser, repo, commit)
    return relpath, result, _may_hold_secrets(result.units)


def _may_hold_secrets(units: list[Unit]) -> bool:
    """Detection is the costly half of redaction: run it in the worker, redact in the parent
    (which numbers placeholders in the store) only the files where something was found."""
    if not units or not _has("dataprep.secrets"):
        return False
    from dataprep import secrets

    for unit in units:
        for name in secrets.UNIT_TEXT_FIELDS:
            value = getattr(unit, name)
            if isinstance(value, str) and value and secrets.find_secrets(value):
                return True
        for name in secrets.UNIT_LIST_FIELDS:
            if any(secrets.find_secrets(v) for v in getattr(unit, name)):
                return True
    return False


def slice_stage(store: Store, cfg: RunConfig, run_id: int, stages: _Stages, info: dict) -> dict:
    """Re-slice new and changed files, forget deleted ones; redact units as they enter."""
    from dataprep import slicing

    slicing.java_backend(cfg.parser)  # an unknown or missing parser fails before any work
    version = getattr(slicing, "SLICER_VERSION", "1")
    inside = _out_inside_repo(cfg)
    if inside:
        warn(f"--out {cfg.out} lies inside the repository: {inside}/ is left out of the slice")
    entries = [
        e
        for e in slicing.iter_files(cfg.path)
        if not (inside and (e.path.rstrip("/") == inside or e.path.startswith(inside + "/")))
    ]  # never slice our own output (the dataset card is Markdown) when --out is in the repo
    files = [e.path for e in entries if e.skip is None]
    if not files:
        raise InputError(_nothing_to_slice(cfg.path, entries))
    known = store.file_digests()
    data, digests, todo = {}, {}, []
    for relpath in files:
        data[relpath] = _read(cfg.path, relpath)
        digests[relpath] = _digest(data[relpath], cfg.parser, version)
        if known.get(relpath) != digests[relpath]:
            todo.append(relpath)
    gone = sorted(set(known) - set(digests))
    if gone:
        store.forget_files(gone)
    redactor = _redactor(store)
    counts = Counter(files=len(files), skipped=len(entries) - len(files), sliced=0)
    counts.update(forgotten=len(gone), errors=0, secrets=0, units_sliced=0)
    root = str(cfg.path.resolve())
    jobs = [(root, r, data.pop(r), cfg.parser, info["repo"], info.get("commit")) for r in todo]
    with stages.stage("slice", total=len(todo)) as task:
        for relpath, result, flagged in _map(_slice_one, jobs, cfg.jobs):
            units = result.units
            if redactor is not None and flagged:
                units, findings = redactor.redact_units(units)
                counts["secrets"] += len(findings)
            for message in [*result.warnings, *result.errors][:3]:
                warn(message)
            status = "skipped" if result.skipped else ("error" if result.errors else "ok")
            reason = result.skipped or ("; ".join(result.errors[:3]) or None)
            store.put_file(relpath, digests[relpath], status, units, reason, run_id)
            counts["sliced"] += 1
            counts["units_sliced"] += len(units)
            counts["errors"] += bool(result.errors)
            stages.bar.advance(task)
    counts["unchanged"] = len(files) - len(todo)
    return dict(counts)


def _nothing_to_slice(root: Path, entries: list) -> str:
    """Why the walk found nothing, naming a .gitignore that excludes everything."""
    from dataprep.slicing import walk

    reasons = Counter(e.skip for e in entries)
    if reasons and reasons[walk.IGNORED] == sum(reasons.values()):
        return (
            f"{root}: every file is excluded by .gitignore ({reasons[walk.IGNORED]} paths, "
            f"see {root / '.gitignore'}): fix its patterns, or point dataprep at another folder"
        )
    if reasons:
        top = ", ".join(f"{reason} {n}" for reason, n in reasons.most_common(3))
        return f"{root}: no Java or documentation file to slice (skipped: {top})"
    return (
        f"{root}: no Java or documentation files to slice: "
        "point dataprep at a repository with Java or docs"
    )


def _out_inside_repo(cfg: RunConfig) -> str | None:
    """--out relative to the repository (POSIX) when it lies inside it, else None."""
    try:
        return cfg.out.resolve().relative_to(cfg.path.resolve()).as_posix()
    except ValueError:
        return None


def _read(root: Path, relpath: str) -> bytes:
    from dataprep.slicing import walk

    try:
        return walk.read_bytes(root, relpath)
    except OSError:
        return b""  # gone or unreadable since the walk: sliced as empty


def _map(func, jobs: list, workers: int) -> Iterator:
    """`map` in a process pool when it pays (several workers, enough files), in order."""
    if workers > 1 and len(jobs) >= 8:
        from dataprep.procs import process_pool

        with process_pool(workers) as pool:
            yield from pool.map(func, jobs, chunksize=max(1, len(jobs) // (workers * 8)))
    else:
        yield from map(func, jobs)


def _redactor(store: Store):
    if not _has("dataprep.secrets"):
        return None
    from dataprep.secrets import Redactor

    return Redactor(store)


# -- generate (templates) --------------------------------------------------------------------


def _unit_ids_by_path(store: Store) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path, unit_id in store.conn.execute("SELECT path, id FROM units ORDER BY path, id"):
        out.setdefault(path, []).append(unit_id)
    return out


def _units_of(store: Store, path: str) -> list[Unit]:
    rows = store.conn.execute("SELECT data FROM units WHERE path = ? ORDER BY id", (path,))
    return [Unit.model_validate_json(r[0]) for r in rows]


def generate_stage(store: Store, cfg: RunConfig, run_id: int, stages: _Stages) -> dict:
    """Template pairs: regenerate candidates of changed files only, then resolve conflicts."""
    module_of = module_finder(cfg.path)
    fingerprint = tgen.templates_fingerprint()
    ids = _unit_ids_by_path(store)
    keys = {
        path: content_hash("template-file", fingerprint, cfg.seed, module_of(path), unit_ids)
        for path, unit_ids in ids.items()
    }
    cached = dict(store.conn.execute("SELECT path, key FROM template_cache"))
    stale = sorted(p for p in keys if cached.get(p) != keys[p])
    gone = sorted(set(cached) - set(keys))
    state = content_hash("template-state", PIPELINE_VERSION, sorted(keys.items()))
    counts = Counter(files_generated=0, units_generated=0, pairs_new=0, pairs_removed=0)
    if not stale and not gone and store.get_meta("pipeline.templates") == state:
        with stages.stage("generate", total=0):
            pass
        return dict(counts, skipped=True)
    with stages.stage("generate", total=len(stale)) as task:
        with store.transaction():  # before resolving: a deleted file's candidates must go
            store.conn.executemany(
                "DELETE FROM template_cache WHERE path = ?", [(p,) for p in gone]
            )
        for path in stale:
            units = _units_of(store, path)
            cands = tgen.file_candidates(units, cfg.seed, module_of=module_of)
            with store.transaction():
                store.conn.execute(
                    "INSERT OR REPLACE INTO template_cache (path, key, data) VALUES (?, ?, ?)",
                    (path, keys[path], tgen.dump_candidates(cands)),
                )
            counts["files_generated"] += 1
            counts["units_generated"] += len(units)
            stages.bar.advance(task)
        pairs, stats = _resolve_all(store, cfg, module_of)
        counts.update(stats)
        with store.transaction():
            new_ids = {p.id for p in pairs}
            old_ids = {
                r[0]
                for r in store.conn.execute("SELECT id FROM pairs WHERE generator = 'template'")
            }
            removed = sorted(old_ids - new_ids)
            store.delete_pairs(removed)
            fresh = [p for p in pairs if p.id not in old_ids]  # the rest are stored already
            counts["pairs_new"] = store.put_pairs(fresh, run_id=run_id)
            counts["pairs_removed"] = len(removed)
            store.set_meta("pipeline.templates", state)
    counts["pairs"] = len(pairs)
    return dict(counts)


def _resolve_all(store: Store, cfg: RunConfig, module_of) -> tuple[list[Pair], dict[str, int]]:
    candidates = [
        cand
        for (blob,) in store.conn.execute("SELECT data FROM template_cache ORDER BY path")
        for cand in tgen.load_candidates(blob)
    ]
    candidates += tgen.coverage_candidates(store.units(), cfg.seed, module_of=module_of)
    return tgen.resolve(candidates)


# -- LLM generator (issue 4) ---------------------------------------------------------------


def llm_stage(store: Store, cfg: RunConfig, run_id: int, stages: _Stages) -> dict:
    """Evol-Instruct through the LLM backend (H5's `generate` stage), when `--llm` is given."""
    from dataprep.commands.generate import generate_with_llm

    with stages.stage("llm"), stages.paused():  # the generator shows its own progress bar
        summary = generate_with_llm(
            store,
            cfg.llm,
            host=cfg.llm_host,
            timeout=cfg.llm_timeout,
            concurrency=cfg.llm_concurrency,
            units=cfg.evol_units,
            seed=cfg.seed,
            dry_run=cfg.dry_run,
            **cfg.llm_options,
        )
    data = summary.model_dump() if hasattr(summary, "model_dump") else dict(summary or {})
    if hasattr(summary, "lines"):
        data["lines"] = summary.lines()
    return data


# -- filter, balance, export, report ---------------------------------------------------------


_KEPT_SQL = (
    "SELECT {cols} FROM pairs p JOIN units u ON u.id = p.unit_id "
    "WHERE p.id NOT IN (SELECT pair_id FROM decisions WHERE kept = 0)"
)


def _kept_ids(store: Store, ignore: str | None = None) -> list[str]:
    """Ids of the live pairs no stage dropped (what `Store.kept_pairs` returns, in SQL),
    the verdicts of stage `ignore` aside."""
    sql = _KEPT_SQL.format(cols="p.id")
    if ignore:
        sql = sql.replace("WHERE kept = 0", "WHERE kept = 0 AND stage != ?")
    return [r[0] for r in store.conn.execute(sql + " ORDER BY p.id", (ignore,) if ignore else ())]


def _kept_counts(store: Store, column: str) -> dict[str, int]:
    sql = _KEPT_SQL.format(cols=f"p.{column}, COUNT(*)") + f" GROUP BY p.{column}"
    return dict(sorted(store.conn.execute(sql)))


def _live_state(store: Store, *extra: Any) -> str:
    ids = [
        r[0]
        for r in store.conn.execute(
            "SELECT p.id FROM pairs p JOIN units u ON u.id = p.unit_id ORDER BY p.id"
        )
    ]
    return content_hash("live-pairs", PIPELINE_VERSION, ids, *extra)


def filter_stage(store: Store, cfg: RunConfig, run_id: int, stages: _Stages) -> dict:
    """H8's filter chain (duplicates, conflicts, lengths, validity...) over the live pairs."""
    from dataprep import filters

    options = dict(cfg.filter_options)
    if cfg.max_seq_len:
        options["max_seq_len"] = cfg.max_seq_len
    if cfg.tokenizer:
        options["tokenizer"] = cfg.tokenizer
    config = filters.FilterConfig(**options)
    state = _live_state(store, config.settings())
    if store.get_meta("pipeline.filter") == state:
        with stages.stage("filter", total=0):
            pass
        return {"skipped": True, "kept": len(_kept_ids(store))}
    with stages.stage("filter"):
        report = filters.run_filters(store, config, run_id=run_id)
    store.set_meta("pipeline.filter", state)
    data = report.to_dict()
    return {"kept": data.get("kept"), "dropped": data.get("dropped")}


def balance_stage(store: Store, cfg: RunConfig, run_id: int, stages: _Stages) -> dict:
    """H8's label balancing (by task, a gentle default cap) over the filtered pairs."""
    from dataprep import balance

    state = content_hash(
        "balance",
        PIPELINE_VERSION,
        store.get_meta("pipeline.filter"),
        _reviews_state(store),
        cfg.seed,
    )
    if store.get_meta("pipeline.balance") == state:
        with stages.stage("balance", total=0):
            pass
        return {"skipped": True}
    with stages.stage("balance"):
        result = balance.run_balance(store, seed=cfg.seed, run_id=run_id)
    store.set_meta("pipeline.balance", state)
    data = result.to_dict() if hasattr(result, "to_dict") else {}
    return {k: data[k] for k in ("kept", "dropped") if k in data}


def _reviews_state(store: Store) -> list:
    return list(store.conn.execute("SELECT pair_id, updated_at FROM reviews ORDER BY pair_id"))


def export_stage(store: Store, cfg: RunConfig, run_id: int, stages: _Stages, info: dict) -> dict:
    """H4's split and export: DIR/dataset/ with JSONL, Parquet, DatasetDict and the card."""
    from dataprep import export

    # The export decontaminates its own splits: its earlier verdicts are an output of this
    # stage, not an input (else every second run would export again).
    kept = _kept_ids(store, ignore="decontaminate")
    style_file = Path(cfg.style)
    style = hashlib.sha256(style_file.read_bytes()).hexdigest() if style_file.is_file() else ""
    state = content_hash(
        "export", PIPELINE_VERSION, kept, _reviews_state(store), cfg.style, style, cfg.seed,
        cfg.split_by, cfg.include_unreviewed, info.get("repo"),
    )  # fmt: skip
    if store.get_meta("pipeline.export") == state:
        problem = export.verify_dataset(cfg.out)  # every file, by size and sha256
        if problem is None:
            with stages.stage("export", total=0):
                pass
            return dict(export.load_manifest(cfg.out), skipped=True)
        warn(f"exporting again: {problem}")
    with stages.stage("export"):
        summary = export.export_dataset(
            store,
            cfg.out,
            style=cfg.style,
            seed=cfg.seed,
            split_by=cfg.split_by,
            include_unreviewed=cfg.include_unreviewed,
            project=info.get("repo"),
            repo_path=cfg.path,
        )
    store.set_meta("pipeline.export", state)
    return summary


def report_stage(store: Store, cfg: RunConfig, run_id: int, stages: _Stages, stats: dict) -> dict:
    """H8's funnel report: DIR/report.html and DIR/report.json."""
    from dataprep import report

    state = content_hash(
        "report",
        PIPELINE_VERSION,
        [store.get_meta(f"pipeline.{s}") for s in ("templates", "filter", "balance", "export")],
    )
    path = cfg.out / report.REPORT_JSON
    if store.get_meta("pipeline.report") == state and _outputs_intact(store, cfg.out):
        with stages.stage("report", total=0):
            pass
        return {"skipped": True, "path": str(path)}
    with stages.stage("report"):
        report.write_report(store, cfg.out, timings=dict(stages.timings), run_stats=stats)
    store.set_meta("pipeline.report", state)
    return {"path": str(path)}


def _outputs_intact(store: Store, out: Path) -> bool:
    """Whether the reports in DIR are the ones dataprep wrote last (sha256 recorded)."""
    from dataprep import report

    written = store.get_meta("outputs") or {}
    names = (report.REPORT_JSON, report.REPORT_HTML)
    return all(
        n in written and (out / n).is_file() and outdir.sha256_file(out / n) == written[n]
        for n in names
    )


# -- the run ---------------------------------------------------------------------------------


def check_config(cfg: RunConfig) -> None:
    """One-line errors for options that cannot work, before anything is written."""
    if not cfg.path.is_dir():
        raise InputError(f"{cfg.path} is not a directory: pass the repository's root folder")
    if cfg.parser not in PARSERS:
        raise InputError(f"--parser {cfg.parser!r} is not known: use tree-sitter or javalang")
    if cfg.split_by not in SPLIT_BY:
        raise InputError(f"--split-by {cfg.split_by!r} is not known: use file or module")
    if cfg.jobs < 1:
        raise InputError(f"--jobs {cfg.jobs} must be at least 1")
    out = cfg.out.resolve()
    if out == cfg.path.resolve():
        raise InputError("--out is the repository itself: choose a separate output directory")
    from dataprep.prompts import load_style

    load_style(cfg.style)  # a bad style fails now, not after the slicing


def _check_outputs(store: Store, cfg: RunConfig) -> None:
    """Before any work: the reports and the dataset folder must be dataprep's to replace."""
    from dataprep import export, report

    report.check_outputs(store, cfg.out)
    export.check_dataset_dir(cfg.out / export.DATASET_DIR)


def _repo_info(path: Path) -> dict:
    from dataprep import slicing

    name, commit = slicing.repo_info(path)
    return {"repo": name, "commit": commit}


def run_pipeline(cfg: RunConfig) -> dict[str, Any]:
    """Run every stage in order on `cfg.path` into `cfg.out`; returns the summary."""
    cfg.path, cfg.out = Path(cfg.path), Path(cfg.out)
    check_config(cfg)
    outdir.check_out_dir(cfg.out, cfg.path, cfg.force)
    info = _repo_info(cfg.path)
    with outdir.locked(cfg.out), Store.open(cfg.out) as store:
        source = str(cfg.path.resolve())
        outdir.check_same_source(
            store.get_meta("source") or store.get_meta("repo_root"), cfg.path, cfg.out, cfg.force
        )
        store.set_meta("source", source)
        _check_outputs(store, cfg)
        run_id = store.start_run("run", cfg.args())
        try:
            summary = _run_stages(store, cfg, run_id, info)
        except BaseException as exc:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            store.finish_run(run_id, status, {"error": " ".join(str(exc).split())[:500]})
            raise
        store.finish_run(run_id, "done", summary)
    return summary


def _run_stages(store: Store, cfg: RunConfig, run_id: int, info: dict) -> dict[str, Any]:
    with progress() as bar:
        stages = _Stages(bar)
        c = stages.counters
        c["slice"] = slice_stage(store, cfg, run_id, stages, info)
        if cfg.templates:
            c["generate"] = generate_stage(store, cfg, run_id, stages)
        if cfg.llm:
            c["llm"] = llm_stage(store, cfg, run_id, stages)
            if cfg.dry_run:
                return _summary(store, cfg, run_id, stages, info, None)
        if _has("dataprep.filters"):
            c["filter"] = filter_stage(store, cfg, run_id, stages)
        if _has("dataprep.balance"):
            c["balance"] = balance_stage(store, cfg, run_id, stages)
        exported = None
        if _has("dataprep.export"):
            exported = export_stage(store, cfg, run_id, stages, info)
            c["export"] = {
                k: exported.get(k) for k in ("rows", "splits", "skipped") if k in exported
            }
        if _has("dataprep.report"):
            c["report"] = report_stage(store, cfg, run_id, stages, dict(c))
    return _summary(store, cfg, run_id, stages, info, exported)


def _summary(store, cfg, run_id, stages, info, exported) -> dict[str, Any]:
    units = Counter(k for (k,) in store.conn.execute("SELECT kind FROM units"))
    files = []
    if exported:
        files = [f["path"] if isinstance(f, dict) else str(f) for f in exported.get("files", [])]
    return {
        "run_id": run_id,
        "repo": info.get("repo"),
        "commit": info.get("commit"),
        "out": str(cfg.out),
        "units_by_kind": dict(sorted(units.items())),
        "pairs_by_task": _kept_counts(store, "task"),
        "pairs_by_generator": _kept_counts(store, "generator"),
        "rows_per_split": (exported or {}).get("splits", {}),
        "dataset_dir": (exported or {}).get("dataset_dir"),
        "unreviewed_left_out": (exported or {}).get("unreviewed_left_out", 0),
        "files": files,
        "report": stages.counters.get("report", {}).get("path"),
        "counters": stages.counters,
        "timings": stages.timings,
    }


def default_jobs() -> int:
    """Worker processes for slicing: the CPUs this process may use, at most 8."""
    try:
        return max(1, min(8, len(os.sched_getaffinity(0))))
    except AttributeError:  # not on Linux
        return max(1, min(8, os.cpu_count() or 1))


__all__ = ["RunConfig", "run_pipeline", "module_finder", "check_config", "console"]
