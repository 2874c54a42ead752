"""Cross-source unit dedup benchmark: recall and precision against planted duplicates,
time and peak RSS, on synthetic Java units (default 50,000).

The units come from tests/dedup_corpus.py: about 70% original methods, 10% exact copies
(other spacing), 12% near copies (one small edit) and 8% near-misses (several lines
rewritten), spread over 100 repositories. They are streamed to `find_duplicates`, which
never holds their texts; each is rebuilt afterwards to score the result:

- recall: planted (copy, original) pairs with exact shingle Jaccard >= the threshold of
  which at most one unit is kept (the pair does not reach the dataset twice); also shown,
  the stricter share whose two units point at the same kept copy (two near copies of one
  original may both stay when they differ from each other by more than the threshold:
  the first in key order then takes the original, the other is kept);
- precision: dropped units whose exact Jaccard with the copy kept for them reaches the
  threshold (a drop of a unit just below it counts as wrong).

Goals (issue): recall >= 0.95, precision >= 0.99.

Run: .venv/bin/python bench/bench_dedup_units.py [--units 50000] [--seed 0] [--threshold 0.85]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dataprep.scaleout.dedup import find_duplicates  # noqa: E402
from tests.dedup_corpus import corpus_unit, similarity  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threshold", type=float, default=0.85)
    args = parser.parse_args()
    n, seed, t = args.units, args.seed, args.threshold

    # the corpus is built once up front (timed apart), then streamed as UnitRefs
    start = time.perf_counter()
    corpus = [corpus_unit(seed, i) for i in range(n)]
    built = time.perf_counter() - start
    codes_mb = sum(len(u.code) for u in corpus) / 2**20
    rss_before = peak_rss_mb()

    start = time.perf_counter()
    dropped = find_duplicates(u.ref() for u in corpus)
    took = time.perf_counter() - start
    rss_after = peak_rss_mb()

    def kept(i: int) -> str:
        uid = f"u{i:07d}"
        return dropped.get(uid, uid)

    roles: dict[str, int] = {}
    truth = gray = found = same = 0
    for u in corpus:
        roles[u.role] = roles.get(u.role, 0) + 1
        if u.original is None:
            continue
        s = similarity(u.code, corpus[u.original].code)
        if s >= t:
            truth += 1
            a, b = f"u{u.index:07d}", f"u{u.original:07d}"
            found += a in dropped or b in dropped
            same += kept(u.index) == kept(u.original)
        elif s >= t - 0.05:
            gray += 1
    right = sum(
        similarity(corpus[int(d[1:])].code, corpus[int(k[1:])].code) >= t
        for d, k in dropped.items()
    )
    recall = found / truth if truth else 1.0
    precision = right / len(dropped) if dropped else 1.0

    print(f"units: {n:,} ({', '.join(f'{r} {c:,}' for r, c in sorted(roles.items()))}); ")
    print(f"  code {codes_mb:.1f} MiB, built in {built:.1f} s (not timed below)")
    print(
        f"planted pairs with Jaccard >= {t}: {truth:,} "
        f"({gray:,} more in [{t - 0.05:.2f}, {t}) count for neither)"
    )
    print(f"dropped: {len(dropped):,} units")
    print(f"recall:    {recall:.4f}  (goal >= 0.95) {'ok' if recall >= 0.95 else 'MISSED'}")
    print(f"  same kept copy: {same / truth if truth else 1.0:.4f}")
    print(f"precision: {precision:.4f}  (goal >= 0.99) {'ok' if precision >= 0.99 else 'MISSED'}")
    print(f"find_duplicates: {took:.1f} s, {n / took:,.0f} units/s")
    print(
        f"peak RSS: {rss_after:.0f} MB (before dedup, corpus held by the bench: "
        f"{rss_before:.0f} MB; dedup added {rss_after - rss_before:.0f} MB)"
    )


if __name__ == "__main__":
    main()
