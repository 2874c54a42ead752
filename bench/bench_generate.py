"""Evol-Instruct generation benchmark against the Ollama-compatible harness.

The harness answers every request after a fixed latency (scripted answers, no model), so
the figures measure dataprep's own overhead: the official `ollama` client, the thread
pool, the SQLite cache and pair writes. Printed side by side, per concurrency (1, 4, 16):

- requests/s and pairs/s measured in one run of `run_evol` on a fresh store;
- the ideal: concurrency / latency requests per second; each pair needs three sequential
  requests (evolve, judge, answer), so concurrency / (3 x latency) pairs per second;
- measured / ideal (goal: >= 90% at concurrency 16).

Work grows with concurrency (8 seeds per request in flight, 3 rounds each), so each row
runs about as long as the others. The harness runs in its own process, as Ollama would.

    .venv/bin/python bench/bench_generate.py [--latency 0.25] [--rounds 3] [--seeds 8]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from ollama_harness import free_port  # noqa: E402

from dataprep.generate.evol import EvolConfig, run_evol  # noqa: E402
from dataprep.generate.llm import LLMOptions, parse_llm_spec  # noqa: E402
from dataprep.models import Pair, Unit  # noqa: E402
from dataprep.store import Store  # noqa: E402


def synthetic_store(out: Path, n_methods: int, pairs_per_method: int = 2) -> Store:
    """One Java class with n methods, each with template pairs to seed evolution."""
    path, qn, repo = "src/main/java/bench/Ledger.java", "bench.Ledger", "bench"

    def unit(kind: str, name: str, qual: str, code: str, **kw) -> Unit:
        uid = Unit.make_id(path, kind, qual, None, code)
        return Unit(id=uid, kind=kind, name=name, qualified_name=qual, path=path, start_line=1,
                    end_line=3, code=code, language="java", repo=repo, **kw)  # fmt: skip

    units = [
        unit("file", "Ledger.java", path, "package bench;\nimport java.util.List;"),
        unit("class", "Ledger", qn, "public class Ledger", declaration="public class Ledger {\n}"),
    ]
    for i in range(n_methods):
        body = f"    return xs.stream().mapToInt(x -> x * {i}).sum();"
        code = f"public int total{i}(List<Integer> xs) {{\n{body}\n}}"
        units.append(unit("method", f"total{i}", f"{qn}.total{i}", code, parent=qn))
    store = Store.open(out)
    store.put_file(path, "digest", "ok", units)
    pairs = []
    for u in units[2:]:
        for k in range(pairs_per_method):
            text = f"Task {k}: implement {u.name}(List<Integer> xs) of Ledger."
            pairs.append(
                Pair(id=Pair.make_id(u.id, "bench", text, "", u.code), instruction=text,
                     output=u.code,
                     generator="template", task="implement", template="bench", unit_id=u.id,
                     unit_kind=u.kind, path=path, start_line=1, end_line=3, repo=repo)
            )  # fmt: skip
    store.put_pairs(pairs)
    return store


@contextmanager
def harness_process(latency: float) -> Iterator[str]:
    """The harness in its own process (as Ollama would be); yields its URL."""
    port = free_port()
    script = str(ROOT / "tests" / "ollama_harness.py")
    cmd = [sys.executable, script, "--port", str(port), "--latency", str(latency)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith("serving on")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait()


def measure(url: str, concurrency: int, rounds: int, seeds_per_slot: int, workdir: Path) -> dict:
    """One run of run_evol on a fresh store: seeds_per_slot seeds per request in flight."""
    seeds = seeds_per_slot * concurrency
    store = synthetic_store(workdir / f"c{concurrency}", n_methods=seeds // 2)
    llm = parse_llm_spec("ollama:smollm2", host=url, options=LLMOptions(max_tokens=64))
    config = EvolConfig(
        rounds=rounds,
        concurrency=concurrency,
        questions_per_unit=0,
        template_seeds_per_unit=2,
        progress=False,
    )
    start = time.perf_counter()
    summary = run_evol(store, config, llm)
    seconds = time.perf_counter() - start
    llm.close()
    store.close()
    assert summary.eliminated == {}, summary.eliminated
    return {
        "requests": summary.calls,
        "pairs": summary.pairs,
        "seconds": seconds,
        "req_s": summary.calls / seconds,
        "pairs_s": summary.pairs / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--latency", type=float, default=0.25, help="Seconds the harness waits per request."
    )
    parser.add_argument("--rounds", type=int, default=3, help="Evolution rounds per seed.")
    parser.add_argument("--seeds", type=int, default=8, help="Seeds per request in flight.")
    args = parser.parse_args()
    print(
        f"Evol-Instruct against the harness, fixed latency {args.latency * 1000:.0f} ms per request"
    )
    print(f"{'conc':>4} {'requests':>8} {'pairs':>6} {'seconds':>8} {'req/s':>7} {'pairs/s':>8} "
          f"{'ideal pairs/s':>13} {'of ideal':>8}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, harness_process(args.latency) as url:
        for c in (1, 4, 16):
            r = measure(url, c, args.rounds, args.seeds, Path(tmp))
            ideal_pairs_s = c / (3 * args.latency)
            share = r["pairs_s"] / ideal_pairs_s
            print(f"{c:>4} {r['requests']:>8} {r['pairs']:>6} {r['seconds']:>8.2f} "
                  f"{r['req_s']:>7.1f} {r['pairs_s']:>8.2f} {ideal_pairs_s:>13.2f} "
                  f"{share:>8.1%}")  # fmt: skip
    print("goal: >= 90% of ideal at concurrency 16")


if __name__ == "__main__":
    main()
