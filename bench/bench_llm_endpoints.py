"""LLM throughput over several servers (`--llm-endpoint`): requests per second of a real
`run_evol` (thread pool, SQLite cache, pair writes) against N Ollama-compatible harness
servers, each in its own process and answering after a fixed latency L, with max_inflight
c per endpoint. Printed per N (1, 2, 4), side by side in one run:

- requests/s measured, and the goal 0.8 x N x c / L (issue: at least that);
- how the requests fell on the servers (least-in-flight routing should even them out).

Work grows with N x c (`--seeds` seeds per request slot, 3 rounds each), so every row
runs about as long as the others.

    .venv/bin/python bench/bench_llm_endpoints.py [--latency 0.25] [--inflight 4] [--seeds 4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_generate import harness_process, synthetic_store  # noqa: E402

from dataprep.generate.evol import EvolConfig, run_evol  # noqa: E402
from dataprep.generate.llm import LLMOptions, parse_llm_spec  # noqa: E402
from dataprep.generate.llm.endpoints import Endpoint  # noqa: E402


def measure(urls: list[str], inflight: int, rounds: int, seeds_per_slot: int, work: Path) -> dict:
    """One run_evol on a fresh store over `urls`, `inflight` requests at most on each."""
    slots = len(urls) * inflight
    store = synthetic_store(work / f"n{len(urls)}", n_methods=seeds_per_slot * slots // 2)
    endpoints = [Endpoint(url, inflight) for url in urls]
    llm = parse_llm_spec("ollama:smollm2", options=LLMOptions(max_tokens=64), endpoints=endpoints)
    config = EvolConfig(
        rounds=rounds,
        concurrency=llm.capacity,
        questions_per_unit=0,
        template_seeds_per_unit=2,
        progress=False,
    )
    start = time.perf_counter()
    summary = run_evol(store, config, llm)
    seconds = time.perf_counter() - start
    spread = list(llm.counts().values())
    llm.close()
    store.close()
    assert summary.eliminated == {}, summary.eliminated
    return {"requests": summary.calls, "seconds": seconds, "spread": spread}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency", type=float, default=0.25, help="L: seconds per answer.")
    parser.add_argument("--inflight", type=int, default=4, help="c: max_inflight per endpoint.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=4, help="Seeds per request slot.")
    parser.add_argument("--servers", default="1,2,4", help="The values of N.")
    args = parser.parse_args()
    counts = [int(n) for n in args.servers.split(",")]
    lat, c = args.latency, args.inflight
    print(f"fixed latency L = {lat} s, max_inflight c = {c} per endpoint")
    print(f"{'N':>2} {'requests':>8} {'seconds':>8} {'req/s':>8} {'goal':>8} {'ratio':>6}  spread")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        urls = [stack.enter_context(harness_process(lat)) for _ in range(max(counts))]
        for n in counts:
            r = measure(urls[:n], c, args.rounds, args.seeds, Path(tmp))
            rate, goal = r["requests"] / r["seconds"], 0.8 * n * c / lat
            verdict = "ok" if rate >= goal else "BELOW"
            print(
                f"{n:>2} {r['requests']:>8} {r['seconds']:>8.2f} {rate:>8.1f} {goal:>8.1f} "
                f"{rate / goal:>6.2f}  {r['spread']} {verdict}"
            )


if __name__ == "__main__":
    main()
