"""Train a zstd dictionary for the store's rows (dataprep/codec.py) and print what it saves.

The dictionary is trained on the pairs' and units' JSON of the stores named by --train and
measured on the rows of the --test stores whose files are in no training store (rows of
other files, so the figure is not the dictionary remembering its own samples).

Example (zdict-2: trained on three JDK modules that are not the benchmark's, measured on
java.base; OUT is `dataprep run` over jdk.compiler, java.management and java.net.http from
the JDK's lib/src.zip, JB a run over java.base):
    python bench/train_zdict.py --train OUT --test JB --out dataprep/zdict-2.zstd
"""

import argparse
import random
import sqlite3
from pathlib import Path

import zstandard

from dataprep.codec import LEVEL, unpack


def _rows(db: Path, table: str, every: int = 1) -> list[tuple[str, bytes]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        path = "coalesce(nullif(t.path, ''), u.path)" if table == "pairs" else "t.path"
        join = " LEFT JOIN units u ON u.id = t.unit_id" if table == "pairs" else ""
        sql = f"SELECT {path}, t.data FROM {table} t{join} WHERE t.rowid % {every} = 0"
        return [(path, unpack(data).encode()) for path, data in conn.execute(sql)]
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, nargs="+", required=True, help="output folders")
    parser.add_argument("--test", type=Path, nargs="+", required=True, help="output folders")
    parser.add_argument("--size", type=int, default=128 * 1024, help="dictionary bytes")
    parser.add_argument("--out", type=Path, help="where to write the dictionary")
    args = parser.parse_args()

    random.seed(0)
    samples, seen = [], set()
    for folder in args.train:
        pairs, units = (
            _rows(folder / "dataprep.db", "pairs"),
            _rows(folder / "dataprep.db", "units"),
        )
        seen.update(path for path, _ in units)
        samples += random.sample([d for _, d in pairs], min(40_000, len(pairs)))
        samples += random.sample([d for _, d in units], min(15_000, len(units)))
    zdict = zstandard.train_dictionary(args.size, samples, level=LEVEL)
    print(f"trained on {len(samples)} rows: dictionary of {len(zdict.as_bytes())} bytes")

    old = zstandard.ZstdCompressor(
        level=LEVEL,
        dict_data=zstandard.ZstdCompressionDict(
            Path(__file__).parents[1].joinpath("dataprep/zdict-1.zstd").read_bytes()
        ),
        write_checksum=False,
        write_dict_id=False,
    )
    new = zstandard.ZstdCompressor(
        level=LEVEL, dict_data=zdict, write_checksum=False, write_dict_id=False
    )
    for folder in args.test:
        for table, every in (("pairs", 20), ("units", 10)):
            rows = [
                d for path, d in _rows(folder / "dataprep.db", table, every) if path not in seen
            ]
            if not rows:
                continue
            before = sum(len(old.compress(d)) + 1 for d in rows) / len(rows)
            after = sum(len(new.compress(d)) + 1 for d in rows) / len(rows)
            print(
                f"{folder} {table}: {len(rows)} rows of other files, "
                f"{before:.1f} -> {after:.1f} bytes a row ({after / before - 1:+.1%})"
            )
    if args.out:
        args.out.write_bytes(zdict.as_bytes())
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
