"""The chain: which filters run, in which order, and the runner that records their decisions.

Every pair that reaches a filter gets a decision under the stage `filter.<name>` (kept or
dropped, with the reason), so a dropped pair stays in the store and says why. A pair
dropped by one filter is not shown to the next, so the counts form a funnel.

Adding a filter: write it in its family's module with `@register(...)`, and put its name
in CHAIN.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace

from dataprep import procs
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
from dataprep.filters.passes import (
    in_order,
    read_rows,
    reading,
    stored,
    unit_ranges,
    worker_store,
)
from dataprep.models import Pair
from dataprep.procs import give_back_memory
from dataprep.store_schema import PairText, read_pair_fields

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

_FORK_BATCH = 512  # pairs (in whole units) per job of a forked per-pair pass
_PASS: tuple | None = None  # (specs, ctx, cache) the forked workers check with


@dataclass(slots=True)
class Verdict:
    """A `Decision` of the chain, as a plain record: a stage decides on tens of thousands of
    pairs and pydantic's construction cost more than most filters. Same fields."""

    pair_id: str
    stage: str
    kept: bool
    reason: str | None = None
    detail: str | None = None


class ListPairs:
    """Pairs in a list, as the chain reads them (`StorePairs` reads them from a store)."""

    def __init__(self, pairs: list[Pair]):
        self.items = pairs
        self._by_id: dict[str, Pair] | None = None
        self.memo: dict = {}  # what the set filters keep of these pairs for each other

    def __iter__(self) -> Iterator[Pair]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def texts(self) -> Iterator[Pair]:
        return iter(self.items)

    def fetch(self, pair_ids: Iterable[str]) -> dict[str, Pair]:
        if self._by_id is None:
            self._by_id = {p.id: p for p in self.items}
        return {i: self._by_id[i] for i in pair_ids}


class StorePairs:
    """The pairs alive before a stage, read from the store on each pass, by id: as `Pair`s
    for the per-pair filters, as `PairText`s for the set filters (`texts`, `fetch`)."""

    def __init__(self, store, before: str):
        self.store, self.before = store, before
        self.count = store.kept_count(before=before)
        self.memo: dict = {}  # what the set filters keep of these pairs for each other

    def __iter__(self) -> Iterator[Pair]:
        return self.store.iter_kept_pairs(before=self.before)

    def __len__(self) -> int:
        return self.count

    def texts(self) -> Iterator[PairText]:
        return self.store.iter_kept_texts(before=self.before)

    def fetch(self, pair_ids: Iterable[str]) -> dict[str, PairText]:
        return self.store.pair_texts(pair_ids)

    def stored(self) -> tuple:
        """(store, stage, ids to skip): where workers read these pairs (`passes.read_rows`)."""
        return self.store, self.before, frozenset()


class Alive:
    """The pairs of a source that no filter dropped yet: what a set filter is given. Each
    `iter` is a new pass over the source (`texts`: the fields the set filters read);
    `fetch` reads some by id."""

    def __init__(self, source, gone: set[str]):
        self.source, self.gone = source, gone
        self.count = len(source) - len(gone)

    def __iter__(self) -> Iterator[Pair]:
        gone = self.gone
        return (p for p in self.source.texts() if p.id not in gone)

    def __len__(self) -> int:
        return self.count

    @property
    def memo(self) -> dict | None:
        """What the set filters keep of the source's pairs for each other (`dedup_facts`)."""
        return getattr(self.source, "memo", None)

    def fetch(self, pair_ids: Iterable[str]) -> dict[str, Pair]:
        return self.source.fetch(pair_ids)

    def stored(self) -> tuple | None:
        """(store, stage, ids to skip) of the alive pairs (`StorePairs.stored`), or None
        for a list."""
        found = stored(self.source)
        return None if found is None else (found[0], found[1], self.gone)


def apply_filters(
    pairs: list[Pair], config: FilterConfig, ctx: Context, on_stage=None, cache=None
) -> tuple[list[Pair], FilterReport, dict[str, list[Verdict]]]:
    """The pure chain: surviving pairs, the report and each stage's notable decisions
    (`Verdict`s of the pairs it dropped, and the judge's scores; a pair a stage looked at
    without one was kept: `report.stages` counts what each looked at).

    `cache` (a VerdictCache) returns stored per-pair verdicts instead of recomputing them.
    """
    report, decisions, gone = chain_filters(ListPairs(pairs), config, ctx, on_stage, cache)
    return [p for p in pairs if p.id not in gone], report, decisions


def chain_filters(
    source, config: FilterConfig, ctx: Context, on_stage=None, cache=None
) -> tuple[FilterReport, dict[str, list[Verdict]], set[str]]:
    """The chain over a source of pairs (`ListPairs`, `StorePairs`), in passes: each run of
    consecutive per-pair filters is one pass (a pair goes through them in chain order until
    one drops it), each set filter is given the pairs still alive (`Alive`). Memory holds
    the dropped ids and the set filters' keys, never every pair. Returns the report, each
    stage's notable decisions and the dropped ids."""
    report = FilterReport(total=len(source))
    decisions: dict[str, list[Verdict]] = {}
    gone: set[str] = set()
    specs = active_filters(config, judge=ctx.judge is not None)
    start = 0
    while start < len(specs):
        if specs[start].check_all is not None:
            spec = specs[start]
            started = time.perf_counter()
            alive = Alive(source, gone)
            reasons = spec.check_all(alive, ctx)
            ordered = sorted(reasons, key=_position(source))
            _record(report, decisions, spec, len(alive), ordered, reasons, {})
            gone.update(reasons)
            report.seconds[spec.name] = round(time.perf_counter() - started, 4)
            if on_stage:
                on_stage(spec.name, len(source) - len(gone))
            start += 1
            continue
        end = start
        while end < len(specs) and specs[end].check_all is None:
            end += 1
        facts = _facts_size(source, specs[end:], ctx)
        _per_pair(source, specs[start:end], ctx, cache, report, decisions, gone, on_stage, facts)
        start = end
    report.kept = len(source) - len(gone)
    return report, decisions, gone


def _position(source):
    """Sort key of pair ids in the source's order (a store's pairs come by id)."""
    if isinstance(source, ListPairs):
        where = {p.id: i for i, p in enumerate(source.items)}
        return where.__getitem__
    return None


def _facts_size(source, later, ctx) -> int | None:
    """The shingle size of the `DedupFacts` a per-pair pass gathers of the pairs it keeps
    for the dedup filters among the `later` ones (None: none runs, or nowhere to keep them):
    they need not read every pair again."""
    if getattr(source, "memo", None) is None or not any(s.name in _DEDUP for s in later):
        return None
    return ctx.config.shingle_size


_DEDUP = ("exact_duplicate", "conflict", "near_duplicate")  # the filters that read DedupFacts


def _per_pair(source, specs, ctx, cache, report, decisions, gone, on_stage, facts=None) -> None:
    """One pass of per-pair filters over the alive pairs of `source` (in forked workers
    when `_forkable`: the same verdicts, in the same order). With `facts` (a shingle size),
    the `DedupFacts` of the pairs it keeps go in the source's memo."""
    gathered = dedup.DedupFacts(facts) if facts is not None else None
    seen = [0] * len(specs)
    seconds = [0.0] * len(specs)
    reasons: list[dict[str, str]] = [{} for _ in specs]
    order: list[list[str]] = [[] for _ in specs]  # ids with a verdict, in pass order
    judged = [spec.name == "judge" for spec in specs]
    if _forkable(source, specs, cache):
        checked = _forked_checks(source, specs, ctx, cache, gone, facts)
        for dropped, batch_seen, batch_seconds, part in checked:
            if gathered is not None:
                gathered.add(part)
            for k in range(len(specs)):
                seen[k] += batch_seen[k]
                seconds[k] += batch_seconds[k]
            for pair_id, k, reason in dropped:
                reasons[k][pair_id] = reason
                order[k].append(pair_id)
        for ids in order:  # the workers went by unit: the pass order is by id
            ids.sort()
        pairs: Iterable[Pair] = ()
    else:
        pairs = _prefetched(source, gone, cache)
    kept: list[Pair] = []
    for pair in pairs:
        k, reason = _check_pair(pair, specs, ctx, cache, seen, seconds)
        if reason:
            reasons[k][pair.id] = reason
            order[k].append(pair.id)
            continue
        if judged[k] and pair.id in ctx.details:
            order[k].append(pair.id)
        if gathered is not None:
            kept.append(pair)
            if len(kept) >= _FORK_BATCH:
                gathered.add(dedup.fact_columns(kept, facts))
                kept = []
    if gathered is not None:
        if kept:
            gathered.add(dedup.fact_columns(kept, facts))
        source.memo["dedup"] = gathered.done()
    for k, spec in enumerate(specs):
        details = ctx.details if judged[k] else {}
        _record(report, decisions, spec, seen[k], order[k], reasons[k], details)
        gone.update(reasons[k])
        report.seconds[spec.name] = round(seconds[k], 4)
        if on_stage:
            on_stage(spec.name, len(source) - len(gone))


def _check_pair(pair, specs, ctx, cache, seen, seconds) -> tuple[int, str | None]:
    """`specs` in order on `pair` until one drops it: (index of the last one run, its
    reason or None). Counts what each saw and its seconds in `seen` and `seconds`."""
    if cache is not None:
        return cache.run(pair, specs, ctx, seen, seconds)
    reason = None
    for k, spec in enumerate(specs):
        seen[k] += 1
        started = time.perf_counter()
        reason = spec.check(pair, ctx)
        seconds[k] += time.perf_counter() - started
        if reason:
            break
    return k, reason


def _forkable(source, specs, cache) -> bool:
    """Whether a per-pair pass runs in forked workers: several jobs, a store's pairs (the
    workers read and decode them, and their cached verdicts, themselves), enough of them,
    and no judge (its backend and its details stay in this process)."""
    return (
        procs.jobs() > 1
        and hasattr(os, "fork")
        and stored(source) is not None
        and cache is not None
        and cache.store is not None
        and len(source) > 2 * _FORK_BATCH
        and all(spec.name != "judge" for spec in specs)
    )


def _forked_checks(source, specs, ctx, cache, gone, facts=None):
    """The per-pair pass in `procs.jobs()` forked workers, a batch of whole units each
    (`_check_rows`, `unit_ranges`); per batch: the dropped (id, filter index, reason), the
    pairs each filter saw and its seconds, and with `facts` (a shingle size) the kept
    pairs' `DedupFacts` columns. The workers' new verdicts go into `cache` (written with
    its next flush)."""
    global _PASS
    workers = procs.jobs()
    store, before, _ = stored(source)
    _PASS = (specs, ctx, cache.detached(), facts)
    try:
        with reading((store, before, gone)), procs.process_pool(workers) as pool:
            jobs = (
                (_check_rows, (first, last))
                for _, first, last in unit_ranges(store, before, gone, _FORK_BATCH)
            )
            for result in in_order(pool, jobs, workers):
                yield _absorbed(result, cache)
    finally:
        _PASS = None


def _absorbed(result, cache):
    dropped, seen, seconds, keys, made, hits, misses, part = result
    cache.absorb(keys, made, hits, misses)
    return dropped, seen, seconds, part


def _check_rows(first: str, last: str):
    """Worker: the per-pair filters over the alive pairs of the units `first` to `last`,
    their cached verdicts read through this worker's own connection (`passes.read_rows`)."""
    assert _PASS is not None
    specs, ctx, template, facts = _PASS
    cache = template.detached()
    pairs = [_stored_pair(row) for row in read_rows(first, last)]
    keys = cache.prefetch(pairs, worker_store())
    seen = [0] * len(specs)
    seconds = [0.0] * len(specs)
    dropped: list[tuple[str, int, str]] = []
    kept: list[Pair] = []
    for pair in pairs:
        k, reason = _check_pair(pair, specs, ctx, cache, seen, seconds)
        if reason:
            dropped.append((pair.id, k, reason))
        else:
            kept.append(pair)
    made = cache.made()
    part = dedup.fact_columns(kept, facts) if facts is not None else None
    return dropped, seen, seconds, keys, made, cache.hits, cache.misses, part


def _stored_pair(row: tuple) -> SimpleNamespace:
    """A stored pair's fields as attributes (`read_pair_fields`, the fields `read_pair`
    validates): what the per-pair filters read of a `Pair`, without building the model
    (3x quicker). Only where no judge runs: its backend is given real `Pair`s."""
    return SimpleNamespace(**read_pair_fields(row))


def _prefetched(source, gone: set[str], cache, batch: int = 1024) -> Iterator[Pair]:
    """The alive pairs of `source`, a batch at a time, their cached verdicts read first."""
    chunk: list[Pair] = []
    for pair in source:
        if pair.id in gone:
            continue
        chunk.append(pair)
        if len(chunk) >= batch:
            if cache is not None:
                cache.prefetch(chunk)
            yield from chunk
            chunk = []
    if cache is not None:
        cache.prefetch(chunk)
    yield from chunk


def _record(report, decisions, spec, seen, ordered, reasons, details) -> None:
    """A stage's notable verdicts (`ordered`: their ids in the alive order) and counts."""
    stage = STAGE_PREFIX + spec.name
    decisions[stage] = [
        Verdict(pid, stage, pid not in reasons, reasons.get(pid), details.get(pid))
        for pid in ordered
    ]
    report.examples[spec.name] = [
        {"pair_id": pid, "reason": reasons[pid]} for pid in ordered if pid in reasons
    ][:3]
    report.dropped[spec.name] = len(reasons)
    report.stages.append({"stage": spec.name, "in": seen, "out": seen - len(reasons)})


def run_filters(
    store, config: FilterConfig | None = None, run_id: int | None = None, judge=None, on_stage=None
) -> FilterReport:
    """Run the chain over the pairs alive before it and record every stage's decisions.

    The pairs are the live ones no earlier stage dropped (`Store.kept_pairs(before=
    "filter")`): the chain's own earlier verdicts, and those of balance and
    decontamination, are set aside. They are read from the store a pass at a time
    (`chain_filters`). `judge` is an optional LLM backend object for the
    judge filter (else built from `config.judge`). Returns the FilterReport (also saved in
    the store's meta as `filter_report`). `on_stage(name, alive)` is called after each
    filter (progress).
    """
    config = config or FilterConfig()
    check_config(config)
    # The repository's names, for the grounding filter: only its generators' pairs need them
    # (a template pair's answer comes from the source), and reading every unit costs seconds.
    grounded = set(config.grounding_generators) & set(store.kept_counts("generator", "filter"))
    ctx = Context(
        config=config,
        index=RepoIndex.from_units(store.iter_units()) if grounded else None,
        count_tokens=token_counter(config.tokenizer),
    )
    if config.judge or judge is not None:
        ctx.judge = (
            judge
            if callable(judge) and not hasattr(judge, "chat")
            else make_judge(store, config, judge)
        )
    cache = VerdictCache.load(store, config)
    source = StorePairs(store, "filter")
    report, decisions, _ = chain_filters(source, config, ctx, on_stage=on_stage, cache=cache)
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
    del decisions, cache
    give_back_memory()
    return report
