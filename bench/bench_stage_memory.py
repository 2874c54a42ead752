"""Peak memory of each stage of `dataprep run`, alone, at two sizes of one repository.

For each size (every 8th and every 4th file of the JDK's java.base, or of PATH), one
`dataprep run`, then each stage run again alone in a fresh process on a copy of its
store, sampled every 50 ms: the peak of anonymous memory (what the stage holds), of
file-backed pages (memory-mapped files: the store, the Arrow files; the kernel can take
them back) and of the whole RSS. Then the growth of each stage's anonymous peak from the
smaller size to the larger (goal: flat, memory that does not grow with the repository).

    .venv/bin/python bench/bench_stage_memory.py [PATH] [--sizes 8,4] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_scale import DATAPREP, java_base  # noqa: E402

STAGES = ("generate", "filter", "balance", "split", "decontaminate", "export", "report")

# Run in a child: one stage of a finished store, its memory sampled from /proc/self/status.
CHILD = r"""
import json, sys, threading, time
from pathlib import Path
from dataprep import pipeline, procs
from dataprep.settings import RunConfig
from dataprep.stages import Context
from dataprep.store import Store

out, repo, stage = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
peak = {"RssAnon": 0, "RssFile": 0, "VmRSS": 0}
done = threading.Event()

def sample():
    while not done.is_set():
        with open("/proc/self/status") as fh:
            for line in fh:
                key = line.split(":")[0]
                if key in peak:
                    peak[key] = max(peak[key], int(line.split()[1]))
        time.sleep(0.05)

run = {"generate": pipeline.generate_stage, "filter": pipeline._filter,
       "balance": pipeline._balance, "split": pipeline._split,
       "decontaminate": pipeline._decontaminate, "export": pipeline._export,
       "report": pipeline._report}[stage]
cfg = RunConfig(path=repo, out=out)
procs.set_jobs(cfg.jobs)
with Store.open(out) as store:
    if stage == "generate":
        store.set_meta("pipeline.templates", None)  # resolve again, from the cached candidates
    ctx = Context(store=store, config=cfg, run_id=None, info={"repo": repo.name})
    threading.Thread(target=sample, daemon=True).start()
    started = time.perf_counter()
    run(ctx)
    seconds = time.perf_counter() - started
done.set()
time.sleep(0.1)
print(json.dumps({**{k: v // 1024 for k, v in peak.items()}, "seconds": round(seconds, 1)}))
"""


def subset(root: Path, every: int, dest: Path) -> Path:
    """Every `every`-th file of `root` (in path order), copied: the same mix, smaller."""
    for path in sorted(p for p in root.rglob("*") if p.is_file())[::every]:
        target = dest / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return dest


def stage_peaks(repo: Path, out: Path) -> dict[str, dict]:
    done = subprocess.run([DATAPREP, "run", str(repo), "--out", str(out)], capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"dataprep run failed:\n{done.stderr.decode()[-2000:]}")
    peaks = {}
    for stage in STAGES:
        copy = out.with_name(out.name + "-" + stage)
        shutil.copytree(out, copy)
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(copy), str(repo), stage],
            capture_output=True,
            text=True,
        )
        if child.returncode != 0:
            raise SystemExit(f"{stage} failed:\n{child.stderr[-2000:]}")
        peaks[stage] = json.loads(child.stdout.strip().splitlines()[-1])
        shutil.rmtree(copy)
    return peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path)
    parser.add_argument("--sizes", default="8,4", help="every N-th file, for each N (8,4)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-stage-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        root = args.path or java_base(work / "src")
        results = {}
        for every in (int(n) for n in args.sizes.split(",")):
            repo = subset(root, every, work / f"every{every}")
            lines = sum(p.read_bytes().count(b"\n") for p in repo.rglob("*.java"))
            results[every] = stage_peaks(repo, work / f"out{every}")
            print(f"every {every}th file ({lines:,} Java lines): peak MB anon / file / RSS")
            for stage, peak in results[every].items():
                print(
                    f"  {stage:14s} {peak['RssAnon']:6d} {peak['RssFile']:6d} "
                    f"{peak['VmRSS']:6d}   {peak['seconds']:6.1f} s"
                )
        if len(results) < 2:
            return
        small, large = (results[n] for n in sorted(results, reverse=True)[:2])
        print("anonymous peak, smaller -> larger size:")
        for stage in STAGES:
            a, b = small[stage]["RssAnon"], large[stage]["RssAnon"]
            print(f"  {stage:14s} {a:6d} -> {b:6d} MB  ({b - a:+d} MB, {b / max(a, 1):.2f}x)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
