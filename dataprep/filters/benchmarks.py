"""An index of benchmark snippets (HumanEval-X, MBPP-style problems and solutions) that no
pair of the dataset may nearly copy, in any split.

`--decontaminate-against PATH` (repeatable) names files or folders of snippets:

- `.jsonl` (one record a line), `.json` (a list of records, one record, or an object of
  records) and `.parquet` (one record a row): a record's text is its string values (and
  lists of strings) joined, so a problem's prompt, solution and tests are one snippet;
  it is named `FILE#INDEX` (0-based), with its `task_id` (or `id`, `name`) when it has one;
- any other file of the suffixes below holds one snippet (named `FILE`);
- a folder: every such file under it, in path order.

A pair's instruction, input and output are each compared with every snippet by word
10-grams (identifiers, keywords and numbers, lower-cased: `dataprep.filters.dedup`'s
words; punctuation and layout do not count), the n-gram overlap the field uses for
benchmark decontamination. A field copies a snippet when they share at least
`MIN_SHARED` 10-grams and at least `OVERLAP` of the smaller side's: a pair that pastes a
benchmark solution, or a problem that quotes most of a pair's answer, both count;
a common line of boilerplate (`public static void main(String[] args)`) does not.

Example:
    index = BenchmarkIndex.load(["bench/humaneval-x-java.jsonl"])
    index.match("public int add(int a, int b) { return a + b; } ...")
        -> ("humaneval-x-java.jsonl#12 (Java/12)", 0.93) or None
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataprep.errors import InputError
from dataprep.filters.dedup import _grams, _words

SIZE = 10
"""Words per n-gram."""
OVERLAP = 0.5
"""Shared n-grams over the smaller side's n-grams from which a field copies a snippet."""
MIN_SHARED = 3
"""Fewest shared n-grams (12 words in a row) for a copy: a shared line is not one."""
RECORD_SUFFIXES = (".jsonl", ".json", ".parquet")
TEXT_SUFFIXES = (".txt", ".java", ".kt", ".py", ".c", ".cpp", ".js", ".ts", ".go", ".rs")
_NAME_KEYS = ("task_id", "id", "name", "problem_id")
OPTION = "--decontaminate-against"


@dataclass
class Snippet:
    name: str
    grams: set[int]


@dataclass
class BenchmarkIndex:
    """Snippets by name, and an inverted index from an n-gram's hash to its snippets."""

    snippets: list[Snippet] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)
    """(path, sha256) of every file read: the decontamination stage's fingerprint."""
    postings: dict[int, list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls, paths: list[str | Path]) -> BenchmarkIndex:
        """Read every snippet of `paths`; a missing, unknown or malformed one is a
        one-line InputError naming it."""
        index = cls()
        for path in files_of(paths):
            for name, text in _snippets_of(path):
                grams = _hashed(text)
                if not grams:
                    continue
                sid = len(index.snippets)
                index.snippets.append(Snippet(name, grams))
                for g in grams:
                    index.postings.setdefault(g, []).append(sid)
            index.files.append((str(path), _sha256(path)))
        if not index.snippets:
            shown = ", ".join(str(p) for p in paths)
            raise InputError(
                f"{OPTION} {shown}: no snippet of {SIZE} words or more was found; give "
                "files with the benchmark's problems and solutions (.jsonl, .json, .parquet, "
                "or one snippet per .java/.txt file)"
            )
        return index

    def match(self, text: str) -> tuple[str, float] | None:
        """The snippet `text` copies most (name, overlap), or None."""
        grams = _hashed(text)
        if not grams:
            return None
        shared: dict[int, int] = {}
        for g in grams:
            for sid in self.postings.get(g, ()):
                shared[sid] = shared.get(sid, 0) + 1
        best = None  # the highest overlap, the first snippet among equals
        for sid in sorted(shared):
            if shared[sid] < MIN_SHARED:
                continue
            score = shared[sid] / min(len(grams), len(self.snippets[sid].grams))
            if score >= OVERLAP and (best is None or score > best[1]):
                best = (sid, score)
        if best is None:
            return None
        return self.snippets[best[0]].name, round(best[1], 3)


def _hashed(text: str) -> set[int]:
    words = _words(text)
    if len(words) < SIZE:
        return set()
    digest = hashlib.blake2b
    return {
        int.from_bytes(digest(g.encode("utf-8"), digest_size=8).digest(), "big")
        for g in _grams(words, SIZE)
    }


def _sha256(path: Path) -> str:
    from dataprep.outdir import sha256_file

    return sha256_file(path)


def files_of(paths: list[str | Path]) -> list[Path]:
    """The snippet files `paths` name (a folder's, in path order); a missing path or a file
    of another kind is a one-line InputError."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            inside = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in (*RECORD_SUFFIXES, *TEXT_SUFFIXES)
            )
            if not inside:
                raise InputError(
                    f"{OPTION} {raw}: the folder holds no .jsonl, .json, .parquet, .java or "
                    ".txt file: name the benchmark's files"
                )
            found.extend(inside)
        elif path.is_file():
            if path.suffix.lower() not in (*RECORD_SUFFIXES, *TEXT_SUFFIXES):
                raise InputError(
                    f"{OPTION} {raw}: {path.suffix or 'a file without suffix'} is not read; "
                    "give .jsonl, .json, .parquet, or .java/.txt files of one snippet each"
                )
            found.append(path)
        else:
            raise InputError(f"{OPTION} {raw}: no such file or folder: check the path")
    return found


def _snippets_of(path: Path) -> list[tuple[str, str]]:
    suffix = path.suffix.lower()
    try:
        if suffix in TEXT_SUFFIXES:
            return [(path.name, path.read_text(encoding="utf-8", errors="replace"))]
        records = _records(path, suffix)
    except InputError:
        raise
    except (OSError, ValueError) as exc:
        what = " ".join(str(exc).split())[:120]
        raise InputError(
            f"{OPTION} {path}: cannot be read ({what}): fix or leave out the file"
        ) from None
    out = []
    for i, record in enumerate(records):
        label = f"{path.name}#{i}"
        if isinstance(record, dict):
            ident = next((record[k] for k in _NAME_KEYS if isinstance(record.get(k), str)), None)
            if ident:
                label += f" ({ident})"
        out.append((label, _text(record)))
    return out


def _records(path: Path, suffix: str) -> list[Any]:
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path).to_pylist()
        except Exception as exc:  # pyarrow's errors are many kinds
            raise ValueError(str(exc)) from None
    text = path.read_text(encoding="utf-8")
    if suffix == ".jsonl":
        records = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except ValueError:
                    raise InputError(
                        f"{OPTION} {path}: line {n} is not JSON: fix or leave out the file"
                    ) from None
        return records
    data = json.loads(text)
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
        return list(data.values())
    return [data]


def _text(value: Any) -> str:
    """A record's strings, joined (keys and numbers left out)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(t for t in (_text(v) for v in value.values()) if t)
    if isinstance(value, list):
        return "\n".join(t for t in (_text(v) for v in value) if t)
    return ""


def fingerprint(paths: list[str | Path]) -> list[tuple[str, str]]:
    """(path, sha256) of the snippet files: a changed file re-runs the stage."""
    return [(str(p), _sha256(p)) for p in files_of(paths)]


__all__ = ["BenchmarkIndex", "fingerprint", "files_of", "OPTION"]
