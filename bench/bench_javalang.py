"""javalang against tree-sitter, file by file, on the Java 8 files of a corpus.

For every file of the corpus (default: the JDK 17 java.base tree that bench_slice.py
unpacks), both backends slice the same text in this process; files javalang refuses
(Java 9+ syntax) are counted and left out of the rates. Prints lines/s of each backend
over the files javalang reads, their ratio, and whether the units came out identical.

    .venv/bin/python bench/bench_javalang.py [--corpus DIR] [--files N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def compare_backends(root: Path, limit: int | None = None) -> dict:
    """Slice each .java file under `root` with both backends; time them side by side."""
    from dataprep.languages.java import javalang_backend
    from dataprep.languages.java import slicer as java

    paths = sorted(root.rglob("*.java"))[:limit]
    totals = {"files": 0, "refused": 0, "lines": 0, "ts": 0.0, "jl": 0.0, "same": 0}
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        rel = path.relative_to(root).as_posix()
        start = time.perf_counter()
        jl_units, errors = javalang_backend.slice_java(rel, text, "bench", None)
        middle = time.perf_counter()
        if errors:
            totals["refused"] += 1
            continue
        ts_units, _ = java.slice_java(rel, text, "bench", None)
        end = time.perf_counter()
        totals["files"] += 1
        totals["lines"] += text.count("\n") + 1
        totals["jl"] += middle - start
        totals["ts"] += end - middle
        totals["same"] += [u.model_dump() for u in jl_units] == [u.model_dump() for u in ts_units]
    return totals


def report(totals: dict) -> str:
    """The figures as printed lines."""
    lines, jl, ts = totals["lines"], totals["jl"], totals["ts"]
    return "\n".join(
        [
            f"javalang slice (Java 8 files)   : {lines / jl:>10,.0f} lines/s  ({jl:.1f} s)",
            f"tree-sitter slice (same files)  : {lines / ts:>10,.0f} lines/s  ({ts:.1f} s)",
            f"tree-sitter speed-up            : {jl / ts:>10.1f}x",
            f"files read by javalang          : {totals['files']:>10,} ({lines:,} lines); "
            f"{totals['refused']:,} refused (Java 9+ syntax)",
            f"files with identical units      : {totals['same']:>10,} of {totals['files']:,}",
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, help="Java source tree (default: JDK 17 java.base)")
    ap.add_argument("--files", type=int, help="only the first N files (sorted by path)")
    args = ap.parse_args()
    if args.corpus is None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_slice import corpus_dir

        args.corpus = corpus_dir()
    print(f"corpus: {args.corpus}")
    print(report(compare_backends(args.corpus, args.files)))


if __name__ == "__main__":
    main()
