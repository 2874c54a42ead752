"""The export's rows, made a batch of files at a time: each stored pair decoded (a dict, no
model built), its review state and edit applied, rendered (prompt and completion, messages),
written as JSON Lines and an Arrow table per split, counted for the card (`RowTally`) and
measured (`QualityTally`). With `procs.jobs()` above 1 the batches are made in forked workers: the
parent reads the stored rows (still packed) in the export's order, hands out batches of
whole files, and takes the results back in order, so it only writes the files and merges
the counts. The batches are the same in one process.

Example:
    maker = RowMaker(reviews, False, render, COLUMNS, None, leaks, True, frozenset(), SPLITS, out)
    with Rows(store, maker) as rows:
        for batch in rows.batches(rephrased=[]):
            batch.jsonl["train"]  # -> the train rows of these files, as JSON Lines
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii
from pathlib import Path
from typing import Any

import numpy as np

from dataprep import procs
from dataprep.card_facts import RowTally
from dataprep.errors import ExportError
from dataprep.filters.passes import in_order, reading, worker_store
from dataprep.knowledge import Questions, question
from dataprep.models import Pair, Review
from dataprep.outdir import pid_alive
from dataprep.quality import COVERED_KINDS, UNIT_FIELDS, QualityTally, coverage_targets
from dataprep.report_counts import KeptCounts
from dataprep.rows import COLUMNS, arrow_schema
from dataprep.splits import KNOWLEDGE
from dataprep.store_schema import read_pair_fields, read_question

BATCH = 2048  # stored pairs per batch (whole files: a file's rows are sorted together)

Rendered = dict[str, Any]  # prompt, completion, messages (and text, if the style asks)


def pair_row(
    pair: Pair | Mapping[str, Any],
    rendered: Rendered,
    review: str = "unreviewed",
    columns: tuple[str, ...] = COLUMNS,
    urls: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One dataset row, `columns` in order: the Alpaca fields, the rendered forms,
    provenance (`source_url` from `urls` by the pair's repo), the review state."""
    data = pair if isinstance(pair, Mapping) else pair.model_dump()
    get = data.get
    row = {c: get(c) for c in columns}  # then the rendered forms and the rest over them
    for key, value in rendered.items():
        if key in row:
            row[key] = value
    if "review" in row:
        row["review"] = review
    if urls is not None and "source_url" in row:
        row["source_url"] = urls.get(get("repo"))
    return row


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _encoder(escape: Callable[[str], str]) -> Callable[[Any], str]:
    """`json.dumps` with its default separators and this string `escape` (ensure_ascii
    False: `encode_basestring`; True: `encode_basestring_ascii`), the C encoder built once,
    not once a call: the same text."""
    if c_make_encoder is None:  # no C accelerator: json.dumps itself
        ascii_only = escape is encode_basestring_ascii
        return lambda value: json.dumps(value, ensure_ascii=ascii_only)
    encode = c_make_encoder(None, _not_json, escape, None, ": ", ", ", False, False, True)
    return lambda value: "".join(encode(value, 0))


_DUMPS = _encoder(encode_basestring)  # json.dumps(value, ensure_ascii=False)
_DUMPS_ASCII = _encoder(encode_basestring_ascii)  # json.dumps(value)


def jsonl_bytes(rows: list[dict[str, Any]]) -> bytes:
    """Rows as JSON Lines: keys in column order, UTF-8, one row per line (what
    `json.dumps(row, ensure_ascii=False)` writes, its C encoder built once)."""
    return "".join([_DUMPS(r) + "\n" for r in rows]).encode("utf-8")


def arrow_table(rows: list[dict[str, Any]], columns: tuple[str, ...] = COLUMNS):
    """The rows (dicts with `columns`) as an Arrow table of `arrow_schema(columns)`, built a
    column at a time (the same table as `pa.Table.from_pylist`, in half the time)."""
    import pyarrow as pa

    schema = arrow_schema(columns)
    names, types = schema.names, schema.types
    if all(list(r) == names for r in rows):  # `pair_row`'s rows: the columns in order
        values = list(zip(*(r.values() for r in rows), strict=True)) or [()] * len(names)
    else:
        values = [[r.get(name) for r in rows] for name in names]
    arrays = [pa.array(v, type=t) for v, t in zip(values, types, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)


def digest_of(pair_id: str, instruction: str, input: str, output: str) -> int:
    """A pair's share of `export.SelectionDigest` (the sum of these)."""
    item = _DUMPS_ASCII([pair_id, instruction, input, output])
    return int.from_bytes(hashlib.sha256(item.encode("utf-8")).digest(), "big")


@dataclass(frozen=True)
class RowMaker:
    """What making a row needs (the forked workers inherit it): the reviews with a person's
    verdict, whether unreviewed pairs go out once there are reviews, the renderer, the
    columns (a many-source export adds `source_url`: `urls` by source name), the label
    tasks whose cue leaks (`leaky_labels`), whether to measure the stored rows apart (the
    report's measure, `QualityTally(by_id=True)`), the template tasks (for the knowledge
    split's rephrasings), the splits written and DIR (for messages); with `by_id`, the
    report's distribution columns whose counts of the stored rows it hands over too
    (`report_columns`; none: it counts them itself)."""

    reviews: dict[str, Review]
    include_unreviewed: bool
    render: Callable[[Mapping[str, Any]], Rendered]
    columns: tuple[str, ...]
    urls: dict[str, str] | None
    leaks: set[str]
    by_id: bool  # also measure the stored rows as the report does (by id): no reviews
    tasks: frozenset[str]
    splits: tuple[str, ...]
    out_dir: Path
    report_columns: tuple[str, ...] = ()

    def state_of(self, pair_id: str) -> str | None:
        """A pair's review state, None when the export leaves it out."""
        review = self.reviews.get(pair_id)
        state = review.status if review else "unreviewed"
        if state == "rejected" or (
            state == "unreviewed" and self.reviews and not self.include_unreviewed
        ):
            return None
        return state

    def edited(self, pair: dict[str, Any]) -> dict[str, Any]:
        """The pair with its review's edits (instruction, input, output) applied."""
        review = self.reviews[pair["id"]]
        for key in ("instruction", "input", "output"):
            value = getattr(review, key)
            if value is not None:
                pair[key] = value
        return pair

    def row(self, pair: Mapping[str, Any], state: str) -> dict[str, Any]:
        return pair_row(pair, self.render(pair), state, self.columns, self.urls)


@dataclass
class Batch:
    """A batch's rows (JSON Lines and an Arrow table per split), counts and measures."""

    jsonl: dict[str, bytes] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    tally: RowTally = field(default_factory=RowTally)
    quality: QualityTally | None = None
    kept: QualityTally | None = None  # the stored rows' measure, as by id (`RowMaker.by_id`)
    counts: KeptCounts | None = None  # the stored rows' counts for the report (`report_columns`)
    digest: int = 0  # the sum of `digest_of` of its stored pairs
    left_out: int = 0  # unreviewed pairs left out (reviews exist)
    spilled: dict[str, str] = field(default_factory=dict)  # split -> files (`_spilled_batch`)


_MAKER: RowMaker | None = None  # what the forked workers make rows with
_STORE = None  # the store when the rows are made in this process (else `worker_store`)


def _order(pair: Mapping[str, Any]) -> tuple:
    """The export's row order: path, start line, task, id (Store.export_pairs gives it)."""
    return (pair["path"], pair["start_line"], pair["task"], pair["id"])


def _stored(maker: RowMaker, rows: Iterable[tuple], out: Batch | None = None):
    """(pair, split, state) of the stored rows (`Store.export_rows`) the export holds,
    edits applied; the unreviewed pairs it leaves out are counted in `out`."""
    for *packed, split in rows:
        pair = read_pair_fields(packed)
        state = maker.state_of(pair["id"])
        if state is None:
            if out is not None:
                out.left_out += pair["id"] not in maker.reviews
            continue
        yield (maker.edited(pair) if state == "edited" else pair), split, state


def questions(ids: tuple[str, str] | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The knowledge pass over the pairs with ids from the first of `ids` to the last (all
    when None), read through this process's store: each exported pair's `question` (a
    16-byte column), and the ids of its train pairs of template tasks by task (bytes
    columns: `knowledge.choose_rephrasings`)."""
    maker, store = _MAKER, _STORE
    assert maker is not None
    if store is None:
        store = worker_store()
    asked: list[bytes] = []
    candidates: dict[str, list[bytes]] = {}
    rows = store.kept_rows(*(ids or (None, None)))
    if maker.reviews:  # edits and left-out pairs: each pair read whole
        facts = (
            (p["id"], p["generator"], p["task"], p["instruction"], p["input"], split)
            for p, split, _ in _stored(maker, rows)
        )
    else:  # every kept pair as stored: its instruction and input read alone
        facts = (
            (pair_id, generator, task, *read_question(data), split)
            for pair_id, _, generator, task, _, data, split in rows
        )
    for pair_id, generator, task, instruction, input, split in facts:
        asked.append(question(instruction, input))
        if split == "train" and generator == "template" and task in maker.tasks:
            candidates.setdefault(task, []).append(pair_id.encode("utf-8"))
    return (
        np.array(asked, dtype="S16") if asked else np.zeros(0, "S16"),
        {task: np.array(found, dtype="S") for task, found in candidates.items()},
    )


def unit_summaries() -> list[dict[str, Any]]:
    """The units coverage counts (`quality.coverage_targets` reads these fields), read
    through this process's store."""
    return (_STORE or worker_store()).unit_summaries(COVERED_KINDS, UNIT_FIELDS)


def coverage_targets_of(held_out: set[str]) -> tuple[list[dict[str, Any]], int]:
    """`quality.coverage_targets` of the units (`unit_summaries`) outside the `held_out`
    paths, and how many targets the units of those paths make (the report's
    `held_out_units`), made where they are read: the parent holds the targets' four fields,
    not every unit's summary, while the rows are made."""
    units = unit_summaries()
    held = len(coverage_targets(u for u in units if u["path"] in held_out))
    return coverage_targets(u for u in units if u["path"] not in held_out), held


def make_batch(rows: list[tuple], rephrased: list[tuple[Pair, str]]) -> Batch:
    """The rows of a batch of whole files (`Store.export_rows`, by path), each file's sorted
    by start line, task and id, merged in that order with the knowledge split's rephrasings
    of those files (`rephrased`: (pair, its train pair's review state), in order)."""
    maker = _MAKER
    assert maker is not None
    out = Batch(quality=QualityTally(maker.leaks))
    if maker.by_id:
        out.kept = QualityTally(maker.leaks, by_id=True)
        if maker.report_columns:
            out.counts = KeptCounts(maker.report_columns)
    by_split: dict[str, list[dict[str, Any]]] = {}
    stored = sorted(
        ((pair, split, state, True) for pair, split, state in _stored(maker, rows, out)),
        key=lambda x: _order(x[0]),
    )
    asked = ((p.model_dump(), KNOWLEDGE, state, False) for p, state in rephrased)
    for pair, split, state, kept in heapq.merge(stored, asked, key=lambda x: _order(x[0])):
        if split not in maker.splits:
            raise ExportError(
                f"pair {pair['id']} has no split: run `dataprep export --out {maker.out_dir}`"
            )
        row = maker.row(pair, state)
        by_split.setdefault(split, []).append(row)
        out.tally.see(row, split, state)
        if kept:  # a rephrasing is exported, not a stored pair: not in the digest
            out.digest += digest_of(pair["id"], pair["instruction"], pair["input"], pair["output"])
            if out.counts is not None:
                out.counts.see(pair, split)
        out.quality.see(row, also=out.kept if kept else None)
    for split, split_rows in by_split.items():
        out.jsonl[split] = jsonl_bytes(split_rows)
        out.tables[split] = arrow_table(split_rows, maker.columns)
    return out


_SPILLS = itertools.count()  # a worker's spilled batches, for their files' names
SPILL_PREFIX = "dataprep-rows-"  # then the exporting process's id, "-", a random part
SPILL_STALE_SECONDS = 600  # a live export's folder changes with every batch


def spill_folder() -> str:
    """A new temporary folder for the workers' rows, named after this process. The folders
    that exports killed outright left behind (SIGKILL, out of memory: no clean-up ran) are
    removed first: those whose process is gone and that have not changed for ten minutes
    (a process of another user, or of another PID namespace sharing the folder, is left)."""
    root = Path(tempfile.gettempdir())
    now = time.time()
    for old in root.glob(f"{SPILL_PREFIX}*-*"):
        pid = old.name[len(SPILL_PREFIX) :].split("-", 1)[0]
        try:
            stale = now - old.stat().st_mtime > SPILL_STALE_SECONDS
        except OSError:
            continue
        if pid.isdigit() and stale and not pid_alive(int(pid)) and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    return tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-")


def _spilled_batch(rows: list[tuple], rephrased: list[tuple[Pair, str]], spill: str) -> Batch:
    """`make_batch` in a worker, its JSON Lines and Arrow tables written to files in `spill`
    (`Batch.spilled`, split -> the files' path less its suffix) rather than sent back
    through the pool's pipe (pickled, sent, read back a chunk at a time and unpickled: a
    tenth of the export's CPU); `_unspilled` reads them back."""
    import pyarrow as pa

    out = make_batch(rows, rephrased)
    for split, data in out.jsonl.items():
        stem = os.path.join(spill, f"{os.getpid()}-{next(_SPILLS)}-{split}")
        with open(stem + ".jsonl", "wb") as sink:
            sink.write(data)
        table = out.tables[split]
        with pa.OSFile(stem + ".arrow", "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
            w.write_table(table)
        out.spilled[split] = stem
    out.jsonl, out.tables = {}, {}
    return out


def _unspilled(batch: Batch) -> Batch:
    """A batch whose rows a worker spilled (`_spilled_batch`) with its JSON Lines read back
    and its tables mapped (the files are removed: a mapping outlives its file)."""
    import pyarrow as pa

    for split, stem in batch.spilled.items():
        with open(stem + ".jsonl", "rb") as source:
            batch.jsonl[split] = source.read()
        batch.tables[split] = pa.ipc.open_file(pa.memory_map(stem + ".arrow")).read_all()
        os.unlink(stem + ".jsonl")
        os.unlink(stem + ".arrow")
    batch.spilled = {}
    return batch


def _file_batches(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    """Consecutive batches of at least `size` stored rows (by path), whole files each."""
    batch: list[tuple] = []
    for row in rows:
        if len(batch) >= size and row[4] != batch[-1][4]:  # PAIR_SQL: the path is 5th
            yield batch
            batch = []
        batch.append(row)
    if batch:
        yield batch


def _arrow_ready() -> None:
    """Import here, before the workers fork, what pyarrow imports on its first `pa.array`
    (pandas, through its pandas shim, even for a NumPy array): once, not once in each
    worker (about 0.3 s of CPU apiece)."""
    import pyarrow as pa

    pa.array([], type=pa.string())


class Rows:
    """The export's passes over the stored rows, in forked workers when `procs.jobs()` is
    above 1 (they inherit `maker`); use as a context manager (it holds the pool)."""

    def __init__(self, store, maker: RowMaker) -> None:
        self.store, self.maker = store, maker
        self.workers = procs.jobs() if hasattr(os, "fork") else 1
        self.pool = None

    def __enter__(self) -> Rows:
        global _MAKER, _STORE
        _MAKER = self.maker
        self.stack = ExitStack()
        if self.workers > 1 and self.store.live_count() > BATCH:
            _arrow_ready()
            self.stack.enter_context(reading((self.store, None, frozenset())))  # workers open it
            self.spill = spill_folder()  # the batches' rows
            self.stack.callback(shutil.rmtree, self.spill, ignore_errors=True)
            self.pool = procs.process_pool(self.workers)
            self.stack.callback(self.pool.shutdown, cancel_futures=True)
        else:
            _STORE = self.store
        return self

    def __exit__(self, *exc: object) -> None:
        global _MAKER, _STORE
        _MAKER = _STORE = None
        self.stack.close()

    def _run(self, jobs: Iterator[tuple]) -> Iterator[Any]:
        if self.pool is None:
            return (job(*args) for job, args in jobs)
        return in_order(self.pool, jobs, self.workers)

    def beside(self, work: Callable[..., Any], *args: Any) -> Callable[[], Any]:
        """`work(*args)` run by a worker beside the rows when there are workers (here, now,
        when not): call what this returns for its result."""
        if self.pool is None:
            done = work(*args)
            return lambda: done
        return self.pool.submit(work, *args).result

    def questions(self) -> tuple[Questions, dict[str, np.ndarray]]:
        """`questions` of every stored row: the questions asked (`Questions`) and the
        candidates' ids by task, as numpy columns (not a Python object a pair)."""
        asked: list[np.ndarray] = []
        parts: dict[str, list[np.ndarray]] = {}
        ranges = self.store.pair_id_ranges(BATCH) if self.pool is not None else [None]
        for found, chosen in self._run((questions, (ids,)) for ids in ranges):
            asked.append(found)
            for task, found_ids in chosen.items():
                parts.setdefault(task, []).append(found_ids)
        candidates = {task: np.concatenate(found) for task, found in parts.items()}
        return Questions(np.concatenate(asked) if asked else np.zeros(0, "S16")), candidates

    def batches(self, rephrased: list[tuple[Pair, str]]) -> Iterator[Batch]:
        """`make_batch` of every stored row, in the export's order, with the rephrasings
        (sorted in that order) of each batch's files."""
        at = 0

        def jobs() -> Iterator[tuple]:
            nonlocal at
            for batch in _file_batches(self.store.export_rows(), BATCH):
                last = batch[-1][4]
                end = at
                while end < len(rephrased) and rephrased[end][0].path <= last:
                    end += 1
                if self.pool is None:
                    yield make_batch, (batch, rephrased[at:end])
                else:
                    yield _spilled_batch, (batch, rephrased[at:end], self.spill)
                at = end

        for made in self._run(jobs()):
            yield _unspilled(made) if made.spilled else made
        if at < len(rephrased):  # none are left: each file of theirs has a train pair
            yield make_batch([], rephrased[at:])


# The report measures and counts the kept pairs; an export without reviews writes exactly
# those (and the knowledge split's rephrasings, measured apart): it hands the measure and
# the counts over, keyed by what it read, so the report does not read every pair again.
KEPT_QUALITY = "kept_quality"  # meta: the kept pairs' measure, from the last export


def _handover_key(store, leaks: set[str]) -> list:
    from dataprep.stages import code_version

    modules = ("dataprep.quality", "dataprep.report_counts", __name__)
    return [store.write_marks(), sorted(leaks), code_version(modules)]


def hand_over(
    store, quality: dict[str, Any] | None, leaks: set[str], counts: KeptCounts | None = None
) -> None:
    """Keep the export's measure of the kept pairs (`QualityTally(by_id=True).result`, with
    `held_out_units`, so the report reads no unit) and their `counts` (when made) for the
    report, or forget the last ones (None: reviews, so the rows are not the kept pairs)."""
    found = None
    if quality is not None:
        found = {"key": _handover_key(store, leaks), "quality": quality}
        if counts is not None:
            found["counts"] = counts.to_json()
    store.set_meta(KEPT_QUALITY, found)


def handed_quality(store, leaks: set[str]) -> dict[str, Any] | None:
    """The measure of the kept pairs the last export handed over, when nothing it read was
    written since (units, pairs, decisions, splits, reviews), the label leaks are the same
    and so is the code that measured; else None."""
    found = _handed(store, leaks)
    return None if found is None else found["quality"]


def handed_counts(store, leaks: set[str]) -> KeptCounts | None:
    """The counts of the kept pairs (`KeptCounts`) the last export handed over beside its
    measure (`handed_quality`, under the same conditions); None when it made none."""
    found = _handed(store, leaks)
    if found is None or "counts" not in found:
        return None
    return KeptCounts.from_json(found["counts"])


def handed_column_counts(store, column: str) -> dict[str, int] | None:
    """The kept pairs counted by a pair `column` (task, generator), as `Store.kept_counts`
    gives them, from the counts the last export handed over when nothing it read was
    written since (the same pairs are kept); else None. The run's summary takes them: on
    all of java.base the store's own count reads every pair again (1.4 s on one core)."""
    found = store.get_meta(KEPT_QUALITY)
    if not found or "counts" not in found or found["key"][0] != store.write_marks():
        return None
    values = found["counts"]["values"].get(column)
    return None if values is None else dict(sorted(values.items()))


def _handed(store, leaks: set[str]) -> dict[str, Any] | None:
    found = store.get_meta(KEPT_QUALITY)
    if not found or found.get("key") != _handover_key(store, leaks):
        return None
    return found
