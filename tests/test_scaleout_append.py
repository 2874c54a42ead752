"""Append mode: `dataprep run NEW... --out DIR2 --append DIR1` deduplicates the new sources
against what DIR1 published (its units before generation, its rows after the split), and
never writes to DIR1. Real git repositories read through `file://` URLs."""

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from test_scaleout import _home, _run, _urls, repos  # noqa: F401  (fixtures)

from dataprep.models import SPLITS
from dataprep.store import Store


def _tree(path):
    return {
        p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def _rows(out):
    return [r for s in SPLITS for r in pq.read_table(out / "dataset" / f"{s}.parquet").to_pylist()]


def test_append_leaves_out_what_was_published(repos, tmp_path):  # noqa: F811
    dir1, dir2 = tmp_path / "dir1", tmp_path / "dir2"
    first = _run(*_urls(repos, "hotel"), "--out", str(dir1), "--executor", "local")
    assert first.exit_code == 0, first.output
    published = _rows(dir1)
    before = _tree(dir1)

    args = [*_urls(repos, "fork", "vendor"), "--out", str(dir2), "--append", str(dir1)]
    result = _run(*args)
    assert result.exit_code == 0, result.output
    dedup = json.loads((dir2 / "shards" / "dedup.json").read_text())
    assert dedup["published"]["units"] > 100
    assert dedup["published"]["dropped"] > 100  # the fork's unchanged code, the vendored copy
    assert all(k.startswith("published:hotel:") for k in dedup["dropped"].values())
    assert f"new units copy one of its {dedup['published']['units']} published" in result.output
    rows = _rows(dir2)
    fork = {r["path"] for r in rows if r["repo"] == "fork"}
    assert any(p.endswith("RoomAudit.java") for p in fork)
    assert not any(p.startswith("common/") for p in fork)
    vendor = {r["path"] for r in rows if r["repo"] == "vendor"}
    assert any(p.endswith("Greeter.java") for p in vendor)
    assert not any(p.startswith("libs/hotel-common/") and p.endswith(".java") for p in vendor)
    assert not {r["id"] for r in rows} & {r["id"] for r in published}
    assert _tree(dir1) == before  # DIR1 is only read

    # rows DIR1 published that the new sources make again: planted, one of them edited
    greeter = [r for r in rows if r["path"].endswith("Greeter.java") and r["output"]][:3]
    assert len(greeter) == 3
    near = dict(greeter[2], id="edited", output=greeter[2]["output"] + " It never fails.")
    train = dir1 / "dataset" / "train.parquet"
    table = pq.read_table(train)
    planted = [{c: r.get(c) for c in table.column_names} for r in [*greeter[:2], near]]
    pq.write_table(pa.concat_tables([table, pa.Table.from_pylist(planted, table.schema)]), train)
    again = _run(*args)
    assert again.exit_code == 0, again.output
    assert "Append: 3 of " in again.output, again.output
    after = {r["id"] for r in _rows(dir2)}
    assert not after & {r["id"] for r in greeter}
    with Store.open(dir2) as store:
        reasons = [
            reason
            for g in greeter
            for stage, _, reason, _ in store.decisions_of(g["id"])
            if stage == "decontaminate"
        ]
    assert len(reasons) == 3 and all(str(dir1) in r and "--append" in r for r in reasons)
    assert sum("nearly copies" in r and "row edited" in r for r in reasons) == 1


def test_append_bad_folder_is_one_line(repos, tmp_path):  # noqa: F811
    for bad, message in [
        (tmp_path / "missing", "no such folder"),
        (tmp_path, "holds neither dataset"),
        (tmp_path / "out", "is --out itself"),
    ]:
        out = tmp_path / "out"
        result = _run(*_urls(repos, "hotel"), "--out", str(out), "--append", str(bad))
        assert result.exit_code == 1, result.output
        assert result.output.count("\n") == 1 and message in result.output


def test_published_rows_are_read_from_a_private_memory_mapped_copy(tmp_path):
    from dataprep.filters.decontam import published_copies
    from dataprep.filters.dedup import _Listed
    from dataprep.scaleout.append import Published
    from dataprep.scaleout.append import Row as Pair

    data = tmp_path / "out-1" / "dataset"
    data.mkdir(parents=True)
    code = "public int add(int a, int b) { int sum = a + b; log(sum); return sum; }"
    rows = {
        "train": [("r1", "Write add.", "", code), ("r2", "Name it.", "x", "add")],
        "test": [("r1", "again, another split", "", "later copy of the id is ignored")],
    }
    for split, records in rows.items():
        columns = zip(*records, strict=True)
        table = pa.table(dict(zip(["id", "instruction", "input", "output"], columns, strict=True)))
        pq.write_table(table, data / f"{split}.parquet")
    with Published.load(tmp_path / "out-1") as published:
        assert len(published) == 2
        assert [r.id for r in published] == ["r1", "r2"]
        assert published.fetch(["r2"])["r2"].input == "x"
        assert published.fetch(["r1"])["r1"].instruction == "Write add."  # the first split's
        folder = published._tmp.name
        pairs = [
            Pair("r2", "Name it.", "x", "add"),
            Pair("n1", "Write add.", "", code + " "),
            Pair("n2", "Something else entirely.", "", "return a * b * c * d * e * f;"),
        ]
        found = published_copies(_Listed(pairs), published, 0.7, 128, 5)
    assert found["r2"] == ("r2", 1.0)
    assert found["n1"][0] == "r1" and found["n1"][1] >= 0.7
    assert "n2" not in found
    assert not Path(folder).exists()  # the copy is gone with the stage
