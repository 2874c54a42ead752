"""Passes of the set filters over their pairs, a batch at a time, in forked workers when
the pairs come from a store.

A set filter reads every pair it is given once or twice and keeps a little of each (a
hash, a band key). `map_batches(pairs, work)` runs `work(start, batch)` over consecutive
batches and yields its results in order. When `procs.jobs()` allows and the pairs can be
read as stored rows (`Alive.stored_rows`), the rows go to forked workers that decode them
and run `work` there: the decoding, most of a pass's cost, is shared out too, and only the
compressed rows and the results cross between processes. `work` is never pickled: the
workers inherit it (and what it reads) when the pool forks.

Example: [len(b) for b in map_batches(pairs, lambda start, b: b, size=2)] -> [2, 2, 1]
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from dataprep import procs
from dataprep.store_schema import read_pair_text

BATCH = 2048  # pairs per batch unless a pass says otherwise
_WORK: Callable[[int, list], Any] | None = None  # what the forked workers run


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def stored_rows(pairs) -> Iterable[tuple] | None:
    """The pairs as stored rows when their source has them (else None)."""
    rows = getattr(pairs, "stored_rows", None)
    return rows() if rows is not None else None


def map_batches(
    pairs,
    work: Callable[[int, list], Any],
    size: int | None = None,
    light: Callable[[Any], Any] | None = None,
    count: int | None = None,
) -> Iterator[Any]:
    """`work(start, batch)` over `pairs` in consecutive batches of `size` (`BATCH` unless
    given; `start`: the
    position of the batch's first pair), its results in order; in `procs.jobs()` forked
    workers when there are several batches and either the pairs have stored rows (the
    workers decode them) or `light` makes a small picklable stand-in of a pair (the
    workers get those). `count`: how many pairs, when `pairs` has no length."""
    workers = procs.jobs()
    size = size or BATCH
    if count is None:
        count = len(pairs) if hasattr(pairs, "__len__") else 0
    forked = workers > 1 and count > size and hasattr(os, "fork")
    rows = stored_rows(pairs) if forked else None
    if rows is None and (not forked or light is None):
        start = 0
        for batch in _chunks(pairs, size):
            yield work(start, batch)
            start += len(batch)
        return
    global _WORK
    _WORK = work
    job = _work_rows if rows is not None else _work
    items = rows if rows is not None else map(light, pairs)
    try:
        with procs.process_pool(workers) as pool:
            window: deque = deque()
            start = 0
            for chunk in _chunks(items, size):
                window.append(pool.submit(job, start, chunk))
                start += len(chunk)
                if len(window) >= 2 * workers:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
    finally:
        _WORK = None


def _work_rows(start: int, rows: list[tuple]) -> Any:
    """Worker: one batch of stored rows, decoded, through the parent's `work`."""
    assert _WORK is not None
    return _WORK(start, [read_pair_text(row) for row in rows])


def _work(start: int, batch: list) -> Any:
    """Worker: one batch of stand-ins (`light`) through the parent's `work`."""
    assert _WORK is not None
    return _WORK(start, batch)
