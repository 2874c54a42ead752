"""The typed settings of the stages, each declared once: its type, its default, and its help
text, which is the attribute docstring under the field (as litgpt's TrainArgs do). The CLI
builds its options from these (`dataprep.commands.options.from_config`), so `--help` shows
the docstring, the default and, for a `Literal` type, the choices.

This module imports nothing heavy: `dataprep --help` reads it.

Example: field_help(FilterConfig, "num_perm") -> "MinHash permutations (BigCode's Java
near-dedup setting)."; choices(FilterConfig, "near_dup_scope") -> ("task", "all").
"""

from __future__ import annotations

import ast
import sys
import typing
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

NearDupScope = Literal["task", "all"]
DecontamAction = Literal["drop", "move"]
# The pair columns a balance can be over (`kind` is `unit_kind`).
BalanceColumn = Literal[
    "task",
    "kind",
    "unit_kind",
    "generator",
    "module",
    "label",
    "template",
    "path",
    "repo",
    "operation",
]


@dataclass
class FilterConfig:
    """Settings of the filter chain (each filter reads only its own)."""

    min_output_chars: int = 1
    """Outputs shorter than this (stripped) are dropped."""
    max_output_chars: int = 20_000
    """Outputs longer than this are dropped."""
    min_output_tokens: int = 1
    """Outputs with fewer tokens than this are dropped."""
    max_output_tokens: int = 4_096
    """Outputs with more tokens than this are dropped."""
    max_seq_len: int = 2_048
    """Most tokens of the rendered prompt + answer + EOS; longer pairs are dropped."""
    tokenizer: str | None = None
    """Target model's tokenizer: a local directory or a cached Hub id (default: estimate of
    3.0 characters per token)."""
    refusal_max_words: int = 80
    """A refusal phrase drops the pair only when the output is shorter than this."""
    code_tasks: tuple[str, ...] = ()
    """Tasks whose whole output is Java code (besides outputs that look like code)."""
    grounding_generators: tuple[str, ...] = ("evol", "output_first")
    """Generators whose outputs are checked against the symbol table (template answers
    are the source itself)."""
    near_dup_threshold: float = 0.7
    """Jaccard similarity (word 5-grams) above which two pairs are near-duplicates."""
    near_dup_scope: NearDupScope = "task"
    """Compare pairs of the same `task` only, or `all` pairs."""
    num_perm: int = 256
    """MinHash permutations (BigCode's Java near-dedup setting)."""
    shingle_size: int = 5
    """Words per shingle."""
    decontam_threshold: float = 0.7
    """Jaccard above which a validation/test pair counts as a copy of a train pair."""
    decontam_action: DecontamAction = "drop"
    """`drop` a contaminated validation/test pair, or `move` it to train."""
    judge: str | None = None
    """LLM judge scoring each pair 0-100 against its source unit: ollama:MODEL,
    openai:MODEL@BASE_URL or transformers:PATH. Off by default."""
    judge_threshold: int = 50
    """Pairs the judge scores below this (0-100) are dropped."""
    disabled: tuple[str, ...] = ()
    """Filter names to skip (comma-separated on the command line, e.g. grounding,refusal)."""

    def settings(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BalanceConfig:
    """How to balance: the column, target weights, a cap per value, the seed."""

    by: BalanceColumn = "task"
    """Column whose values are balanced (kind is the unit's kind)."""
    weights: str | dict[str, float] | None = None
    """Target shares: `uniform` or VALUE=WEIGHT pairs (a=1,b=2; each value of the column
    once, a weight 0 or from 1e-6 to 1e6; unlisted values weigh 1). Default: uniform,
    unless a cap is given alone."""
    cap: int | None = None
    """At most this many pairs per value."""
    median_cap: float | None = None
    """With no weights and no cap: cap each value at this multiple of the median count."""
    trivia_share: float | None = None
    """By task only: cap just the trivia tasks, one cap for all, so that they make at most
    this share of the rows; knowledge tasks are never cut."""
    seed: int = 0
    """Seed of the downsampling order."""


# A documented estimate when no tokenizer is given: code and English average 3.5 to 4
# characters per token in current BPE vocabularies; 3.0 over-counts on purpose, so an
# estimated pair that fits also fits the real tokenizer (a dropped row is cheaper than
# a row the trainer silently drops or truncates), and an LLM prompt budgeted with it fits.
CHARS_PER_TOKEN = 3.0

DEFAULT_TIMEOUT = 120.0  # seconds an LLM request may wait for the server to say anything


@dataclass(frozen=True)
class LLMOptions:
    """Sampling options shared by every backend (mapped to each one's own names)."""

    temperature: float = 0.7
    """Sampling temperature of the LLM."""
    seed: int = 0
    """Sampling seed passed to the LLM."""
    num_ctx: int = 4096
    """Context size (tokens) of the LLM."""
    max_tokens: int = 512
    """Most tokens the LLM may write per answer."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EvolConfig:
    """How much Evol-Instruct work to do, and how."""

    rounds: int = 3
    """Evolution rounds per seed."""
    units: int | None = None
    """Evolve only a seeded sample of this many units (trials, budgets); all if unset."""
    seed: int = 0
    """Seed of the unit sample and the operation picks."""
    concurrency: int = 4
    """LLM requests in flight at once."""
    questions_per_unit: int = 2
    """Seed questions the LLM writes per unit."""
    template_seeds_per_unit: int = 2
    """Template pairs per unit used as seeds."""
    operations: list[str] | None = None
    """Operations to pick from (all if unset)."""
    dry_run: bool = False
    """Print the number of LLM calls and an estimate of tokens and time; call nothing."""
    tokens_per_second: float = 20.0
    """Generation speed a dry run assumes per request in flight."""
    progress: bool = True
    """Show a progress bar."""

    def __post_init__(self) -> None:
        from dataprep.errors import ConfigError

        least = {"rounds": 1, "units": 1, "concurrency": 1}
        least |= {"questions_per_unit": 0, "template_seeds_per_unit": 0}
        for name, low in least.items():
            value = getattr(self, name)
            if value is not None and value < low:
                raise ConfigError(f"evol {name} must be at least {low}, got {value}")
        if self.tokens_per_second <= 0:
            raise ConfigError(f"tokens_per_second must be above 0, got {self.tokens_per_second}")

    def model_dump(self) -> dict[str, Any]:
        """The settings as a plain dict (what a run records)."""
        return asdict(self)


SplitMode = Literal["file", "module"]
BalanceMode = Literal["trivia", "off"]


@dataclass
class RunConfig:
    """Everything `dataprep run` needs; the CLI fills it from its options."""

    path: Path | None
    """The repository (None for the stages after `run`, which read only the store)."""
    out: Path
    parser: str = "tree-sitter"
    """The Java parser: tree-sitter (default) or javalang (pure Python, Java 8)."""
    jobs: int = 1
    """Worker processes (`dataprep run` gives the usable CPUs by default)."""
    seed: int = 0
    """Seed of the splits, the balancing sample and the phrasings."""
    style: str = "alpaca"
    """Prompt style of `prompt`/`completion`: alpaca, chatml, a style file, chat-template:MODEL."""
    source_url: str | None = None
    """The repository's public URL for the card (default: the checkout's git remote)."""
    split_by: SplitMode = "file"
    """Keep whole files (or Maven/Gradle modules) in one split."""
    include_unreviewed: bool = False
    force: bool = False
    """Write into a non-empty --out without a store, or one made from another repository."""
    store: Path | None = None
    """A folder on local disk for the working store (default: --out itself, or a cache
    folder when --out is on a network filesystem: `dataprep.store_home`)."""
    balance: BalanceMode = "trivia"
    """trivia: cap only the trivia tasks (signatures, owners, names, declarations); off:
    keep every pair the filters kept."""
    trivia_share: float = 0.25
    """With --balance trivia: the largest share of the rows the trivia tasks may make (one
    cap for every trivia task; knowledge tasks are never cut)."""
    templates: bool = True
    # LLM generator; None: templates only
    llm: str | None = None
    llm_host: str | None = None
    llm_endpoints: list[str] = field(default_factory=list)
    """`--llm-endpoint` values: URL[,max_inflight] of each server of the model."""
    llm_timeout: float = DEFAULT_TIMEOUT
    llm_concurrency: int = EvolConfig.concurrency
    evol_units: int | None = EvolConfig.units
    dry_run: bool = EvolConfig.dry_run
    llm_options: dict[str, Any] = field(default_factory=dict)
    """Further keywords of `generate_with_llm` (rounds, questions, temperature, ...)."""
    # filters
    max_seq_len: int | None = None
    tokenizer: str | None = None
    filter_options: dict[str, Any] = field(default_factory=dict)
    decontaminate_against: list[str] = field(default_factory=list)
    """Files or folders of benchmark snippets (.jsonl, .json, .parquet records, or one
    snippet per .java/.txt file): pairs of any split that nearly copy one are dropped."""
    append: str | None = None
    """An earlier output folder (`--append DIR1`): pairs equal or near to its published rows
    are dropped, and its units are deduplicated against before generation."""

    def args(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: str(v) if isinstance(v, Path) else v for k, v in data.items()}


@lru_cache(maxsize=32)
def field_docs(cls: type) -> dict[str, str]:
    """Each field's attribute docstring (the string under it in the class body), as one line.

    Read from the source of the class's module with `ast` (not `inspect`, which would add a
    tenth of a second to every start of the CLI).

    Example: field_docs(BalanceConfig)["seed"] -> "Seed of the downsampling order."
    """
    module = sys.modules[cls.__module__]
    tree = _module_tree(module.__file__)
    (node,) = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls.__name__]
    docs = {}
    for node_, after in zip(node.body, node.body[1:], strict=False):
        if (
            isinstance(node_, ast.AnnAssign)
            and isinstance(node_.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[node_.target.id] = " ".join(after.value.value.split())
    return docs


@lru_cache(maxsize=8)
def _module_tree(path: str) -> ast.Module:
    with open(path, encoding="utf-8") as fh:
        return ast.parse(fh.read())


def field_help(cls: type, name: str) -> str:
    """The help text of a field: its attribute docstring (a missing one is a bug)."""
    return field_docs(cls)[name]


def field_default(cls: type, name: str) -> Any:
    """The default of a field of a dataclass."""
    (field,) = [f for f in fields(cls) if f.name == name]
    return field.default


def choices(cls: type, name: str) -> tuple[str, ...] | None:
    """The values a `Literal` field takes (also inside `X | None`), else None."""
    hint = cls.__annotations__[name]
    if isinstance(hint, str):  # postponed (from __future__ import annotations)
        hint = eval(hint, vars(sys.modules[cls.__module__]))  # noqa: S307 (our own source)
    for candidate in (hint, *typing.get_args(hint)):
        if typing.get_origin(candidate) is Literal:
            return typing.get_args(candidate)
    return None
