"""`dataprep filter`: run the filter chain over the working store, or list the filters."""

from typing import Annotated

import typer

from dataprep.commands.options import DecontaminateAgainst, StoreOut, from_config
from dataprep.console import console
from dataprep.settings import FilterConfig


def register(app: typer.Typer) -> None:
    app.command("filter")(filter_)


def filter_(
    out: StoreOut = None,
    list_: Annotated[
        bool, typer.Option("--list", help="Show the filters and their settings, then exit.")
    ] = False,
    max_seq_len: int = from_config(FilterConfig, "max_seq_len", min=16),
    tokenizer: str | None = from_config(FilterConfig, "tokenizer"),
    near_dup_threshold: float = from_config(FilterConfig, "near_dup_threshold", min=0.01, max=1.0),
    near_dup_scope: str = from_config(FilterConfig, "near_dup_scope"),
    num_perm: int = from_config(FilterConfig, "num_perm", min=16),
    decontam_threshold: float = from_config(FilterConfig, "decontam_threshold", min=0.01, max=1.0),
    decontam_action: str = from_config(FilterConfig, "decontam_action"),
    judge: str | None = from_config(FilterConfig, "judge"),
    judge_threshold: int = from_config(FilterConfig, "judge_threshold", min=0, max=100),
    disable: str | None = from_config(FilterConfig, "disabled", "--disable", default=None),
    decontaminate_against: DecontaminateAgainst = None,
    report: Annotated[bool, typer.Option(help="Write DIR/report.html and DIR/report.json.")] = True,
) -> None:
    """Filter the stored pairs: quality, code validity, grounding, context length, secrets,
    duplicates and near-duplicates (and, once splits exist, decontamination). Dropped
    pairs stay in the store with their reason.

    Example: dataprep filter --out out --max-seq-len 1024 --tokenizer ./my-model
    Example: dataprep filter --out out --decontaminate-against bench/mbpp.jsonl
    """
    from dataprep.errors import InputError
    from dataprep.filters import describe_filters
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

    paths = [str(p) for p in decontaminate_against or []]
    if paths:  # a bad index is one line before any work
        from dataprep.filters.benchmarks import BenchmarkIndex

        BenchmarkIndex.load(paths)
    run = RunConfig(path=None, out=out, filter_options=asdict(config), decontaminate_against=paths)
    with locked(out, create=False), Store.open(out, create=False) as store:
        from dataprep.pipeline import recorded_append, recorded_benchmarks

        run.decontaminate_against = paths or recorded_benchmarks(store)
        run.append = recorded_append(store)
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
            if dec.get("benchmark"):
                typer.echo(benchmark_line(dec["benchmark"]))
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


def benchmark_line(bench: dict) -> str:
    """The benchmark decontamination's one line: pairs dropped, by file."""
    by = ", ".join(f"{k} {v}" for k, v in bench.get("by_file", {}).items())
    return (
        f"Benchmark decontamination: {bench['dropped']} of {bench['checked']} pairs nearly "
        f"copy one of {bench['snippets']} benchmark snippets and were dropped"
        + (f" ({by})" if by else "")
    )
