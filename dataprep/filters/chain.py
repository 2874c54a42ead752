"""The chain: which filters run, in which order, and the runner that records their decisions.

Every pair that reaches a filter gets a decision under the stage `filter.<name>` (kept or
dropped, with the reason), so a dropped pair stays in the store and says why. A pair
dropped by one filter is not shown to the next, so the counts form a funnel.

Adding a filter: write it in its family's module with `@register(...)`, and put its name
in CHAIN.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from dataprep.filters import code, dedup, secrets, text  # noqa: F401 (they register filters)
from dataprep.filters.cache import VerdictCache
from dataprep.filters.core import (
    REGISTRY,
    STAGE_PREFIX,
    Context,
    FilterConfig,
    FilterReport,
    active_filters,
    check_config,
    token_counter,
)
from dataprep.filters.grounding import RepoIndex
from dataprep.filters.judge import make_judge
from dataprep.models import Pair

# The chain order: cheap per-pair checks first, the set filters over what survives, the
# (optional, slow) LLM judge last.
CHAIN = (
    "empty_output",  # text
    "length",  # text
    "refusal",  # text
    "template_words",  # text
    "code_validity",  # code
    "label_mismatch",  # code
    "grounding",  # grounding
    "context_length",  # text
    "secrets",  # secrets
    "exact_duplicate",  # dedup
    "conflict",  # dedup
    "near_duplicate",  # dedup
    "judge",  # judge
)


def _order_registry() -> None:
    """Put REGISTRY in CHAIN order; a filter registered but not chained (or the reverse)
    is a programming error, caught at import."""
    missing = [name for name in CHAIN if name not in REGISTRY]
    unchained = [name for name in REGISTRY if name not in CHAIN]
    if missing or unchained:
        raise RuntimeError(
            f"filters.chain.CHAIN and the registered filters differ: not registered {missing}, "
            f"not in CHAIN {unchained}"
        )
    ordered = {name: REGISTRY[name] for name in CHAIN}
    REGISTRY.clear()
    REGISTRY.update(ordered)


_order_registry()


@dataclass(slots=True)
class Verdict:
    """A `Decision` of the chain, as a plain record: a stage decides on tens of thousands of
    pairs and pydantic's construction cost more than most filters. Same fields."""

    pair_id: str
    stage: str
    kept: bool
    reason: str | None = None
    detail: str | None = None


def apply_filters(
    pairs: list[Pair], config: FilterConfig, ctx: Context, on_stage=None, cache=None
) -> tuple[list[Pair], FilterReport, dict[str, list[Verdict]]]:
    """The pure chain: surviving pairs, the report and each stage's notable decisions
    (`Verdict`s of the pairs it dropped, and the judge's scores; a pair a stage looked at
    without one was kept: `report.stages` counts what each looked at).

    `cache` (a VerdictCache) returns stored per-pair verdicts instead of recomputing them.
    """
    report = FilterReport(total=len(pairs))
    decisions: dict[str, list[Verdict]] = {}
    alive = list(pairs)
    for spec in active_filters(config, judge=ctx.judge is not None):
        started = time.perf_counter()
        stage = STAGE_PREFIX + spec.name
        if spec.check_all is not None:
            reasons = spec.check_all(alive, ctx)
        else:
            reasons = {}
            for pair in alive:
                reason = cache.check(spec, pair, ctx) if cache else spec.check(pair, ctx)
                if reason:
                    reasons[pair.id] = reason
        judged = spec.name == "judge"
        decisions[stage] = [
            Verdict(
                p.id,
                stage,
                p.id not in reasons,
                reasons.get(p.id),
                ctx.details.get(p.id) if judged else None,
            )  # fmt: skip
            for p in alive
            if p.id in reasons or (judged and p.id in ctx.details)
        ]
        report.examples[spec.name] = [
            {"pair_id": p.id, "reason": reasons[p.id]} for p in alive if p.id in reasons
        ][:3]
        report.dropped[spec.name] = len(reasons)
        report.stages.append(
            {"stage": spec.name, "in": len(alive), "out": len(alive) - len(reasons)}
        )
        alive = [p for p in alive if p.id not in reasons]
        report.seconds[spec.name] = round(time.perf_counter() - started, 4)
        if on_stage:
            on_stage(spec.name, len(alive))
    report.kept = len(alive)
    return alive, report, decisions


def run_filters(
    store, config: FilterConfig | None = None, run_id: int | None = None, judge=None, on_stage=None
) -> FilterReport:
    """Run the chain over the pairs alive before it and record every stage's decisions.

    The pairs are the live ones no earlier stage dropped (`Store.kept_pairs(before=
    "filter")`): the chain's own earlier verdicts, and those of balance and
    decontamination, are set aside. `judge` is an optional LLM backend object for the
    judge filter (else built from `config.judge`). Returns the FilterReport (also saved in
    the store's meta as `filter_report`). `on_stage(name, alive)` is called after each
    filter (progress).
    """
    config = config or FilterConfig()
    check_config(config)
    pairs = store.kept_pairs(before="filter")
    ctx = Context(
        config=config,
        index=RepoIndex.from_units(store.units()),
        count_tokens=token_counter(config.tokenizer),
    )
    if config.judge or judge is not None:
        ctx.judge = (
            judge
            if callable(judge) and not hasattr(judge, "chat")
            else make_judge(store, config, judge)
        )
    cache = VerdictCache.load(store, config)
    _, report, decisions = apply_filters(pairs, config, ctx, on_stage=on_stage, cache=cache)
    cache.save(store)
    seen = {s["stage"]: s["in"] for s in report.stages}
    with store.transaction():
        for spec in REGISTRY.values():
            stage = STAGE_PREFIX + spec.name
            store.put_decisions(
                stage, decisions.get(stage, []), run_id=run_id, seen=seen.get(spec.name, 0)
            )
    store.set_meta("filter_report", report.to_dict())
    store.set_meta("filter_config", config.settings())
    return report
