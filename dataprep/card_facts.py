"""What the dataset card says, gathered at export: the rows' tally (`RowTally`, counted as
the rows stream past), the store's and the checkout's facts (`dataset_facts`: sources,
licence, languages, review state, the held-out sets), and the sizes the Hub records.
dataprep.card turns these facts into the card.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from dataprep import quality as dq
from dataprep import source, trainer_files
from dataprep.licenses import HUB_LICENSE, detect_license
from dataprep.models import SPLITS
from dataprep.splits import KNOWLEDGE, WITHHELD
from dataprep.store import Store

# config name -> its columns (None: all); TRL needs a row with one format only
CONFIGS: dict[str, tuple[str, ...] | None] = {
    "default": None,
    "prompt_completion": ("prompt", "completion"),
    "messages": ("messages",),
}
EXAMPLE_CHARS = 600


def _repo_root(store: Store, repo_path: Path | None) -> Path | None:
    """The repository checkout: given, or remembered by an earlier export (meta repo_root)."""
    if repo_path is not None:
        return Path(repo_path)
    value = store.get_meta("repo_root")
    return Path(value) if isinstance(value, str) else None


def _languages(store: Store) -> list[str]:
    return [lang for lang in store.unit_languages() if lang not in ("markdown", "text")]


def _count(values) -> dict[str, int]:
    counts = values if isinstance(values, Counter) else Counter(values)
    return {k: counts[k] for k in sorted(counts)}


class RowTally:
    """What the card says about the exported rows, counted as they stream past (`see`), so
    the export never holds them all: counts per task, generator, template, review status
    and split, the majority repository and commit, models, one example per family, and
    the Arrow bytes per config and split."""

    def __init__(self) -> None:
        self.tasks: Counter[str] = Counter()
        self.generators: Counter[str] = Counter()
        self.templates: Counter[str] = Counter()
        self.task_templates: set[tuple[str, str]] = set()
        self.models: set[str] = set()
        self.repos: Counter[str] = Counter()
        self.commits: Counter[str] = Counter()
        self.status: Counter[str] = Counter()
        self.splits: Counter[str] = Counter({s: 0 for s in SPLITS})
        self.num_bytes = {name: {s: 0 for s in SPLITS} for name in CONFIGS}
        self.rephrased = 0  # knowledge rows that ask a train fact again (not stored pairs)
        # family -> split -> [first row that fits EXAMPLE_CHARS, shortest row, rows]
        self._examples: dict[str, dict[str, list[Any]]] = {}

    def see(self, row: dict[str, Any], split: str, state: str) -> None:
        """Count one exported row (the export's columns) of `split` in review `state`."""
        task, template = row["task"], row["template"]
        self.tasks[task] += 1
        self.generators[row["generator"]] += 1
        self.templates[template] += 1
        self.task_templates.add((task, template))
        if row["model"]:
            self.models.add(row["model"])
        self.repos[row["repo"]] += 1
        if row["commit"]:
            self.commits[row["commit"]] += 1
        self.status[state] += 1
        self.splits[split] += 1
        keys = ("instruction", "input", "output", "task", "path")
        slot = self._examples.setdefault(dq.family_of(task), {}).setdefault(split, [None, None, 0])
        slot[2] += 1
        size = len(row["output"])
        if slot[0] is None and size <= EXAMPLE_CHARS:
            slot[0] = {k: row[k] for k in keys}
        if slot[1] is None or size < len(slot[1]["output"]):
            slot[1] = {k: row[k] for k in keys}

    def merge(self, later: RowTally) -> None:
        """Add the tally of the rows exported after this one's (made apart, in a worker):
        counts, and the examples as one tally of all the rows would have kept them."""
        for mine, theirs in (
            (self.tasks, later.tasks),
            (self.generators, later.generators),
            (self.templates, later.templates),
            (self.repos, later.repos),
            (self.commits, later.commits),
            (self.status, later.status),
            (self.splits, later.splits),
        ):
            mine.update(theirs)
        self.task_templates |= later.task_templates
        self.models |= later.models
        self.rephrased += later.rephrased
        for name, sizes in later.num_bytes.items():
            for split, n in sizes.items():
                self.num_bytes[name][split] += n
        for family, slots in later._examples.items():
            mine = self._examples.setdefault(family, {})
            for split, (first, shortest, rows) in slots.items():
                slot = mine.setdefault(split, [None, None, 0])
                if slot[0] is None:
                    slot[0] = first
                if slot[1] is None or (
                    shortest is not None and len(shortest["output"]) < len(slot[1]["output"])
                ):
                    slot[1] = shortest
                slot[2] += rows

    def add_bytes(self, split: str, table: Any) -> None:
        """Count a batch of a split's rows (a pyarrow Table) in the Arrow bytes per config."""
        for name, cols in CONFIGS.items():
            self.num_bytes[name][split] += (table.select(list(cols)) if cols else table).nbytes

    def examples(self) -> dict[str, dict[str, Any]]:
        """One row per task family (the train split first), in the order of dq.FAMILIES: the
        first row whose output fits EXAMPLE_CHARS, else the family's shortest."""
        chosen = {}
        for family in dq.FAMILIES:
            slots = [self._examples.get(family, {}).get(s) for s in SPLITS]
            slots = [slot for slot in slots if slot is not None]
            if not slots:
                continue
            fits = [slot[0] for slot in slots if slot[0] is not None]
            row = fits[0] if fits else None
            if row is None:  # the shortest; the first split's on a tie
                for slot in slots:
                    if row is None or len(slot[1]["output"]) < len(row["output"]):
                        row = slot[1]
            chosen[family] = dict(row) | {"rows": sum(slot[2] for slot in slots)}
        return chosen


def dataset_facts(
    store: Store,
    tally: RowTally,
    quality: dict[str, Any],
    style: str,
    split_by: str,
    seed: int,
    ratios: tuple[float, ...],
    project: str,
    repo_path: Path | None = None,
) -> dict[str, Any]:
    """What the card says, gathered once (the export's summary reuses it): the rows' tally,
    their `quality` (dq.measure_quality), and what the store and the checkout tell."""
    root = _repo_root(store, repo_path)
    spdx, license_file = detect_license(root)
    reviews = store.decided_reviews()
    commits = tally.commits
    given_url = store.get_meta("source_url")
    source_url = given_url if isinstance(given_url, str) else source.remote_url(root)
    sources = store.get_meta("scaleout.sources") or []
    if sources:  # many repositories: one licence only when every source used has it
        licences = {s.get("license") or "other" for s in sources if s.get("status") == "used"}
        spdx, license_file = (licences.pop(), None) if len(licences) == 1 else ("other", None)
        source_url = None
    return {
        "sources": sources,
        "project": project,
        "repo": tally.repos.most_common(1)[0][0],
        "source_url": source_url,
        "commit": min(commits, key=lambda c: (-commits[c], c)) if commits else None,
        "license": spdx,
        "hub_license": HUB_LICENSE.get(spdx, "other"),
        "license_file": license_file,
        "languages": _languages(store),
        "splits": {s: tally.splits[s] for s in SPLITS},
        "held_out": held_out_counts(store, tally),
        "benchmark": (store.get_meta("decontaminate_report") or {}).get("benchmark"),
        "tasks": _count(tally.tasks),
        "generators": _count(tally.generators),
        "templates": _count(tally.templates),
        "task_templates": _count(t for t, _ in tally.task_templates),
        "models": sorted(tally.models),
        "review_status": _count(tally.status),
        "reviewed": len(reviews),
        "rejected": sum(1 for r in reviews.values() if r.status == "rejected"),
        "style": style,
        "format": trainer_files.style_format(style),
        "split_by": split_by,
        "seed": seed,
        "ratios": list(ratios),
        "quality": quality,
        "examples": tally.examples(),
    }


def held_out_counts(store: Store, tally: RowTally) -> dict[str, int]:
    """How the held-out sets were made (dataprep.splits): knowledge rows that are held-out
    facts and train facts asked in another phrasing (those are not stored pairs), and the
    pairs of held-out files in no split (`withheld`)."""
    knowledge = tally.splits.get(KNOWLEDGE, 0)
    return {
        "facts": knowledge - tally.rephrased,
        "rephrased": tally.rephrased,
        "withheld": store.split_count(WITHHELD),
    }


def split_sizes(tally: RowTally, parquet: dict[str, Path]) -> dict[str, Any]:
    """Bytes per config and split (the Arrow size in memory, as `push_to_hub` records it)
    and the Parquet bytes a download fetches."""
    return {
        "num_bytes": {name: dict(sizes) for name, sizes in tally.num_bytes.items()},
        "download_size": sum(Path(parquet[s]).stat().st_size for s in SPLITS),
    }
