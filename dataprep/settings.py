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
import inspect
import textwrap
import typing
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
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


@lru_cache(maxsize=32)
def field_docs(cls: type) -> dict[str, str]:
    """Each field's attribute docstring (the string under it in the class body), as one line.

    Example: field_docs(BalanceConfig)["seed"] -> "Seed of the downsampling order."
    """
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body
    docs = {}
    for field, after in zip(body, body[1:], strict=False):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[field.target.id] = " ".join(inspect.cleandoc(after.value.value).split())
    return docs


def field_help(cls: type, name: str) -> str:
    """The help text of a field: its attribute docstring (a missing one is a bug)."""
    return field_docs(cls)[name]


def field_default(cls: type, name: str) -> Any:
    """The default of a field of a dataclass."""
    (field,) = [f for f in fields(cls) if f.name == name]
    return field.default


def choices(cls: type, name: str) -> tuple[str, ...] | None:
    """The values a `Literal` field takes (also inside `X | None`), else None."""
    hint = typing.get_type_hints(cls)[name]
    for candidate in (hint, *typing.get_args(hint)):
        if typing.get_origin(candidate) is Literal:
            return typing.get_args(candidate)
    return None
