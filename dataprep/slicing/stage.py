"""The slice stage of `dataprep run`: walk the repository, re-slice the files whose digest
(bytes, parser, slicer version) changed, forget deleted ones, and redact secrets as units
enter the store. Files are sliced in a process pool when --jobs allows; detection, the
costly half of redaction, runs in the workers.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from dataprep.console import warn
from dataprep.errors import InputError
from dataprep.models import Unit
from dataprep.secrets import Redactor
from dataprep.settings import RunConfig
from dataprep.slicing.config import follow_redaction
from dataprep.stages import Context
from dataprep.store_schema import unit_row, unit_row_of

COMMIT_EVERY = 64  # files written per transaction


def _digest(data: bytes, parser: str, slicer_version: str) -> str:
    return hashlib.sha256(data + f"\x00{parser}\x00{slicer_version}".encode()).hexdigest()


def _slice_one(job: tuple) -> tuple[str, Any, bool, list[tuple] | None]:
    """Worker: slice one file's bytes (runs in a process pool when --jobs > 1). A file
    without secrets comes back as its units' stored rows (packed here, not in the parent,
    which only writes them); one with secrets as units, for the parent to redact. A
    language with a rows fast path (`slicing.slice_file_rows`) builds no `Unit` record for
    a file without secrets."""
    from dataprep import slicing

    root, relpath, data, parser, repo, commit = job
    sliced = slicing.slice_file_rows(relpath, data, parser, repo, commit)
    if sliced is None:
        result = slicing.slice_file(root, relpath, data, parser, repo, commit)
        fields = [unit.__dict__ for unit in result.units]  # a record's field values
    else:
        result, fields = sliced
    flagged = _may_hold_secrets(fields)
    rows = None
    if flagged:
        if sliced is not None:
            result.units = [Unit.of_row(row) for row in fields]
    elif sliced is None:
        rows = [unit_row(u) for u in result.units]
        result.units = []
    else:
        rows = [unit_row_of(row) for row in fields]
    return relpath, result, flagged, rows


def _may_hold_secrets(units: list[dict[str, Any]]) -> bool:
    """Detection is the costly half of redaction: run it in the worker, redact in the parent
    (which numbers placeholders in the store) only the files where something was found.
    `units` are the units' fields by name. A text is scanned once per file: the package,
    names, types and modifiers repeat from unit to unit (more than half of the texts)."""
    if not units:
        return False
    from dataprep import secrets

    scanned: set[str] = set()
    for unit in units:
        for text in _unit_texts(unit, secrets.UNIT_TEXT_FIELDS, secrets.UNIT_LIST_FIELDS):
            if text not in scanned:
                if secrets.find_secrets(text):
                    return True
                scanned.add(text)
    return False


def _unit_texts(unit: dict[str, Any], text_fields, list_fields) -> Iterator[str]:
    """Every non-empty text a redaction looks at, field by field."""
    for name in text_fields:
        value = unit[name]
        if isinstance(value, str) and value:
            yield value
    for name in list_fields:
        yield from unit[name]


def slice_stage(ctx: Context) -> dict:
    """Re-slice new and changed files, forget deleted ones; redact units as they enter."""
    from dataprep import slicing

    store, cfg, run_id, info = ctx.store, ctx.config, ctx.run_id, ctx.info
    slicing.java_backend(cfg.parser)  # an unknown or missing parser fails before any work
    version = getattr(slicing, "SLICER_VERSION", "1")
    inside = _out_inside_repo(cfg)
    if inside:
        warn(f"--out {cfg.out} lies inside the repository: {inside}/ is left out of the slice")
    only = info.get("only")  # a work item of a scale-out run slices its bucket of paths
    entries = [
        e
        for e in slicing.iter_files(cfg.path)
        if not (inside and (e.path.rstrip("/") == inside or e.path.startswith(inside + "/")))
        and (only is None or only(e.path))
    ]  # never slice our own output (the dataset card is Markdown) when --out is in the repo
    files = [e.path for e in entries if e.skip is None]
    if not files:
        raise InputError(_nothing_to_slice(cfg.path, entries))
    known = store.file_digests()
    data, digests, todo = {}, {}, []
    for relpath in files:
        data[relpath] = _read(cfg.path, relpath)
        digests[relpath] = _digest(data[relpath], cfg.parser, version)
        if known.get(relpath) != digests[relpath]:
            todo.append(relpath)
    gone = sorted(set(known) - set(digests))
    if gone:
        store.forget_files(gone)
    redactor = Redactor(store)
    counts = Counter(files=len(files), skipped=len(entries) - len(files), sliced=0)
    counts.update(forgotten=len(gone), errors=0, secrets=0, units_sliced=0)
    root = str(cfg.path.resolve())
    jobs = [(root, r, data.pop(r), cfg.parser, info["repo"], info.get("commit")) for r in todo]
    results = _map(_slice_one, jobs, cfg.jobs)
    with ctx.task("slice", total=len(todo)) as task:
        while group := list(islice(results, COMMIT_EVERY)):
            with store.transaction():  # a commit per file cost more than packing its units
                for relpath, result, flagged, rows in group:
                    if flagged:
                        units, findings = redactor.redact_units(result.units)
                        units = follow_redaction(units)  # a config value follows its line
                        rows = [unit_row(u) for u in units]
                        counts["secrets"] += len(findings)
                    for message in [*result.warnings, *result.errors][:3]:
                        warn(message)
                    status = "skipped" if result.skipped else ("error" if result.errors else "ok")
                    reason = result.skipped or ("; ".join(result.errors[:3]) or None)
                    store.put_file_rows(relpath, digests[relpath], status, rows, reason, run_id)
                    counts["sliced"] += 1
                    counts["units_sliced"] += len(rows)
                    counts["errors"] += bool(result.errors)
                    ctx.advance(task)
    counts["unchanged"] = len(files) - len(todo)
    return dict(counts)


def _nothing_to_slice(root: Path, entries: list) -> str:
    """Why the walk found nothing, naming a .gitignore that excludes everything."""
    from dataprep.slicing import walk

    reasons = Counter(e.skip for e in entries)
    if reasons and reasons[walk.IGNORED] == sum(reasons.values()):
        return (
            f"{root}: every file is excluded by .gitignore ({reasons[walk.IGNORED]} paths, "
            f"see {root / '.gitignore'}): fix its patterns, or point dataprep at another folder"
        )
    if reasons:
        top = ", ".join(f"{reason} {n}" for reason, n in reasons.most_common(3))
        return f"{root}: no Java or documentation file to slice (skipped: {top})"
    return (
        f"{root}: no Java or documentation files to slice: "
        "point dataprep at a repository with Java or docs"
    )


def _out_inside_repo(cfg: RunConfig) -> str | None:
    """--out relative to the repository (POSIX) when it lies inside it, else None."""
    try:
        return cfg.out.resolve().relative_to(cfg.path.resolve()).as_posix()
    except ValueError:
        return None


def _read(root: Path, relpath: str) -> bytes:
    from dataprep.slicing import walk

    try:
        return walk.read_bytes(root, relpath)
    except OSError:
        return b""  # gone or unreadable since the walk: sliced as empty


def _map(func, jobs: list, workers: int) -> Iterator:
    """`map` in a process pool when it pays (several workers, enough files), in order."""
    if workers > 1 and len(jobs) >= 8:
        from dataprep.procs import process_pool

        with process_pool(workers) as pool:
            yield from pool.map(func, jobs, chunksize=max(1, len(jobs) // (workers * 8)))
    else:
        yield from map(func, jobs)
