"""`dataprep filter`: run the filter chain over the working store, or list the filters."""

from pathlib import Path
from typing import Annotated

import typer

from dataprep.console import console


def register(app: typer.Typer) -> None:
    app.command("filter")(filter_)


def filter_(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-O", help="Output directory holding dataprep.db (from `dataprep run`)."
        ),
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", help="Show the filters and their settings, then exit.")
    ] = False,
    max_seq_len: Annotated[
        int,
        typer.Option(
            "--max-seq-len", min=16, help="Most tokens of rendered prompt + answer + EOS."
        ),
    ] = 2048,
    tokenizer: Annotated[
        str | None,
        typer.Option(
            "--tokenizer",
            help="Target model's tokenizer: a local directory or a cached Hub id "
            "(default: estimate of 3.0 characters per token).",
        ),
    ] = None,
    near_dup_threshold: Annotated[
        float,
        typer.Option(
            "--near-dup-threshold",
            min=0.01,
            max=1.0,
            help="Jaccard (word 5-grams) of near-duplicates.",
        ),
    ] = 0.7,
    near_dup_scope: Annotated[
        str,
        typer.Option(
            "--near-dup-scope",
            metavar="[task|all]",
            help="Compare pairs of the same `task`, or `all` pairs.",
        ),
    ] = "task",
    num_perm: Annotated[
        int, typer.Option("--num-perm", min=16, help="MinHash permutations.")
    ] = 256,
    decontam_threshold: Annotated[
        float,
        typer.Option(
            "--decontam-threshold",
            min=0.01,
            max=1.0,
            help="Jaccard above which a validation/test pair copies a train pair.",
        ),
    ] = 0.7,
    decontam_action: Annotated[
        str,
        typer.Option(
            "--decontam-action",
            metavar="[drop|move]",
            help="`drop` contaminated validation/test pairs or `move` them.",
        ),
    ] = "drop",
    judge: Annotated[
        str | None,
        typer.Option(
            "--judge",
            help="LLM judge scoring each pair 0-100 against its source unit: ollama:MODEL, "
            "openai:MODEL@BASE_URL or transformers:PATH. Off by default.",
        ),
    ] = None,
    judge_threshold: Annotated[
        int,
        typer.Option(
            "--judge-threshold", min=0, max=100, help="Drop pairs the judge scores below this."
        ),
    ] = 50,
    disable: Annotated[
        str | None,
        typer.Option(
            "--disable", help="Comma-separated filter names to skip, e.g. grounding,refusal."
        ),
    ] = None,
    report: Annotated[bool, typer.Option(help="Write DIR/report.html and DIR/report.json.")] = True,
) -> None:
    """Filter the stored pairs: quality, code validity, grounding, context length, secrets,
    duplicates and near-duplicates (and, once splits exist, decontamination). Dropped
    pairs stay in the store with their reason.

    Example: dataprep filter --out out --max-seq-len 1024 --tokenizer ./my-model
    """
    from dataprep.errors import InputError
    from dataprep.filters import FilterConfig, describe_filters
    from dataprep.report import summary_lines
    from dataprep.store import Store

    config = FilterConfig(
        max_seq_len=max_seq_len,
        tokenizer=tokenizer,
        near_dup_threshold=near_dup_threshold,
        near_dup_scope=near_dup_scope,
        num_perm=num_perm,
        decontam_threshold=decontam_threshold,
        decontam_action=decontam_action,
        judge=judge,
        judge_threshold=judge_threshold,
        disabled=tuple(name.strip() for name in (disable or "").split(",") if name.strip()),
    )
    if list_:
        print_filters(describe_filters(config))
        return
    if out is None:
        raise InputError(
            "--out is missing: give the output directory of `dataprep run` (or use --list)"
        )
    from dataclasses import asdict

    from dataprep.outdir import locked
    from dataprep.pipeline import DECONTAMINATE, FILTER, REPORT, RunConfig
    from dataprep.stages import Context, run_stages

    run = RunConfig(path=None, out=out, filter_options=asdict(config))
    with locked(out, create=False), Store.open(out, create=False) as store:
        ctx = Context(store=store, config=run)
        with console.status("filtering") as status:

            def on_stage(name: str, alive: int) -> None:
                status.update(f"filtering: {name} done, {alive:,} pairs left")

            ctx.info["on_filter_stage"] = on_stage
            stages = [FILTER, DECONTAMINATE] if store.splits() else [FILTER]
            run_stages(ctx, stages, force=True)
        result = ctx.info["filter_report"]
        typer.echo(f"Filtered {result.total} pairs: {result.kept} kept")
        for stage in result.stages:
            if stage["in"] != stage["out"]:
                typer.echo(f"  {stage['stage']}: dropped {stage['in'] - stage['out']}")
        if "decontaminate" in ctx.counters:
            dec = ctx.counters["decontaminate"]
            typer.echo(
                f"Decontamination: {dec['contaminated']} of {dec['checked']} validation/test "
                f"pairs nearly copy a train pair ({dec['action']})"
            )
        if report:
            with console.status("writing the report"):
                run_stages(ctx, [REPORT], force=True)
            for line in summary_lines(ctx.info["report"]):
                typer.echo(line)
            typer.echo(f"Report: {out / 'report.html'}")


def print_filters(rows: list[dict]) -> None:
    """One block per filter: name, on/off, what it checks, its settings."""
    for row in rows:
        state = "on" if row["enabled"] else "off"
        typer.echo(f"{row['name']} ({state}): {row['description']}")
        for key, value in row["settings"].items():
            typer.echo(f"    {key} = {value!r}")
