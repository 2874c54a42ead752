"""The dataset card (README.md with YAML metadata) and the repository's license.

`dataprep.export` calls this module (imported lazily there, as it imports export).
The card is what the Hub shows and what `huggingface_hub.DatasetCard` parses: license
(detected from the repository, an SPDX id mapped to the Hub's license key, `other` when
unknown), task categories, size category, configs with data files per split, split sizes;
then prose a reader needs before training on it.
"""

import json
import re
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from dataprep.errors import ExportError
from dataprep.export import COLUMNS, INT_COLUMNS, decided_reviews
from dataprep.models import SPLITS, Pair
from dataprep.store import Store

# (SPDX id, patterns that must all occur in the license text); first match wins
_TEXT_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("AGPL-3.0-only", ("GNU AFFERO GENERAL PUBLIC LICENSE",)),
    ("LGPL-3.0-only", ("GNU LESSER GENERAL PUBLIC LICENSE", "Version 3")),
    ("LGPL-2.1-only", ("GNU LESSER GENERAL PUBLIC LICENSE", "Version 2.1")),
    ("GPL-3.0-only", ("GNU GENERAL PUBLIC LICENSE", "Version 3")),
    ("GPL-2.0-only", ("GNU GENERAL PUBLIC LICENSE", "Version 2")),
    ("Apache-2.0", ("Apache License", "Version 2.0")),
    ("MPL-2.0", ("Mozilla Public License", "2.0")),
    ("EPL-2.0", ("Eclipse Public License", "2.0")),
    ("EPL-1.0", ("Eclipse Public License",)),
    ("BSL-1.0", ("Boost Software License",)),
    ("Unlicense", ("This is free and unencumbered software released into the public domain",)),
    ("CC0-1.0", ("CC0 1.0 Universal",)),
    ("MIT", ("Permission is hereby granted, free of charge",)),
    ("ISC", ("Permission to use, copy, modify, and/or distribute this software for any purpose",)),
    ("BSD-3-Clause", ("Redistribution and use in source and binary forms", "Neither the name")),
    ("BSD-3-Clause", ("Redistribution and use in source and binary forms", "endorse or promote")),
    ("BSD-2-Clause", ("Redistribution and use in source and binary forms",)),
]

# names and URLs as build files write them -> SPDX id
_NAME_RULES: list[tuple[str, str]] = [
    (r"apache.*2|apache-2\.0", "Apache-2.0"),
    (r"^mit\b|mit license|opensource\.org/licenses/mit", "MIT"),
    (r"bsd.?3|new bsd|revised bsd|bsd-3-clause", "BSD-3-Clause"),
    (r"bsd.?2|simplified bsd|freebsd", "BSD-2-Clause"),
    (r"affero", "AGPL-3.0-only"),
    (r"lesser.*3|lgpl.?3", "LGPL-3.0-only"),
    (r"lesser.*2\.1|lgpl.?2\.1", "LGPL-2.1-only"),
    (r"(general public license|gpl).*3|gpl-3", "GPL-3.0-only"),
    (r"(general public license|gpl).*2|gpl-2", "GPL-2.0-only"),
    (r"mozilla|mpl", "MPL-2.0"),
    (r"eclipse.*2|epl-2", "EPL-2.0"),
    (r"eclipse|epl", "EPL-1.0"),
    (r"unlicense", "Unlicense"),
    (r"cc0", "CC0-1.0"),
    (r"\bisc\b", "ISC"),
]

# SPDX id -> the Hub's license key (its metadata uses these lowercase ids)
HUB_LICENSE = {
    "MIT": "mit",
    "Apache-2.0": "apache-2.0",
    "BSD-2-Clause": "bsd-2-clause",
    "BSD-3-Clause": "bsd-3-clause",
    "GPL-2.0-only": "gpl-2.0",
    "GPL-3.0-only": "gpl-3.0",
    "LGPL-2.1-only": "lgpl-2.1",
    "LGPL-3.0-only": "lgpl-3.0",
    "AGPL-3.0-only": "agpl-3.0",
    "MPL-2.0": "mpl-2.0",
    "EPL-1.0": "epl-1.0",
    "EPL-2.0": "epl-2.0",
    "BSL-1.0": "bsl-1.0",
    "Unlicense": "unlicense",
    "CC0-1.0": "cc0-1.0",
    "ISC": "isc",
}

_LICENSE_FILE = re.compile(r"^(licen[cs]e|copying)([.-].*)?$", re.IGNORECASE)


def license_from_text(text: str) -> str | None:
    """The SPDX id of a license text, or None. Example: "MIT License\\n...Permission is
    hereby granted, free of charge..." -> "MIT"."""
    flat = " ".join(text.split())
    for spdx, needles in _TEXT_RULES:
        if all(n.lower() in flat.lower() for n in needles):
            return spdx
    return None


def license_from_name(name: str) -> str | None:
    """The SPDX id for a license name or URL as a build file writes it, or None."""
    name = name.strip()
    for spdx in HUB_LICENSE:
        if name.lower() == spdx.lower() or name.lower() == spdx.lower().removesuffix("-only"):
            return spdx
    for pattern, spdx in _NAME_RULES:
        if re.search(pattern, name, re.IGNORECASE):
            return spdx
    return None


def detect_license(root: Path | None) -> tuple[str, str | None]:
    """(SPDX id or "other", the file it came from) for a repository checkout.

    Looks at LICENSE/LICENCE/COPYING files, then pom.xml, package.json, pyproject.toml
    and Cargo.toml at the top of the repository.
    """
    if root is None or not Path(root).is_dir():
        return "other", None
    root = Path(root)
    for path in sorted(p for p in root.iterdir() if p.is_file() and _LICENSE_FILE.match(p.name)):
        spdx = license_from_text(path.read_text(encoding="utf-8", errors="replace"))
        if spdx:
            return spdx, path.name
    for name, reader in (
        ("pom.xml", _pom_license),
        ("package.json", _package_json_license),
        ("pyproject.toml", _toml_license),
        ("Cargo.toml", _toml_license),
    ):
        path = root / name
        if path.is_file():
            try:
                value = reader(path.read_text(encoding="utf-8", errors="replace"))
            except (ValueError, tomllib.TOMLDecodeError):
                value = None
            spdx = license_from_name(value) if value else None
            if spdx:
                return spdx, name
    return "other", None


def _pom_license(text: str) -> str | None:
    block = re.search(r"<licenses>(.*?)</licenses>", text, re.DOTALL)
    if not block:
        return None
    for tag in ("name", "url"):
        found = re.search(rf"<{tag}>\s*(.*?)\s*</{tag}>", block.group(1), re.DOTALL)
        if found and license_from_name(found.group(1)):
            return found.group(1)
    return None


def _package_json_license(text: str) -> str | None:
    value = json.loads(text).get("license")
    return value.get("type") if isinstance(value, dict) else value


def _toml_license(text: str) -> str | None:
    data = tomllib.loads(text)
    section = data.get("project") or data.get("package") or {}
    value = section.get("license")
    return value.get("text") if isinstance(value, dict) else value


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


# facts and the card ----------------------------------------------------------------
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
    spdx, license_file = detect_license(_repo_root(store, repo_path))
    reviews = decided_reviews(store)
    commits = Counter(p.commit for p in pairs if p.commit)
    return {
        "project": project,
        "repo": Counter(p.repo for p in pairs).most_common(1)[0][0],
        "commit": min(commits, key=lambda c: (-commits[c], c)) if commits else None,
        "license": spdx,
        "hub_license": HUB_LICENSE.get(spdx, "other"),
        "license_file": license_file,
        "languages": _languages(store),
        "splits": {s: len(rows[s]) for s in SPLITS},
        "tasks": _count(p.task for p in pairs),
        "generators": _count(p.generator for p in pairs),
        "templates": _count(p.template for p in pairs),
        "task_templates": {
            t: n for t, n in _count(t for t, _ in {(p.task, p.template) for p in pairs}).items()
        },
        "models": sorted({p.model for p in pairs if p.model}),
        "review_status": _count(status.values()),
        "reviewed": len(reviews),
        "rejected": sum(1 for r in reviews.values() if r.status == "rejected"),
        "style": style,
        "split_by": split_by,
        "seed": seed,
        "ratios": list(ratios),
    }


def card_metadata(facts: dict[str, Any]) -> dict[str, Any]:
    """The card's YAML header."""
    total = sum(facts["splits"].values())
    tags = ["code", *facts["languages"], "instruction-tuning", "alpaca", "synthetic", "dataprep"]

    return {
        "license": facts["hub_license"],
        "pretty_name": f"{facts['project']} instructions",
        "language": ["en"],
        "task_categories": ["text-generation", "question-answering"],
        "size_categories": [size_category(total)],
        "tags": list(dict.fromkeys(tags)),
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": s, "path": f"{s}.parquet"} for s in SPLITS],
            }
        ],
        "dataset_info": {
            "features": [
                {"name": c, "dtype": "int64" if c in INT_COLUMNS else "string"} for c in COLUMNS
            ],
            "splits": [{"name": s, "num_examples": facts["splits"][s]} for s in SPLITS],
        },
    }


def _table(head: tuple[str, str], counts: dict[str, int]) -> str:
    lines = [f"| {head[0]} | {head[1]} |", "| --- | ---: |"]
    lines += [f"| {k} | {v} |" for k, v in counts.items()]
    return "\n".join(lines)


def render_card(facts: dict[str, Any]) -> str:
    """The whole README.md: YAML metadata between `---` lines, then the prose."""
    meta = yaml.safe_dump(card_metadata(facts), sort_keys=False, allow_unicode=True)
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
    if facts["reviewed"]:
        review = (
            f"A person reviewed {facts['reviewed']} pairs in `dataprep review` "
            f"({facts['rejected']} rejected); this export holds "
            + ", ".join(f"{n} {s}" for s, n in facts["review_status"].items())
            + "."
        )
    else:
        review = (
            "No pair has been reviewed by a person yet: every row is machine-generated "
            "and unchecked."
        )
    ratios = " / ".join(f"{r:g}" for r in facts["ratios"])
    source = (
        f"built with dataprep from commit `{facts['commit']}`"
        if facts["commit"]
        else "built with dataprep from a working tree with no recorded commit"
    )
    task_table = "\n".join(
        ["| task | rows | templates |", "| --- | ---: | ---: |"]
        + [f"| {t} | {n} | {facts['task_templates'][t]} |" for t, n in facts["tasks"].items()]
    )
    return f"""---
{meta}---

# {facts["project"]} instructions

Instruction/response pairs (Alpaca format) about the source code and documentation
of **{facts["repo"]}**, {source}.
Template pairs are grounded: their answers are the source text itself,
with the file and line span recorded in every row.

- Rows: {total} ({", ".join(f"{s} {n}" for s, n in facts["splits"].items())})
- License of the source: {license_line}
- Generators: {generators}.{models}
- Templates: {len(facts["templates"])} instruction templates, {len(facts["tasks"])} tasks
- Prompt style of the `text` column: `{facts["style"]}`
- Review: {review}

## Splits

Split by {facts["split_by"]} (seed {facts["seed"]}, target ratios {ratios} by pair count).
No {facts["split_by"]} contributes rows to two splits,
so validation and test hold code the model never saw in training.

{_table(("split", "rows"), facts["splits"])}

## Tasks

{task_table}

## Columns

`instruction`, `input` (may be empty), `output` are the Alpaca fields; `text` is the pair
rendered in the `{facts["style"]}` prompt style. Provenance: `id`, `task`, `template`,
`generator`, `unit_id`, `unit_kind`, `path`, `start_line`, `end_line`, `commit`, `repo`,
`module`; Evol-Instruct pairs add `operation`, `round`, `parent_id`, `model`; `review` is
the reviewer's verdict (`accepted`, `edited` or `unreviewed`).

## How to load

```python
from datasets import load_dataset, load_from_disk

ds = load_dataset(".")             # this directory: the configs above point at the Parquet files
ds = load_from_disk("hf")          # the DatasetDict saved beside this card
# ds = load_dataset("OWNER/NAME")  # once pushed with `dataprep push`
```

`axolotl-dataset.yml` is a ready Axolotl dataset entry (`type: alpaca`) and
`dataset_info.json` a LLaMA-Factory dataset description (alpaca formatting).

## Known limits

- Instructions come from fixed templates (several phrasings per task), so their wording
  is narrower than what people ask; answers are verbatim source, not explanations.
- Splitting by {facts["split_by"]} stops verbatim leakage between splits, not near-copies
  of code that lives in several files.
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
