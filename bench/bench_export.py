"""Export benchmark: splits and `export_dataset` on synthetic stores of growing size.

Prints, per store size (pairs over files, 10 pairs a file), from one run:
- the split assignment alone (`assign_splits`), pairs/s;
- the whole export (`export_dataset`: selection, rows, JSONL, Parquet, DatasetDict, card,
  trainer configs, manifest), seconds and pairs/s;
- each split's size beside its target (85 / 10 / 5 % of the pairs).

The `datasets` import is done once before timing, so the figures are the export's own.

    .venv/bin/python bench/bench_export.py [--sizes 1000 10000 50000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 50_000])
    args = parser.parse_args()

    import datasets  # noqa: F401  (imported once, outside the timings)
    from factories import shop_store

    from dataprep import export as ex
    from dataprep.models import SPLITS

    print(f"{'pairs':>8} {'files':>6} {'split/s':>12} {'export s':>9} {'export/s':>10} "
          f" split sizes vs target")  # fmt: skip
    for size in args.sizes:
        files = max(1, size // 10)
        with tempfile.TemporaryDirectory() as tmp:
            store = shop_store(Path(tmp) / "out", n_files=files, pairs_per_file=lambda i: 10)
            pairs = store.kept_pairs()
            t = time.perf_counter()
            ex.assign_splits(pairs)
            split_s = time.perf_counter() - t
            t = time.perf_counter()
            summary = ex.export_dataset(store, Path(tmp) / "out")
            export_s = time.perf_counter() - t
            store.close()
        n = len(pairs)
        spread = " ".join(
            f"{s} {summary['splits'][s]}/{r * n:.0f}"
            for s, r in zip(SPLITS, ex.DEFAULT_RATIOS, strict=True)
        )
        print(f"{n:>8} {files:>6} {n / split_s:>12,.0f} {export_s:>9.2f} "
              f"{n / export_s:>10,.0f}  {spread}")  # fmt: skip


if __name__ == "__main__":
    main()
