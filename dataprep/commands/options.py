"""CLI options: `from_config` builds one from a typed setting (dataprep.settings), and
Annotated aliases for the options shared by more than one command (e.g. `run` and
`generate`)."""

from pathlib import Path
from typing import Annotated, Any

import typer

from dataprep.languages import parsers
from dataprep.settings import EvolConfig, LLMOptions, field_help


def from_config(cls: type, name: str, *flags: str, **overrides: Any) -> Any:
    """A typer option for the setting `name` of the config dataclass `cls`: its default, its
    attribute docstring as the help, and a Literal's values as the choices `--help` shows.
    `flags` default to --NAME-WITH-DASHES; `overrides` are typer.Option's other arguments
    (`min`, `max`, a `default` of the command line's own, such as a comma-separated text).

    Example: near_dup_scope: str = from_config(FilterConfig, "near_dup_scope")
    -> --near-dup-scope [task|all]  Compare pairs of the same `task` only, or `all` pairs.
    [default: task]
    """
    from dataprep.settings import choices, field_default

    options: dict[str, Any] = {"help": field_help(cls, name)}
    values = choices(cls, name)
    if values:
        options["metavar"] = f"[{'|'.join(values)}]"
    options.update(overrides)
    default = options.pop("default", field_default(cls, name))
    return typer.Option(default, *(flags or (f"--{name.replace('_', '-')}",)), **options)


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
LLMEndpoint = Annotated[
    list[str] | None,
    typer.Option(
        "--llm-endpoint",
        metavar="URL[,MAX_INFLIGHT]",
        help="A server of the --llm model (Ollama URL, or an OpenAI-compatible base URL "
        "ending in /v1 with --llm openai:MODEL); repeat for several. Each takes at most "
        "MAX_INFLIGHT requests at once (default --llm-concurrency); a request goes to the one "
        "with the fewest in flight, and a failing one is skipped and probed again later.",
    ),
]
DecontaminateAgainst = Annotated[
    list[Path] | None,
    typer.Option(
        "--decontaminate-against",
        metavar="PATH",
        help="Benchmark problems and solutions no pair may copy (HumanEval-X, MBPP-style): "
        ".jsonl/.json/.parquet records, a .java/.txt file per snippet, or a folder of them; "
        "repeat for several. Pairs of any split whose instruction, input or output shares "
        "half its word 10-grams with a snippet are dropped, the reason naming the snippet "
        "(FILE#INDEX). Example: --decontaminate-against bench/humaneval-x-java.jsonl",
    ),
]
LLMTimeout = Annotated[
    float,
    typer.Option(
        "--llm-timeout",
        min=1,
        help="Seconds an LLM request may wait for the server to say anything (a streamed "
        "answer may take 4x in all); a timed-out request is retried once.",
    ),
]
# The rest take their help from the settings (a command's default: EvolConfig's, LLMOptions').
LLMConcurrency = Annotated[
    int, typer.Option("--llm-concurrency", min=1, help=field_help(EvolConfig, "concurrency"))
]
LLMTemperature = Annotated[
    float,
    typer.Option("--llm-temperature", min=0, help=field_help(LLMOptions, "temperature")),
]
LLMSeed = Annotated[int, typer.Option("--llm-seed", help=field_help(LLMOptions, "seed"))]
LLMNumCtx = Annotated[
    int, typer.Option("--llm-num-ctx", min=256, help=field_help(LLMOptions, "num_ctx"))
]
LLMMaxTokens = Annotated[
    int, typer.Option("--llm-max-tokens", min=1, help=field_help(LLMOptions, "max_tokens"))
]
EvolUnits = Annotated[
    int | None, typer.Option("--evol-units", min=1, help=field_help(EvolConfig, "units"))
]
EvolRounds = Annotated[
    int, typer.Option("--evol-rounds", min=1, help=field_help(EvolConfig, "rounds"))
]
EvolQuestions = Annotated[
    int,
    typer.Option("--evol-questions", min=0, help=field_help(EvolConfig, "questions_per_unit")),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help=field_help(EvolConfig, "dry_run"))]

# --- run, export and friends (dataprep.pipeline) ------------------------------------------
Out = Annotated[
    Path,
    typer.Option("--out", "-O", help="Output directory holding dataprep.db and the dataset."),
]
StoreOut = Annotated[
    Path,
    typer.Option(
        "--out", "-O", help="Output directory of `dataprep run` (holding dataprep.db and dataset/)."
    ),
]
Seed = Annotated[int, typer.Option(help="Seed for phrasing choice, sampling and the splits.")]
Style = Annotated[
    str,
    typer.Option(
        metavar="[alpaca|chatml|repo|FILE|chat-template:MODEL]",
        help="Prompt style of the `prompt`/`completion` columns: alpaca, chatml, "
        "a shipped style (repo), the path of a style file (.yaml or .txt; `text: true` in "
        "a .yaml one adds a `text` column, the whole row), or "
        "chat-template:MODEL (that model's own chat template: a model folder, a .gguf file, "
        "or a Hub id in the local cache).",
    ),
]
SourceURL = Annotated[
    str | None,
    typer.Option(
        "--source-url",
        help="The repository's public URL for the dataset card (default: the checkout's git "
        "remote); remembered for later exports.",
    ),
]
SplitBy = Annotated[
    str,
    typer.Option(
        "--split-by",
        metavar="[file|module]",
        help="Keep each file (or module) in one split: file or module.",
    ),
]
Parser = Annotated[
    str,
    typer.Option(
        "--parser",
        metavar=f"[{'|'.join(parsers())}]",
        help="Java parser: tree-sitter (any Java) or javalang (Java 8, pure Python).",
    ),
]
Jobs = Annotated[
    int | None, typer.Option("--jobs", "-j", min=1, help="Processes for slicing (default: CPUs).")
]
IncludeUnreviewed = Annotated[
    bool,
    typer.Option(
        "--include-unreviewed",
        help="Once pairs are reviewed, also export unreviewed ones (never rejected ones).",
    ),
]
MaxSeqLen = Annotated[
    int | None,
    typer.Option(
        "--max-seq-len",
        min=16,
        help="Drop pairs whose rendered prompt and answer exceed this many tokens.",
    ),
]
Tokenizer = Annotated[
    str | None,
    typer.Option(
        help="Tokenizer for --max-seq-len: a local path or a Hub id (default: an estimate)."
    ),
]
