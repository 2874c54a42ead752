"""The dataset card (README.md with YAML metadata): what the Hub shows and `load_dataset` reads.

`dataprep.export` calls this module (imported lazily there, as it imports export). The
metadata is built with `huggingface_hub.DatasetCardData` and `datasets`' own
`DatasetInfosDict` (features, `num_bytes`/`num_examples` per split, `download_size`,
`dataset_size`), so `load_dataset` on the folder or the pushed repository reads it without
a warning. Three configs share the Parquet files: `default` (every column),
`prompt_completion` and `messages` (the columns TRL needs, and nothing else). The prose
says where the rows came from (repository URL and commit), how they were made, the quality
figures of `dataprep.quality`, one example per task family, and how to load and train.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from dataprep import quality as dq
from dataprep import source, trainer_files
from dataprep.errors import ExportError
from dataprep.export import decided_reviews
from dataprep.licenses import (  # noqa: F401  (re-exported: the card's license helpers)
    HUB_LICENSE,
    detect_license,
    license_from_name,
    license_from_text,
)
from dataprep.models import SPLITS, Pair
from dataprep.splits import (
    GENERALISATION_TASKS,
    KNOWLEDGE,
    WITHHELD,
    held_out_paths,
    knowledge_enabled,
)
from dataprep.store import Store

# config name -> its columns (None: all); TRL needs a row with one format only
CONFIGS: dict[str, tuple[str, ...] | None] = {
    "default": None,
    "prompt_completion": ("prompt", "completion"),
    "messages": ("messages",),
}
EXAMPLE_CHARS = 600


def size_category(n: int) -> str:
    """The Hub's size bucket. Example: 950 -> "n<1K", 12000 -> "10K<n<100K"."""
    bounds = [
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
    ]
    for bound, label in bounds:
        if n < bound:
            return label
    return "1M<n<10M" if n < 10_000_000 else "n>10M"


# facts ------------------------------------------------------------------------------
def _repo_root(store: Store, repo_path: Path | None) -> Path | None:
    """The repository checkout: given, or remembered by an earlier export (meta repo_root)."""
    if repo_path is not None:
        return Path(repo_path)
    value = store.get_meta("repo_root")
    return Path(value) if isinstance(value, str) else None


def _languages(store: Store) -> list[str]:
    return [lang for lang in store.unit_languages() if lang not in ("markdown", "text")]


def _count(values) -> dict[str, int]:
    counts = Counter(values)
    return {k: counts[k] for k in sorted(counts)}


def dataset_facts(
    store: Store,
    pairs: list[Pair],
    rows: dict[str, list[dict[str, Any]]],
    status: dict[str, str],
    style: str,
    split_by: str,
    seed: int,
    ratios: tuple[float, ...],
    project: str,
    repo_path: Path | None = None,
) -> dict[str, Any]:
    """What the card says, gathered once (the export's summary reuses it)."""
    root = _repo_root(store, repo_path)
    spdx, license_file = detect_license(root)
    reviews = decided_reviews(store)
    commits = Counter(p.commit for p in pairs if p.commit)
    given_url = store.get_meta("source_url")
    source_url = given_url if isinstance(given_url, str) else source.remote_url(root)
    held = held_out_paths(store.pairs(), store.splits())  # their code is never trained on
    units = [u for kind in dq.COVERED_KINDS for u in store.units(kind) if u.path not in held]
    return {
        "project": project,
        "repo": Counter(p.repo for p in pairs).most_common(1)[0][0],
        "source_url": source_url,
        "commit": min(commits, key=lambda c: (-commits[c], c)) if commits else None,
        "license": spdx,
        "hub_license": HUB_LICENSE.get(spdx, "other"),
        "license_file": license_file,
        "languages": _languages(store),
        "splits": {s: len(rows[s]) for s in SPLITS},
        "held_out": held_out_counts(store, rows),
        "tasks": _count(p.task for p in pairs),
        "generators": _count(p.generator for p in pairs),
        "templates": _count(p.template for p in pairs),
        "task_templates": _count(t for t, _ in {(p.task, p.template) for p in pairs}),
        "models": sorted({p.model for p in pairs if p.model}),
        "review_status": _count(status.values()),
        "reviewed": len(reviews),
        "rejected": sum(1 for r in reviews.values() if r.status == "rejected"),
        "style": style,
        "format": trainer_files.style_format(style),
        "split_by": split_by,
        "seed": seed,
        "ratios": list(ratios),
        "quality": dq.measure_quality(pairs, units),
        "examples": family_examples(rows),
    }


def held_out_counts(store: Store, rows: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    """How the held-out sets were made (dataprep.splits): knowledge rows that are held-out
    facts and train facts asked in another phrasing (those are not stored pairs), and the
    pairs of held-out files in no split (`withheld`)."""
    stored = store.splits()
    knowledge = rows.get(KNOWLEDGE, [])
    rephrased = sum(1 for row in knowledge if row["id"] not in stored)
    return {
        "facts": len(knowledge) - rephrased,
        "rephrased": rephrased,
        "withheld": sum(1 for split in stored.values() if split == WITHHELD),
    }


def family_examples(rows: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """One row per task family (the train split first), in the order of dq.FAMILIES: the
    first row whose output fits EXAMPLE_CHARS, else the family's shortest."""
    by_family: dict[str, list[dict[str, Any]]] = {}
    for split in SPLITS:
        for row in rows[split]:
            by_family.setdefault(dq.family_of(row["task"]), []).append(row)
    chosen = {}
    for family in dq.FAMILIES:
        candidates = by_family.get(family)
        if candidates:
            fits = [r for r in candidates if len(r["output"]) <= EXAMPLE_CHARS]
            row = fits[0] if fits else min(candidates, key=lambda r: len(r["output"]))
            keys = ("instruction", "input", "output", "task", "path")
            chosen[family] = {k: row[k] for k in keys} | {"rows": len(candidates)}
    return chosen


def split_sizes(tables: dict[str, Any], parquet: dict[str, Path]) -> dict[str, Any]:
    """Bytes per config and split (the Arrow size in memory, as `push_to_hub` records it)
    and the Parquet bytes a download fetches."""
    num_bytes = {
        name: {s: (tables[s].select(list(cols)) if cols else tables[s]).nbytes for s in SPLITS}
        for name, cols in CONFIGS.items()
    }
    return {
        "num_bytes": num_bytes,
        "download_size": sum(Path(parquet[s]).stat().st_size for s in SPLITS),
    }


# metadata ---------------------------------------------------------------------------
def loaded_splits(facts: dict[str, Any]) -> list[str]:
    """The splits the card's configs name: those with rows (a repository without tasks that
    generalise has no validation or test rows, a tiny one no knowledge rows).

    Example: {"splits": {"train": 9, "validation": 0, "test": 1, "knowledge": 2}} ->
        ["train", "test", "knowledge"]
    """
    return [s for s in SPLITS if facts["splits"].get(s)]


def card_data(facts: dict[str, Any]):
    """The card's YAML header as a `huggingface_hub.DatasetCardData`."""
    from huggingface_hub import DatasetCardData

    total = sum(facts["splits"].values())
    tags = ["code", *facts["languages"], "instruction-tuning", "sft", "synthetic", "dataprep"]
    configs = []
    for name, cols in CONFIGS.items():
        # no YAML anchors; an empty split's Parquet file is left out, as `load_dataset`
        # cannot read a file of no rows
        data_files = [{"split": s, "path": f"{s}.parquet"} for s in loaded_splits(facts)]
        config: dict[str, Any] = {"config_name": name, "data_files": data_files}
        if cols:
            config["columns"] = list(cols)
        else:
            config["default"] = True
        configs.append(config)
    data = DatasetCardData(
        license=facts["hub_license"],
        pretty_name=f"{display_name(facts)} instructions",
        language=["en", "code"],
        annotations_creators=["machine-generated"],
        language_creators=["found", "machine-generated"],
        source_datasets=["original"],
        task_categories=["text-generation", "question-answering"],
        size_categories=[size_category(total)],
        tags=list(dict.fromkeys(tags)),
        configs=configs,
    )
    _dataset_infos(facts).to_dataset_card_data(data)
    return data


def _dataset_infos(facts: dict[str, Any]):
    """`datasets`' own DatasetInfosDict: features, split sizes, download and dataset sizes."""
    import datasets
    import pyarrow as pa
    from datasets.info import DatasetInfosDict

    from dataprep.export import arrow_schema

    schema = arrow_schema()
    sizes = facts.get("sizes") or {}
    infos = {}
    for name, cols in CONFIGS.items():
        fields = [schema.field(c) for c in (cols or schema.names)]
        splits = datasets.SplitDict()
        for s in loaded_splits(facts):
            num_bytes = (sizes.get("num_bytes") or {}).get(name, {}).get(s, 0)
            splits.add(
                datasets.SplitInfo(name=s, num_bytes=num_bytes, num_examples=facts["splits"][s])
            )
        infos[name] = datasets.DatasetInfo(
            features=datasets.Features.from_arrow_schema(pa.schema(fields)),
            splits=splits,
            download_size=sizes.get("download_size", 0),
            dataset_size=sum(split.num_bytes for split in splits.values()),
        )
    return DatasetInfosDict(infos)


def card_metadata(facts: dict[str, Any]) -> dict[str, Any]:
    """The card's YAML header as a plain mapping."""
    return card_data(facts).to_dict()


def display_name(facts: dict[str, Any]) -> str:
    """OWNER/NAME from the source URL when there is one, else the repository folder's name."""
    url = facts.get("source_url")
    if url:
        path = url.split("://", 1)[-1].split("/", 1)[-1].strip("/")
        if path:
            return path
    return facts["project"]


# prose ------------------------------------------------------------------------------
def _table(head: tuple[str, ...], rows: list[tuple[Any, ...]], right: int = 1) -> str:
    align = ["---"] * (len(head) - right) + ["---:"] * right
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _fence(text: str, info: str = "text") -> str:
    """A fenced block that no backtick run inside `text` can close."""
    longest = max((len(run) for run in _backtick_runs(text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text}\n{ticks}"


def _backtick_runs(text: str) -> list[str]:
    runs, current = [], ""
    for ch in text:
        if ch == "`":
            current += ch
        elif current:
            runs.append(current)
            current = ""
    return [*runs, current] if current else runs


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _clip(text: str, n: int = EXAMPLE_CHARS) -> str:
    return text if len(text) <= n else text[:n].rstrip() + "\n… (cut here for the card)"


def _source_line(facts: dict[str, Any]) -> str:
    name = display_name(facts)
    where = f"[{name}]({facts['source_url']})" if facts.get("source_url") else f"**{name}**"
    commit = (
        f"at commit `{facts['commit']}`"
        if facts["commit"]
        else "from a working tree with no recorded commit"
    )
    line = f"Instruction/response pairs about the source code and documentation of {where}, "
    line += f"{commit}."
    if not facts.get("source_url"):
        line += (
            " The repository's URL is not known: it was not a git checkout with a remote; "
            "pass `--source-url` to `dataprep run` or `dataprep export` to record it."
        )
    return line


def _review_line(facts: dict[str, Any]) -> str:
    if not facts["reviewed"]:
        return (
            "No pair has been reviewed by a person yet: every row is machine-generated "
            "and unchecked."
        )
    held = ", ".join(f"{n} {s}" for s, n in facts["review_status"].items())
    return (
        f"A person reviewed {facts['reviewed']} pairs in `dataprep review` "
        f"({facts['rejected']} rejected); this export holds {held}."
    )


def _quality_section(q: dict[str, Any]) -> str:
    rows = [
        (m["title"], m["display"], m["goal"], "yes" if m["passed"] else "**no**")
        for m in q["measures"].values()
    ]
    families = [
        (f, v["rows"], dq.fmt(v["share"]), "knowledge" if v["knowledge"] else "trivia")
        for f, v in q["families"].items()
    ]
    return "\n\n".join(
        [
            f"Measured by `dataprep.quality` over the {q['rows']} rows of this export (the "
            f"figures of the run's report): **{q['met']} of {q['goals']} goals met**.",
            _table(("measure", "value", "goal", "met"), rows, right=0),
            _table(("family", "rows", "share", "kind"), families, right=0),
        ]
    )


def _examples_section(examples: dict[str, dict[str, Any]]) -> str:
    parts = []
    for family, ex in examples.items():
        title = dq.FAMILIES[family][1]
        head = (
            f"### {family}: {title} ({_rows(ex['rows'])})\n\nTask `{ex['task']}`, `{ex['path']}`."
        )
        fields = [f"Instruction:\n\n{_fence(_clip(ex['instruction']))}"]
        if ex["input"]:
            fields.append(f"Input:\n\n{_fence(_clip(ex['input']))}")
        fields.append(f"Output:\n\n{_fence(_clip(ex['output']))}")
        parts.append("\n\n".join([head, *fields]))
    return "\n\n".join(parts)


def _splits_prose(facts: dict[str, Any], ratios: str) -> str:
    """What each split holds and measures: the two held-out sets, or the plain file split."""
    by = facts["split_by"]
    if not knowledge_enabled():
        return (
            f"Split by {by} (seed {facts['seed']}, target ratios {ratios} by pair count).\n"
            f"No {by} contributes rows to two splits,\n"
            "so validation and test hold code the model never saw in training."
        )
    held = facts.get("held_out") or {}
    tasks = ", ".join(f"`{t}`" for t in sorted(GENERALISATION_TASKS))
    return "\n".join(
        [
            f"Two held-out sets, split by {by} (seed {facts['seed']}); never train on either.",
            "",
            f"- `validation` and `test` (generalisation): whole held-out {by}s (a test file "
            "goes with the file it tests),",
            f"  cut by the target ratios {ratios} over the pairs of the tasks a model can "
            "answer about code it never saw:",
            f"  {tasks}. Only those tasks are asked there; the held-out {by}s' other pairs",
            f"  ({held.get('withheld', 0)}) are in no split, since training on them would "
            f"give the code away. No held-out {by} has rows in train.",
            f"- `knowledge`: facts about the {by}s in train, to measure whether a model learnt "
            "the repository:",
            f"  {held.get('facts', 0)} held-out facts (a pair whose unit keeps other pairs in "
            f"train) and {held.get('rephrased', 0)} train pairs asked",
            "  again in another of their task's phrasings. These rows are near-copies of train "
            "rows by design,",
            "  so decontamination checks validation and test only.",
        ]
    )


def render_card(facts: dict[str, Any]) -> str:
    """The whole README.md: YAML metadata between `---` lines, then the prose."""
    meta = card_data(facts).to_yaml()
    total = sum(facts["splits"].values())
    license_line = (
        f"{facts['license']} (detected from `{facts['license_file']}` in the source repository)"
        if facts["license_file"]
        else "unknown: no license file was found in the source repository; check before sharing"
    )
    generators = ", ".join(f"`{g}` ({n})" for g, n in facts["generators"].items())
    models = (
        f" Evolved pairs were written by {', '.join(facts['models'])}." if facts["models"] else ""
    )
    ratios = " / ".join(f"{r:g}" for r in facts["ratios"])
    tasks = [(t, n, facts["task_templates"][t]) for t, n in facts["tasks"].items()]
    splits = list(facts["splits"].items())
    return f"""---
{meta}
---

# {display_name(facts)} instructions

{_source_line(facts)}
Template pairs are grounded: their answers are the source text itself,
with the file and line span recorded in every row.

- Rows: {total} ({", ".join(f"{s} {n}" for s, n in splits)})
- Source: {facts.get("source_url") or "URL unknown"}, commit `{facts["commit"] or "none"}`
- License of the source: {license_line}
- Generators: {generators}.{models}
- Templates: {len(facts["templates"])} instruction templates, {len(facts["tasks"])} tasks
- Prompt style of the `text` and `prompt`/`completion` columns: `{facts["style"]}`
- Review: {_review_line(facts)}

## Splits

{_splits_prose(facts, ratios)}

{_table(("split", "rows"), splits)}

## Tasks

{_table(("task", "rows", "templates"), tasks, right=2)}

## Quality

{_quality_section(facts["quality"])}

## Examples

One row per task family, cut at {EXAMPLE_CHARS} characters.

{_examples_section(facts["examples"])}

## Columns

Each row holds the pair in three forms, so any trainer reads it as it expects:

- `instruction`, `input` (may be empty), `output`: the Alpaca fields; `text` is the pair
  rendered in the `{facts["style"]}` prompt style.
- `prompt`, `completion`: the same text cut where the answer begins (TRL's
  prompt-completion form: the loss falls on the completion only). `prompt + completion`
  is `text`, less the newline a chat template writes after the end-of-turn token.
- `messages`: a system, a user and an assistant turn (`role`, `content`); the user turn
  is the instruction, then a blank line and the input.

Provenance: `id`, `task`, `template`, `generator`, `unit_id`, `unit_kind`, `path`,
`start_line`, `end_line`, `commit`, `repo`, `module`; Evol-Instruct pairs add `operation`,
`round`, `parent_id`, `model`; `review` is the reviewer's verdict (`accepted`, `edited`
or `unreviewed`).

## How to load

```python
from datasets import load_dataset, load_from_disk

ds = load_dataset(".")                       # this directory: every column
pc = load_dataset(".", "prompt_completion")  # prompt and completion only
chat = load_dataset(".", "messages")         # messages only
ds = load_from_disk("hf")                    # the DatasetDict saved beside this card
# load_dataset("OWNER/NAME", "prompt_completion")  once pushed with `dataprep push`
```

## How to train

TRL 1.x trains on the completion only when given prompt-completion rows:

```python
from trl import SFTConfig, SFTTrainer

trainer = SFTTrainer(
    model="MODEL",
    train_dataset=pc["train"],
    eval_dataset=pc["validation"],
    args=SFTConfig(output_dir="runs/sft"),  # completion_only_loss is on for these rows
)
trainer.train()
```

Give TRL the `prompt_completion` or the `messages` subset, not every column: with `prompt`,
`completion` and `messages` in one row, TRL's format detection depends on the order of a
Python set. With `messages`, TRL applies the model's chat template and trains on every
token unless `assistant_only_loss=True`, which needs a template with generation markers;
to train an Instruct model on its answers only in its own template, export with
`--style chat-template:MODEL` and use `prompt_completion`.

`axolotl-dataset.yml` is an Axolotl dataset entry and `dataset_info.json` a LLaMA-Factory
dataset description ({trainer_files.FORMATS[facts["format"]]}); their paths are relative to
this folder.

## Known limits

- Instructions come from fixed templates (several phrasings per task), so their wording
  is narrower than what people ask; answers are verbatim source, not explanations.
- Splitting by {facts["split_by"]} stops verbatim leakage into validation and test, not
  near-copies of code that lives in several files.
- The rows carry the source repository's code under its license ({facts["license"]}).
- Secrets are screened with pattern rules (`dataprep filter`, and again before `dataprep push`);
  pattern rules miss some keys, so look before publishing.
"""


def check_card(path: Path) -> None:
    """Parse the card with `huggingface_hub.DatasetCard`; a card it rejects is a bug here."""
    from huggingface_hub import DatasetCard

    try:
        card = DatasetCard.load(path)
    except (ValueError, yaml.YAMLError) as exc:
        raise ExportError(
            f"the dataset card {path} does not parse ({exc}): report this as a dataprep bug"
        ) from exc
    if not card.data.license or not card.data.configs:
        raise ExportError(
            f"the dataset card {path} lacks license or configs: report this as a dataprep bug"
        )
