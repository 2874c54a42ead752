"""Many repositories on datatrove's local executor: 100 synthetic repositories, one dataset.

Builds 100 git repositories (about 5,000 Java files and 50,000 units): 70 originals, 20
forks (every file copied; a third of them edited: one literal changed, a statement added,
or a method rewritten; three files of their own) and 10 projects that vendor 15 files of
an original under `lib/`. Then prints, side by side in one run:
- the per-item phases (slice, cross-source dedup, generate) with 1 and 2 workers: wall
  time and peak RSS (the whole process tree, sampled), and the speed-up (goal >= 1.6x);
- the end-to-end `dataprep run --sources FILE --workers 2` (the 2-worker phases above,
  then merge, filter, balance, split, decontaminate, export, report): wall time and peak
  RSS (goal <= 10 min, <= 2 GB), and a re-run of the finished job (goal < 10% of it);
- dedup recall and precision against the planted truth: a planted pair is a unit of a
  fork or vendored copy and the same unit (kind, qualified name) of its original whose
  code 5-token shingles have Jaccard >= 0.85 (goals: recall >= 0.95, precision >= 0.99).
- LLM throughput against N fake servers: `--llm-servers N` calls the endpoint pool's
  benchmark hook when that module is installed (it is built apart from this one).

    .venv/bin/python bench/bench_scaleout.py [--repos 100] [--files 50] [--ray] [--kill-half]
        [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
DATAPREP = [sys.executable, "-c", "from dataprep.cli import main; main()"]
SYLLABLES = (
    "ka lo mi ne ru sa te vo zi ba do fu gi ha ji ku ma no pe qu ri so tu va we xo yu".split()
)
THRESHOLD = 0.85


# -- the corpus ----------------------------------------------------------------------------


def word(rng: random.Random, parts: int = 3) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts))


def method(rng: random.Random, fields: list[str]) -> tuple[str, str]:
    name = word(rng) + word(rng, 2).capitalize()
    arg, var = word(rng), word(rng)
    body = [f"        int {var} = {arg} * {rng.randint(2, 99)};"]
    for _ in range(rng.randint(4, 9)):
        op = rng.choice(["+", "-", "*", "%"])
        if rng.random() < 0.4:
            body.append(
                f"        if ({var} > {rng.randint(10, 9999)}) {{\n"
                f"            {var} = {var} {op} {rng.choice(fields)}.length();\n        }}"
            )
        else:
            other = rng.choice([arg, str(rng.randint(1, 999))])
            body.append(f"        {var} = {var} {op} {other};")
    body.append(f"        return {var};")
    text = (
        f"    /** Computes the {word(rng)} {word(rng)} of the {word(rng)}. */\n"
        f"    public int {name}(int {arg}) {{\n" + "\n".join(body) + "\n    }\n"
    )
    return name, text


def java_file(rng: random.Random, package: str) -> tuple[str, str]:
    cls = word(rng).capitalize() + word(rng, 2).capitalize()
    fields = [word(rng) for _ in range(3)]
    lines = [f"package {package};\n", "import java.util.List;", "import java.util.Map;\n"]
    lines.append(f"/** The {word(rng)} of a {word(rng)} {word(rng)}. */")
    lines.append(f"public class {cls} {{")
    for f in fields:
        lines.append(f"    private final String {f};")
    params = ", ".join(f"String {f}" for f in fields)
    assigns = " ".join(f"this.{f} = {f};" for f in fields)
    lines.append(f"\n    /** Creates a {cls}. */\n    public {cls}({params}) {{ {assigns} }}\n")
    for _ in range(5):
        lines.append(method(rng, fields)[1])
    lines.append("}\n")
    return cls, "\n".join(lines)


def edit(rng: random.Random, text: str) -> str:
    """A fork's edit of a file: one literal changed, a statement added, or a method rewritten."""
    kind = rng.choice(["literal", "statement", "rewrite"])
    methods = [
        m for m in re.finditer(r"    /\*\*.*?\n    }\n", text, re.S) if "public int" in m.group()
    ]
    target = max(methods, key=lambda m: len(m.group()))
    old = target.group()
    if kind == "literal":
        new = re.sub(r"\b(\d+)\b", lambda m: str(int(m.group(1)) + 1), old, count=1)
    elif kind == "statement":
        new = old.replace("        return", "        // tuned in the fork\n        return", 1)
    else:
        new = method(rng, re.findall(r"private final String (\w+);", text))[1]
    return text.replace(old, new, 1)


def git_commit(repo: Path) -> None:
    env = dict(
        os.environ, GIT_AUTHOR_DATE="2026-01-01T00:00:00", GIT_COMMITTER_DATE="2026-01-01T00:00:00"
    )
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "synthetic"]):
        subprocess.run(
            ["git", "-c", "user.name=b", "-c", "user.email=b@example.com", *args],
            cwd=repo, check=True, env=env, capture_output=True,
        )  # fmt: skip


def make_corpus(root: Path, repos: int, files: int, seed: int = 0) -> tuple[list[Path], dict]:
    """The repositories in priority order and the planted copies: copy path -> original."""
    rng = random.Random(seed)
    n_fork, n_vendor = repos // 5, repos // 10
    n_orig = repos - n_fork - n_vendor
    paths, copies = [], {}
    originals = []
    for r in range(n_orig):
        name = f"orig{r:03d}"
        repo = root / name
        package = f"com.{word(rng)}.{word(rng, 2)}"
        folder = repo / "src/main/java" / package.replace(".", "/")
        folder.mkdir(parents=True)
        for _ in range(files):
            cls, text = java_file(rng, package)
            (folder / f"{cls}.java").write_text(text)
        (repo / "LICENSE").write_text(
            "MIT License\n\nPermission is hereby granted, free of charge, ...\n"
        )
        originals.append(repo)
        paths.append(repo)
    for f in range(n_fork):
        base = rng.choice(originals)
        repo = root / f"fork{f:03d}-{base.name}"
        shutil.copytree(base, repo)
        sources = sorted(repo.rglob("*.java"))
        for path in sources:
            rel = path.relative_to(repo).as_posix()
            copies[(repo.name, rel)] = (base.name, rel)
            if rng.random() < 0.33:
                path.write_text(edit(rng, path.read_text()))
        package = sources[0].read_text().split(";", 1)[0].removeprefix("package ")
        for _ in range(3):
            cls, text = java_file(rng, package)
            (sources[0].parent / f"{cls}.java").write_text(text)
        paths.append(repo)
    for v in range(n_vendor):
        base = rng.choice(originals)
        repo = root / f"app{v:03d}"
        package = f"org.{word(rng)}.{word(rng, 2)}"
        folder = repo / "src/main/java" / package.replace(".", "/")
        folder.mkdir(parents=True)
        for _ in range(files // 2):
            cls, text = java_file(rng, package)
            (folder / f"{cls}.java").write_text(text)
        for src in sorted(base.rglob("*.java"))[:15]:
            rel = src.relative_to(base).as_posix()
            dest = repo / "lib" / base.name / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
            copies[(repo.name, f"lib/{base.name}/{rel}")] = (base.name, rel)
        paths.append(repo)
    for repo in paths:
        git_commit(repo)
    return paths, copies


# -- measuring ------------------------------------------------------------------------------


def measure(cmd: list[str], env: dict) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds and peak RSS (MB, the process tree summed, sampled every 0.1 s)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, done = 0, threading.Event()

    def sample():
        nonlocal peak
        try:
            top = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not done.is_set():
            try:
                procs = [top, *top.children(recursive=True)]
                total = 0
                for p in procs:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
                peak = max(peak, total)
            except psutil.Error:
                pass
            done.wait(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    stdout, stderr = proc.communicate()
    done.set()
    thread.join()
    wall = time.perf_counter() - start
    result = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    if proc.returncode != 0:
        print(stdout[-2000:], stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"failed: {' '.join(cmd[3:])}")
    return wall, peak / 1e6, result


PHASES = """
import sys
from pathlib import Path
from dataprep import outdir, sources as src
from dataprep.pipeline import RunConfig
from dataprep.scaleout.executors import quiet_logs
from dataprep.scaleout.runner import ScaleOptions, run_items
from dataprep.store import Store

if __name__ == "__main__":
    listing, out, workers = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    executor = sys.argv[4] if len(sys.argv) > 4 else "local"
    specs = src.read_specs([], listing)
    sources = [src.resolve(s, i) for i, s in enumerate(specs)]
    src.unique_names(sources)
    for s in sources:
        src.checkout(s)
    quiet_logs()
    out.mkdir(parents=True, exist_ok=True)
    with outdir.locked(out):
        Store.open(out).close()  # the store first, as `dataprep run` makes it
        opts = ScaleOptions(workers=workers, executor=executor)
        r = run_items(RunConfig(path=None, out=out, jobs=1), sources, opts)
    print(len(r["items"]), r["dedup"]["units"], len(r["dedup"]["dropped"]))
"""


def shingles(code: str, k: int = 5) -> set[tuple[str, ...]]:
    tokens = re.findall(r"\w+|[^\w\s]", code)
    return {tuple(tokens[i : i + k]) for i in range(max(1, len(tokens) - k + 1))}


def jaccard(a: str, b: str) -> float:
    x, y = shingles(a), shingles(b)
    return len(x & y) / len(x | y) if x or y else 1.0


def dedup_quality(out: Path, copies: dict) -> dict:
    """Recall and precision of DIR/shards/dedup.json against the planted copies."""
    import pyarrow.parquet as pq

    dedup = json.loads((out / "shards" / "dedup.json").read_text())
    plan = json.loads((out / "shards" / "plan.json").read_text())
    units: dict[tuple[str, str], dict[tuple[str, str], tuple[str, str]]] = {}
    ref_of = {}
    for item in plan:
        name = item["source"]["name"]
        cols = ["id", "path", "kind", "qualified_name", "code"]
        for row in pq.read_table(
            out / "shards" / item["key"] / "units.parquet", columns=cols
        ).to_pylist():
            qn = (
                row["qualified_name"].rsplit("/", 1)[-1]
                if row["kind"] == "file"
                else row["qualified_name"]
            )
            units.setdefault((name, row["path"]), {})[(row["kind"], qn)] = (row["id"], row["code"])
            ref_of[f"{name}:{row['id']}"] = (name, row["path"], row["kind"], qn)
    truth, planted = set(), set()
    for (repo, path), (orig, orig_path) in copies.items():
        mine, theirs = units.get((repo, path), {}), units.get((orig, orig_path), {})
        for key, (unit_id, code) in mine.items():
            if key in theirs:
                planted.add(f"{repo}:{unit_id}")
                if jaccard(code, theirs[key][1]) >= THRESHOLD:
                    truth.add(f"{repo}:{unit_id}")
    dropped = set(dedup["dropped"])
    hit = dropped & truth
    return {
        "units": dedup["units"],
        "dropped": len(dropped),
        "planted": len(truth),
        "planted_below_threshold": len(planted - truth),
        "recall": len(hit) / len(truth) if truth else 1.0,
        "precision": len(dropped & planted) / len(dropped) if dropped else 1.0,
        "strict_precision": len(hit) / len(dropped) if dropped else 1.0,
        "false_positive_kinds": sorted({ref_of[d][2] for d in dropped - planted if d in ref_of}),
        "dedup_seconds": dedup.get("seconds"),
    }


def kill_and_resume(work: Path, listing: Path, env: dict) -> None:
    """SIGKILL the 2-worker phases once half the items are sliced, run them again, and
    compare every shard with the uninterrupted run's (out-w2)."""
    import signal

    out = work / "out-killed"
    cmd = [sys.executable, "-c", PHASES, str(listing), str(out), "2"]
    items = len(json.loads((work / "out-w2" / "shards" / "plan.json").read_text()))
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    while proc.poll() is None and len(list(out.glob("shards/*/slice.json"))) < items // 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at, done = time.perf_counter() - start, len(list(out.glob("shards/*/slice.json")))
    wall, _, _ = measure(cmd, env)
    same = all(
        (out / "shards" / p.relative_to(work / "out-w2" / "shards")).read_bytes() == p.read_bytes()
        for p in (work / "out-w2" / "shards").glob("*/*.parquet")
    )
    print(
        f"killed after {killed_at:.1f} s with {done} of {items} items sliced; the resumed job "
        f"took {wall:.1f} s; every shard byte-identical to the uninterrupted run's: {same}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repos", type=int, default=100)
    parser.add_argument("--files", type=int, default=50, help="files per original repository")
    parser.add_argument(
        "--keep", type=Path, help="build the corpus and outputs here, and keep them"
    )
    parser.add_argument("--skip-full", action="store_true", help="only the per-item phases")
    parser.add_argument("--ray", action="store_true", help="the phases on Ray too (2 CPUs)")
    parser.add_argument(
        "--kill-half", action="store_true",
        help="kill the 2-worker phases at half the items sliced, resume, compare the shards",
    )  # fmt: skip
    parser.add_argument(
        "--llm-servers", type=int, default=0,
        help="also measure LLM throughput against N fake servers (the endpoint pool's hook)",
    )  # fmt: skip
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(work / "cache"))
    env["HF_HUB_OFFLINE"] = "1"
    try:
        start = time.perf_counter()
        paths, copies = make_corpus(work / "repos", args.repos, args.files)
        n_files = sum(1 for p in paths for _ in p.rglob("*.java"))
        listing = work / "repos.txt"
        listing.write_text("".join(f"file://{p}\n" for p in paths))
        print(
            f"corpus: {len(paths)} repositories, {n_files} Java files, {len(copies)} planted "
            f"copied files ({time.perf_counter() - start:.1f} s to build)"
        )
        phases = {}
        for workers in (1, 2):
            out = work / f"out-w{workers}"
            cmd = [sys.executable, "-c", PHASES, str(listing), str(out), str(workers)]
            wall, rss, result = measure(cmd, env)
            phases[workers] = (wall, rss)
            print(
                f"phases (slice, dedup, generate), {workers} worker(s): {wall:.1f} s, "
                f"peak RSS {rss:.0f} MB ({result.stdout.split()[0]} work items)"
            )
        speedup = phases[1][0] / phases[2][0]
        print(f"speed-up 1 -> 2 workers: {speedup:.2f}x (goal >= 1.6x)")
        q = dedup_quality(work / "out-w2", copies)
        print(
            f"dedup: {q['dropped']} of {q['units']} units dropped in {q['dedup_seconds']} s; "
            f"planted pairs (Jaccard >= {THRESHOLD}) {q['planted']} "
            f"(+{q['planted_below_threshold']} planted below it); recall {q['recall']:.3f} "
            f"(goal >= 0.95), precision {q['precision']:.3f} against every planted copy, "
            f"{q['strict_precision']:.3f} against those >= {THRESHOLD} (goal >= 0.99)"
            + (
                f"; false positives of kinds {q['false_positive_kinds']}"
                if q["false_positive_kinds"]
                else ""
            )
        )
        if args.kill_half:
            kill_and_resume(work, listing, env)
        if args.ray:
            out = work / "out-ray"
            cmd = [sys.executable, "-c", PHASES, str(listing), str(out), "2", "ray"]
            wall, rss, _ = measure(cmd, env)
            print(
                f"phases on Ray (local cluster of 2 CPUs, ray.init included), 2 workers: "
                f"{wall:.1f} s = {wall / phases[2][0]:.2f}x the local executor's (goal <= 1.5x), "
                f"peak RSS {rss:.0f} MB"
            )
        if not args.skip_full:
            out = work / "out-w2"
            cmd = [*DATAPREP, "run", "--sources", str(listing), "--out", str(out), "--workers", "2"]
            wall, rss, result = measure(cmd, env)
            total = phases[2][0] + wall
            print(
                f"end to end, 2 workers: {total:.1f} s = phases {phases[2][0]:.1f} s + merge and "
                f"stages {wall:.1f} s (goal <= 600 s); peak RSS {max(rss, phases[2][1]):.0f} MB "
                "(goal <= 2048 MB)"
            )
            timings = [ln for ln in result.stdout.splitlines() if ln.startswith("Store:")]
            rows = [ln for ln in result.stdout.splitlines() if ln.startswith("Rows per split")]
            print("  " + " ".join(rows + timings))
            again, _, _ = measure(cmd, env)
            print(
                f"re-run of the finished job: {again:.1f} s = {again / total:.1%} of the first "
                "(goal < 10%)"
            )
        if args.llm_servers:
            try:
                from bench_llm_pool import throughput  # the endpoint pool's benchmark
            except ImportError:
                print("LLM throughput: the endpoint pool's benchmark (bench_llm_pool) is not here")
            else:
                for n in (1, 2, 4)[: max(1, args.llm_servers.bit_length())]:
                    print(throughput(servers=n))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
