"""Passes of the set filters over their pairs, a batch at a time, in forked workers when
the pairs come from a store.

A set filter reads every pair it is given once or twice and keeps a little of each (a
hash, a band key). `map_batches(pairs, work)` runs `work(start, batch)` over consecutive
batches and yields its results in order. When `procs.jobs()` allows and the pairs are those
of a store alive before a stage (`Alive.stored`), forked workers each read a batch's rows
through their own connection (the parent sends a range of whole units: `unit_ranges`),
decode them and run `work`: reading and decoding, most of a pass's cost, are shared out
too, and only unit ranges and results cross between processes. The pairs then come by
unit, not by id: what `work` gives must not depend on their order beyond `start`. `work`
is never pickled: the workers inherit it (and what it reads) when the pool forks.

Example: [len(b) for b in map_batches(pairs, lambda start, b: b, size=2)] -> [2, 2, 1]
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

from dataprep import procs
from dataprep.store_schema import read_pair_text

BATCH = 2048  # pairs per batch unless a pass says otherwise
_WORK: Callable[[int, list], Any] | None = None  # what the forked workers run
_READ: tuple | None = None  # (store path, stage, ids to skip) the forked workers read
_STORE = None  # a forked worker's own connection to the store


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def stored(pairs) -> tuple | None:
    """(store, stage, ids to skip) when `pairs` are the pairs of a store alive before that
    stage, less those ids (`Alive.stored`); else None."""
    find = getattr(pairs, "stored", None)
    return find() if find is not None else None


def unit_ranges(store, before: str, gone, size: int) -> Iterator[tuple[int, str, str]]:
    """(position, first unit id, last unit id) of consecutive batches of whole units, about
    `size` pairs each, of the pairs alive before stage `before` less `gone` (ids of some of
    those pairs), by unit then id: what a worker reads (`read_rows`). A unit's pairs share
    its code: in one batch, its words, shingles and secret scans are computed once. The
    units' sizes are counted once for all the passes of a stage (`Store.kept_unit_sizes`)."""
    units, sizes = store.kept_unit_sizes(before)
    less = Counter(store.units_of(gone).values()) if gone else Counter()
    start = count = 0
    first = last = None
    for unit_id, n in zip(units, sizes, strict=True):
        n -= less.get(unit_id, 0)
        if n <= 0:
            continue
        if count >= size:
            yield start, first, last
            start, count, first = start + count, 0, None
        first = first or unit_id
        last = unit_id
        count += n
    if count:
        yield start, first, last


@contextmanager
def reading(source: tuple | None) -> Iterator[None]:
    """Within the block, forked workers read the pairs of `source` (`stored`) with
    `read_rows`: a pool made inside it inherits what to read."""
    global _READ
    if source is not None:
        store, before, gone = source
        _READ = (str(store.path), before, gone)
    try:
        yield
    finally:
        _READ = None


def read_rows(first: str, last: str) -> list[tuple]:
    """Worker: the stored rows of the alive pairs with ids from `first` to `last`, through
    this worker's own connection (never the parent's: it does not survive a fork)."""
    assert _READ is not None
    _, before, gone = _READ
    rows = worker_store().iter_kept_rows(before, first, last)
    return [row for row in rows if row[0] not in gone]


def worker_store():
    """Worker: its own connection to the store of `reading`, opened once."""
    global _STORE
    assert _READ is not None
    if _STORE is None:
        from dataprep.store import Store

        _STORE = Store.open(Path(_READ[0]).parent, create=False)
    return _STORE


def map_batches(
    pairs,
    work: Callable[[int, list], Any],
    size: int | None = None,
    light: Callable[[Any], Any] | None = None,
    count: int | None = None,
) -> Iterator[Any]:
    """`work(start, batch)` over `pairs` in consecutive batches of `size` (`BATCH` unless
    given; `start`: the position of the batch's first pair), its results in order; in
    `procs.jobs()` forked workers when there are several batches and either the pairs are
    a store's (each worker reads and decodes its batches' rows) or `light` makes a small
    picklable stand-in of a pair (the workers get those). `count`: how many pairs, when
    `pairs` has no length."""
    workers = procs.jobs()
    size = size or BATCH
    if count is None:
        count = len(pairs) if hasattr(pairs, "__len__") else 0
    forked = workers > 1 and count > size and hasattr(os, "fork")
    source = stored(pairs) if forked else None
    if source is None and (not forked or light is None):
        start = 0
        for batch in _chunks(pairs, size):
            yield work(start, batch)
            start += len(batch)
        return
    if source is not None:
        jobs = (
            (_work_rows, (start, first, last)) for start, first, last in unit_ranges(*source, size)
        )
    else:
        jobs = _light_jobs(map(light, pairs), size)
    yield from _forked(work, source, jobs, workers)


def map_fetched(pairs, chunks: list[list[str]], work: Callable[[dict], Any]) -> Iterator[Any]:
    """`work(pairs by id)` for each chunk of ids of `pairs` (read with `fetch`), its results
    in order; in `procs.jobs()` forked workers, each reading its chunks through its own
    connection, when the pairs are a store's and there are several chunks."""
    workers = procs.jobs()
    source = stored(pairs) if workers > 1 and len(chunks) > 1 and hasattr(os, "fork") else None
    if source is None:
        for chunk in chunks:
            yield work(pairs.fetch(chunk))
        return
    yield from _forked(work, source, ((_work_fetched, (chunk,)) for chunk in chunks), workers)


def _forked(work, source: tuple | None, jobs: Iterable[tuple], workers: int) -> Iterator[Any]:
    """`jobs` in a pool of `workers` forked processes that inherit `work` (and read the
    pairs of `source`, when given), their results in order."""
    global _WORK
    _WORK = work
    try:
        with reading(source), procs.process_pool(workers) as pool:
            yield from in_order(pool, jobs, workers)
    finally:
        _WORK = None


def in_order(pool, jobs: Iterable[tuple], workers: int) -> Iterator[Any]:
    """The results of `jobs` ((function, args) each) run in `pool`, in their order, with
    at most 2 * `workers` submitted ahead (memory holds a window of results, not all)."""
    window: deque = deque()
    for job, args in jobs:
        window.append(pool.submit(job, *args))
        if len(window) >= 2 * workers:
            yield window.popleft().result()
    while window:
        yield window.popleft().result()


def _light_jobs(items: Iterable, size: int) -> Iterator[tuple]:
    start = 0
    for chunk in _chunks(items, size):
        yield _work, (start, chunk)
        start += len(chunk)


def _work_rows(start: int, first: str, last: str) -> Any:
    """Worker: one batch of stored rows, read and decoded, through the parent's `work`."""
    assert _WORK is not None
    return _WORK(start, [read_pair_text(row) for row in read_rows(first, last)])


def _work_fetched(ids: list[str]) -> Any:
    """Worker: some pairs read by id through this worker's connection, through `work`."""
    assert _WORK is not None
    return _WORK(worker_store().pair_texts(ids))


def _work(start: int, batch: list) -> Any:
    """Worker: one batch of stand-ins (`light`) through the parent's `work`."""
    assert _WORK is not None
    return _WORK(start, batch)
