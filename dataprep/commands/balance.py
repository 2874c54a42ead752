"""`dataprep balance`: balance the kept pairs over a column, optionally filling short labels."""

from typing import Annotated

import typer

from dataprep.commands.options import LLMHost, StoreOut, from_config
from dataprep.console import console
from dataprep.settings import BalanceConfig, FilterConfig


def register(app: typer.Typer) -> None:
    app.command("balance")(balance)


def balance(
    out: StoreOut,
    by: str = from_config(BalanceConfig, "by"),
    weights: str | None = from_config(BalanceConfig, "weights"),
    cap: int | None = from_config(BalanceConfig, "cap", min=0),
    seed: int = from_config(BalanceConfig, "seed"),
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
    llm_host: LLMHost = None,
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
    from dataprep.balance import fill_labels, parse_weights
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

    saved = store.get_meta("filter_config") or {}
    known = {f.name for f in fields(FilterConfig)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in saved.items() if k in known}
    return FilterConfig(**values)
