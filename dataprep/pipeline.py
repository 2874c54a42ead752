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
import json
import typing
from pathlib import Path
from typing import Any

from dataprep import dataset_dir, outdir, store_home
from dataprep.console import console, progress
from dataprep.errors import InputError
from dataprep.generate.template_stage import generate_stage, module_finder
from dataprep.procs import default_jobs
from dataprep.settings import BalanceMode, RunConfig, SplitMode
from dataprep.slicing.stage import slice_stage
from dataprep.stages import Context, Stage, run_stages
from dataprep.store import Store

SPLIT_BY = typing.get_args(SplitMode)
BALANCE_MODES = typing.get_args(BalanceMode)


# -- LLM generator (Evol-Instruct) -----------------------------------------------------------


def llm_stage(ctx: Context) -> dict:
    """Evol-Instruct through the LLM backend, when `--llm` is given."""
    from dataprep.generate.stage import generate_with_llm

    cfg = ctx.config
    with ctx.paused():  # the generator shows its own progress bar
        summary = generate_with_llm(
            ctx.store,
            cfg.llm,
            host=cfg.llm_host,
            endpoints=cfg.llm_endpoints,
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


# -- filter, balance, split, decontaminate, export, report -----------------------------------


def filter_config(cfg: RunConfig):
    """The filter settings of a run: the defaults, with --max-seq-len and --tokenizer."""
    from dataprep import filters

    options = dict(cfg.filter_options)
    if cfg.max_seq_len:
        options["max_seq_len"] = cfg.max_seq_len
    if cfg.tokenizer:
        options["tokenizer"] = cfg.tokenizer
    return filters.FilterConfig(**options)


def _filter(ctx: Context) -> dict:
    from dataprep import filters

    config = filter_config(ctx.config)
    outer = ctx.info.get("on_filter_stage")
    with ctx.task("filter", total=len(filters.active_filters(config))) as task:

        def on_stage(name: str, alive: int) -> None:  # one step per filter of the chain
            ctx.advance(task)
            ctx.describe(task, f"filter: {name} done, {alive:,} pairs left")
            if outer is not None:
                outer(name, alive)

        report = filters.run_filters(ctx.store, config, run_id=ctx.run_id, on_stage=on_stage)
    ctx.info["filter_report"] = report
    data = report.to_dict()
    return {"kept": data.get("kept"), "dropped": data.get("dropped")}


def _balance(ctx: Context) -> dict:
    from dataprep import balance

    cfg = ctx.config
    config = ctx.info.get("balance_config") or balance.BalanceConfig(
        by="task", trivia_share=cfg.trivia_share if cfg.balance == "trivia" else None
    )
    with ctx.task("balance"):
        result = balance.run_balance(ctx.store, config, seed=cfg.seed, run_id=ctx.run_id)
    ctx.info["balance_report"] = result
    cut = {v: (n, result.after[v]) for v, n in result.before.items() if result.after[v] < n}
    return {"dropped": result.dropped, "mode": cfg.balance, "cut": cut}


def _split(ctx: Context) -> dict:
    from dataprep import export

    cfg = ctx.config
    with ctx.task("split"):
        return export.split_pairs(ctx.store, cfg.seed, cfg.split_by)


BENCHMARKS_META = "decontaminate_against"
APPEND_META = "decontaminate_append"


def recorded_append(store) -> str | None:
    """The earlier output folder the last run appended to (`--append`), if any; one that is
    gone is a one-line error."""
    path = store.get_meta(APPEND_META)
    if path and not Path(path).is_dir():
        raise InputError(
            f"{path}, the dataset the last run appended to (--append), is gone: restore it "
            "to decontaminate against it again"
        )
    return path or None


def recorded_benchmarks(store) -> list[str]:
    """The benchmark snippet files the last decontamination used (`--decontaminate-against`),
    for a command that re-runs it without the option; one that is gone is a one-line error."""
    from dataprep.filters.benchmarks import OPTION

    paths = list(store.get_meta(BENCHMARKS_META) or [])
    for path in paths:
        if not Path(path).exists():
            raise InputError(
                f"{path}, the benchmark snippets the last run decontaminated against, is "
                f"gone: restore it, or pass {OPTION} again"
            )
    return paths


def _decontaminate(ctx: Context) -> dict:
    from dataprep import filters

    index = None
    paths = [str(Path(p).resolve()) for p in ctx.config.decontaminate_against]
    if paths:
        from dataprep.filters.benchmarks import BenchmarkIndex

        index = BenchmarkIndex.load(paths)
    published = None
    if ctx.config.append:
        from dataprep.scaleout.append import Published

        published = Published.load(ctx.config.append)
    # `dataprep export` and `dataprep filter` check against the same files unless told
    ctx.store.set_meta(BENCHMARKS_META, paths)
    ctx.store.set_meta(APPEND_META, str(published.dir) if published else None)
    try:
        with ctx.task("decontaminate"):
            report = filters.decontaminate(
                ctx.store,
                filter_config(ctx.config),
                run_id=ctx.run_id,
                benchmarks=index,
                published=published,
            )
    finally:
        if published is not None:
            published.close()  # its memory-mapped copy of DIR1's rows
    return report.to_dict()


def _benchmark_state(ctx: Context) -> tuple:
    """What the card says of the benchmark check (nothing without one)."""
    report = ctx.store.get_meta("decontaminate_report") or {}
    bench = report.get("benchmark")
    if not bench:
        return ()
    return ((bench["snippets"], bench["files"], bench["checked"], bench["dropped"]),)


def _decontaminate_settings(ctx: Context) -> Any:
    """The filter settings, and the benchmark snippet files' contents when there are any."""
    paths = [str(Path(p).resolve()) for p in ctx.config.decontaminate_against]
    extra: tuple = ()
    if paths:
        from dataprep.filters.benchmarks import fingerprint

        extra += (fingerprint(paths),)
    if ctx.config.append:
        from dataprep.scaleout import append

        extra += (("append", append.state(Path(ctx.config.append).resolve())),)
    return (_filter_settings(ctx), *extra) if extra else _filter_settings(ctx)


def _export(ctx: Context) -> dict:
    from dataprep import export

    cfg = ctx.config
    with ctx.task("export"):
        summary = export.write_dataset(
            ctx.store,
            cfg.out,
            style=cfg.style,
            seed=cfg.seed,
            split_by=cfg.split_by,
            include_unreviewed=cfg.include_unreviewed,
            project=ctx.info.get("repo"),
            repo_path=cfg.path,
            source_url=cfg.source_url,
        )
    ctx.info["exported"] = summary
    return {k: summary.get(k) for k in ("rows", "splits", "unreviewed_left_out")}


def _export_check(ctx: Context) -> str | None:

    # every file by size and sha256, unless its size and mtime are those it was written with
    problem = dataset_dir.verify_dataset(ctx.config.out, ctx.store.get_meta("export_files"))
    if problem is None:
        ctx.info["exported"] = dataset_dir.load_manifest(ctx.config.out)
    return problem


def _report(ctx: Context) -> dict:
    from dataprep import report

    with ctx.task("report"):
        data = report.write_report(
            ctx.store, ctx.config.out, timings=dict(ctx.timings), run_stats=dict(ctx.counters)
        )
    ctx.info["report"] = data
    ctx.info["quality"] = report.quality_line(data["quality"]) if data.get("quality") else None
    return {"path": str(ctx.config.out / report.REPORT_JSON)}


def _report_check(ctx: Context) -> str | None:
    from dataprep import report

    written = ctx.store.get_meta("outputs") or {}
    for name in (report.REPORT_JSON, report.REPORT_HTML):
        path = ctx.config.out / name
        if name not in written or not path.is_file():
            return f"{path} is missing"
        if outdir.sha256_file(path) != written[name]:
            return f"{path} changed since it was written"
    data = json.loads((ctx.config.out / report.REPORT_JSON).read_text(encoding="utf-8"))
    ctx.info["report"] = data
    ctx.info["quality"] = report.quality_line(data["quality"]) if data.get("quality") else None
    return None


def _style_state(cfg: RunConfig) -> str:
    style_file = Path(cfg.style)
    return hashlib.sha256(style_file.read_bytes()).hexdigest() if style_file.is_file() else ""


def _filter_settings(ctx: Context) -> Any:
    return filter_config(ctx.config).settings()


_FILTERS = ("dataprep.filters", "dataprep.secrets")
FILTER = Stage(
    "filter",
    run=_filter,
    reads=lambda ctx: ctx.store.state_digest("live"),
    settings=_filter_settings,
    modules=_FILTERS,
)
BALANCE = Stage(
    "balance",
    run=_balance,
    reads=lambda ctx: (
        ctx.store.state_digest("kept", before="balance"),
        ctx.store.state_digest("reviews"),
    ),
    settings=lambda ctx: (ctx.config.seed, ctx.config.balance, ctx.config.trivia_share),
    modules=("dataprep.balance", "dataprep.generate.tasks"),
)
SPLIT = Stage(
    "split",
    run=_split,
    reads=lambda ctx: ctx.store.state_digest("kept", before="decontaminate"),
    settings=lambda ctx: (ctx.config.seed, ctx.config.split_by),
    modules=("dataprep.splits", "dataprep.knowledge", "dataprep.export"),
)
DECONTAMINATE = Stage(
    "decontaminate",
    run=_decontaminate,
    reads=lambda ctx: (
        ctx.store.state_digest("kept", before="decontaminate"),
        ctx.store.state_digest("splits"),
    ),
    settings=_decontaminate_settings,
    modules=_FILTERS,
)
EXPORT = Stage(
    "export",
    run=_export,
    reads=lambda ctx: (
        ctx.store.state_digest("kept"),
        ctx.store.state_digest("splits"),
        ctx.store.state_digest("reviews"),
    ),
    settings=lambda ctx: (
        (
            ctx.config.style,
            _style_state(ctx.config),
            ctx.config.seed,
            ctx.config.split_by,
            ctx.config.include_unreviewed,
            ctx.info.get("repo"),
            ctx.config.source_url or ctx.store.get_meta("source_url"),
        )
        + _benchmark_state(ctx)
    ),
    modules=(
        "dataprep.export",
        "dataprep.export_rows",
        "dataprep.report_counts",
        "dataprep.dataset_dir",
        "dataprep.card",
        "dataprep.card_facts",
        "dataprep.prompts",
        "dataprep.chat_template",
        "dataprep.trainer_files",
        "dataprep.licenses",
        "dataprep.source",
        "dataprep.quality",
        "dataprep.splits",
        "dataprep.knowledge",
    ),
    check=_export_check,
)
REPORT = Stage(
    "report",
    run=_report,
    reads=lambda ctx: (
        [ctx.store.get_meta(f"stage.{s}") for s in ("filter", "balance", "decontaminate", "export")]
        + [ctx.store.get_meta("pipeline.templates")]
    ),
    modules=(
        "dataprep.report",
        "dataprep.report_html",
        "dataprep.report_counts",
        "dataprep.quality",
        "dataprep.export_rows",
    ),
    check=_report_check,
)


EXPORT_STAGES = [SPLIT, DECONTAMINATE, EXPORT]


def run_stages_of(cfg: RunConfig) -> list[Stage]:
    """The stages `dataprep run` runs for this config, in order."""
    stages = [Stage("slice", run=slice_stage, always=True)]
    if cfg.templates:
        stages.append(Stage("generate", run=generate_stage, always=True))
    if cfg.llm:
        stages.append(Stage("llm", run=llm_stage, always=True))
        if cfg.dry_run:
            return stages
    return [*stages, FILTER, BALANCE, *EXPORT_STAGES, REPORT]


# -- the run ---------------------------------------------------------------------------------


def check_config(cfg: RunConfig) -> None:
    """One-line errors for options that cannot work, before anything is written."""
    if not cfg.path.is_dir():
        raise InputError(f"{cfg.path} is not a directory: pass the repository's root folder")
    from dataprep.slicing import PARSERS

    if cfg.parser not in PARSERS:
        raise InputError(f"--parser {cfg.parser!r} is not known: use tree-sitter or javalang")
    if cfg.split_by not in SPLIT_BY:
        raise InputError(f"--split-by {cfg.split_by!r} is not known: use file or module")
    if cfg.balance not in BALANCE_MODES:
        raise InputError(f"--balance {cfg.balance!r} is not known: use trivia or off")
    if not 0 <= cfg.trivia_share <= 1:
        raise InputError(
            f"--trivia-share {cfg.trivia_share} must be between 0 and 1 (default 0.25)"
        )
    if cfg.jobs < 1:
        raise InputError(f"--jobs {cfg.jobs} must be at least 1")
    out = cfg.out.resolve()
    if out == cfg.path.resolve():
        raise InputError("--out is the repository itself: choose a separate output directory")
    from dataprep.prompts import load_style
    from dataprep.source import check_source_url

    load_style(cfg.style)  # a bad style fails now, not after the slicing
    if cfg.source_url:
        cfg.source_url = check_source_url(cfg.source_url)


def _check_outputs(store: Store, cfg: RunConfig) -> None:
    """Before any work: the reports and the dataset folder must be dataprep's to replace."""
    from dataprep import report

    report.check_outputs(store, cfg.out)
    dataset_dir.check_dataset_dir(cfg.out / dataset_dir.DATASET_DIR)


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
    with outdir.locked(cfg.out):
        store_home.settle(cfg.out, cfg.store)  # on local disk, never a network filesystem
        with Store.open(cfg.out) as store:
            source = str(cfg.path.resolve())
            outdir.check_same_source(
                store.get_meta("source") or store.get_meta("repo_root"),
                cfg.path,
                cfg.out,
                cfg.force,
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
    from dataprep import procs

    procs.set_jobs(cfg.jobs)  # the filters' MinHash signatures use them too
    # the stages write hundreds of thousands of rows keyed by hashes (pair ids, verdict
    # keys), at random places in their indexes: SQLite's default 2 MB of cached pages
    # reads them back from the file again and again (on all of java.base the generate
    # stage's inserts took 19-26 us a pair with it, 14-17 with 64 MB)
    store.use_cache(64)
    with progress() as bar, procs.fewer_collections(freeze=True):  # every stage and worker
        ctx = Context(store=store, config=cfg, run_id=run_id, info=info, bar=bar)
        writes = store.writes()
        run_stages(ctx, run_stages_of(cfg))
    store.pack_pages(wrote=store.writes() != writes)
    return _summary(ctx)


def _kept_counts(store: Store, column: str) -> dict[str, int]:
    """`Store.kept_counts(column)`, taken from the export's counts where they stand."""
    from dataprep.export_rows import handed_column_counts

    handed = handed_column_counts(store, column)
    return store.kept_counts(column) if handed is None else handed


def _summary(ctx: Context) -> dict[str, Any]:
    store, cfg, info = ctx.store, ctx.config, ctx.info
    exported = info.get("exported") or {}
    files = [f["path"] if isinstance(f, dict) else str(f) for f in exported.get("files", [])]
    if "export" in ctx.counters and exported:
        ctx.counters["export"].setdefault("rows", exported.get("rows"))
    return {
        "run_id": ctx.run_id,
        "repo": info.get("repo"),
        "commit": info.get("commit"),
        "out": str(cfg.out),
        "store": str(store.path),
        "units_by_kind": store.units_by_kind(),
        "pairs_by_task": _kept_counts(store, "task"),
        "pairs_by_generator": _kept_counts(store, "generator"),
        "rows_per_split": exported.get("splits", {}),
        "dataset_dir": exported.get("dataset_dir"),
        "style": exported.get("style", cfg.style),
        "unreviewed_left_out": exported.get("unreviewed_left_out", 0),
        "files": files,
        "report": ctx.counters.get("report", {}).get("path")
        or (str(cfg.out / "report.json") if "report" in ctx.counters else None),
        "quality": info.get("quality"),
        "counters": ctx.counters,
        "timings": ctx.timings,
    }


__all__ = ["RunConfig", "run_pipeline", "module_finder", "check_config", "console", "default_jobs"]
