"""The filter machinery: settings, the registry, the context a filter sees, the report.

A filter is a function registered with `register`: a per-pair filter returns a reason to
drop the pair or None; a set filter (`on_set=True`) looks at all surviving pairs at once
and returns {pair id: reason}. The chain (`dataprep.filters.chain`) keeps the statistics
and records every decision, so a filter is only its check, its name and its settings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from hashlib import blake2b
from typing import TYPE_CHECKING, Any

from dataprep.errors import ConfigError
from dataprep.models import Pair
from dataprep.settings import CHARS_PER_TOKEN, FilterConfig

if TYPE_CHECKING:
    from dataprep.filters.grounding import RepoIndex

STAGE_PREFIX = "filter."
DECONTAMINATE_STAGE = "decontaminate"
GENERATOR_RANK = {"template": 0, "output_first": 1, "evol": 2}

CHARS_PER_TOKEN_ESTIMATE = CHARS_PER_TOKEN  # the estimate without a tokenizer (settings)


@dataclass
class Context:
    """What a per-pair filter may look at besides the pair."""

    config: FilterConfig
    index: RepoIndex | None = None
    count_tokens: Callable[[str], int] = field(default=lambda text: estimate_tokens(text))
    judge: Any = None  # a callable (pair) -> (score, why), set when the judge is on
    details: dict[str, str] = field(default_factory=dict)  # pair id -> JSON detail of a decision
    scans: DigestMemo = field(default_factory=lambda: DigestMemo())  # text -> secret rules


class DigestMemo:
    """Values memoised by a 16-byte hash of their text, at most `size` of them (then
    started afresh): a unit's code is the input or output of many pairs, and memory holds
    hashes, not the texts.

    Example: memo.get_or(text, scan_text) -> scan_text(text), computed once per text.
    """

    def __init__(self, size: int = 1 << 18):
        self.size = size
        self._values: dict[bytes, Any] = {}

    def get_or(self, text: str, compute: Callable[[str], Any]) -> Any:
        key = blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        if key in self._values:
            return self._values[key]
        if len(self._values) >= self.size:
            self._values.clear()
        value = self._values[key] = compute(text)
        return value


PairFilter = Callable[[Pair, Context], str | None]
SetFilter = Callable[[list[Pair], Context], dict[str, str]]


@dataclass(frozen=True)
class FilterSpec:
    """A registered filter: its name, what it checks, the settings it reads."""

    name: str
    description: str
    settings: tuple[str, ...]
    check: PairFilter | None = None
    check_all: SetFilter | None = None
    optional: bool = False  # runs only when configured (the LLM judge)
    cacheable: bool = False  # the verdict depends only on the pair's fields and the settings


# Filled by `register` as the family modules load; `dataprep.filters.chain` puts it in
# chain order (CHAIN), so iterating it is iterating the chain.
REGISTRY: dict[str, FilterSpec] = {}


def register(
    name: str,
    description: str,
    settings: Iterable[str] = (),
    *,
    on_set: bool = False,
    optional: bool = False,
    cacheable: bool = False,
):
    """Decorator adding a filter to the registry; its place in the chain is in CHAIN.

    `cacheable`: the verdict depends on nothing but the pair's fields (instruction, input,
    output, task, unit kind, generator, label) and the settings, so an incremental run
    reuses it (`VerdictCache`). A filter that reads "tokenizer" is cached only with the
    built-in estimate, as a tokenizer's files may change.
    """

    def wrap(func):
        REGISTRY[name] = FilterSpec(
            name,
            description,
            tuple(settings),
            check=None if on_set else func,
            check_all=func if on_set else None,
            optional=optional,
            cacheable=cacheable,
        )
        return func

    return wrap


# --- text helpers shared by the families ---------------------------------------------

WORD_RE = re.compile(r"[A-Za-z0-9_$]+")


def estimate_tokens(text: str) -> int:
    """Token estimate without a tokenizer: ceil(chars / 3.0). Example: "abcdef" -> 2."""
    return math.ceil(len(text) / CHARS_PER_TOKEN_ESTIMATE)


def token_counter(tokenizer: str | None) -> Callable[[str], int]:
    """A token counter for the target model (`AutoTokenizer`), or the chars/3.0 estimate.

    `tokenizer` is a local directory or a Hub id (resolved from the local cache offline).
    """
    if not tokenizer:
        return estimate_tokens
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(tokenizer)
    except ImportError as exc:
        raise ConfigError(
            "--tokenizer needs transformers: pip install 'dataprep[finetune]'"
        ) from exc
    except Exception as exc:  # OSError, ValueError, offline errors: all mean "cannot load"
        raise ConfigError(
            f"cannot load tokenizer {tokenizer!r} ({type(exc).__name__}): give a local directory "
            "with tokenizer files or a cached Hub id, or leave --tokenizer out for the estimate"
        ) from exc
    return lambda text: len(tok(text, add_special_tokens=False)["input_ids"])


def normalize(text: str) -> str:
    """Whitespace-collapsed text for exact comparisons. Example: " a \\n b" -> "a b"."""
    return " ".join(text.split())


def pair_text(pair: Pair) -> str:
    return f"{pair.instruction}\n{pair.input}\n{pair.output}"


def preference(pair: Pair) -> tuple[int, str]:
    """Sort key of the pair to keep among duplicates: template first, then smallest id."""
    return (GENERATOR_RANK.get(pair.generator, 9), pair.id)


# --- the report and the settings check ------------------------------------------------


@dataclass
class FilterReport:
    """What the chain did: counts at each stage, drops per filter with examples, timings."""

    total: int = 0
    kept: int = 0
    stages: list[dict[str, Any]] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_config(config: FilterConfig) -> None:
    """Reject settings that cannot work, naming the fix."""
    unknown = [name for name in config.disabled if name not in REGISTRY]
    if unknown:
        raise ConfigError(f"unknown filter(s) {', '.join(unknown)}: see `dataprep filter --list`")
    for name in ("near_dup_threshold", "decontam_threshold"):
        if not 0 < getattr(config, name) <= 1:
            raise ConfigError(f"{name} must be in (0, 1], got {getattr(config, name)}")
    if config.near_dup_scope not in ("task", "all"):
        raise ConfigError(f"near_dup_scope must be 'task' or 'all', got {config.near_dup_scope!r}")
    if config.decontam_action not in ("drop", "move"):
        raise ConfigError(
            f"decontam_action must be 'drop' or 'move', got {config.decontam_action!r}"
        )
    if config.max_seq_len < 16:
        raise ConfigError(f"--max-seq-len {config.max_seq_len} is too small: give at least 16")
    if not 0 <= config.judge_threshold <= 100:
        raise ConfigError(f"--judge-threshold must be 0..100, got {config.judge_threshold}")


def active_filters(config: FilterConfig, judge: bool = False) -> list[FilterSpec]:
    """The registered filters this configuration runs, in chain order."""
    return [
        spec
        for spec in REGISTRY.values()
        if spec.name not in config.disabled and (not spec.optional or config.judge or judge)
    ]


def describe_filters(config: FilterConfig | None = None) -> list[dict[str, Any]]:
    """Each filter's name, description, whether it is on, and its current settings."""
    config = config or FilterConfig()
    names = {f.name for f in fields(config)}
    active = {spec.name for spec in active_filters(config)}
    return [
        {
            "name": spec.name,
            "description": spec.description,
            "enabled": spec.name in active,
            "settings": {s: getattr(config, s) for s in spec.settings if s in names},
        }
        for spec in REGISTRY.values()
    ]
