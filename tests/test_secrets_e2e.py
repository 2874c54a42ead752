"""Planted secrets through a whole run: none reaches any file under DIR (store, dataset,
report) and the push gate has nothing left to refuse; with redaction off it would.

The corpus is fixtures/secrets/planted.yaml (fake values in realistic forms). Each planted
text goes into the repository where such a line lives: Java-looking lines into a class,
everything into the docs (Markdown prose and code blocks are sliced as doc sections).
"""

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import yaml
from conftest import FIXTURES
from store_text import store_text

from dataprep.models import SPLITS
from dataprep.pipeline import RunConfig, run_pipeline
from dataprep.secrets import scan_rows

PLANTED = yaml.safe_load((FIXTURES / "secrets" / "planted.yaml").read_text(encoding="utf-8"))
MIN_LEN = 8  # shorter values ("admin") also occur as ordinary words of the corpus
FIELD = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:private|public|protected|static|final)\b")


def _cases():
    for kind, cases in PLANTED.items():
        for case in cases:
            values = [case["secret"], *case.get("also", [])]
            yield kind, case, [v for v in values if len(v) >= MIN_LEN]


def _repo(root: Path) -> Path:
    (root / "docs").mkdir(parents=True)
    java = root / "src" / "main" / "java" / "com" / "acme"
    java.mkdir(parents=True)
    members = []
    for n, (kind, case, _) in enumerate(_cases()):
        text = case["text"]
        doc = f"# Setup {n}\n\nThe {kind} settings for this service.\n\n```\n{text}\n```\n"
        (root / "docs" / f"setup-{n:03d}.md").write_text(doc, encoding="utf-8")
        if case.get("file", "").endswith(".java") and "\n" not in text.strip():
            if FIELD.match(text) and text.rstrip().endswith(";"):  # a field of the class
                members.append(f"    /** Setting {n}. */\n    {text.strip()}\n")
                continue
            body = text if text.rstrip().endswith(("}", ";")) else f"// {text}"
            members.append(
                f"    /** Setting {n}. */\n    void setting{n}() {{\n        {body}\n    }}\n"
            )
    members.append('    private static final String DB_PASSWORD = "Sup3r!Secret2026x";\n')
    (java / "Settings.java").write_text(
        "package com.acme;\n\n/** Planted settings. */\npublic class Settings {\n"
        + "\n".join(members)
        + "}\n",
        encoding="utf-8",
    )
    return root


def _texts_under(out: Path) -> dict[str, bytes]:
    """Every file's bytes; Parquet files (compressed pages) as their rows' JSON."""
    found = {}
    for path in out.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            found[str(path)] = json.dumps(pq.read_table(path).to_pylist()).encode()
        else:
            found[str(path)] = path.read_bytes()
    return found


def test_no_planted_secret_reaches_any_file_under_the_output_folder(tmp_path):
    repo, out = _repo(tmp_path / "repo"), tmp_path / "out"
    run_pipeline(RunConfig(path=repo, out=out, jobs=1))
    import sqlite3

    with sqlite3.connect(out / "dataprep.db") as conn:  # fold the WAL into the file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    files = _texts_under(out)
    files["store rows"] = store_text(out / "dataprep.db").encode("utf-8")
    cases = [*_cases(), ("java_constant", {}, ["Sup3r!Secret2026x"])]
    leaks = [
        (kind, value[:12], name)
        for kind, _, values in cases
        for value in values
        for name, data in files.items()
        if value.encode("utf-8") in data
    ]
    assert leaks == []
    rows = [json.loads(line) for s in SPLITS
            for line in (out / "dataset" / f"{s}.jsonl").read_text().splitlines()]  # fmt: skip
    assert rows and scan_rows(rows, fields=("instruction", "input", "output")) == []
    assert any("<SECRET:" in row["output"] or "<SECRET:" in row["input"] for row in rows)
