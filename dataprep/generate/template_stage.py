"""The template generate stage of `dataprep run`: per-file candidates, then resolution.

Candidates are built per file (cached in the store, keyed by the file's unit ids) and the
repository-level families add theirs; `resolve` then qualifies colliding instructions
over all of them. Memory holds one file's candidates at a time: a first pass keeps only
each candidate's conflict keys (hashes, `templates.CandidateKeys`), levels are resolved on
those, and a second pass builds the pairs file by file and writes them in batches.

Example:
    generate_stage(ctx) -> {"files_generated": 3, "pairs_new": 120, "pairs": 120, ...}
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path, PurePosixPath

from dataprep.codec import pack, unpack
from dataprep.generate import candidates as gcand
from dataprep.generate import templates as tgen
from dataprep.generate.tasks import templates_fingerprint
from dataprep.hashing import content_hash
from dataprep.models import Pair
from dataprep.procs import give_back_memory
from dataprep.settings import RunConfig
from dataprep.stages import Context
from dataprep.store import Store

STATE_VERSION = "1"  # part of the hash of the stage's state (meta pipeline.templates)
GENERATE_WINDOW = 64  # files whose units are in flight at once
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
    with ctx.task("generate", total=len(stale)) as task:
        store.forget_templates(gone)  # before resolving: a deleted file's candidates must go
        with _workers(store, cfg, len(stale)) as (pool, in_child):
            # the families start first: they run beside the per-file candidates
            repo_job = pool.submit(_repo_chunks_one, _repo_job(store, cfg)) if in_child else None
            for path, n_units, blob in _file_candidates(store, cfg, stale, pool):
                store.put_templates(path, keys[path], blob)
                counts["files_generated"] += 1
                counts["units_generated"] += n_units
                ctx.advance(task)
            if repo_job is not None:
                repo_chunks = repo_job.result()
            else:
                units = store.units()
                cands = tgen.repo_level_candidates(units, cfg.seed, module_of=module_of)
                repo_chunks = _chunks(cands)
                del units, cands
        plan = tgen.plan(_all_candidates(store, repo_chunks))
        counts.update(plan.stats)
        with store.transaction():
            old_ids = store.pair_ids("template")
            new_ids: set[str] = set()
            fresh: list[Pair] = []
            for pair in plan.pairs(_all_candidates(store, repo_chunks)):
                if pair.id in new_ids:
                    continue
                new_ids.add(pair.id)
                if pair.id not in old_ids:  # the rest are stored already
                    fresh.append(pair)
                    if len(fresh) >= WRITE_BATCH:
                        counts["pairs_new"] += store.put_pairs(fresh, run_id=ctx.run_id)
                        fresh = []
            counts["pairs_new"] += store.put_pairs(fresh, run_id=ctx.run_id)
            removed = sorted(old_ids - new_ids)
            store.delete_pairs(removed)
            counts["pairs_removed"] = len(removed)
            store.set_meta("pipeline.templates", state)
    counts["pairs"] = len(new_ids)
    del plan, repo_chunks, old_ids, new_ids
    give_back_memory()
    return dict(counts)


@contextmanager
def _workers(store: Store, cfg: RunConfig, n_stale: int) -> Iterator[tuple]:
    """(process pool or None, whether the families run in it) for one generation.

    With --jobs above 1, the per-file candidates of 8 files or more are built in a pool
    of --jobs processes. The repository-level families (they look at every unit at once)
    run in one of its processes too, where processes fork, started before the files so
    that both go on at once: that process opens the store and loads the units, so this
    one never holds them (its freed heap would stay with it for the later stages).
    Otherwise, and in a daemonic worker (which may not start processes), they run here
    after the files, as everything does with --jobs 1.
    """
    forks = hasattr(os, "fork") and not multiprocessing.current_process().daemon
    in_child = cfg.jobs > 1 and forks and store.path.is_file()
    files_in_pool = cfg.jobs > 1 and n_stale >= 8
    if not (in_child or files_in_pool):
        yield None, False
        return
    from dataprep.procs import process_pool

    with process_pool(cfg.jobs if files_in_pool else 1) as pool:
        yield pool, in_child


def _file_candidates(store: Store, cfg: RunConfig, paths: list[str], pool) -> Iterator[tuple]:
    """(path, units, candidates JSON) of each file, in order; in the process pool when
    there is one and there are 8 files or more, a window of files at a time (memory holds
    one window's units)."""
    root = str(cfg.path)
    if pool is None or cfg.jobs <= 1 or len(paths) < 8:
        for path in paths:
            yield _candidates_one((root, path, store.units_in(path), cfg.seed))
        return
    for i in range(0, len(paths), GENERATE_WINDOW):
        jobs = [
            (root, path, store.units_in(path), cfg.seed) for path in paths[i : i + GENERATE_WINDOW]
        ]
        yield from pool.map(_candidates_one, jobs)


@lru_cache(maxsize=4)
def _module_finder(root: str) -> Callable[[str], str | None]:
    return module_finder(Path(root))


def _candidates_one(job: tuple) -> tuple[str, int, str]:
    """Worker: one file's template candidates, as the per-file cache stores them."""
    root, path, units, seed = job
    cands = gcand.file_candidates(units, seed, module_of=_module_finder(root))
    return path, len(units), gcand.dump_candidates(cands)


def _repo_job(store: Store, cfg: RunConfig) -> tuple:
    return (str(store.path.parent), str(cfg.path), cfg.seed)


def _repo_chunks_one(job: tuple) -> list[bytes]:
    """Worker: the repository-level families' candidates (they look at every unit at
    once), compressed in chunks, from its own connection to the store."""
    out_dir, root, seed = job
    with Store.open(Path(out_dir), create=False) as store:
        units = store.units()
    return _chunks(tgen.repo_level_candidates(units, seed, module_of=_module_finder(root)))


def _chunks(cands: list[gcand.Candidate]) -> list[bytes]:
    return [
        pack(gcand.dump_candidates(cands[i : i + _REPO_CHUNK]))
        for i in range(0, len(cands), _REPO_CHUNK)
    ]


def _all_candidates(store: Store, repo_chunks: list[bytes]) -> Iterator[gcand.Candidate]:
    """Every candidate, one file (or chunk) loaded at a time, always in the same order:
    the files' by path, then the repository-level ones."""
    for blob in store.template_blobs():
        yield from gcand.load_candidates(blob)
    for chunk in repo_chunks:
        yield from gcand.load_candidates(unpack(chunk))
