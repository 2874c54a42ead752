"""Review-page benchmark: the queue (first page, page 100, filtered, searched, sorted) and
a pair page answered by the real server on a store of 250k pairs, and a bulk action on
about 100k of them.

The store is built once (or reused with --store DIR): `dataprep run` on SOURCE (default:
java.base/java/util from the openjdk-17-source package, about 80k pairs), then copies of
its pairs with new ids (same texts, verdicts and splits) written through the store API
until there are --pairs of them, and 2% of them accepted. Prints the time of the first
open (the migrations), the server's start-up (`dataprep review --no-browser --port 0`, a
subprocess: the first start builds the queue's rows and search index), the review tables'
share of the store, a second start, p50/p95 over --requests
requests of each page, then the time of one bulk accept of the pairs of a filter matching
at least --bulk pairs, and of its undo (one batch).

    .venv/bin/python bench/bench_review.py [--store DIR] [--source PATH] [--pairs 250000]
        [--requests 50] [--bulk 100000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from itertools import combinations
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SRC_ZIPS = (
    "/usr/lib/jvm/openjdk-17/lib/src.zip",
    "/usr/lib/jvm/java-17-openjdk-amd64/lib/src.zip",
)
DATAPREP = [sys.executable, "-c", "from dataprep.cli import main; main()"]
SEARCH = "iterator"  # a word of many instructions and answers


def unpack_util(dest: Path) -> Path:
    """java.base/java/util of the JDK 17 sources, unpacked under `dest`."""
    src = next((Path(p) for p in SRC_ZIPS if Path(p).is_file()), None)
    if src is None:
        raise SystemExit("no JDK sources: apt-get install -y openjdk-17-source, or --source")
    with zipfile.ZipFile(src) as zf:
        for name in zf.namelist():
            if name.startswith("java.base/java/util/") and name.endswith(".java"):
                zf.extract(name, dest)
    return dest / "java.base" / "java" / "util"


def build_store(out: Path, source: Path | None) -> None:
    """`dataprep run` on `source` (default: java.base/java/util) into `out`."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = source or unpack_util(Path(tmp))
        start = time.perf_counter()
        subprocess.run([*DATAPREP, "run", str(repo), "--out", str(out)], check=True)
        print(f"dataprep run {repo}: {time.perf_counter() - start:.0f} s")


def grow_store(out: Path, target: int) -> None:
    """Copies of the store's pairs until it holds `target` (nothing when it does)."""
    from dataprep.store import Store

    start = time.perf_counter()
    with Store.open(out) as store:
        if store.count("pairs") >= target:
            return
        multiply(store, target)
        n = store.count("pairs")
    print(f"copied pairs up to {n:,} in {time.perf_counter() - start:.0f} s")


def multiply(store, target: int) -> None:
    """Copies of every pair (new ids, same texts, verdicts and splits) up to `target` pairs,
    and 2% of all pairs accepted, written through the store API."""
    from dataprep.hashing import content_hash
    from dataprep.models import Decision, Review

    originals = store.pairs(live_only=False)
    copies, k = [], 0
    while len(originals) + len(copies) < target:
        k += 1
        for pair in originals[: target - len(originals) - len(copies)]:
            copies.append(pair.model_copy(update={"id": content_hash("bench", pair.id, k)}))
    store.put_pairs(copies)
    twins: dict[str, list[str]] = defaultdict(list)
    for copy, pair in zip(copies, originals * (k or 1), strict=False):
        twins[pair.id].append(copy.id)
    by_stage: dict[str, list[Decision]] = defaultdict(list)
    for pair in originals:
        for stage, kept, reason, detail in store.decisions_of(pair.id):
            for pid in (pair.id, *twins[pair.id]):
                by_stage[stage].append(Decision(pair_id=pid, stage=stage, kept=bool(kept),
                                                reason=reason, detail=detail))  # fmt: skip
    for stage, decisions in by_stage.items():
        store.put_decisions(stage, decisions)
    splits = store.split_assignments()
    store.put_splits(splits + [(c, s, g) for pid, s, g in splits for c in twins[pid]])
    with store.transaction():
        for pair in (originals + copies)[::50]:
            store.put_review(Review(pair_id=pair.id, status="accepted"))


class Client:
    """Keep-alive HTTP to the review server; `get` and `post` return (status, body, s)."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
        self.token = ""

    def request(self, method: str, path: str, body: dict | None = None):
        headers = {"X-CSRF-Token": self.token, "Content-Type": "application/json"}
        data = json.dumps(body).encode() if body is not None else None
        start = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode()
        return response.status, text, time.perf_counter() - start


def start_server(out: Path) -> tuple[subprocess.Popen, str, float]:
    cmd = [*DATAPREP, "review", "--out", str(out), "--no-browser"]
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*cmd, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        raise SystemExit(f"no URL from dataprep review: {url!r}")
    return proc, url, time.perf_counter() - start


def percentiles(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered) * 1000:7.0f} ms  p95 {p95 * 1000:7.0f} ms"


def matched(html: str) -> int:
    return int(re.search(r'<span id="matched"><b>(\d+)</b> pairs match', html).group(1))


def measure(client: Client, label: str, paths: list[str]) -> None:
    times, first = [], None
    for path in paths:
        status, text, seconds = client.request("GET", path)
        if status != 200:
            raise SystemExit(f"{path}: HTTP {status}")
        times.append(seconds)
        first = first or text
    shown = f"{matched(first):>8,} match" if 'id="matched"' in first else " " * 14
    print(f"{label:16} {shown}  {percentiles(times)}  ({paths[0]})")


def bulk_filter(store_dir: Path, at_least: int) -> str:
    """The query of a filter on one or two facets (task, unit kind, generator, split)
    matching at least `at_least` kept pairs, the smallest such: what a bulk action is timed
    on. Read through the store's pair API, so the bench runs on older versions too."""
    from dataprep.store import Store

    with Store.open(store_dir, create=False) as store:
        splits = store.splits()
        counts: dict[tuple, int] = defaultdict(int)
        for pair in store.kept_pairs():
            facets = {"task": pair.task, "kind": pair.unit_kind, "generator": pair.generator}
            facets["split"] = splits.get(pair.id, "")
            for k in (1, 2):
                for combo in combinations(sorted(facets.items()), k):
                    counts[combo] += 1
    fits = sorted((n, urlencode(combo)) for combo, n in counts.items() if n >= at_least)
    return fits[0][1] if fits else ""


def review_sizes(out: Path) -> str:
    """The review tables' share of the store's pages in use (`dbstat`): the FTS5 index,
    and the queue's rows."""
    from dataprep.store import Store

    with Store.open(out, create=False) as store:
        sizes = store.sizes() if hasattr(store, "sizes") else {}
    fts = sum(v for k, v in sizes.items() if k.startswith("review_search"))
    rows = sum(v for k, v in sizes.items() if k.startswith("review_rows"))
    if not fts and not rows:
        return "no review tables"
    total = sum(sizes.values())
    return (
        f"FTS5 index {fts / 1e6:.1f} MB ({fts / total:.1%}), queue rows and their indexes "
        f"{rows / 1e6:.1f} MB ({rows / total:.1%}) of the {total / 1e6:,.0f} MB in use (the file "
        "also holds the free pages a bulk action and its undo leave, for the next to reuse)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="reuse (or build into) this output folder")
    parser.add_argument("--source", type=Path, help="repository to run (default: java/util)")
    parser.add_argument("--pairs", type=int, default=250_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--bulk", type=int, default=100_000)
    args = parser.parse_args()

    tmp = None
    out = args.store
    if out is None:
        tmp = tempfile.mkdtemp(prefix="bench-review-")
        out = Path(tmp) / "out"
    if not (out / "dataprep.db").exists():
        build_store(out, args.source)
    from dataprep.store import Store

    db = out / "dataprep.db"
    print(f"store: {db} ({db.stat().st_size / 1e6:,.0f} MB)")
    start = time.perf_counter()
    Store.open(out).close()  # applies pending migrations, timed apart from the pages
    print(f"opened (migrations applied) in {time.perf_counter() - start:.1f} s")
    grow_store(out, args.pairs)
    try:
        run(out, args)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def run(out: Path, args: argparse.Namespace) -> None:
    from dataprep.store import Store

    query = bulk_filter(out, args.bulk)
    proc, url, started = start_server(out)
    db = out / "dataprep.db"
    print(f"server up in {started:.1f} s; {db.stat().st_size / 1e6:,.0f} MB; {review_sizes(out)}")
    try:
        client = Client(url)
        status, html, _ = client.request("GET", "/")
        client.token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
        with Store.open(out, create=False) as store:
            ids = store.kept_ids()
        step = max(1, len(ids) // args.requests)
        n = args.requests
        measure(client, "queue", ["/"] * n)
        measure(client, "queue page 100", ["/?page=100"] * n)
        measure(client, "filtered queue", ["/?task=method.code&status=unreviewed"] * n)
        measure(client, "search", [f"/?{urlencode({'q': SEARCH})}"] * n)
        measure(client, "sorted queue", ["/?sort=-output"] * n)
        measure(client, "pair page", [f"/pair/{pid}" for pid in ids[::step][:n]])
        _, html, _ = client.request("GET", f"/?{query}")
        expected = matched(html)
        body = {"action": "accept", "query": query, "expected": expected}
        status, text, seconds = client.request("POST", "/api/bulk", body)
        print(f"bulk accept      {expected:>8,} pairs  {seconds:7.2f} s  ({query}; HTTP {status})")
        status, text, seconds = client.request("POST", "/api/undo", {})
        print(f"undo of it       {expected:>8,} pairs  {seconds:7.2f} s  (HTTP {status})")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    proc, url, started = start_server(out)
    print(f"server up again in {started:.1f} s (the store unchanged since)")
    proc.terminate()
    proc.wait(timeout=30)


if __name__ == "__main__":
    main()
