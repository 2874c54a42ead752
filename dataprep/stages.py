"""Stages and the one runner that skips, resumes, times and counts them.

A `Stage` names what it does (`run`), what it reads (`reads`: a summary of the store state
it depends on), its settings and the modules whose code it runs. Its fingerprint is a hash
of all four (the code version is a hash of those modules' source files, so an upgraded
filter re-runs on an unchanged repository). The runner skips a stage whose fingerprint is
the one of its last completed pass and whose outputs are intact (`check`), and records
the fingerprint only after the stage finished, so a killed stage runs again.

Incremental stages (slice, generate, the LLM generator) keep finer caches of their own and
run every time (`always`): each does only the work its per-file or per-call keys say.

`dataprep run`, `filter`, `balance` and `export` are this runner over different lists.

Example:
    stages = [Stage("filter", run=run_filter, reads=live_pairs, modules=("dataprep.filters",))]
    run_stages(ctx, stages)   # ctx.counters["filter"] -> {"kept": 120, "dropped": 30}
"""

from __future__ import annotations

import hashlib
import importlib.util
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from dataprep.console import warn
from dataprep.hashing import content_hash
from dataprep.procs import give_back_memory

RUNNER_VERSION = "2"


def _none(ctx: Context) -> None:
    return None


@dataclass(frozen=True)
class Stage:
    """One step of the pipeline; see the module docstring."""

    name: str
    run: Callable[[Context], dict[str, Any]]
    reads: Callable[[Context], Any] = _none
    settings: Callable[[Context], Any] = _none
    modules: tuple[str, ...] = ()
    check: Callable[[Context], str | None] | None = None
    always: bool = False


@dataclass
class Context:
    """What every stage gets: the store, the run's config and id, and the display."""

    store: Any
    config: Any
    run_id: int | None = None
    info: dict[str, Any] = field(default_factory=dict)
    bar: Any = None
    counters: dict[str, dict[str, Any]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Hide the display while a stage shows its own (rich allows one live display)."""
        live = self.bar is not None and self.bar.live.is_started
        if live:
            self.bar.stop()
        try:
            yield
        finally:
            if live:
                self.bar.start()

    @contextmanager
    def task(self, name: str, total: int | None = None) -> Iterator[int | None]:
        """A progress task for the running stage; yields its id (None without a display)."""
        if self.bar is None:
            yield None
            return
        task = self.bar.add_task(name, total=total)
        try:
            yield task
        finally:
            total = self.bar.tasks[task].total or 1
            self.bar.update(task, completed=total, total=total)

    def advance(self, task: int | None, steps: int = 1) -> None:
        if self.bar is not None and task is not None:
            self.bar.advance(task, steps)

    def describe(self, task: int | None, text: str) -> None:
        """Say what the task is doing now (the filter being run, the pairs left)."""
        if self.bar is not None and task is not None:
            self.bar.update(task, description=text)

    def log(self, name: str, counters: dict[str, Any], seconds: float) -> None:
        """One plain line per finished stage when stderr is not a terminal (a CI log, a
        pipe): the progress display is hidden there, so this is what tells progress."""
        from dataprep.console import console

        if self.bar is None or console.is_terminal:
            return
        shown = ", ".join(
            f"{k} {v}" for k, v in counters.items() if isinstance(v, int | float | bool)
        )
        console.print(
            f"{name}: {shown or 'done'} ({seconds:.1f} s)", soft_wrap=True, highlight=False
        )


@lru_cache(maxsize=64)
def code_version(modules: tuple[str, ...]) -> str:
    """A hash of the source of `modules` (every file of a package).

    Example: code_version(("dataprep.balance",)) -> "3f2a..." (changes when balance.py does)
    """
    digest = hashlib.sha256()
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            digest.update(f"{name}:missing".encode())
            continue
        origin = Path(spec.origin)
        files = sorted(origin.parent.rglob("*.py")) if origin.name == "__init__.py" else [origin]
        for path in files:
            digest.update(f"{name}:{path.name}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(stage: Stage, ctx: Context) -> str:
    """The stage's fingerprint: its name, code version, settings and what it reads."""
    return content_hash(
        "stage",
        RUNNER_VERSION,
        stage.name,
        code_version(stage.modules),
        stage.settings(ctx),
        stage.reads(ctx),
    )


def run_stages(ctx: Context, stages: list[Stage], force: bool = False) -> dict[str, Any]:
    """Run `stages` in order, skipping those whose fingerprint and outputs are unchanged
    (none when `force`); returns the counters per stage."""
    store = ctx.store
    for stage in stages:
        key = f"stage.{stage.name}"
        start = time.perf_counter()
        done = None if stage.always else fingerprint(stage, ctx)
        if not force and done is not None and store.get_meta(key) == done:
            problem = stage.check(ctx) if stage.check else None
            if problem is None:
                ctx.counters[stage.name] = {"skipped": True}
                ctx.timings[stage.name] = round(time.perf_counter() - start, 3)
                ctx.log(stage.name, {"skipped": True}, ctx.timings[stage.name])
                continue
            warn(f"running {stage.name} again: {problem}")
        counters = stage.run(ctx) or {}
        ctx.counters[stage.name] = counters
        ctx.timings[stage.name] = round(time.perf_counter() - start, 3)
        ctx.log(stage.name, counters, ctx.timings[stage.name])
        if not stage.always:
            # what it read may have changed under it only through itself (decisions,
            # splits): the fingerprint of its inputs is taken again after the run
            store.set_meta(key, fingerprint(stage, ctx))
        # the next stage starts from what this process needs, not from this one's peak
        store.forget()
        give_back_memory()
    return ctx.counters
