"""Evol-Instruct over a repository's units: seeds, evolution rounds, grounded answers.

Seeds are the grounded template pairs plus questions the LLM writes about a unit with
its code in view. Each seed is evolved for several rounds; per instruction and round one
operation is picked at random (seeded): the five in-depth operations of Evol-Instruct,
in-breadth evolution, and Code Evol-Instruct's misdirection and complexity. Answers are
written with the unit's code, its enclosing type's header and its file's imports in the
prompt, as delimited data. Candidates are eliminated exactly as the paper's four failure
cases (plus truncated or malformed output), and every eliminated one is stored with its
reason.

Each LLM task (dataprep.generate.evol_tasks) is two pure ends, `format_input` (records
-> messages) and `format_output` (raw text -> record or `Eliminated`); this module makes
the model calls between them, on a thread pool, through the store's cache.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, Field

from dataprep.errors import ConfigError
from dataprep.generate.evol_plan import (
    build_contexts,
    fit_context,
    int_seed,
    pick_operation,
    sample_units,
)
from dataprep.generate.evol_tasks import (
    AnswerTask,
    Eliminated,
    EvolveTask,
    JudgeTask,
    Operation,
    Seed,
    SeedQuestions,
    SeedQuestionTask,
    UnitContext,
    Verdict,
    format_context,
    load_operations,
)
from dataprep.generate.llm import CachedLLM, Completion, LLMOptions, Messages
from dataprep.hashing import content_hash
from dataprep.models import Pair
from dataprep.settings import EvolConfig

STAGE = "evol"
#: bump when the stage's output changes for the same prompts (part of every cache key)
EVOL_STAGE_VERSION = 1


# --- configuration and summary -------------------------------------------------------------


class EvolSummary(BaseModel):
    """What a run did (or, for a dry run, would do)."""

    units: int = 0
    seeds: int = 0
    pairs: int = 0
    new_pairs: int = 0
    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    eliminated: dict[str, int] = Field(default_factory=dict)
    shortened_units: int = 0
    skipped_units: dict[str, int] = Field(default_factory=dict)
    dry_run: bool = False
    planned_calls: int = 0
    estimated_prompt_tokens: int = 0
    estimated_completion_tokens: int = 0
    estimated_seconds: float = 0.0
    tokens_per_second: float = 20.0

    def lines(self) -> list[str]:
        """The summary as printed by `dataprep generate` (a dry run: the estimate)."""
        if self.dry_run:
            return [
                f"dry run: {self.units} units, {self.seeds} seeds, up to {self.planned_calls} "
                f"LLM calls, about {self.estimated_prompt_tokens} prompt + "
                f"{self.estimated_completion_tokens} completion tokens, about "
                f"{self.estimated_seconds / 60:.1f} min (at {self.tokens_per_second:g} tokens/s "
                "per request in flight); nothing was called"
            ]
        out = [
            f"evol: {self.pairs} pairs ({self.new_pairs} new) on {self.units} units; "
            f"{self.calls} LLM calls ({self.cached_calls} cached), "
            f"{self.prompt_tokens + self.completion_tokens} tokens, {self.seconds:.1f} s"
        ]
        if self.eliminated:
            out.append("eliminated: " + ", ".join(f"{k} {v}" for k, v in self.eliminated.items()))
        if self.shortened_units or self.skipped_units:
            skipped = ", ".join(f"{k} {v}" for k, v in self.skipped_units.items()) or "none"
            out.append(f"context: {self.shortened_units} units shortened; skipped: {skipped}")
        return out


# --- the run ---------------------------------------------------------------------------------


@dataclass
class _Run:
    store: Any
    llm: CachedLLM
    config: EvolConfig
    ops: list[Operation]
    contexts: dict[str, UnitContext]
    lock: threading.Lock
    stop: threading.Event = field(default_factory=threading.Event)
    eliminated: Counter = field(default_factory=Counter)
    pairs: int = 0
    new_pairs: int = 0
    question_seeds: int = 0
    bar: Any = None
    task: Any = None

    # each LLM call goes through here: cached, counted, shown
    def call(
        self,
        messages: Messages,
        schema=None,
        options: LLMOptions | None = None,
        unit: str | None = None,
    ) -> Completion:
        if self.stop.is_set():
            raise _Stopped
        c = self.llm.chat(messages, options, schema=schema, unit=unit)
        self._tick(1)
        return c

    def _tick(self, n: int) -> None:
        if self.bar is not None:
            s = self.llm.stats
            self.bar.update(
                self.task,
                advance=n,
                calls=s.calls,
                cached=s.cached,
                tokens=s.prompt_tokens + s.completion_tokens,
            )

    def eliminate(self, unit_id: str, e: Eliminated, data: dict[str, Any]) -> None:
        cand_id = content_hash("candidate", STAGE, unit_id, e.reason, data)
        with self.lock:
            self.eliminated[e.reason] += 1
            self.store.put_candidate(
                cand_id, unit_id, STAGE, e.reason, {**data, "detail": e.detail}
            )

    def keep(self, pair: Pair) -> None:
        with self.lock:
            self.pairs += 1
            self.new_pairs += self.store.put_pairs([pair])

    def checked(self, c: Completion, fmt, *args) -> Any:
        if c.truncation:
            raise Eliminated(c.truncation, f"{c.prompt_tokens} prompt tokens, num_ctx {c.num_ctx}")
        return fmt(c.text, *args)

    # a unit's fresh seed questions
    def questions(self, ctx: UnitContext) -> list[Seed]:
        n = self.config.questions_per_unit
        if n == 0:
            return []
        messages = SeedQuestionTask.format_input(ctx, n)
        c = self.call(messages, SeedQuestions, unit=ctx.unit.id)
        try:
            qs = self.checked(c, SeedQuestionTask.format_output, n)
        except Eliminated as e:
            self.eliminate(
                ctx.unit.id, e, {"task": "seed_questions", "raw": c.text, "model": self.llm.name}
            )
            qs = []
        self._tick((n - len(qs)) * (1 + 3 * self.config.rounds))  # chains that will not run
        with self.lock:
            self.question_seeds += len(qs)
        return [Seed(q, "", ctx.unit.id, None) for q in qs]

    def answer(self, instruction: str, input: str, ctx: UnitContext) -> str:
        c = self.call(AnswerTask.format_input(instruction, input, ctx), unit=ctx.unit.id)
        try:
            return self.checked(c, AnswerTask.format_output)
        except Eliminated as e:
            raise _WithRaw(e, c.text) from None

    def make_pair(self, seed: Seed, instruction: str, output: str, op: str, round_: int) -> Pair:
        u = self.contexts[seed.unit_id].unit
        template = f"evol/{op}"
        return Pair.from_unit(
            u,
            instruction,
            output,
            task="evol",
            template=template,
            generator="evol",
            input=seed.input,
            module=seed.module,
            operation=op,
            round=round_,
            parent_id=seed.parent_id,
            model=self.llm.name,
        )

    # one seed through every round
    def chain(self, seed: Seed) -> None:
        ctx = self.contexts[seed.unit_id]
        planned, used = self.planned_per_chain(seed), 0
        current = seed
        if seed.parent_id is None:  # a fresh question: answer it as round 0
            used += 1
            try:
                out = self.answer(seed.instruction, seed.input, ctx)
                pair = self.make_pair(seed, seed.instruction, out, "seed_question", 0)
                self.keep(pair)
                current = Seed(seed.instruction, seed.input, seed.unit_id, pair.id, seed.module)
            except _WithRaw as w:
                self.eliminate(
                    seed.unit_id, w.e, self._cand(seed, "seed_question", 0, seed.instruction, w.raw)
                )
        key = content_hash("seed", seed.unit_id, seed.instruction, seed.input)
        for round_ in range(1, self.config.rounds + 1):
            op = pick_operation(self.ops, self.config.seed, key, round_)
            result, n_calls = self.evolve_once(current, op, round_, ctx)
            used += n_calls
            if result is not None:
                current = result
        self._tick(max(0, planned - used))

    def evolve_once(
        self, cur: Seed, op: Operation, round_: int, ctx: UnitContext
    ) -> tuple[Seed | None, int]:
        calls = 0
        instruction = raw = None
        try:
            # a retried instruction (its last evolution failed) must not replay the cached
            # failure: each round samples with its own seed, as a fresh request would
            options = self.llm.llm.options
            options = replace(options, seed=options.seed + round_)
            c = self.call(
                EvolveTask.format_input(op, cur, ctx.unit), options=options, unit=cur.unit_id
            )
            calls, raw = 1, c.text
            instruction = self.checked(c, EvolveTask.format_output)
            c = self.call(
                JudgeTask.format_input(cur.instruction, instruction), Verdict, unit=cur.unit_id
            )
            calls, raw = 2, c.text
            if self.checked(c, JudgeTask.format_output):
                raise Eliminated("no_information_gain")
            calls = 3
            output = self.answer(instruction, cur.input, ctx)
        except Eliminated as e:
            self.eliminate(cur.unit_id, e, self._cand(cur, op.name, round_, instruction, raw))
            return None, calls
        except _WithRaw as w:
            self.eliminate(cur.unit_id, w.e, self._cand(cur, op.name, round_, instruction, w.raw))
            return None, calls
        pair = self.make_pair(cur, instruction, output, op.name, round_)
        self.keep(pair)
        return Seed(instruction, cur.input, cur.unit_id, pair.id, cur.module), calls

    def _cand(
        self, cur: Seed, op: str, round_: int, instruction: str | None, raw: str | None
    ) -> dict:
        return {
            "operation": op,
            "round": round_,
            "parent_id": cur.parent_id,
            "parent_instruction": cur.instruction,
            "instruction": instruction,
            "raw": raw,
            "model": self.llm.name,
        }

    def planned_per_chain(self, seed: Seed) -> int:
        return 3 * self.config.rounds + (1 if seed.parent_id is None else 0)


class _Stopped(Exception):
    """Another worker failed; this one stops before its next call."""


class _WithRaw(Exception):
    def __init__(self, e: Eliminated, raw: str):
        self.e, self.raw = e, raw


def _template_seeds(
    store: Any, unit_ids: set[str], per_unit: int, seed: int
) -> dict[str, list[Seed]]:
    """Unit id -> a seeded sample of its knowledge template pairs (no trivia), as seeds.

    Every live template pair counts, whatever the filter, balance or export stages later
    decided about it: those verdicts are written after this stage in the same run, so a
    sample drawn from the pairs they kept would differ on the next run and send prompts
    the first run never sent. The evolved pairs go through the filters themselves.
    """
    from dataprep.generate.tasks import trivia_tasks

    trivia = trivia_tasks()  # seeds come from knowledge questions, never from trivia
    by_unit: dict[str, list[Pair]] = {}
    for p in store.pairs(generator="template"):
        if p.unit_id in unit_ids and p.task not in trivia:
            by_unit.setdefault(p.unit_id, []).append(p)
    out = {}
    for uid, pairs in by_unit.items():
        chosen = random.Random(int_seed(seed, uid)).sample(pairs, min(per_unit, len(pairs)))
        out[uid] = [
            Seed(p.instruction, p.input, uid, p.id, p.module)
            for p in sorted(chosen, key=lambda p: p.id)
        ]
    return out


def _operations(config: EvolConfig) -> list[Operation]:
    all_ops = load_operations()
    names = config.operations or list(all_ops)
    unknown = [n for n in names if n not in all_ops]
    if unknown:
        raise ConfigError(
            f"unknown evolution operation(s) {', '.join(unknown)}: choose from {', '.join(all_ops)}"
        )
    return [all_ops[n] for n in names]


def plan_evol(store: Any, config: EvolConfig, options: LLMOptions) -> EvolSummary:
    """Count the calls a run would make at most, and estimate its tokens and time."""
    _operations(config)
    units = store.units()
    contexts = build_contexts(units)
    chosen = sample_units(units, config.units, config.seed)
    tseeds = _template_seeds(
        store, {u.id for u in chosen}, config.template_seeds_per_unit, config.seed
    )
    calls = prompt_chars = completion = seeds = 0
    per_round = 3
    for u in chosen:
        ctx, _ = fit_context(contexts[u.id], options)
        if ctx is None:
            continue
        context_chars = len(format_context(ctx))
        n_t, n_q = len(tseeds.get(u.id, [])), config.questions_per_unit
        seeds += n_t + n_q
        unit_calls = (1 if n_q else 0) + n_q + (n_t + n_q) * per_round * config.rounds
        calls += unit_calls
        # the question and answer prompts carry the context; evolve and judge prompts are short
        answers = n_q + (n_t + n_q) * config.rounds
        prompt_chars += (context_chars + 800) * (answers + (1 if n_q else 0)) + 1200 * (
            unit_calls - answers
        )
        completion += answers * options.max_tokens // 2 + (unit_calls - answers) * 40
    prompt_tokens = int(prompt_chars / 4)
    seconds = completion / config.tokens_per_second / config.concurrency
    return EvolSummary(
        units=len(chosen),
        seeds=seeds,
        dry_run=True,
        planned_calls=calls,
        estimated_prompt_tokens=prompt_tokens,
        estimated_completion_tokens=completion,
        estimated_seconds=round(seconds, 1),
        tokens_per_second=config.tokens_per_second,
    )


def run_evol(store: Any, config: EvolConfig, llm: Any) -> EvolSummary:
    """Evolve instructions about the store's units, committing pairs and eliminations as they come.

    `llm` is an `LLM` (wrapped here in the store's cache) or an already `CachedLLM`.
    Example: run_evol(Store.open(out), EvolConfig(units=10), parse_llm_spec("ollama:qwen2.5-coder"))
    """
    options = llm.options if not isinstance(llm, CachedLLM) else llm.llm.options
    if config.dry_run:
        return plan_evol(store, config, options)
    ops = _operations(config)
    lock = threading.Lock()
    cached = llm if isinstance(llm, CachedLLM) else CachedLLM(llm, store, EVOL_STAGE_VERSION, lock)
    cached.lock = lock
    units = store.units()
    run = _Run(store, cached, config, ops, build_contexts(units), lock)
    chosen = sample_units(units, config.units, config.seed)
    tseeds = _template_seeds(
        store, {u.id for u in chosen}, config.template_seeds_per_unit, config.seed
    )
    summary = EvolSummary(units=len(chosen))
    skipped: Counter = Counter()
    start = time.monotonic()
    jobs: list[tuple[str, Any]] = []
    for u in chosen:
        ctx, note = fit_context(run.contexts[u.id], options)
        if ctx is None:
            skipped[note] += 1
            store.put_candidate(
                content_hash("candidate", STAGE, u.id, note),
                u.id,
                STAGE,
                note,
                {"unit": u.qualified_name},
            )
            continue
        if note:
            summary.shortened_units += 1
        run.contexts[u.id] = ctx
        jobs.extend(("chain", s) for s in tseeds.get(u.id, []))
        if config.questions_per_unit:
            jobs.append(("questions", ctx))
    planned = sum(
        run.planned_per_chain(j)
        if kind == "chain"
        else 1 + config.questions_per_unit * (1 + 3 * config.rounds)
        for kind, j in jobs
    )
    from rich.progress import TextColumn

    from dataprep.console import progress

    columns = TextColumn(
        "{task.fields[calls]} calls ({task.fields[cached]} cached), {task.fields[tokens]} tokens"
    )
    bar = progress(columns) if config.progress else None
    try:
        if bar is not None:
            bar.start()
            run.bar, run.task = (
                bar,
                bar.add_task(f"evol {cached.name}", total=planned, calls=0, cached=0, tokens=0),
            )
        _execute(run, jobs)
    finally:
        if bar is not None:
            bar.stop()
    s = cached.stats
    summary.seeds = sum(len(v) for v in tseeds.values()) + run.question_seeds
    summary.pairs, summary.new_pairs = run.pairs, run.new_pairs
    summary.calls, summary.cached_calls = s.calls, s.cached
    summary.prompt_tokens, summary.completion_tokens = s.prompt_tokens, s.completion_tokens
    summary.eliminated = dict(sorted(run.eliminated.items()))
    summary.skipped_units = dict(skipped)
    summary.seconds = round(time.monotonic() - start, 2)
    return summary


def _execute(run: _Run, jobs: list[tuple[str, Any]]) -> None:
    """Run unit jobs and seed chains on a thread pool; a fresh question spawns its chain."""
    with ThreadPoolExecutor(max_workers=run.config.concurrency, thread_name_prefix="evol") as pool:
        pending: dict[Future, str] = {}

        def submit(kind: str, item: Any) -> None:
            fn = run.chain if kind == "chain" else run.questions
            pending[pool.submit(fn, item)] = kind

        for kind, item in jobs:
            submit(kind, item)
        error: BaseException | None = None
        while pending:
            try:
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            except KeyboardInterrupt:  # let workers stop at their next call, start no more
                run.stop.set()
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            for fut in done:
                kind = pending.pop(fut)
                try:
                    result = fut.result()
                except _Stopped:
                    continue
                except BaseException as exc:  # first failure stops every worker
                    if error is None:
                        error = exc
                        run.stop.set()
                    continue
                if kind == "questions" and not run.stop.is_set():
                    for seed in result:
                        submit("chain", seed)
        if error is not None:
            raise error
