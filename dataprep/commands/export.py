"""`dataprep export`: re-export the dataset from the working store."""

from typing import Annotated

import typer

from dataprep.commands.options import (
    DecontaminateAgainst,
    IncludeUnreviewed,
    SourceURL,
    SplitBy,
    StoreOut,
    Style,
)
from dataprep.console import console


def register(app: typer.Typer) -> None:
    app.command("export")(export)


def export(
    out: StoreOut,
    style: Style = "alpaca",
    split_by: SplitBy = "file",
    seed: Annotated[int, typer.Option(help="Seed of the split assignment.")] = 0,
    include_unreviewed: IncludeUnreviewed = False,
    source_url: SourceURL = None,
    decontaminate_against: DecontaminateAgainst = None,
) -> None:
    """Write train/validation/test (JSONL, Parquet, DatasetDict), the card and trainer configs.

    Example: dataprep export --out out --style chat-template:HuggingFaceTB/SmolLM2-135M-Instruct

    Decontamination runs again before the export, against the benchmark snippets the last
    run used unless --decontaminate-against names others.
    """
    from dataprep.errors import InputError
    from dataprep.outdir import locked
    from dataprep.pipeline import EXPORT_STAGES, RunConfig
    from dataprep.prompts import load_style
    from dataprep.source import check_source_url
    from dataprep.stages import Context, run_stages
    from dataprep.store import Store

    if split_by not in ("file", "module"):
        raise InputError(f"--split-by {split_by!r} is not known: use file or module")
    load_style(style)  # a bad style or a missing model fails before the lock is taken
    paths = [str(p) for p in decontaminate_against or []]
    if paths:
        from dataprep.filters.benchmarks import BenchmarkIndex

        BenchmarkIndex.load(paths)
    config = RunConfig(
        path=None,
        out=out,
        style=style,
        source_url=check_source_url(source_url) if source_url else None,
        seed=seed,
        split_by=split_by,
        include_unreviewed=include_unreviewed,
    )
    with locked(out, create=False), Store.open(out, create=False) as store:
        from dataprep.pipeline import recorded_append, recorded_benchmarks

        config.decontaminate_against = paths or recorded_benchmarks(store)
        config.append = recorded_append(store)
        ctx = Context(store=store, config=config)
        with console.status("exporting"):
            run_stages(ctx, EXPORT_STAGES, force=True)
    summary = ctx.info["exported"]
    print_summary(summary)
    bench = ctx.counters.get("decontaminate", {}).get("benchmark")
    if bench:
        from dataprep.commands.filter import benchmark_line

        typer.echo(benchmark_line(bench))


def print_summary(summary: dict) -> None:
    """The closing lines of an export: rows per split and where the files are."""
    splits = ", ".join(f"{s} {n}" for s, n in summary["splits"].items())
    typer.echo(f"Exported {summary['rows']} rows ({splits}) to {summary['dataset_dir']}")
    typer.echo(f"License: {summary['license']}; reviewed by a person: {summary['reviewed']}")
    if summary.get("unreviewed_left_out"):
        from dataprep.commands.run import left_out_note

        typer.echo(left_out_note(summary["unreviewed_left_out"]))
    from dataprep.splits import empty_reason

    for split, n in summary["splits"].items():
        if n == 0:
            typer.echo(f"Note: the {split} split is empty ({empty_reason(split)})")
