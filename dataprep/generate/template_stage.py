"""The template generate stage of `dataprep run`: per-file candidates, then resolution.

Candidates are built per file (cached in the store, keyed by the file's unit ids) and the
repository-level families add theirs; `resolve` then qualifies colliding instructions
over all of them. Memory holds a few files' candidates at a time: a first pass keeps only
each candidate's conflict keys (hashes, `templates.ConflictKeys`), levels are resolved on
those, and a second pass builds the pairs file by file and writes them in batches. With
--jobs above 1 (where processes fork) the work is done in a process pool, file by file,
and this process only resolves and writes.

Example:
    generate_stage(ctx) -> {"files_generated": 3, "pairs_new": 120, "pairs": 120, ...}
"""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache, partial
from pathlib import Path, PurePosixPath

from pydantic_core import to_json

from dataprep.codec import CACHE_LEVEL, pack, squeeze, unsqueeze
from dataprep.generate import candidates as gcand
from dataprep.generate import template_cache
from dataprep.generate import templates as tgen
from dataprep.generate.families.repo import UnitFacts, facts_of
from dataprep.generate.tasks import templates_fingerprint
from dataprep.hashing import content_hash
from dataprep.models import Pair
from dataprep.procs import fewer_collections, give_back_memory
from dataprep.settings import RunConfig
from dataprep.stages import Context
from dataprep.store import Store
from dataprep.store_schema import pair_row_of

STATE_VERSION = "1"  # part of the hash of the stage's state (meta pipeline.templates)
GENERATE_WINDOW = 64  # files (or jobs) in flight at once
JOB_BATCH = 8  # jobs a pool task runs (a task's round trip costs more than a small job)
WRITE_BATCH = 2000  # pairs written to the store at a time
_REPO_CHUNK = 2000  # repository-level candidates kept per compressed chunk
_MODULE_MARKERS = ("pom.xml", "build.gradle", "build.gradle.kts")


def module_finder(root: Path) -> Callable[[str], str | None]:
    """`path -> module`: the nearest Maven/Gradle module directory below the root, else the
    first path component.

    Example: with auth/pom.xml present, "auth/src/main/java/A.java" -> "auth".
    """
    root = Path(root)

    @lru_cache(maxsize=4096)
    def module_dir(directory: str) -> str | None:
        if directory in ("", "."):
            return None
        if any((root / directory / m).is_file() for m in _MODULE_MARKERS):
            return directory
        return module_dir(str(PurePosixPath(directory).parent))

    @lru_cache(maxsize=1 << 16)
    def module_of(path: str) -> str | None:
        found = module_dir(str(PurePosixPath(path).parent))
        return found if found is not None else gcand.default_module(path)

    return module_of


def generate_stage(ctx: Context) -> dict:
    """Template pairs: regenerate candidates of changed files only, then resolve conflicts."""
    store, cfg = ctx.store, ctx.config
    module_of = module_finder(cfg.path)
    fingerprint = templates_fingerprint()
    ids = store.unit_ids_by_path()
    keys = {
        path: content_hash("template-file", fingerprint, cfg.seed, module_of(path), unit_ids)
        for path, unit_ids in ids.items()
    }
    del ids
    cached = store.template_keys()
    stale = sorted(p for p in keys if cached.get(p) != keys[p])
    gone = sorted(set(cached) - set(keys))
    state = content_hash("template-state", STATE_VERSION, sorted(keys.items()))
    counts = Counter(files_generated=0, units_generated=0, pairs_new=0, pairs_removed=0)
    if not stale and not gone and store.get_meta("pipeline.templates") == state:
        return dict(counts, skipped=True)
    with (
        fewer_collections(),
        ctx.task("generate", total=len(stale)) as task,
        _workers(store, cfg, stale) as work,
    ):
        store.forget_templates(gone)  # before resolving: a deleted file's candidates must go
        paths = sorted(keys)  # the cache's files, as it orders them, once the stale are in
        families = work.families(cfg, module_of, paths)  # first: they run beside the files
        repo_chunks: list[bytes] = []
        sizes: list[int] = []  # each part's candidates, noted as `plan_keys` reads them

        def written(n_units: int) -> None:
            counts["files_generated"] += 1
            counts["units_generated"] += n_units
            ctx.advance(task)

        parts = _Parts(store, cfg, work, paths, stale, keys, families, repo_chunks, sizes)
        plan = tgen.plan_keys(parts.each(written))
        counts.update(plan.stats)
        with store.transaction():
            old_ids = store.pair_ids("template")
            new_ids: set[str] = set()
            rows: list[tuple] = []
            where = (str(cfg.path), cfg.seed)
            jobs = _pair_jobs(paths, repo_chunks, sizes, plan, where, parts.carried)
            # here, the template pairs stored are known: none is looked up again
            pairs_one = _pairs_one if work.shared else partial(_pairs_one, stored=old_ids)
            for path, found_rows, slim in work.map(pairs_one, jobs):
                if slim is not None:  # the file's candidates, those now pairs as their ids
                    store.put_templates(path, keys[path], slim)
                for row in found_rows:  # a pair id may repeat: the first one stands
                    if row[0] in new_ids:
                        continue
                    new_ids.add(row[0])
                    if row[0] not in old_ids and len(row) > 1:  # the rest are stored already
                        rows.append(row)
                if len(rows) >= WRITE_BATCH:
                    counts["pairs_new"] += store.put_pair_rows(rows, run_id=ctx.run_id)
                    rows = []
            counts["pairs_new"] += store.put_pair_rows(rows, run_id=ctx.run_id)
            removed = sorted(old_ids - new_ids)
            store.delete_pairs(removed)
            counts["pairs_removed"] = len(removed)
            store.set_meta("pipeline.templates", state)
    counts["pairs"] = len(new_ids)
    del plan, repo_chunks, old_ids, new_ids
    give_back_memory()
    return dict(counts)


class _Work:
    """Where one generation's work runs: in a process pool, or here. `shared`: the pool's
    processes are forked from this one, so they hash as it does (conflict keys) and open
    the store themselves; the jobs then name the output folder, and each process reads
    what it needs."""

    def __init__(self, store: Store, pool=None, shared: bool = False, files: bool = False):
        self.store, self.pool, self.shared, self.files_in_pool = store, pool, shared, files
        self.facts: dict[str, list[UnitFacts]] = {}  # the units this process read, by file

    def units_in(self, path: str) -> list:
        """A file's units, read here; kept (as `UnitFacts`) for the families when they
        run here too."""
        units = self.store.units_in(path)
        if not self.shared:
            self.facts[path] = facts_of(units)
        return units

    def map(self, func: Callable, jobs: Iterable[tuple]) -> Iterator:
        """`func(job, store)` over the jobs, results in order: in the pool when it is
        shared, JOB_BATCH jobs to a task (at most GENERATE_WINDOW jobs in flight, so
        memory holds a bounded number of them; a worker opens its own store), else here
        with this process's store."""
        if not self.shared:
            yield from (func(job, self.store) for job in jobs)
            return
        pending: deque = deque()
        for batch in _batches(jobs, JOB_BATCH):
            pending.append(self.pool.submit(_run_batch, func, batch))
            if len(pending) * JOB_BATCH >= GENERATE_WINDOW:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()

    def families(self, cfg: RunConfig, module_of, paths: list[str]) -> Callable[[], tuple]:
        """Start the repository-level families (in the pool when shared); the returned
        call waits for their (compressed chunks, conflict keys). Here, they take the units
        the files' pass read when it read every file's (a first run), not read again."""
        if self.shared:
            return self.pool.submit(_families_one, (str(cfg.path), cfg.seed)).result

        def here() -> tuple:
            if len(self.facts) == len(paths):  # in the order `iter_units` reads them
                units = [facts for path in paths for facts in self.facts.pop(path)]
            else:
                self.facts.clear()
                units = facts_of(self.store.iter_units())
            return _families(units, cfg.seed, module_of)

        return here


@contextmanager
def _workers(store: Store, cfg: RunConfig, stale: list[str]) -> Iterator[_Work]:
    """Where one generation runs (`_Work`).

    With --jobs above 1, the per-file candidates of 8 files or more are built in a pool
    of --jobs processes. Where processes fork, the pool also runs the repository-level
    families (they look at every unit at once), started before the files so that both
    go on at once, then the conflict keys of the cached files and the pairs, file by
    file. Its processes open the store themselves, so this one never holds the units
    (its freed heap would stay with it for the later stages) and mostly writes.
    Otherwise, and in a daemonic worker (which may not start processes), all of it runs
    here.
    """
    forks = hasattr(os, "fork") and not multiprocessing.current_process().daemon
    shared = cfg.jobs > 1 and forks and store.path.is_file()
    files = cfg.jobs > 1 and len(stale) >= 8
    if not (shared or files):
        yield _Work(store)
        return
    from dataprep.procs import process_pool

    with process_pool(cfg.jobs) as pool:
        _pool_store.out_dir = str(store.path.parent)
        yield _Work(store, pool, shared, files)


def _file_candidates(store: Store, cfg: RunConfig, paths: list[str], work: _Work) -> Iterator:
    """(path, units, the candidates as `_carry` packs them, their conflict keys) of each
    file, in order;
    in the process pool when there is one and there are 8 files or more (memory holds
    the units of a bounded number of files)."""
    root = str(cfg.path)
    if work.files_in_pool and work.shared:  # each process reads the units itself
        yield from work.map(_candidates_one, ((root, path, None, cfg.seed) for path in paths))
        return
    jobs = ((root, path, work.units_in(path), cfg.seed) for path in paths)
    if not work.files_in_pool:
        yield from (_candidates_one(job) for job in jobs)
    else:  # a pool that does not fork (its hashes are its own): a window of files at a time
        for window in _batches(jobs, GENERATE_WINDOW):
            yield from work.pool.map(_candidates_one, window)


def _batches(jobs: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for job in jobs:
        batch.append(job)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _run_batch(func: Callable, batch: list[tuple]) -> list:
    """Worker: `func` over a batch of jobs, with the worker's own store."""
    return [func(job) for job in batch]


@lru_cache(maxsize=4)
def _module_finder(root: str) -> Callable[[str], str | None]:
    return module_finder(Path(root))


def _candidates_one(job: tuple, store: Store | None = None) -> tuple:
    """Worker: one file's template candidates, as the pairs pass takes them (`_carry`),
    and their conflict keys (units None: read from the worker's store)."""
    root, path, units, seed = job
    if units is None:
        units = _pool_store.get(store).units_in(path)
    cands = gcand.file_candidates(units, seed, module_of=_module_finder(root))
    return path, len(units), _carry(cands), tgen.conflict_keys(cands)


def _carry(cands: list[gcand.Candidate]) -> bytes:
    """A stale file's candidates (or a chunk of the families') as the first pass hands them
    to the pairs pass, which stores a file's (slim): `candidates.candidates_data` pickled
    (3x quicker than its JSON and half the size: a unit's level values are written once)
    and compressed, held in memory between the passes, never stored (pickle is for this
    process and its workers)."""
    return squeeze(pickle.dumps(gcand.candidates_data(cands), protocol=5))


def _carried(blob: bytes) -> dict:
    """The candidates' data `_carry` packed (a new copy at each call)."""
    return pickle.loads(unsqueeze(blob))


def _families_one(job: tuple) -> tuple[list[bytes], tgen.ConflictKeys]:
    """Worker: `_families` from its own connection to the store."""
    root, seed = job
    with Store.open(Path(_pool_store.out_dir), create=False) as store:
        units = facts_of(store.iter_units())
    return _families(units, seed, _module_finder(root))


def _families(units, seed: int, module_of) -> tuple[list[bytes], tgen.ConflictKeys]:
    """The repository-level families' candidates (they look at every unit at once),
    compressed in chunks as they are built (memory holds the units, as `UnitFacts`, and
    one chunk's candidates), and their conflict keys."""
    cands = tgen.iter_repo_level_candidates(units, seed, module_of=module_of)
    chunks, keys = [], []
    for chunk in _batches(cands, _REPO_CHUNK):
        chunks.append(_carry(chunk))
        keys.append(tgen.conflict_keys(chunk))
    return chunks, tgen.joined_keys(keys)


def _keys_of(blob: bytes) -> tgen.ConflictKeys:
    return tgen.conflict_keys(gcand.load_candidates(_carried(blob)))


class _Parts:
    """The conflict keys of every candidate, in `_pair_jobs` order, while the stale files'
    candidates are built and written: each file's (a stale file's come with its
    candidates, a cached file's are read again), then the families' (their chunks go to
    `repo_chunks`). Each part's size goes to `sizes`; memory holds a few files' keys, not
    all of them, beside what `plan_keys` keeps, and the stale files' candidates as `_carry`
    packs them (`carried`, by path) for the pairs pass, which stores them."""

    def __init__(self, store, cfg, work, paths, stale, keys, families, repo_chunks, sizes):
        self.store, self.cfg, self.work, self.paths = store, cfg, work, paths
        self.stale, self.keys, self.families = stale, keys, families
        self.repo_chunks, self.sizes = repo_chunks, sizes
        self.carried = _Carried()

    def each(self, written: Callable[[int], None]) -> Iterator[tgen.ConflictKeys]:
        """The parts; `written(units)` after each stale file is written."""
        store, work, fresh = self.store, self.work, set(self.stale)
        built = _file_candidates(store, self.cfg, self.stale, work)
        root, seed = str(self.cfg.path), self.cfg.seed
        cached = work.map(_keys_one, [(p, root, seed) for p in self.paths if p not in fresh])
        for path in self.paths:
            if path in fresh:
                _, n_units, blob, part = next(built)
                self.carried.put(path, blob)
                if not part.usable():  # hashed in a process that does not share our seed
                    part = _keys_of(blob)
                written(n_units)
            else:
                part = next(cached)
            self.sizes.append(len(part))
            yield part
        chunks, part = self.families()
        self.repo_chunks.extend(chunks)
        self.sizes.append(len(part))
        yield part


class _Carried:
    """The stale files' candidates (`_carry`) between the passes, in one buffer: thousands
    of small blocks kept among a pass's short-lived ones would pin the heap's pages (on
    every 4th java.base file the peak grew by 30 MB with them, by 6 in one buffer)."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.spans: dict[str, tuple[int, int]] = {}

    def put(self, path: str, blob: bytes) -> None:
        self.spans[path] = (len(self.buffer), len(self.buffer) + len(blob))
        self.buffer += blob

    def pop(self, path: str) -> bytes | None:
        """A file's blob, once (the buffer goes when the last one is taken)."""
        span = self.spans.pop(path, None)
        if span is None:
            return None
        blob = bytes(self.buffer[span[0] : span[1]])
        if not self.spans:
            self.buffer = bytearray()
        return blob


class _PoolStore:
    """The output folder of the pool's jobs (set before its processes fork), and each
    process's own connection to its store."""

    out_dir: str = ""
    _open: dict[str, Store] = {}

    def get(self, store: Store | None) -> Store:
        if store is not None:
            return store
        if self.out_dir not in self._open:
            self._open[self.out_dir] = Store.open(Path(self.out_dir), create=False)
        return self._open[self.out_dir]


_pool_store = _PoolStore()


def _rebuild(store: Store, path: str, root: str, seed: int) -> Callable[[], dict]:
    """The call that builds a file's candidates again (`template_cache.read`'s `rebuild`)."""

    def rebuild() -> dict:
        units = store.units_in(path)
        cands = gcand.file_candidates(units, seed, module_of=_module_finder(root))
        return json.loads(gcand.dump_candidates(cands))

    return rebuild


def _keys_one(job: tuple, store: Store | None = None) -> tgen.ConflictKeys:
    """Worker: the conflict keys of a cached file's candidates."""
    path, root, seed = job
    store = _pool_store.get(store)
    data = template_cache.read(store, path, _rebuild(store, path, root, seed), seed)[0]
    return tgen.conflict_keys(gcand.load_candidates(data))


def _pair_jobs(
    paths: list[str],
    repo_chunks: list[bytes],
    sizes: list[int],
    plan,
    where: tuple[str, int],
    carried: _Carried,
) -> Iterator:
    """(file or None, chunk or None, levels, which become pairs, (root, seed), the file's
    candidates from `carried` (taken out of it) or None: cached) for each file (one
    without a pair may have to store its candidates whole again), then for each chunk of
    the families' candidates with a pair."""
    start = 0
    parts = [(path, None) for path in paths] + [(None, chunk) for chunk in repo_chunks]
    chunk_sizes = [min(_REPO_CHUNK, sizes[-1] - i) for i in range(0, sizes[-1], _REPO_CHUNK)]
    for (path, chunk), size in zip(parts, sizes[:-1] + chunk_sizes, strict=True):
        keep = plan.keep[start : start + size]
        if path is not None or keep.any():
            levels = plan.level[start : start + size].tobytes()
            blob = carried.pop(path) if path is not None else None
            yield path, chunk, levels, keep.tobytes(), where, blob
        start += size


def _pairs_one(job: tuple, store: Store | None = None, stored: set[str] | None = None) -> tuple:
    """Worker: (file or None, the pair rows (`store_schema.pair_row`) of a file's (or
    chunk's) kept candidates, in order (an id may repeat; a pair stored as it stands is
    named by its id alone), the file's candidates to store again (packed; None: as they
    are)). `stored`: the ids of the template pairs the store holds, where known."""
    path, chunk, levels, keeps, (root, seed), blob = job
    store = _pool_store.get(store)
    if chunk is not None:
        cands = gcand.load_candidates(_carried(chunk))
        return path, _rows(store, _pair_fields_of(cands, levels, keeps), stored), None
    if blob is not None:  # built by this pass: whole, and not stored yet
        data = _carried(blob)
        refs = marks = [None] * len(data["candidates"])
        standing: set[int] = set()
    else:
        rebuild = _rebuild(store, path, root, seed)
        read = template_cache.read(store, path, rebuild, seed, levels, keeps)
        data, refs, marks, standing = read
    rows = data["candidates"]
    before = {"values": data["values"], "candidates": [dict(row) for row in rows]}
    loaded = iter(gcand.load_candidates({"values": data["values"], "candidates": [
        row for i, row in enumerate(rows) if i not in standing
    ]}))  # fmt: skip
    found, ids = [], []
    for i, (level, keep) in enumerate(zip(levels, keeps, strict=True)):
        cand = None if i in standing else next(loaded)
        if not keep:
            ids.append(None)
        elif cand is None:
            found.append((refs[i],))
            ids.append(refs[i])
        else:
            cand.level = level
            found.append(_pair_fields(cand))
            ids.append(found[-1]["id"])
    slim = template_cache.slimmed(before, refs, marks, seed, levels, keeps, ids, blob is not None)
    if slim is None and blob is not None:  # no pair: stored whole, as `dump_candidates` writes
        return path, _rows(store, found, stored), pack(to_json(before), quick=True)
    packed = pack(slim, level=CACHE_LEVEL) if slim is not None else None
    return path, _rows(store, found, stored), packed


def _pair_fields_of(cands: list, levels: bytes, keeps: bytes) -> list[dict]:
    fields = []
    for cand, level, keep in zip(cands, levels, keeps, strict=True):
        if keep:
            cand.level = level
            fields.append(_pair_fields(cand))
    return fields


def _rows(store: Store, found: list, stored: set[str] | None = None) -> list[tuple]:
    """The pair rows of `found` (`_pair_fields`, or a standing pair's (id,)), a pair the
    store holds already named by its id alone (the stage writes none of those: its row is
    not built, compressed for nothing; `stored`: the template pairs' ids, when known)."""
    if stored is None:
        stored = store.stored_pair_ids(f["id"] for f in found if isinstance(f, dict))
    return [
        f if not isinstance(f, dict) else (f["id"],) if f["id"] in stored else pair_row_of(f)
        for f in found
    ]


def _pair_fields(cand: gcand.Candidate) -> dict:
    """The fields of `cand.to_pair()`, as `store_schema.pair_row_of` takes them."""
    instruction = cand.instruction(cand.level)
    fields = {
        "id": Pair.make_id(cand.unit_id, cand.template, instruction, cand.input, cand.output),
        "instruction": instruction,
    }
    if cand.input != "":  # `Pair`'s defaults are left out
        fields["input"] = cand.input
    fields["output"] = cand.output
    fields["generator"] = "template"
    fields["task"] = cand.task
    fields["template"] = cand.template
    fields["unit_id"] = cand.unit_id
    fields["unit_kind"] = cand.unit_kind
    fields["path"] = cand.path
    fields["start_line"] = cand.start_line
    fields["end_line"] = cand.end_line
    fields["repo"] = cand.repo
    for name, value in (("commit", cand.commit), ("module", cand.module), ("label", cand.label)):
        if value is not None:
            fields[name] = value
    return fields
