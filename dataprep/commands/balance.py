"""`dataprep balance`: balance the kept pairs over a column, optionally filling short labels."""

from pathlib import Path
from typing import Annotated

import typer

from dataprep.console import console


def register(app: typer.Typer) -> None:
    app.command("balance")(balance)


def balance(
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-O", help="Output directory holding dataprep.db (from `dataprep run`)."
        ),
    ],
    by: Annotated[
        str,
        typer.Option(
            "--by",
            metavar="[task|kind|generator|module|label|template]",
            help="Column to balance: task, kind, generator, module, label, template.",
        ),
    ] = "task",
    weights: Annotated[
        str | None,
        typer.Option(
            "--weights",
            help="Target shares: `uniform` or VALUE=WEIGHT pairs (a=1,b=2; each value of --by "
            "once, a weight 0 or from 1e-6 to 1e6; unlisted values weigh 1). "
            "Default: uniform, unless --cap is given alone.",
        ),
    ] = None,
    cap: Annotated[
        int | None, typer.Option("--cap", min=0, help="At most N pairs per value.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the downsampling order.")] = 0,
    fill_task: Annotated[
        str | None,
        typer.Option(
            "--fill",
            help="Classification task whose short labels are filled by output-first generation "
            "before balancing (needs --llm).",
        ),
    ] = None,
    llm: Annotated[
        str | None,
        typer.Option(
            "--llm",
            help="LLM for --fill: ollama:MODEL, openai:MODEL@BASE_URL or transformers:PATH.",
        ),
    ] = None,
    llm_host: Annotated[str | None, typer.Option("--llm-host", help="Ollama server URL.")] = None,
    max_new: Annotated[
        int | None, typer.Option("--max-new", min=1, help="Most pairs --fill writes per label.")
    ] = None,
    report: Annotated[bool, typer.Option(help="Write DIR/report.html and DIR/report.json.")] = True,
) -> None:
    """Downsample the kept pairs so that no value of a column drowns the others (seeded);
    dropped pairs get a `balance` decision with the reason.

    Example: dataprep balance --out out --by task --cap 100

    Example: dataprep balance --out out --by label --fill method.is_test --llm ollama:llama3.2
    """
    from dataprep.balance import BalanceConfig, fill_labels, parse_weights
    from dataprep.errors import InputError
    from dataprep.pipeline import BALANCE, REPORT, RunConfig
    from dataprep.report import summary_lines
    from dataprep.stages import Context, run_stages
    from dataprep.store import Store

    parsed = parse_weights(weights)
    if parsed is None and cap is None:
        parsed = "uniform"
    config = BalanceConfig(by=by, weights=parsed, cap=cap, seed=seed)
    if fill_task and not llm:
        raise InputError("--fill needs --llm: name the model that writes the new inputs")
    from dataprep.outdir import locked

    with locked(out, create=False), Store.open(out, create=False) as store:
        if fill_task:
            from dataprep.filters import run_filters
            from dataprep.generate.llm import parse_llm_spec

            with console.status(f"output-first generation for {fill_task}"):
                filled = fill_labels(
                    store,
                    parse_llm_spec(llm, host=llm_host),
                    fill_task,
                    parsed,
                    seed=seed,
                    max_new=max_new,
                )
            added = ", ".join(f"{v} +{n}" for v, n in filled.generated.items()) or "none needed"
            typer.echo(
                f"Output-first for {filled.task}: {sum(filled.generated.values())} new pairs "
                f"({added})" + (f"; {filled.empty} empty answers" if filled.empty else "")
            )
            with console.status("filtering the new pairs"):
                run_filters(store, _filter_config(store))
        ctx = Context(store=store, config=RunConfig(path=None, out=out, seed=seed))
        ctx.info["balance_config"] = config
        run_stages(ctx, [BALANCE], force=True)
        result = ctx.info["balance_report"]
        typer.echo(f"Balanced by {result.by} (seed {result.seed}): {result.dropped} pairs dropped")
        width = max((len(v) for v in result.before), default=0)
        for value in result.before:
            typer.echo(f"  {value:<{width}}  {result.before[value]:>6} -> {result.after[value]}")
        if report:
            with console.status("writing the report"):
                run_stages(ctx, [REPORT], force=True)
            for line in summary_lines(ctx.info["report"]):
                typer.echo(line)
            typer.echo(f"Report: {out / 'report.html'}")


def _filter_config(store):
    """The filter settings of the last filter pass, so new pairs are checked the same way."""
    from dataclasses import fields

    from dataprep.filters import FilterConfig

    saved = store.get_meta("filter_config") or {}
    known = {f.name for f in fields(FilterConfig)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in saved.items() if k in known}
    return FilterConfig(**values)
