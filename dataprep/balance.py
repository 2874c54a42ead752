"""Label balancing: seeded, pure functions over pairs, and the stage that records them.

A column (`task`, `kind`, `generator`, `module`, `label`, ...) splits the pairs into
values. Targets per value come from weights (uniform, or given) and/or a cap; every value
above its target is downsampled with a seeded hash order, so the same seed keeps the same
pairs on every machine. Dropped pairs get a `balance` decision with the reason.

Weighted targets are the largest that every value can fill: with weights w and counts c,
target_v = floor(k * w_v) where k = min_v(c_v / w_v); a value missing from the weights
gets weight 1. Short values are not padded by copying; classification-style tasks can be
filled with output-first generation (`fill_labels`). Balancing by `label` leaves the pairs
without a label (every task that is not a classification) as they are.

Example:
    targets({"a": 100, "b": 10}, weights="uniform") -> {"a": 10, "b": 10}
    targets({"a": 100, "b": 10}, cap=50) -> {"a": 50, "b": 10}
"""

from __future__ import annotations

import hashlib
import math
import statistics
import typing
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from dataprep.errors import ConfigError
from dataprep.models import Pair
from dataprep.settings import BalanceColumn, BalanceConfig

STAGE = "balance"
COLUMN_ALIASES = {"kind": "unit_kind", "unit_kind": "unit_kind"}
COLUMNS = typing.get_args(BalanceColumn)  # the columns a balance can be over
NONE_VALUE = "(none)"
# Columns that only some pairs have: pairs without a value are not balanced (balancing
# yes/no labels must not cut the unlabelled pairs down to the size of the smallest label).
SPARSE_COLUMNS = frozenset({"label"})
# `dataprep run` caps only the trivia tasks (signatures, owners, names, declarations...),
# so that they make at most this share of the rows.
DEFAULT_TRIVIA_SHARE = 0.25
MIN_WEIGHT, MAX_WEIGHT = 1e-6, 1e6  # the range of a positive --weights value


@dataclass
class BalanceReport:
    """Distributions before and after, the targets, and how many pairs each value lost."""

    by: str
    seed: int
    before: dict[str, int] = field(default_factory=dict)
    targets: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    dropped: int = 0
    distributions: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_PAIR_FIELDS = frozenset(Pair.model_fields)  # read once: pydantic computes it on each access


def column_value(pair: Pair, column: str) -> str:
    """The pair's value in `column`, as a string. Example: column_value(p, "kind") -> "method"."""
    name = COLUMN_ALIASES.get(column, column)
    if name not in _PAIR_FIELDS:
        raise ConfigError(f"--by {column!r} is not a pair column: use one of {', '.join(COLUMNS)}")
    return shown(getattr(pair, name))


def shown(value: Any) -> str:
    """A column's value as balance and the report show it. Example: shown("") -> "(none)"."""
    return NONE_VALUE if value is None or value == "" else str(value)


def parse_weights(text: str | None) -> str | dict[str, float] | None:
    """Parse `--weights`. Example: "a=1,b=2.5" -> {"a": 1.0, "b": 2.5}; "uniform" -> "uniform".

    A weight is 0 or a number from MIN_WEIGHT to MAX_WEIGHT; each value is named once.
    """
    if text is None or text.strip() == "":
        return None
    if text.strip() == "uniform":
        return "uniform"
    out: dict[str, float] = {}
    for part in text.split(","):
        name, eq, number = (s.strip() for s in part.partition("="))
        try:
            weight = float(number)
        except ValueError:
            weight = None
        if not eq or not name or weight is None:
            raise ConfigError(
                f"--weights {text!r}: write VALUE=WEIGHT pairs, e.g. a=1,b=2, or 'uniform'"
            )
        _check_weight(name, weight, number)
        if name in out:
            raise ConfigError(f"--weights names {name!r} twice: give each value one weight")
        out[name] = weight
    return out


def check_weights(
    weights: str | Mapping[str, float] | None, values: Iterable[str], by: str
) -> None:
    """A ConfigError naming the known values when `weights` names a value `by` does not
    have, or when every value would weigh 0 (all pairs dropped).

    Example: check_weights({"a": 1, "zz": 2}, ["a", "b"], "task") -> ConfigError("... 'zz' ...")
    """
    if weights is None or weights == "uniform":
        return
    for name, weight in weights.items():
        _check_weight(name, weight)
    known = sorted(set(values))
    unknown = sorted(set(weights) - set(known))
    if unknown:
        raise ConfigError(
            f"--weights names {unknown[0]!r}, which is not a {by} of the kept pairs: "
            f"use {_some(known)}"
        )
    if known and all(weights.get(v, 1.0) == 0 for v in known):
        raise ConfigError(
            f"--weights gives every {by} weight 0, which would drop every pair: "
            "give at least one value a positive weight"
        )


def _check_weight(name: str, weight: float, written: str | None = None) -> None:
    # Weights are shares: a ratio past 1e12 means nothing, and inf or nan breaks the targets.
    if weight == 0 or (math.isfinite(weight) and MIN_WEIGHT <= weight <= MAX_WEIGHT):
        return
    raise ConfigError(
        f"--weights {name}={weight if written is None else written}: a weight is 0 or a number "
        f"from {MIN_WEIGHT:g} to {MAX_WEIGHT:g}, e.g. {name}=2"
    )


def _some(values: list[str], limit: int = 20) -> str:
    """Example: _some(["a", "b"]) -> "a, b"; more than `limit` are cut: "a, b, ... (30 in all)"."""
    if not values:
        return "no value (there are no kept pairs to balance)"
    shown = ", ".join(values[:limit])
    return shown if len(values) <= limit else f"{shown}, ... ({len(values)} in all)"


def targets(
    counts: Mapping[str, int],
    weights: str | Mapping[str, float] | None = None,
    cap: int | None = None,
    median_cap: float | None = None,
) -> dict[str, int]:
    """Target count per value (never above what the value has).

    Example: targets({"a": 100, "b": 10, "c": 40}, weights={"a": 2}) -> {"a": 20, "b": 10, "c": 10}
    """
    out = dict(counts)
    if weights is not None:
        w = (
            {v: 1.0 for v in counts}
            if weights == "uniform"
            else {v: float(weights.get(v, 1.0)) for v in counts}
        )
        positive = [counts[v] / w[v] for v in counts if w[v] > 0]
        k = min(positive) if positive else 0.0
        out = {v: min(counts[v], math.floor(k * w[v] + 1e-9)) for v in counts}
    if cap is None and weights is None and median_cap and counts:
        cap = math.ceil(median_cap * statistics.median(counts.values()))
    if cap is not None:
        if cap < 0:
            raise ConfigError(f"--cap {cap} must be 0 or more")
        out = {v: min(n, cap) for v, n in out.items()}
    return out


def trivia_targets(counts: Mapping[str, int], share: float) -> dict[str, int]:
    """Targets that cap only the trivia tasks, so that they make at most `share` of the
    rows: one cap for every trivia task, the largest that fits (knowledge tasks are kept).

    Example (method.explain and method.code are knowledge, the others trivia):
        trivia_targets({"method.explain": 80, "method.code": 120, "member.owner": 300,
                        "member.signature": 40}, 0.25) -> {..., "member.owner": 27,
                        "member.signature": 27}   (66 trivia rows of 266: 25%)
    """
    from dataprep.generate.tasks import trivia_tasks

    trivia = trivia_tasks()
    knowledge = sum(n for v, n in counts.items() if v not in trivia)
    budget = math.floor(share / (1 - share) * knowledge) if share < 1 else None
    sizes = [n for v, n in counts.items() if v in trivia]
    if budget is None or not knowledge or sum(sizes) <= budget:  # nothing else to keep
        return dict(counts)
    low, high = 0, max(sizes)  # the largest cap whose total fits the budget
    while low < high:
        mid = (low + high + 1) // 2
        if sum(min(n, mid) for n in sizes) <= budget:
            low = mid
        else:
            high = mid - 1
    return {v: min(n, low) if v in trivia else n for v, n in counts.items()}


def seeded_order(pair_id: str, seed: int) -> str:
    """Sort key of a pair in the seeded downsampling order (a hash, the same everywhere)."""
    return hashlib.sha256(f"{seed}\x00{pair_id}".encode()).hexdigest()


def balance_pairs(
    pairs: Iterable[Pair], config: BalanceConfig
) -> tuple[list[Pair], dict[str, str], BalanceReport]:
    """Kept pairs, pair id -> drop reason, and the report (a pure function of its inputs)."""
    groups: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs:
        groups[column_value(pair, config.by)].append(pair)
    counts = {v: len(ps) for v, ps in sorted(groups.items())}
    goal = balance_targets(counts, config)
    kept: list[Pair] = []
    dropped: dict[str, str] = {}
    for value, members in sorted(groups.items()):
        ordered = sorted(members, key=lambda p: seeded_order(p.id, config.seed))
        kept += ordered[: goal[value]]
        for pair in ordered[goal[value] :]:
            dropped[pair.id] = _reason(config, value, goal[value], counts[value])
    kept.sort(key=lambda p: p.id)
    return kept, dropped, _report(config, counts, goal, len(dropped))


def balance_targets(counts: Mapping[str, int], config: BalanceConfig) -> dict[str, int]:
    """The target of each value of `config.by` (`counts`: its pairs), by value: the pairs
    without a value of a sparse column (`label`) keep them all."""
    exempt = {NONE_VALUE: counts[NONE_VALUE]} if _sparse(config.by) and NONE_VALUE in counts else {}
    balanced = {v: n for v, n in counts.items() if v not in exempt}
    check_weights(config.weights, balanced, config.by)
    if config.trivia_share is not None and config.by == "task":
        goal = trivia_targets(balanced, config.trivia_share)
    else:
        goal = targets(balanced, config.weights, config.cap, config.median_cap)
    return dict(sorted({**goal, **exempt}.items()))


def _reason(config: BalanceConfig, value: str, goal: int, count: int) -> str:
    why = " (a trivia task)" if config.trivia_share is not None else ""
    return (
        f"{config.by}={value}{why} over its target {goal} ({count} available, seed {config.seed})"
    )


def _report(
    config: BalanceConfig, counts: Mapping[str, int], goal: Mapping[str, int], dropped: int
) -> BalanceReport:
    after = {v: min(counts[v], goal[v]) for v in counts}
    return BalanceReport(config.by, config.seed, dict(counts), dict(goal), after, dropped)


def report_columns(by: str | None = None) -> tuple[str, ...]:
    """Columns whose distributions the report shows: task, kind, generator and the one
    balanced by. Example: report_columns("label") -> ("task", "kind", "generator", "label")."""
    base = ("task", "kind", "generator")
    name = "kind" if by and COLUMN_ALIASES.get(by) == "unit_kind" else by
    return base + ((name,) if name and name not in base else ())


def _sparse(column: str) -> bool:
    return COLUMN_ALIASES.get(column, column) in SPARSE_COLUMNS


def distributions(
    pairs: Iterable[Pair], columns: Iterable[str] = ("task", "kind", "generator")
) -> dict:
    """Counts per value of each column. Example: {"task": {"method.name": 12}, ...}."""
    pairs = list(pairs)
    return {c: dict(sorted(Counter(column_value(p, c) for p in pairs).items())) for c in columns}


def input_pairs(store) -> list[Pair]:
    """Pairs every earlier stage kept: the balance stage's own old verdicts and those of the
    stages after it (decontamination, which withholds the held-out files' pairs) set aside."""
    return store.kept_pairs(before=STAGE)


def balance_store(store, config: BalanceConfig) -> tuple[dict[str, str], BalanceReport]:
    """`balance_pairs` over `input_pairs`, asked of the store: the pairs are counted by
    value in SQL, and only the values over their target have their pairs' ids read (to
    drop the last in the seeded order). Pair id -> drop reason, and the report with its
    distributions. Memory holds the dropped pairs' ids, never every pair."""
    columns = report_columns(config.by)
    for column in (config.by, *columns):
        column_value(_NO_PAIR, column)  # an unknown column fails before any reading
    names = list(dict.fromkeys(COLUMN_ALIASES.get(c, c) for c in (config.by, *columns)))
    rows = store.kept_field_counts(names, before=STAGE, none=NONE_VALUE)
    by = names.index(COLUMN_ALIASES.get(config.by, config.by))
    at = [names.index(COLUMN_ALIASES.get(c, c)) for c in columns]
    counts: Counter = Counter()
    before = {c: Counter() for c in columns}
    for row in rows:
        counts[row[by]] += row[-1]
        for c, i in zip(columns, at, strict=True):
            before[c][row[i]] += row[-1]
    counts = dict(sorted(counts.items()))
    goal = balance_targets(counts, config)
    over = [v for v in counts if goal[v] < counts[v]]
    members: dict[str, list[tuple]] = defaultdict(list)
    for pair_id, value, *values in store.kept_fields_where(
        names[by], over, names, before=STAGE, none=NONE_VALUE
    ):
        members[value].append((seeded_order(pair_id, config.seed), pair_id, values))
    after = {c: Counter(n) for c, n in before.items()}
    dropped: dict[str, str] = {}
    for value in over:
        ordered = sorted(members.pop(value, []))
        for _, pair_id, values in ordered[goal[value] :]:
            dropped[pair_id] = _reason(config, value, goal[value], counts[value])
            for c, i in zip(columns, at, strict=True):
                after[c][values[i]] -= 1
    report = _report(config, counts, goal, len(dropped))
    report.distributions = {
        "before": {c: dict(sorted(n.items())) for c, n in before.items()},
        "after": {c: dict(sorted((v, k) for v, k in n.items() if k > 0)) for c, n in after.items()},
    }
    return dropped, report


class _Dropped(NamedTuple):
    """A `balance` decision that drops a pair, as `Store.put_decisions` reads it."""

    pair_id: str
    reason: str
    kept: bool = False
    detail: str | None = None


class _NoPair:
    def __getattr__(self, name: str) -> None:
        return None


_NO_PAIR = _NoPair()


def run_balance(
    store, config: BalanceConfig | None = None, seed: int | None = None, run_id: int | None = None
) -> BalanceReport:
    """Balance the store's kept pairs and record a `balance` decision for each.

    With no config, `dataprep run`'s default: by task, only the trivia tasks capped, so
    that they make at most a quarter of the rows (`DEFAULT_TRIVIA_SHARE`).
    """
    config = config or BalanceConfig(trivia_share=DEFAULT_TRIVIA_SHARE)
    if seed is not None:
        config.seed = seed
    dropped, report = balance_store(store, config)
    decisions = (_Dropped(pid, reason) for pid, reason in sorted(dropped.items()))
    store.put_decisions(STAGE, decisions, run_id=run_id, seen=sum(report.before.values()))
    store.set_meta("balance_report", report.to_dict())
    return report


# --- output-first generation: fill short labels of classification tasks ----------------

OUTPUT_FIRST_VERSION = 1


class OutputFirstTask:
    """(instruction, wanted label, an example pair) -> a new input that has the label."""

    @staticmethod
    def format_input(
        instruction: str, label: str, answer: str, example: Pair
    ) -> list[dict[str, str]]:
        user = (
            f"A dataset about the Java repository {example.repo} asks this question:\n"
            f"{instruction}\n\n"
            f"Example input:\n{example.input}\n\nIts answer: {example.output}\n\n"
            f"Write a NEW input, in the style of this repository and complete as written there "
            f"(annotations included), for which the correct answer is exactly: {answer}\n"
            "Reply with the input only, no explanation."
        )
        return [{"role": "user", "content": user}]

    @staticmethod
    def format_output(text: str) -> str:
        """The input, without a surrounding code fence.

        Example: "```java\\nint x;\\n```" -> "int x;".
        """
        body = text.strip()
        if body.startswith("```"):
            body = body.split("\n", 1)[1] if "\n" in body else ""
            body = body.rsplit("```", 1)[0]
        return body.strip()


@dataclass
class FillReport:
    task: str
    before: dict[str, int] = field(default_factory=dict)
    targets: dict[str, int] = field(default_factory=dict)
    generated: dict[str, int] = field(default_factory=dict)
    empty: int = 0
    mismatched: int = 0
    """New inputs whose own code says another label: kept as eliminated candidates."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fill_labels(
    store,
    llm,
    task: str,
    weights: str | dict[str, float] | None = "uniform",
    seed: int = 0,
    max_new: int | None = None,
    run_id: int | None = None,
) -> FillReport:
    """Output-first generation for a classification task: for each label short of its
    target (the largest label's count, scaled by weights), ask the LLM for inputs that
    have that label. The new pairs (generator `output_first`) are stored; run the
    filters again to check them like any other pair.

    `llm` is a backend from `dataprep.generate.llm.parse_llm_spec`; calls are cached.
    """
    from dataprep.generate.code_text import strip_annotations
    from dataprep.generate.llm import CachedLLM, LLMOptions
    from dataprep.generate.tasks import input_kind, label_reader

    labelled = [p for p in input_pairs(store) if p.task == task and p.label]
    if not labelled:
        raise ConfigError(
            f"no kept pair of task {task!r} carries a label: output-first filling needs labelled "
            "pairs of a classification task (e.g. yes/no answers)"
        )
    counts = Counter(p.label for p in labelled)
    check_weights(weights, counts, "label")
    w = (
        {v: 1.0 for v in counts}
        if weights in (None, "uniform")
        else {v: float(weights.get(v, 1.0)) for v in counts}
    )
    scale = max(counts[v] / w[v] for v in counts if w[v] > 0)
    goal = {v: max(counts[v], math.floor(scale * w[v] + 1e-9)) for v in counts}
    report = FillReport(
        task=task, before=dict(sorted(counts.items())), targets=dict(sorted(goal.items()))
    )
    cached = CachedLLM(llm, store, stage_version=OUTPUT_FIRST_VERSION)
    read_label = label_reader(task)
    bare = input_kind(task) == "bare_code"  # the input hides what gives the label away
    new: list[Pair] = []
    for label in sorted(counts):
        examples = sorted(
            (p for p in labelled if p.label == label), key=lambda p: seeded_order(p.id, seed)
        )
        deficit = goal[label] - counts[label]
        if max_new is not None:
            deficit = min(deficit, max_new)
        for i in range(deficit):
            example = examples[i % len(examples)]
            options = LLMOptions(temperature=0.8, seed=seed + i, max_tokens=400)
            shown = _example_input(store, example, bare)
            messages = OutputFirstTask.format_input(
                example.instruction,
                label,
                example.output,
                example.model_copy(update={"input": shown}),
            )
            text = OutputFirstTask.format_output(
                cached.chat(messages, options, unit=example.unit_id).text
            )
            if not text:
                report.empty += 1
                continue
            found = read_label(text) if read_label else label
            if found != label:  # checked on the code as written, before anything is hidden
                report.mismatched += 1
                told = f"says {found!r}" if found else "does not tell"
                cand = _output_first_pair(example, text, llm)
                store.put_candidate(
                    cand.id,
                    cand.unit_id,
                    "output_first",
                    f"label {label!r} but the input {told}",
                    cand.model_dump(),
                )
                continue
            new.append(_output_first_pair(example, strip_annotations(text) if bare else text, llm))
            report.generated[label] = report.generated.get(label, 0) + 1
    store.put_pairs(new, run_id=run_id)
    store.set_meta("fill_report", report.to_dict())
    return report


def _example_input(store, example: Pair, bare: bool) -> str:
    """The example the LLM imitates: for a task whose input hides the annotations, the
    method as written (so that the new one carries its own, to be checked)."""
    from dataprep.generate.code_text import dedent_code

    if not bare:
        return example.input
    unit = store.unit(example.unit_id)
    return dedent_code(unit.code) if unit is not None else example.input


def _output_first_pair(example: Pair, input_text: str, llm) -> Pair:
    fields_ = example.model_dump()
    fields_.update(
        input=input_text,
        generator="output_first",
        template="output_first",
        parent_id=example.id,
        model=getattr(llm, "name", None) or None,
        operation=None,
        round=None,
    )
    fields_["id"] = Pair.make_id(
        example.unit_id, "output_first", example.instruction, input_text, example.output
    )
    return Pair(**fields_)
