"""Splits and export: the kept (and, once a person reviewed, accepted) pairs become a dataset.

`DIR/dataset/` holds, per split, JSONL and Parquet files, a `datasets.DatasetDict` saved
with `save_to_disk` (`hf/`), the dataset card (`README.md`), an Axolotl dataset entry, a
LLaMA-Factory `dataset_info.json` (both in dataprep.trainer_files) and `export.json` (a
manifest written last: what `push` uploads and checks). Every row carries the pair three
ways: the Alpaca fields; `prompt`/`completion` in the chosen prompt style (TRL's
prompt-completion form: the loss falls on the completion only); and `messages` (system,
user, assistant). A style file that asks for it (`text: true`) adds `text`, the whole row.
The whole directory is built beside the old one and swapped in, so a killed export leaves
the previous dataset or none, never a half file that looks complete.
The split rule lives in dataprep.splits (re-exported here).
"""

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from dataprep import outdir, procs, prompts, trainer_files
from dataprep import quality as dq
from dataprep.dataset_dir import (
    DATASET_DIR,
    HF_DIR,
    MANIFEST,
    PARTIAL_MARK,
    check_dataset_dir,
    file_stats,
    remove_own,
    swap_in,
)
from dataprep.errors import ExportError
from dataprep.export_rows import (
    Rendered,
    RowMaker,
    Rows,
    arrow_table,
    coverage_targets_of,
    digest_of,
    hand_over,
)
from dataprep.generate.tasks import load_templates
from dataprep.hashing import content_hash
from dataprep.knowledge import choose_rephrasings
from dataprep.models import SPLITS, Pair, Review
from dataprep.report_counts import KeptCounts, countable
from dataprep.rows import COLUMNS, arrow_schema, dataset_info_json, row_columns
from dataprep.splits import (
    DEFAULT_RATIOS,
    SplitBy,
    assign_splits,
    assign_with_groups,
    held_out_paths_of,
    knowledge_enabled,
    split_facts,
    split_group,
    split_groups,
)
from dataprep.store import Store

__all__ = [
    "DEFAULT_RATIOS",
    "assign_splits",
    "export_dataset",
    "select_pairs",
    "split_group",
    "split_groups",
]


# selection ------------------------------------------------------------------------
def select_pairs(
    store: Store, include_unreviewed: bool = False, kept: list[Pair] | None = None
) -> tuple[list[Pair], dict[str, str]]:
    """The pairs to export and each one's review status.

    Kept pairs (no stage dropped them); once any review exists, only accepted and edited
    ones (edits applied) unless `include_unreviewed`; rejected pairs never.
    """
    reviews = decided_reviews(store)
    selected: list[Pair] = []
    status: dict[str, str] = {}
    for pair in store.kept_pairs() if kept is None else kept:
        review = reviews.get(pair.id)
        state = review.status if review else "unreviewed"
        if state == "rejected":
            continue
        if state == "unreviewed" and reviews and not include_unreviewed:
            continue
        selected.append(_apply_edit(pair, review) if state == "edited" else pair)
        status[pair.id] = state
    return selected, status


def decided_reviews(store: Store) -> dict[str, Review]:
    """Reviews that carry a person's verdict (`Store.decided_reviews`)."""
    return store.decided_reviews()


class SelectionDigest:
    """A hash of what is exported (ids and the Alpaca fields), to tell a stale export; fed
    one pair at a time in any order (the sum of the pairs' hashes), so a streaming export
    and `push` (which checks it) agree without sorting."""

    def __init__(self) -> None:
        self.total = 0

    def add(self, pair: Pair) -> None:
        self.total += digest_of(pair.id, pair.instruction, pair.input, pair.output)

    def hexdigest(self) -> str:
        return content_hash("selection", self.total % (1 << 256))


def selection_digest(pairs: Iterable[Pair]) -> str:
    """`SelectionDigest` of `pairs`."""
    digest = SelectionDigest()
    for pair in pairs:
        digest.add(pair)
    return digest.hexdigest()


def _apply_edit(pair: Pair, review: Review | None) -> Pair:
    if review is None:
        return pair
    changes = {
        k: getattr(review, k)
        for k in ("instruction", "input", "output")
        if getattr(review, k) is not None
    }
    return pair.model_copy(update=changes)


# rows -----------------------------------------------------------------------------
def _renderer(loaded: Any, project: str | None) -> Callable[[Mapping[str, Any]], Rendered]:
    """The renderer of a loaded prompt style (`prompts.load_style`: name, file or chat
    template): a pair's fields -> its `prompt`, `completion` and `messages` (and `text` when
    the style asks for it, `prompts.wants_text`)."""
    project = project or ""
    system = prompts.system_prompt(project)
    text_too = prompts.wants_text(loaded)

    def render(pair: Mapping[str, Any]) -> Rendered:
        text, prompt, completion = prompts.prompt_completion(loaded, pair, project, system)
        messages = prompts.chat_messages(
            pair["instruction"], pair["input"] or "", pair["output"], system
        )
        rendered = {"prompt": prompt, "completion": completion, "messages": messages}
        return {"text": text, **rendered} if text_too else rendered

    return render


BATCH_ROWS = 5000  # rows of a Parquet row group (and of a record batch of the Arrow stream)


class _SplitWriter:
    """One split's files written as batches of rows stream in (JSON Lines and an Arrow
    table each, `export_rows.Batch`): JSONL, Parquet (a row group per BATCH_ROWS rows) and
    an Arrow stream the DatasetDict is built from (memory-mapped)."""

    def __init__(self, stage: Path, split: str, tally: Any, columns: tuple[str, ...] = COLUMNS):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.split, self.tally = split, tally
        self.columns = columns
        self.schema = arrow_schema(columns)
        self.arrow_path = stage / f".{split}.arrow"
        self.jsonl = open(stage / f"{split}.jsonl", "wb")  # noqa: SIM115 (closed in close())
        self.parquet = pq.ParquetWriter(stage / f"{split}.parquet", self.schema, compression="zstd")
        self.arrow = pa.ipc.new_stream(str(self.arrow_path), self.schema)
        self.waiting: list[Any] = []  # tables of rows not in a row group yet
        self.left = 0  # their rows
        self.rows = 0

    def add(self, jsonl: bytes, table: Any) -> None:
        """A batch of rows: as JSON Lines (written now) and as an Arrow table."""
        import pyarrow as pa

        self.jsonl.write(jsonl)
        self.waiting.append(table)
        self.left += table.num_rows
        while self.left >= BATCH_ROWS:
            whole = pa.concat_tables(self.waiting)
            self._write(whole.slice(0, BATCH_ROWS))
            rest = whole.slice(BATCH_ROWS)
            self.waiting, self.left = [rest], rest.num_rows

    def _write(self, table: Any) -> None:
        """One row group (and record batch) of rows, copied into buffers of their own (a
        slice would count the bytes of what it leaves out in `add_bytes`)."""
        import pyarrow as pa

        if table.num_rows:
            batch = pa.concat_batches(table.to_batches())
            table = pa.Table.from_batches([batch], schema=self.schema)
            self.arrow.write_table(table)
        else:  # an empty split: one empty batch, so the stream reads back as a table
            table = arrow_table([], self.columns)
            self.arrow.write_batch(pa.RecordBatch.from_pylist([], schema=self.schema))
        self.parquet.write_table(table)
        self.tally.add_bytes(self.split, table)
        self.rows += table.num_rows

    def close(self) -> None:
        import pyarrow as pa

        if self.left or not self.rows:
            self._write(
                pa.concat_tables(self.waiting) if self.waiting else arrow_table([], self.columns)
            )
        self.jsonl.flush()
        os.fsync(self.jsonl.fileno())
        self.jsonl.close()
        self.parquet.close()
        self.arrow.close()


# files ----------------------------------------------------------------------------
def _write_bytes(path: Path, data: bytes) -> None:
    """Write through a temporary file and rename, so a reader sees all of it or none."""
    outdir.write_file(path.parent, path, data)


def _dataset_info_json(columns: tuple[str, ...]) -> str:
    """The `dataset_info.json` of a split of rows with these columns, as `save_to_disk`
    writes it: `rows.dataset_info_json` for the versions of `datasets` whose format it
    writes (4 and 5), else made where `datasets` is imported (a worker, beside the rows)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        major = version("datasets").split(".")[0]
    except PackageNotFoundError:
        major = ""
    if major in ("4", "5"):
        return dataset_info_json(columns)
    import datasets
    from datasets.utils.py_utils import asdict  # what save_to_disk writes the info with

    features = datasets.Features.from_arrow_schema(arrow_schema(columns))
    info = asdict(datasets.DatasetInfo(features=features))
    return json.dumps({key: info[key] for key in sorted(info)}, indent=2)


def _save_dataset_dict(
    path: Path, arrows: dict[str, Path], fingerprints: dict[str, str], info_json: str
) -> dict[str, Path]:
    """Lay the splits' Arrow stream files out as `DatasetDict.save_to_disk` does (one data
    file per split, `state.json`, `dataset_info.json` (`info_json`), `dataset_dict.json`),
    moving each file into place: nothing is read, so memory does not grow with the dataset
    (saving through `datasets` mapped every page of every split). `load_from_disk` reads
    it; the fingerprints from the content keep it stable. Returns where each split's file
    went.
    """
    path.mkdir(parents=True, exist_ok=True)
    _write_bytes(path / "dataset_dict.json", json.dumps({"splits": list(SPLITS)}).encode())
    for split in SPLITS:
        folder = path / split
        folder.mkdir()
        data = "data-00000-of-00001.arrow"
        os.replace(arrows[split], folder / data)
        state = {
            "_data_files": [{"filename": data}],
            "_fingerprint": fingerprints[split],
            "_format_columns": None,
            "_format_kwargs": {},
            "_format_type": None,
            "_output_all_columns": False,
            "_split": split,
        }
        _write_bytes(folder / "state.json", json.dumps(state, indent=2, sort_keys=True).encode())
        _write_bytes(folder / "dataset_info.json", info_json.encode("utf-8"))
    return {split: path / split / "data-00000-of-00001.arrow" for split in SPLITS}


def _file_entry(
    path: Path, rows: int | None = None, name: str | None = None, digest: str | None = None
) -> dict[str, Any]:
    """A file of the manifest: its path in the folder, size, sha256 (`digest` when known)
    and rows."""
    digest = digest or outdir.sha256_file(path)
    entry: dict[str, Any] = {
        "path": name or path.name,
        "bytes": path.stat().st_size,
        "sha256": digest,
    }
    if rows is not None:
        entry["rows"] = rows
    return entry


def _slug(text: str) -> str:
    slug = "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")
    return "_".join(filter(None, slug.split("_"))) or "dataprep"


# the export -----------------------------------------------------------------------
def export_dataset(
    store: Store,
    out_dir: Path,
    style: str = "alpaca",
    seed: int = 0,
    split_by: SplitBy = "file",
    include_unreviewed: bool = False,
    project: str | None = None,
    ratios: tuple[float, ...] = DEFAULT_RATIOS,
    repo_path: Path | None = None,
    source_url: str | None = None,
) -> dict[str, Any]:
    """Split the kept pairs, decontaminate, write `out_dir/dataset/` and return a summary
    (the split, decontaminate and export stages in one call).

    Example: export_dataset(Store.open(Path("out")), Path("out"))["splits"] ->
        {"train": 170, "validation": 20, "test": 10}
    """
    from dataprep import filters

    check_dataset_dir(Path(out_dir) / DATASET_DIR)  # before any work
    split_pairs(store, seed, split_by, ratios)
    filters.decontaminate(store)
    return write_dataset(
        store,
        out_dir,
        style,
        seed,
        split_by,
        include_unreviewed,
        project,
        ratios,
        repo_path,
        source_url,
    )


def split_pairs(
    store: Store,
    seed: int = 0,
    split_by: SplitBy = "file",
    ratios: tuple[float, ...] = DEFAULT_RATIOS,
) -> dict[str, int]:
    """The split stage: assign every kept pair to train/validation/test and store it.

    Splits are assigned over all kept pairs, so review decisions never move a file between
    splits; decontamination's own earlier verdicts are set aside, so a pair it dropped is
    checked again rather than flip-flopping between runs.
    """
    from dataprep.filters import DECONTAMINATE_STAGE

    facts = split_facts(store, split_by, before=DECONTAMINATE_STAGE)  # no texts held
    assignment = assign_with_groups(facts, ratios, seed, split_by)
    counts = Counter(split for split, _ in assignment.values())
    store.put_split_rows(
        (f.id, split, None if group == f.path else group)
        for f in facts
        for split, group in (assignment.pop(f.id),)
    )
    return {split: counts.get(split, 0) for split in SPLITS}


def write_dataset(
    store: Store,
    out_dir: Path,
    style: str = "alpaca",
    seed: int = 0,
    split_by: SplitBy = "file",
    include_unreviewed: bool = False,
    project: str | None = None,
    ratios: tuple[float, ...] = DEFAULT_RATIOS,
    repo_path: Path | None = None,
    source_url: str | None = None,
) -> dict[str, Any]:
    """The export stage: the selected pairs of the stored splits become `out_dir/dataset/`.

    Once a person reviewed, the export holds the selected pairs only (`select_pairs`).
    `source_url` (the repository's public URL) is remembered for later exports; without it
    the card takes the URL from the checkout's git remote.
    """
    from dataprep import card, card_facts

    out_dir = Path(out_dir)
    final = out_dir / DATASET_DIR
    check_dataset_dir(final)  # before any work: a folder that is not ours stops the export
    if repo_path is not None:  # remembered, so a later `dataprep export` finds the license
        store.set_meta("repo_root", str(Path(repo_path).resolve()))
    if source_url:
        store.set_meta("source_url", source_url)
    reviews = decided_reviews(store)
    project = (
        project or store.get_meta("scaleout.project") or store.majority_repo()
    ) or "dataprep"  # a many-source store names its project (DIR's name), for `export` too
    loaded = prompts.load_style(style)
    columns, source_urls = _export_columns(store, prompts.wants_text(loaded))
    tally = card_facts.RowTally()
    digest = SelectionDigest()
    left_out = 0

    def state_of(pair: Pair | str) -> str | None:
        """A pair's (or pair id's) review state, None when the export leaves it out."""
        review = reviews.get(pair if isinstance(pair, str) else pair.id)
        state = review.status if review else "unreviewed"
        if state == "rejected" or (state == "unreviewed" and reviews and not include_unreviewed):
            return None
        return state

    def fetch(pair_id: str) -> Pair:
        pair = store.pair(pair_id)
        assert pair is not None
        return _apply_edit(pair, reviews[pair_id]) if state_of(pair) == "edited" else pair

    leaks = dq.leaky_labels(
        _apply_edit(p, reviews.get(p.id))
        for p, _ in store.export_pairs(tasks=dq.LABEL_CUES)
        if state_of(p) is not None
    )
    knowledge = knowledge_enabled()
    maker = RowMaker(
        reviews=reviews,
        include_unreviewed=include_unreviewed,
        render=_renderer(loaded, project),
        columns=columns,
        urls=source_urls,
        leaks=leaks,
        by_id=not reviews,  # the stored rows are the kept pairs: the report's measure too
        tasks=frozenset(load_templates()) if knowledge else frozenset(),
        splits=SPLITS,
        out_dir=out_dir,
        report_columns=() if reviews else _report_columns(store, source_urls),
    )
    stage = out_dir / f".{DATASET_DIR}.partial"
    remove_own(stage)
    stage.mkdir(parents=True)
    (stage / PARTIAL_MARK).touch()
    writers = {split: _SplitWriter(stage, split, tally, columns) for split in SPLITS}
    quality = dq.QualityTally(leaks)
    kept = dq.QualityTally(leaks, by_id=True) if maker.by_id else None
    kept_counts = KeptCounts(maker.report_columns) if maker.report_columns else None
    start = time.perf_counter()
    try:
        with Rows(store, maker) as passes:
            # the knowledge split's train facts asked again in another phrasing (not stored
            # pairs), each with its train pair's review state; merged into the rows in the
            # export's order
            again: list[tuple[Pair, str]] = []
            asked = passes.questions() if knowledge else None
            # made by a worker while this process picks the rephrasings
            info_made = passes.beside(_dataset_info_json, columns)
            if asked is not None:
                extra = choose_rephrasings(*asked, fetch, seed)
                del asked  # the questions' hashes: not held while the rows are made
                again = sorted(
                    ((p, state_of(src) or "unreviewed") for p, src in extra),
                    key=lambda x: _order(x[0]),
                )
            procs.give_back_memory()  # what the knowledge pass freed, before the rows
            tally.rephrased = len(again)
            for batch in passes.batches(again):  # in order: each split's files as they go
                for split, data in batch.jsonl.items():
                    writers[split].add(data, batch.tables[split])
                tally.merge(batch.tally)
                quality.merge(batch.quality)
                if kept is not None:
                    kept.merge(batch.kept)
                if kept_counts is not None and batch.counts is not None:
                    kept_counts.merge(batch.counts)
                digest.total += batch.digest
                left_out += batch.left_out
            # read after the rows, not held through them (a worker reads every unit)
            held_out = held_out_paths_of(store)  # their code is never trained on: not coverage
            targets, held_units = passes.beside(coverage_targets_of, held_out)()
            info_json = info_made()
    finally:
        for writer in writers.values():
            writer.close()
    procs.give_back_memory()  # the rows' batches, before the card and the manifest
    kept_quality = None if kept is None else kept.result(None, start, targets)
    quality = quality.result(None, start, targets)
    if not sum(tally.splits.values()):
        remove_own(stage)
        raise ExportError(nothing_to_export(store, out_dir))
    facts = card_facts.dataset_facts(
        store, tally, quality, style, split_by, seed, ratios, project, repo_path
    )
    files: list[dict[str, Any]] = []
    facts["columns"] = list(columns)
    arrows = {split: writers[split].arrow_path for split in SPLITS}
    big = [stage / f"{s}.{kind}" for s in SPLITS for kind in ("jsonl", "parquet")]
    big += arrows.values()
    with ThreadPoolExecutor(max(2, procs.jobs())) as hashing:  # sha256 lets go of the GIL
        digests = dict(zip(big, hashing.map(outdir.sha256_file, big), strict=True))
    for split in SPLITS:
        for kind in ("jsonl", "parquet"):
            path = stage / f"{split}.{kind}"
            files.append(_file_entry(path, tally.splits[split], digest=digests[path]))
    fingerprints = {f["path"].split(".")[0]: f["sha256"][:16] for f in files}
    moved = _save_dataset_dict(stage / HF_DIR, arrows, fingerprints, info_json)  # moves them
    digests.update((moved[split], digests[arrows[split]]) for split in SPLITS)
    facts["sizes"] = card_facts.split_sizes(tally, {s: (stage / f"{s}.parquet") for s in SPLITS})
    _write_bytes(stage / "README.md", card.render_card(facts).encode("utf-8"))
    card.check_card(stage / "README.md")
    counts = {split: tally.splits[split] for split in SPLITS}
    axolotl = trainer_files.axolotl_entry(style, counts)
    _write_bytes(stage / "axolotl-dataset.yml", axolotl.encode("utf-8"))
    info = trainer_files.llama_factory_info(_slug(project), style, counts)
    _write_bytes(stage / "dataset_info.json", info.encode("utf-8"))
    files += [
        _file_entry(stage / n) for n in ("README.md", "axolotl-dataset.yml", "dataset_info.json")
    ]
    files += [
        _file_entry(f, name=f.relative_to(stage).as_posix(), digest=digests.get(f))
        for f in sorted((stage / HF_DIR).rglob("*"))
        if f.is_file()
    ]

    summary = {
        "dataset_dir": str(final),
        "project": project,
        "style": style,
        "format": trainer_files.style_format(style),
        "columns": list(columns),
        "system_prompt": prompts.system_prompt(project),
        "source_url": facts["source_url"],
        "commit": facts["commit"],
        "seed": seed,
        "split_by": split_by,
        "ratios": list(ratios),
        "rows": sum(tally.splits.values()),
        "splits": {s: tally.splits[s] for s in SPLITS},
        "tasks": facts["tasks"],
        "reviewed": facts["reviewed"],
        "license": facts["license"],
        "include_unreviewed": include_unreviewed,
        "unreviewed_left_out": left_out,
        "selection": digest.hexdigest(),
        "files": files,
    }
    (stage / PARTIAL_MARK).unlink()
    _write_bytes(stage / MANIFEST, (json.dumps(summary, indent=2) + "\n").encode("utf-8"))
    swap_in(stage, final)
    store.set_meta(
        "export", {k: summary[k] for k in ("style", "seed", "split_by", "rows", "splits")}
    )
    store.set_meta("export_files", file_stats(out_dir))  # verify_dataset trusts these
    if kept_quality is not None:
        kept_quality["held_out_units"] = held_units  # what the report adds (it reads no unit)
    hand_over(store, kept_quality, leaks, kept_counts)
    return summary


def nothing_to_export(store: Store, out_dir: Path) -> str:
    """Why no row would be exported, naming the real cause and its fix."""
    if decided_reviews(store):
        return (
            "no pair is accepted yet: accept pairs in `dataprep review`, "
            "or pass --include-unreviewed"
        )
    units = store.count("units")
    if not units:
        return (
            f"the store in {out_dir} holds no units: run `dataprep run PATH --out {out_dir}` "
            "on a repository with Java or docs"
        )
    pairs = store.count("pairs")
    if not pairs:
        return (
            f"no pairs were generated from {units} units: check the repository's Java "
            "(`dataprep slice`) and the templates (`dataprep templates`)"
        )
    dropped = Counter(d.stage for d in store.dropped().values())
    causes = ", ".join(f"{stage} {n}" for stage, n in dropped.most_common(4))
    return (
        f"every one of the {pairs} pairs was dropped ({causes}): see {out_dir}/report.html, "
        "and loosen those filters (`dataprep filter --list`)"
    )


def _order(pair: Pair) -> tuple:
    """The export's row order: path, start line, task, id (Store.export_pairs gives it)."""
    return (pair.path, pair.start_line, pair.task, pair.id)


def _report_columns(store: Store, urls: dict[str, str] | None) -> tuple[str, ...]:
    """The columns of the report's distributions (`balance.report_columns`), whose counts
    of the kept pairs the export hands over (`report_counts.KeptCounts`); none when the
    report counts them itself: a many-source store (it counts per source), a tokenizer
    other than the estimate, or a column that is not a pair field."""
    from dataprep.balance import report_columns

    tokenizer = (store.get_meta("filter_config") or {}).get("tokenizer")
    columns = report_columns((store.get_meta("balance_report") or {}).get("by"))
    return () if urls or tokenizer or not countable(columns) else columns


def _export_columns(store: Store, text: bool) -> tuple[tuple[str, ...], dict[str, str] | None]:
    """The columns of the rows (`rows.row_columns`: `text` only for a style that asks for
    it), and each source's URL by its name: a many-source store (meta `scaleout.sources`)
    adds a `source_url` column after `repo` (its name); a one-source export has none (None)."""
    sources = store.get_meta("scaleout.sources") or []
    urls = {s["name"]: s["url"] for s in sources if s.get("name")}
    return row_columns(text, source_url=bool(urls)), urls or None
