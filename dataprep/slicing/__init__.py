"""Slicing: a repository in, logical units out (types, members, file headers, doc sections).

    result = slice_repo("fixtures/hotel-booking", parser="tree-sitter", jobs=2)
    result.units          # list[Unit], in path order, each file's units in source order
    result.skipped        # [(path, reason)] for every file or folder not sliced
    result.parse_errors   # ["PATH:LINE: ..."]

Source files go to their language's slicer (dataprep.languages: Java, Kotlin), the one of
the chosen parser when the language has it (`PARSERS`: "tree-sitter", the default, and
Java's "javalang"); Markdown, AsciiDoc, reStructuredText and plain text go to the doc
slicer; Spring configuration, SQL and view templates to the config slicer (config.py,
sql.py). Each slicer is a function `(relpath, text, repo, commit) -> (units, errors)`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pydantic_core

from dataprep import languages
from dataprep.errors import InputError
from dataprep.models import Unit
from dataprep.slicing import configfiles
from dataprep.slicing.walk import (
    UNREADABLE,
    UNSUPPORTED,
    FileEntry,
    content_skip,
    decode,
    iter_files,
    language_of,
    read_bytes,
    repo_info,
)

__all__ = [
    "PARSERS",
    "SLICER_VERSION",
    "FileEntry",
    "FileResult",
    "SliceResult",
    "iter_files",
    "repo_info",
    "slice_file",
    "slice_repo",
]

# every language's parser backends, by name (each imported on first use, so javalang loads
# only when asked)
PARSERS: tuple[str, ...] = languages.parsers()
DEFAULT_PARSER = languages.DEFAULT_PARSER
# Bump when the units a given file yields change (callers cache slices under it).
SLICER_VERSION = "4"


@dataclass
class FileResult:
    """What slicing one file gave: its units, syntax errors, warnings, or why it was skipped."""

    units: list[Unit] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: str | None = None
    lines: int = 0


@dataclass
class SliceResult:
    """The outcome of slicing a repository.

    Units are kept as their JSON Lines text (compact, and cheap to hand from worker
    processes to the parent); `units` turns them into `Unit` records on first use and
    `write_jsonl` writes the text as it is.
    """

    root: str
    repo: str
    commit: str | None
    parser: str
    parsed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    parse_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lines: int = 0
    kinds: Counter = field(default_factory=Counter)
    _jsonl: list[bytes] = field(default_factory=list, repr=False)
    _units: list[Unit] | None = field(default=None, repr=False)

    @property
    def units(self) -> list[Unit]:
        """All units, in path order and each file's in source order."""
        if self._units is None:
            self._units = list(self.iter_units())
        return self._units

    def iter_units(self) -> Iterator[Unit]:
        for chunk in self._jsonl:
            for line in chunk.split(b"\n")[:-1]:
                yield Unit.model_validate_json(line)

    def jsonl(self) -> str:
        """The units as JSON Lines (one `Unit.model_dump_json()` a line)."""
        return b"".join(self._jsonl).decode("utf-8")

    def write_jsonl(self, handle: BinaryIO) -> None:
        """Write the units as UTF-8 JSON Lines to a binary file."""
        for chunk in self._jsonl:
            handle.write(chunk)

    def skipped_by_reason(self) -> Counter:
        return Counter(reason for _, reason in self.skipped)

    def units_by_kind(self) -> Counter:
        return Counter(self.kinds)


@dataclass
class _Packed:
    """A FileResult as it travels back from a worker: units as JSON Lines text."""

    jsonl: bytes
    kinds: Counter
    errors: list[str]
    warnings: list[str]
    skipped: str | None
    lines: int

    @classmethod
    def of(cls, result: FileResult) -> _Packed:
        jsonl = b"".join(
            unit.__pydantic_serializer__.to_json(unit) + b"\n" for unit in result.units
        )
        kinds = Counter(unit.kind for unit in result.units)
        return cls(jsonl, kinds, result.errors, result.warnings, result.skipped, result.lines)


def java_backend(parser: str) -> languages.SliceFunction:
    """The Java slicing function registered under `parser`, after checking that some
    language offers `parser` and that it imports (InputError naming the fix otherwise).

    Example: java_backend("tree-sitter")("A.java", "class A {}", "repo", None)
    """
    languages.slicer_for(parser)
    return languages.get("java").slicer(parser)


def slice_file(
    root: str | os.PathLike,
    relpath: str,
    data: bytes,
    parser: str = DEFAULT_PARSER,
    repo: str | None = None,
    commit: str | None = None,
) -> FileResult:
    """Slice one file's bytes (path relative to `root`, POSIX) into units.

    Content checks happen here: binary, generated and over-size files come back with
    `skipped` set; a file that is not UTF-8 is decoded after charset detection, with a
    warning naming the encoding.
    Example: slice_file(".", "A.java", b"class A { void f() {} }").units -> [class A, method A.f]
    """
    if repo is None:
        repo = Path(root).resolve().name
    language, text, warnings, skip = _prepare(relpath, data)
    if skip is not None:
        return FileResult(warnings=warnings, skipped=skip)
    source = languages.find(language)
    if source is not None:
        units, errors = source.slicer(parser)(relpath, text, repo, commit)
    elif language in configfiles.LANGUAGES:
        from dataprep.slicing.config import slice_config

        units, errors = slice_config(relpath, text, repo, commit, language)
    else:
        from dataprep.slicing.docs import slice_doc

        units, errors = slice_doc(relpath, text, repo, commit, language)
    return FileResult(units, list(errors), warnings, None, text.count("\n") + 1)


def _prepare(relpath: str, data: bytes) -> tuple[str, str, list[str], str | None]:
    """(language, text, warnings, skip reason) of a file's bytes."""
    language = language_of(relpath)
    if language is None:
        return "", "", [], UNSUPPORTED
    reason = content_skip(data, language)
    if reason is not None:
        return language, "", [], reason
    text, warning = decode(data)
    return language, text, [f"{relpath}: {warning}"] if warning else [], None


def slice_file_rows(
    relpath: str, data: bytes, parser: str, repo: str, commit: str | None
) -> tuple[FileResult, list[dict]] | None:
    """`slice_file` for a language with a rows fast path (Java with tree-sitter): the
    result without units, and the units as plain rows (every `Unit` field in field order,
    what `Unit(**row).model_dump()` gives, empty lists as ()), without building `Unit`
    records, which would cost about as much as parsing the file. None for the others."""
    source = languages.find(language_of(relpath))
    slice_rows = source.row_slicer(parser) if source is not None else None
    if slice_rows is None:
        return None
    language, text, warnings, skip = _prepare(relpath, data)
    if skip is not None:
        return FileResult(warnings=warnings, skipped=skip), []
    src = data if not warnings and not data.startswith(b"\xef\xbb\xbf") else None
    rows, errors = slice_rows(relpath, text, repo, commit, src)
    return FileResult([], list(errors), warnings, None, text.count("\n") + 1), rows


def _pack_file(relpath: str, data: bytes, parser: str, repo: str, commit: str | None) -> _Packed:
    """slice_file, packed; a language with a rows fast path (`slice_file_rows`) has its
    rows go straight to JSON (the same bytes as the Unit records would write)."""
    sliced = slice_file_rows(relpath, data, parser, repo, commit)
    if sliced is None:
        return _Packed.of(slice_file("", relpath, data, parser, repo, commit))
    result, rows = sliced
    if result.skipped is not None:
        return _Packed(b"", Counter(), [], result.warnings, result.skipped, 0)
    # one row's JSON a line (what `Unit(**row).model_dump_json()` writes), joined in C
    jsonl = b"\n".join(map(pydantic_core.to_json, rows)) + b"\n" if rows else b""
    kinds = Counter([row["kind"] for row in rows])
    return _Packed(jsonl, kinds, result.errors, result.warnings, None, result.lines)


def _slice_paths(root: str, paths: list[str], parser: str, repo: str, commit: str | None):
    """Worker: slice a chunk of files, reading each from disk: [(relpath, _Packed)]."""
    results = []
    for relpath in paths:
        try:
            data = read_bytes(root, relpath)
        except OSError as exc:
            packed = _Packed(b"", Counter(), [], [f"{relpath}: {exc}"], UNREADABLE, 0)
        else:
            packed = _pack_file(relpath, data, parser, repo, commit)
        results.append((relpath, packed))
    return results


def _chunks(paths: list[str], sizes: dict[str, int], jobs: int) -> list[list[str]]:
    """Split files into about 8 chunks per job of similar total size (largest first),
    so both the start-up cost and the tail of the run stay small."""
    count = max(1, min(len(paths), jobs * 8))
    chunks: list[list[str]] = [[] for _ in range(count)]
    loads = [0] * count
    for path in sorted(paths, key=lambda p: -sizes.get(p, 0)):
        i = loads.index(min(loads))
        chunks[i].append(path)
        loads[i] += sizes.get(path, 0) + 512
    return [c for c in chunks if c]


def slice_repo(
    root: str | os.PathLike,
    parser: str = DEFAULT_PARSER,
    jobs: int = 1,
    on_file: Callable[[str], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> SliceResult:
    """Walk and slice a repository. `on_total(n)` is told how many files will be read and
    `on_file(path)` is called as each is done (the CLI drives its progress bar with
    them); `jobs` > 1 slices in that many processes, in chunks of files.

    Raises InputError when `root` is not a folder or holds nothing to slice.
    """
    root_path = Path(root)
    if not root_path.exists():
        raise InputError(f"{root}: no such folder: give the path of a repository checkout")
    if not root_path.is_dir():
        raise InputError(f"{root}: not a folder: give the path of a repository checkout")
    languages.slicer_for(parser)  # fail early on an unknown or missing parser
    repo, commit = repo_info(root_path)
    result = SliceResult(str(root_path), repo, commit, parser)
    todo: list[str] = []
    for entry in iter_files(root_path):
        if entry.skip is None:
            todo.append(entry.path)
        else:
            result.skipped.append((entry.path, entry.skip))
    if not todo and not result.skipped:
        raise InputError(
            f"{root}: the folder is empty: point dataprep at a repository with Java or docs"
        )
    if on_total is not None:
        on_total(len(todo))
    resolved = str(root_path.resolve())
    for relpath, packed in sorted(
        _run(resolved, todo, parser, repo, commit, jobs, on_file), key=lambda item: item[0]
    ):
        _collect(result, relpath, packed)
    result.skipped.sort()
    if not result.parsed:
        raise InputError(
            f"{root}: no Java or documentation files to slice "
            f"({len(result.skipped)} skipped): point dataprep at a repository with Java or docs"
        )
    return result


def _run(
    root: str, todo: list[str], parser: str, repo: str, commit: str | None, jobs: int, on_file
):
    """(relpath, _Packed) for every file, in one process or `jobs` processes."""
    done: list[tuple[str, _Packed]] = []

    def record(items: Iterable[tuple[str, _Packed]]) -> None:
        for relpath, packed in items:
            done.append((relpath, packed))
            if on_file is not None:
                on_file(relpath)

    if jobs <= 1 or len(todo) < 2:
        for relpath in todo:
            record(_slice_paths(root, [relpath], parser, repo, commit))
        return done
    sizes = {}
    for relpath in todo:
        try:
            sizes[relpath] = os.path.getsize(os.path.join(root, relpath))
        except OSError:
            sizes[relpath] = 0
    from dataprep.procs import process_pool

    with process_pool(jobs) as pool:
        futures = [
            pool.submit(_slice_paths, root, chunk, parser, repo, commit)
            for chunk in _chunks(todo, sizes, jobs)
        ]
        for future in as_completed(futures):
            record(future.result())
    return done


def _collect(result: SliceResult, relpath: str, packed: _Packed) -> None:
    result.warnings.extend(packed.warnings)
    if packed.skipped is not None:
        result.skipped.append((relpath, packed.skipped))
        return
    result.parsed.append(relpath)
    result._jsonl.append(packed.jsonl)
    result.kinds.update(packed.kinds)
    result.parse_errors.extend(packed.errors)
    result.lines += packed.lines
