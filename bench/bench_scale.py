"""How `dataprep run` grows with the repository: half of the JDK's java.base, then all of it.

Prints, for each size, side by side in one process:
- the bare tree-sitter parse of the same files (one core; the fastest of four, two before
  the run and two after) and `run`'s wall time, and their ratio (goal: at most 40x), with
  the ratio to the median parse and the run's CPU seconds beside it;
- `run`'s peak RSS (a child process, so each size is measured alone; goal: at most 1 GB,
  and flat between half and all): that of its largest single process, the main one or a
  worker it waited for (Linux's RUSAGE_CHILDREN keeps the largest descendant's peak, not
  the sum over the process tree; a forked worker counts the parent's pages it maps);
- the time of each stage, the store's and the dataset's size against the source bytes
  (goal: the store at most 4x);
- an unchanged re-run (goal: at most 3 s).

The corpus comes from `openjdk-17-source` (apt-get install -y openjdk-17-source); pass a
folder to use another repository (its every other file is the half).

    .venv/bin/python bench/bench_scale.py [PATH] [--jobs 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

SRC_ZIPS = (
    "/usr/lib/jvm/openjdk-17/lib/src.zip",
    "/usr/lib/jvm/java-17-openjdk-amd64/lib/src.zip",
)
DATAPREP = str(Path(sys.executable).parent / "dataprep")


def java_base(dest: Path) -> Path:
    src = next((Path(p) for p in SRC_ZIPS if Path(p).is_file()), None)
    if src is None:
        raise SystemExit("no JDK sources: apt-get install -y openjdk-17-source, or pass a PATH")
    with zipfile.ZipFile(src) as zf:
        for name in zf.namelist():
            if name.startswith("java.base/") and not name.endswith("/"):
                zf.extract(name, dest)
    return dest / "java.base"


def half_of(root: Path, dest: Path) -> Path:
    """Every other file of `root` (in path order), copied: the same mix at half the size."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for path in files[::2]:
        target = dest / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return dest


def bare_parse(root: Path) -> tuple[float, int, int]:
    """Seconds to parse every .java file with tree-sitter on one core; lines; bytes."""
    import tree_sitter_java
    from tree_sitter import Language, Parser

    parser = Parser(Language(tree_sitter_java.language()))
    sources = [p.read_bytes() for p in sorted(root.rglob("*.java"))]
    start = time.perf_counter()
    for data in sources:
        parser.parse(data)
    seconds = time.perf_counter() - start
    return seconds, sum(d.count(b"\n") for d in sources), sum(len(d) for d in sources)


def run(repo: Path, out: Path, jobs: int) -> tuple[float, int, str, float]:
    """Wall seconds, peak RSS (KiB) of one `dataprep run` child, its output, and the CPU
    seconds (user and system) of it and the workers it waited for."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = used.ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(
        [DATAPREP, "run", str(repo), "--out", str(out), "--jobs", str(jobs)],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"dataprep run failed:\n{done.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime
    return seconds, max(after.ru_maxrss, before), done.stdout, cpu


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def formats_agree(dataset: Path) -> str:
    """Whether the streamed files hold the same rows: each split's JSONL, Parquet and
    DatasetDict (hf/), compared sorted by id on every column."""
    import datasets
    import pyarrow.parquet as pq

    hf = datasets.load_from_disk(str(dataset / "hf"))
    total = 0
    for split in hf:
        with open(dataset / f"{split}.jsonl", encoding="utf-8") as fh:
            jsonl = sorted((json.loads(line) for line in fh), key=lambda r: r["id"])
        parquet = sorted(
            pq.read_table(dataset / f"{split}.parquet").to_pylist(), key=lambda r: r["id"]
        )
        arrow = sorted(hf[split].to_list(), key=lambda r: r["id"])
        if not jsonl == parquet == arrow:
            return f"NO: the {split} split differs between JSONL, Parquet and hf/"
        total += len(jsonl)
    return f"yes ({total:,} rows in JSONL, Parquet and hf/)"


def measure(label: str, repo: Path, out: Path, jobs: int) -> dict:
    # the parse is timed twice before the run and twice after it, and the fastest counts: a
    # busy moment can only slow a parse, and a slow parse would flatter the ratio. On a
    # shared machine whose speed drifts by a third from minute to minute, the fastest parse
    # catches a quick minute that a run of minutes averages over: the ratio to the median
    # parse is printed beside it (the goal is read on the fastest)
    parses = [bare_parse(repo) for _ in range(2)]
    wall, _, stdout, cpu = run(repo, out, jobs)
    # peak RSS of this child alone: RUSAGE_CHILDREN keeps the maximum over all children,
    # so each size runs in its own bench process (see main)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    parses += [bare_parse(repo) for _ in range(2)]
    parse, lines, source_bytes = min(parses)
    median = statistics.median(p[0] for p in parses)
    again, _, _, _ = run(repo, out, jobs)
    runs = json.loads((out / "report.json").read_text())["timings"]["stages"]
    store = sum(size(p) for p in out.glob("dataprep.db*"))
    return {
        "label": label,
        "lines": lines,
        "source_mb": source_bytes / 1e6,
        "parse_s": parse,
        "parses_s": [round(p[0], 2) for p in parses],
        "run_s": wall,
        "ratio": wall / parse if parse else float("inf"),
        "median_ratio": wall / median if median else float("inf"),
        "cpu_s": cpu,
        "peak_mb": peak_kib / 1024,
        "rerun_s": again,
        "stages": runs,
        "store_mb": store / 1e6,
        "store_x": store / source_bytes,
        "dataset_mb": size(out / "dataset") / 1e6,
        "summary": [ln for ln in stdout.splitlines() if ln.startswith(("Pairs kept", "Rows"))],
        "formats": formats_agree(out / "dataset"),
    }


def report(row: dict) -> None:
    print(
        f"{row['label']:5} {row['lines']:>9,} lines  parse {row['parse_s']:6.1f} s  "
        f"run {row['run_s']:7.1f} s  = {row['ratio']:5.1f}x parse  peak {row['peak_mb']:6.0f} MB  "
        f"re-run {row['rerun_s']:5.1f} s  store {row['store_mb']:6.1f} MB "
        f"({row['store_x']:.1f}x the {row['source_mb']:.1f} MB of sources)  "
        f"dataset {row['dataset_mb']:.1f} MB"
    )
    print(
        "      bare parses: "
        + ", ".join(f"{p} s" for p in row["parses_s"])
        + f" (fastest counts; {row['median_ratio']:.1f}x the median); run CPU "
        f"{row['cpu_s']:.1f} s (user and system, all processes)"
    )
    print("      stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in row["stages"].items()))
    for text in row["summary"]:
        print("      " + text)
    print(f"      the dataset's formats agree: {row['formats']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", nargs="?", type=Path, help="a repository (default: java.base)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--keep", type=Path, help="write the corpora and runs under this folder")
    ap.add_argument("--only", choices=("half", "all"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    full = args.path or (work / "java.base")
    if args.path is None and not full.is_dir():
        java_base(work)
    half = work / "half"
    if not half.is_dir():
        half_of(full, half)
    if args.only:  # one size in this process, so its peak RSS is its own
        repo = half if args.only == "half" else full
        out = work / f"out-{args.only}"
        shutil.rmtree(out, ignore_errors=True)
        print(json.dumps(measure(args.only, repo, out, args.jobs)))
        return
    rows = []
    for only in ("half", "all"):
        cmd = [sys.executable, __file__, str(full), "--keep", str(work), "--jobs", str(args.jobs)]
        done = subprocess.run([*cmd, "--only", only], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(done.stderr[-2000:])
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        report(rows[-1])
    half_row, all_row = rows
    print(
        f"growth: {all_row['lines'] / half_row['lines']:.2f}x the lines took "
        f"{all_row['run_s'] / half_row['run_s']:.2f}x the time and "
        f"{all_row['peak_mb'] / half_row['peak_mb']:.2f}x the peak memory"
    )


if __name__ == "__main__":
    main()
