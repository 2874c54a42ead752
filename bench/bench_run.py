"""`dataprep run` benchmark on a real repository: N files of the JDK's java.base sources.

Prints, from one run, side by side:
- the first run's wall time and each stage's share (goal: well under a minute for a few
  hundred files);
- a second run on the unchanged tree (goal: no stage does work again; a fraction of a second);
- a run after editing one file (only that file is re-sliced and regenerated).

The corpus comes from `openjdk-17-source` (apt-get install -y openjdk-17-source): the first
N files of java.base/java/util in path order, copied to a temporary folder.

    .venv/bin/python bench/bench_run.py [--files 300] [--jobs 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import zipfile
from pathlib import Path

SRC_ZIPS = (
    "/usr/lib/jvm/openjdk-17/lib/src.zip",
    "/usr/lib/jvm/java-17-openjdk-amd64/lib/src.zip",
)


def corpus(dest: Path, files: int) -> Path:
    """Unpack the first `files` Java files of java.base/java/util into dest."""
    src = next((Path(p) for p in SRC_ZIPS if Path(p).is_file()), None)
    if src is None:
        raise SystemExit("no JDK sources: apt-get install -y openjdk-17-source")
    with zipfile.ZipFile(src) as zf:
        names = sorted(
            n for n in zf.namelist() if n.startswith("java.base/java/util/") and n.endswith(".java")
        )[:files]
        for name in names:
            zf.extract(name, dest)
    return dest


def timed_run(repo: Path, out: Path, jobs: int) -> tuple[float, dict]:
    from dataprep.pipeline import RunConfig, run_pipeline

    start = time.perf_counter()
    summary = run_pipeline(RunConfig(path=repo, out=out, jobs=jobs))
    return time.perf_counter() - start, summary


def line(label: str, seconds: float, summary: dict) -> str:
    stages = ", ".join(f"{k} {v:.1f}" for k, v in summary["timings"].items())
    sl = summary["counters"]["slice"]
    gen = summary["counters"].get("generate", {})
    return (
        f"{label:14} {seconds:7.1f} s  (sliced {sl['sliced']}, units regenerated "
        f"{gen.get('units_generated', 0)}; stages: {stages})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = corpus(Path(tmp) / "jdk", args.files)
        out = Path(tmp) / "out"
        lines = sum(p.read_text().count("\n") for p in repo.rglob("*.java"))
        print(f"corpus: {args.files} files, {lines} lines of java.base/java/util; jobs {args.jobs}")
        first, summary = timed_run(repo, out, args.jobs)
        units = sum(summary["units_by_kind"].values())
        pairs = sum(summary["pairs_by_task"].values())
        print(line("first run", first, summary))
        print(f"{'':14} {units} units, {pairs} pairs kept, rows {summary['rows_per_split']}")
        again, summary = timed_run(repo, out, args.jobs)
        print(line("unchanged", again, summary))
        edited = sorted(repo.rglob("*.java"))[0]
        text = edited.read_text().rstrip()
        edited.write_text(text.removesuffix("}") + "\n    int benchEdit() { return 1; }\n}\n")
        after, summary = timed_run(repo, out, args.jobs)
        print(line("one file edited", after, summary))


if __name__ == "__main__":
    main()
