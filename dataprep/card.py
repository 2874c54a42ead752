"""The dataset card (README.md with YAML metadata): what the Hub shows and `load_dataset` reads.

`dataprep.export` calls this module with the facts of `dataprep.card_facts`. The
metadata is built with `huggingface_hub.DatasetCardData` and `datasets`' own
`DatasetInfosDict` (features, `num_bytes`/`num_examples` per split, `download_size`,
`dataset_size`), so `load_dataset` on the folder or the pushed repository reads it without
a warning. Three configs share the Parquet files: `default` (every column),
`prompt_completion` and `messages` (the columns TRL needs, and nothing else). The prose
says where the rows came from (repository URL and commit), how they were made, the quality
figures of `dataprep.quality`, one example per task family, and how to load and train.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from dataprep import quality as dq
from dataprep import trainer_files
from dataprep.card_facts import CONFIGS, EXAMPLE_CHARS
from dataprep.errors import ExportError
from dataprep.models import SPLITS
from dataprep.rows import COLUMNS, arrow_schema, yaml_features
from dataprep.splits import (
    GENERALISATION_TASKS,
    knowledge_enabled,
)


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
    infos = _card_infos(facts)
    if infos is None:  # another version of `datasets`: its own
        _dataset_infos(facts).to_dataset_card_data(data)
    else:
        data["dataset_info"] = infos
    return data


def _card_infos(facts: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The card's `dataset_info` (one entry a config, by name: features, split sizes,
    download and dataset sizes) as `DatasetInfosDict.to_dataset_card_data` of datasets 4
    and 5 writes it (`_dataset_infos`), without importing `datasets` (about half a second
    of CPU); None for another version, or a column type `rows.yaml_features` does not know."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        major = version("datasets").split(".")[0]
    except PackageNotFoundError:
        major = ""
    columns = tuple(facts.get("columns") or COLUMNS)
    features = {name: yaml_features(cols or columns) for name, cols in CONFIGS.items()}
    if major not in ("4", "5") or None in features.values() or len(CONFIGS) < 2:
        return None
    sizes = facts.get("sizes") or {}
    infos = []
    for name in sorted(CONFIGS):
        splits = [
            {
                "name": s,
                "num_bytes": (sizes.get("num_bytes") or {}).get(name, {}).get(s, 0),
                "num_examples": facts["splits"][s],
            }
            for s in loaded_splits(facts)
        ]
        infos.append(
            {
                "config_name": name,
                "features": features[name],  # each config its own lists: no YAML anchor
                "splits": splits,
                "download_size": sizes.get("download_size", 0),
                "dataset_size": sum(split["num_bytes"] for split in splits),
            }
        )
    return infos


def _dataset_infos(facts: dict[str, Any]):
    """`datasets`' own DatasetInfosDict: features, split sizes, download and dataset sizes."""
    import datasets
    import pyarrow as pa
    from datasets.info import DatasetInfosDict

    schema = arrow_schema(tuple(facts.get("columns") or COLUMNS))
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


def _text_line(facts: dict[str, Any]) -> str:
    """The card's line on the `text` column, for a style that asks for it."""
    if "text" not in (facts.get("columns") or ()):
        return ""
    return (
        "\n- `text`: the whole rendered row (`prompt + completion`, with the newline a chat "
        "template writes after the end-of-turn token)."
    )


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
    if facts.get("sources"):
        used = sum(1 for s in facts["sources"] if s.get("status") == "used")
        return (
            f"Instruction/response pairs about the source code and documentation of {used} "
            "repositories, each at a pinned commit (see Sources)."
        )
    line = f"Instruction/response pairs about the source code and documentation of {where}, "
    line += f"{commit}."
    if not facts.get("source_url"):
        line += (
            " The repository's URL is not known: it was not a git checkout with a remote; "
            "pass `--source-url` to `dataprep run` or `dataprep export` to record it."
        )
    return line


def _sources_section(sources: list[dict[str, Any]]) -> str:
    """Many repositories: every source with its commit and detected licence."""
    rows = []
    for s in sources:
        licence = s.get("license")
        licence = "**unknown**" if licence in (None, "other") else licence
        state = "used" if s.get("status") == "used" else f"left out: {s.get('status')}"
        rows.append((s.get("name") or "-", s["url"], f"`{s.get('commit') or '-'}`", licence, state))
    unknown = sum(1 for s in sources if s.get("license") in (None, "other"))
    note = (
        f"\n\n{unknown} source(s) have no licence dataprep could detect: check them before "
        "sharing this dataset."
        if unknown
        else ""
    )
    return (
        "## Sources\n\nThe rows come from these repositories (column `repo` is the name, "
        "`source_url` the URL, `commit` the pinned commit). A unit copied from an earlier "
        "source (a fork, vendored code) was generated once, from the first.\n\n"
        + _table(("name", "url", "commit", "licence", "status"), rows, right=0)
        + note
        + "\n\n"
    )


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


def _benchmark_prose(facts: dict[str, Any]) -> str:
    """With `--decontaminate-against`: the benchmark files checked and the pairs dropped."""
    bench = facts.get("benchmark")
    if not bench:
        return ""
    files = ", ".join(f"`{Path(f).name}`" for f in bench.get("files", []))
    return (
        "\n\nBenchmark decontamination: every split was checked against "
        f"{bench['snippets']} benchmark snippets ({files});\n{bench['dropped']} of "
        f"{bench['checked']} pairs nearly copied one (word 10-gram overlap) and were dropped."
    )


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
    source_item = (
        f"{facts.get('source_url') or 'URL unknown'}, commit `{facts['commit'] or 'none'}`"
    )
    if facts.get("sources"):
        same = "" if facts["license"] == "other" else f": all {facts['license']}"
        license_line = f"per source, see Sources{same}"
        used = sum(1 for x in facts["sources"] if x.get("status") == "used")
        source_item = f"{used} repositories, see Sources"
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
- Source: {source_item}
- License of the source: {license_line}
- Generators: {generators}.{models}
- Templates: {len(facts["templates"])} instruction templates, {len(facts["tasks"])} tasks
- Prompt style of the `prompt`/`completion` columns: `{facts["style"]}`
- Review: {_review_line(facts)}

{_sources_section(facts["sources"]) if facts.get("sources") else ""}## Splits

{_splits_prose(facts, ratios)}{_benchmark_prose(facts)}

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

- `instruction`, `input` (may be empty), `output`: the Alpaca fields.
- `prompt`, `completion`: the pair rendered in the `{facts["style"]}` prompt style, cut
  where the answer begins (TRL's prompt-completion form: the loss falls on the completion
  only).{_text_line(facts)}
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


# The Hub's front-matter rule (`huggingface_hub.repocard.REGEX_YAML_BLOCK`); a test holds
# every card the export writes to `DatasetCard.load` itself, whose import takes 0.4 s.
CARD_YAML_RE = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")


def check_card(path: Path) -> None:
    """Parse the card's metadata the way `huggingface_hub.DatasetCard.load` does; a card it
    would reject is a bug here."""
    found = CARD_YAML_RE.search(path.read_text(encoding="utf-8"))
    try:
        data = yaml.safe_load(found.group(2)) if found else None
    except yaml.YAMLError as exc:
        raise ExportError(
            f"the dataset card {path} does not parse ({exc}): report this as a dataprep bug"
        ) from exc
    if not isinstance(data, dict) or not data.get("license") or not data.get("configs"):
        raise ExportError(
            f"the dataset card {path} lacks license or configs: report this as a dataprep bug"
        )
