"""Annotated CLI option aliases shared by more than one command (e.g. `run` and `generate`)."""

from typing import Annotated

import typer

# --- LLM / Evol-Instruct (dataprep.generate.llm, dataprep.generate.evol) -----------------
LLMSpec = Annotated[
    str | None,
    typer.Option(
        "--llm",
        help="LLM for Evol-Instruct: ollama:MODEL, openai:MODEL@BASE_URL or transformers:PATH "
        "(a model directory or .gguf file). Without it only template pairs are made.",
    ),
]
LLMHost = Annotated[
    str | None,
    typer.Option(
        "--llm-host",
        help="Ollama server URL (default: $OLLAMA_HOST, else http://127.0.0.1:11434).",
    ),
]
LLMTimeout = Annotated[
    float, typer.Option("--llm-timeout", min=1, help="Seconds before an LLM request is abandoned.")
]
LLMConcurrency = Annotated[
    int, typer.Option("--llm-concurrency", min=1, help="LLM requests in flight at once.")
]
LLMTemperature = Annotated[
    float, typer.Option("--llm-temperature", min=0, help="Sampling temperature of the LLM.")
]
LLMSeed = Annotated[int, typer.Option("--llm-seed", help="Sampling seed passed to the LLM.")]
LLMNumCtx = Annotated[
    int, typer.Option("--llm-num-ctx", min=256, help="Context size (tokens) of the LLM.")
]
LLMMaxTokens = Annotated[
    int, typer.Option("--llm-max-tokens", min=1, help="Most tokens the LLM may write per answer.")
]
EvolUnits = Annotated[
    int | None,
    typer.Option(
        "--evol-units", min=1, help="Evolve only a seeded sample of N units (trials, budgets)."
    ),
]
EvolRounds = Annotated[int, typer.Option("--evol-rounds", min=1, help="Evolution rounds per seed.")]
EvolQuestions = Annotated[
    int,
    typer.Option("--evol-questions", min=0, help="Seed questions the LLM writes per unit."),
]
DryRun = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Print the number of LLM calls and an estimate of tokens and time; call nothing.",
    ),
]
