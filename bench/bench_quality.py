"""Quality measures (dataprep.quality) of a `dataprep run`, on the fixture and on a repository.

Prints, for each dataset, the measure / value / goal / status table of the quality goals,
three examples of each defect found, the share of each family, and how long the run and
the measures took:

- (a) the fixture `fixtures/hotel-booking` (always, unless --no-fixture);
- (b) PATH when given, e.g. the JDK's java.base sources. With --limit-files N the run is
  on a stratified subset: every k-th source file of PATH in path order (k = files / N),
  copied with its relative path, so every package is represented.

    .venv/bin/python bench/bench_quality.py /work/jdk/java.base --limit-files 300 [--jobs 2]

java.base: mkdir -p /work/jdk && cd /work/jdk &&
unzip -q -o /usr/lib/jvm/openjdk-17/lib/src.zip 'java.base/*'
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "hotel-booking"


def subset(src: Path, dest: Path, limit: int) -> tuple[Path, int, int]:
    """Copy `limit` files of `src` spread evenly over its path order (about every k-th
    file) to `dest`; returns (dest, copied, total)."""
    files = sorted(p for p in src.rglob("*") if p.is_file() and not p.is_symlink())
    n = min(limit, len(files))
    chosen = [files[i * len(files) // n] for i in range(n)]
    for path in chosen:
        target = dest / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return dest, len(chosen), len(files)


def run(repo: Path, out: Path, jobs: int) -> tuple[float, dict]:
    """`dataprep run REPO --out OUT`, then the measures over its store; returns (seconds of
    the run, quality). Measured here rather than read from report.json, so a rerun into
    the same OUT shows the current measures even when the report stage is skipped."""
    from dataprep.pipeline import RunConfig, run_pipeline
    from dataprep.quality import COVERED_KINDS, measure_quality
    from dataprep.splits import held_out_paths
    from dataprep.store import Store

    start = time.perf_counter()
    run_pipeline(RunConfig(path=repo, out=out, jobs=jobs))
    seconds = time.perf_counter() - start
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert "quality" in report, "report.json has no quality section"
    with Store.open(out, create=False) as store:
        pairs = store.kept_pairs()
        # coverage of the files in training, as the report measures it: a held-out file's
        # code is never trained on
        held = held_out_paths(store.pairs(), store.splits())
        units = [u for kind in COVERED_KINDS for u in store.units(kind) if u.path not in held]
    return seconds, measure_quality(pairs, units)


def indent(text: str, prefix: str = "        ") -> str:
    return "\n".join(prefix + line for line in text.splitlines()) or prefix + '""'


def print_quality(name: str, seconds: float, quality: dict, examples: int) -> None:
    print(f"\n== {name}: {quality['rows']} rows; run {seconds:.1f} s, ", end="")
    print(f"quality measures {quality['seconds']:.2f} s")
    print(f"{'measure':64} {'value':>7} {'count':>7} {'of':>7}  {'goal':8} status")
    for m in quality["measures"].values():
        status = "met" if m["passed"] else "MISSED"
        counts = f"{m['count']:>7} {m['of']:>7}"
        print(f"{m['title']:64} {m['display']:>7} {counts}  {m['goal']:8} {status}")
    print(quality["met"], "of", quality["goals"], "goals met")
    families = ", ".join(
        f"{f} {v['share'] * 100:.1f}%{'' if v['knowledge'] else ' (trivia)'}"
        for f, v in quality["families"].items()
    )
    print(f"families: {families}")
    for m in quality["measures"].values():
        if not m["examples"] or not examples:
            continue
        print(f"\n-- {m['title']} ({m['display']}): examples")
        for x in m["examples"][:examples]:
            if "task" not in x:  # an uncovered unit
                print(f"   {x['kind']} {x['name']} ({x['path']})")
                continue
            why = f" [{x['why']}]" if x.get("why") else ""
            print(f"   {x['id']} {x['task']}{why}")
            print(f"     instruction: {x['instruction']}")
            if x["input"]:
                print("     input:\n" + indent(x["input"]))
            print("     output:\n" + indent(x["output"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, help="a repository, e.g. java.base")
    parser.add_argument("--limit-files", type=int, help="run on every k-th file, N in all")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--examples", type=int, default=3)
    parser.add_argument("--no-fixture", action="store_true")
    parser.add_argument("--keep", type=Path, help="write the runs under this folder")
    args = parser.parse_args()
    if args.path and not (args.path.is_dir() and any(args.path.rglob("*.java"))):
        raise SystemExit(
            f"error: {args.path} is not a folder of Java sources: give one, e.g. "
            "/work/jdk/java.base (unzip -q /usr/lib/jvm/openjdk-17/lib/src.zip 'java.base/*' "
            "in /work/jdk)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        if not args.no_fixture:
            seconds, quality = run(FIXTURE, base / "fixture-out", args.jobs)
            print_quality(f"fixture {FIXTURE.name}", seconds, quality, args.examples)
        if args.path:
            repo, name = args.path, args.path.name
            if args.limit_files:
                repo, n, total = subset(args.path, base / "subset" / name, args.limit_files)
                name = f"{name} (every {total / n:.1f}th file: {n} of {total})"
            seconds, quality = run(repo, base / f"{args.path.name}-out", args.jobs)
            print_quality(name, seconds, quality, args.examples)


if __name__ == "__main__":
    main()
