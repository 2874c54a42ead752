"""`dataprep generate`: LLM-backed Evol-Instruct pairs on an existing working store."""

from typing import Annotated

import typer

from dataprep.commands.options import (
    DryRun,
    EvolQuestions,
    EvolRounds,
    EvolUnits,
    LLMConcurrency,
    LLMEndpoint,
    LLMHost,
    LLMMaxTokens,
    LLMNumCtx,
    LLMSeed,
    LLMTemperature,
    LLMTimeout,
    StoreOut,
    from_config,
)
from dataprep.settings import DEFAULT_TIMEOUT, EvolConfig, LLMOptions


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)


def generate(
    out: StoreOut,
    llm: Annotated[
        str,
        typer.Option(
            "--llm",
            help="ollama:MODEL, openai:MODEL@BASE_URL or transformers:PATH (directory or .gguf).",
        ),
    ],
    llm_host: LLMHost = None,
    llm_endpoint: LLMEndpoint = None,
    llm_timeout: LLMTimeout = DEFAULT_TIMEOUT,
    llm_concurrency: LLMConcurrency = EvolConfig.concurrency,
    evol_units: EvolUnits = EvolConfig.units,
    evol_rounds: EvolRounds = EvolConfig.rounds,
    evol_questions: EvolQuestions = EvolConfig.questions_per_unit,
    llm_temperature: LLMTemperature = LLMOptions.temperature,
    llm_seed: LLMSeed = LLMOptions.seed,
    llm_num_ctx: LLMNumCtx = LLMOptions.num_ctx,
    llm_max_tokens: LLMMaxTokens = LLMOptions.max_tokens,
    seed: int = from_config(EvolConfig, "seed"),
    dry_run: DryRun = EvolConfig.dry_run,
) -> None:
    """Evolve instructions about the repository's units with an LLM (Evol-Instruct).

    Seeds are the template pairs plus questions the LLM writes about each unit; answers
    are written with the unit's code in the prompt. Every call is cached in the store:
    a rerun (or a run restarted after a crash) repeats no finished call.

    Example: dataprep generate --out out --llm ollama:qwen2.5-coder:7b --evol-units 20 --dry-run
    """
    from dataprep.generate.stage import generate_with_llm
    from dataprep.outdir import locked
    from dataprep.store import Store

    with locked(out, create=False), Store.open(out, create=False) as store:
        summary = generate_with_llm(
            store,
            llm,
            host=llm_host,
            endpoints=list(llm_endpoint or []),
            timeout=llm_timeout,
            concurrency=llm_concurrency,
            units=evol_units,
            rounds=evol_rounds,
            questions=evol_questions,
            temperature=llm_temperature,
            llm_seed=llm_seed,
            num_ctx=llm_num_ctx,
            max_tokens=llm_max_tokens,
            seed=seed,
            dry_run=dry_run,
        )
    print_evol_summary(summary)


def print_evol_summary(summary) -> None:
    """Print a run's summary (or a dry run's estimate) on stdout."""
    for line in summary.lines():
        typer.echo(line)
