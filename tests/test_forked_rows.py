"""The export and the report made in forked workers, a batch at a time, give what one
process gives in one batch: the same files byte for byte, the same report."""

import hashlib
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from dataprep import export, export_rows, procs, report
from dataprep import quality as dq
from dataprep.models import Review
from dataprep.quality import measure
from dataprep.store import Store
from dataprep.store_schema import read_pair_fields


def _reviewed(out: Path) -> None:
    """A few reviews: an edit, a rejection, an acceptance (the rest stay unreviewed)."""
    with Store.open(out) as store:
        pairs = [p for p, _ in store.export_pairs()]
        edited, rejected, accepted = pairs[3], pairs[len(pairs) // 2], pairs[-2]
        store.put_review(
            Review(pair_id=edited.id, status="edited", instruction="Why?", output="Because.")
        )
        store.put_review(Review(pair_id=rejected.id, status="rejected", reason="wrong"))
        store.put_review(Review(pair_id=accepted.id, status="accepted"))


def _made(out: Path, jobs: int) -> dict:
    procs.set_jobs(jobs)
    try:
        with Store.open(out) as store:
            export.write_dataset(store, out, project="hotel-booking", include_unreviewed=True)
            data = report.write_report(store, out)
    finally:
        procs.set_jobs(1)
    for key in ("generated_at", "timings", "run"):
        data.pop(key)
    data["quality"].pop("seconds")
    return data


def _files(out: Path) -> dict[str, bytes]:
    folder = out / "dataset"
    found = {
        f.relative_to(folder).as_posix(): f.read_bytes() for f in folder.rglob("*") if f.is_file()
    }
    manifest = json.loads(found.pop("export.json"))
    found["export.json"] = json.dumps({**manifest, "dataset_dir": None}).encode()
    return found


@pytest.mark.parametrize("reviews", [False, True])
def test_forked_batches_give_the_files_and_report_of_one_process(
    hotel_out, tmp_path, monkeypatch, reviews
):
    forked = tmp_path / "forked"
    shutil.copytree(hotel_out, forked)
    if reviews:
        _reviewed(hotel_out)
        _reviewed(forked)
    monkeypatch.setattr(export, "BATCH_ROWS", 70)  # row groups cut across the batches
    alone = _made(hotel_out, jobs=1)
    monkeypatch.setattr(export_rows, "BATCH", 40)  # many batches, several files each
    monkeypatch.setattr(report, "BATCH", 50)
    spill = tmp_path / "tmp"  # where the workers leave their batches' rows for the parent
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    unspilled = export_rows._unspilled
    read_back: list[int] = []
    monkeypatch.setattr(
        export_rows, "_unspilled", lambda b: read_back.append(len(b.spilled)) or unspilled(b)
    )
    split = _made(forked, jobs=2)
    assert len(read_back) > 3 and all(read_back)  # the workers' rows came back through files
    assert not list(spill.iterdir())  # each batch's files read back and removed, then the folder
    assert split == alone
    assert alone["kept"] > 10 * report.BATCH
    mine, theirs = _files(hotel_out), _files(forked)
    assert sorted(mine) == sorted(theirs)
    for name in mine:  # the Parquet and Arrow files too: the same row groups
        assert mine[name] == theirs[name], name


def test_a_spill_folder_left_by_a_killed_export_is_removed_by_the_next(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen(["true"])
    gone.wait()  # a process id that no longer runs: an export killed outright
    prefix = export_rows.SPILL_PREFIX
    stale = tmp_path / f"{prefix}{gone.pid}-abc123"
    busy = tmp_path / f"{prefix}{gone.pid}-def456"  # changed a moment ago: left
    alive = tmp_path / f"{prefix}{os.getpid()}-ghi789"  # its process runs: left
    other = tmp_path / f"{prefix}notes"  # not one of ours by its name: left
    for folder in (stale, busy, alive, other):
        folder.mkdir()
        (folder / "1-0-train.jsonl").write_bytes(b"{}\n")
    old = time.time() - 2 * export_rows.SPILL_STALE_SECONDS
    for folder in (stale, alive, other):
        os.utime(folder, (old, old))
    made = Path(export_rows.spill_folder())
    assert made.parent == tmp_path and made.name.startswith(f"{prefix}{os.getpid()}-")
    assert not stale.exists()
    assert busy.exists() and alive.exists() and other.exists()


def test_the_report_takes_the_exports_measure_of_the_kept_pairs(hotel_out):
    with Store.open(hotel_out) as store:
        export.write_dataset(store, hotel_out, project="hotel-booking")
        leaks = dq.leaky_labels(p for p, _ in store.export_pairs(tasks=dq.LABEL_CUES))
        assert export_rows.handed_quality(store, leaks) is not None
        handed = report.build_report(store)["quality"]
        store.set_meta(export_rows.KEPT_QUALITY, None)  # measured by the report itself
        measured = report.build_report(store)["quality"]
        assert {**handed, "seconds": 0} == {**measured, "seconds": 0}
        assert list(handed) == list(measured)  # report.json writes them in this order
        assert "held_out_units" in handed  # the export's count: the report read no unit
        assert export_rows.handed_quality(store, leaks) is None
        export.write_dataset(store, hotel_out, project="hotel-booking")
        pair = next(p for p, _ in store.export_pairs())
        store.put_review(Review(pair_id=pair.id, status="rejected", reason="wrong"))
        assert export_rows.handed_quality(store, leaks) is None  # a write since the export


def test_the_report_takes_the_exports_counts_of_the_kept_pairs(hotel_out, monkeypatch):
    decoded = []

    def reading(row):
        decoded.append(row[0])
        return read_pair_fields(row)

    monkeypatch.setattr(report, "read_pair_fields", reading)
    with Store.open(hotel_out) as store:
        export.write_dataset(store, hotel_out, project="hotel-booking")
        leaks = dq.leaky_labels(p for p, _ in store.export_pairs(tasks=dq.LABEL_CUES))
        counts = export_rows.handed_counts(store, leaks)
        kept = store.kept_ids()
        assert counts is not None and sum(counts.splits.values()) == len(kept)
        assert len(counts.lengths("prompt")) == len(counts.lengths("output")) == len(kept)
        handed = report.build_report(store)
        assert not set(decoded) & set(kept)  # the kept pairs were not read again
        store.set_meta(export_rows.KEPT_QUALITY, None)  # counted by the report itself
        decoded.clear()
        counted = report.build_report(store)
        assert set(kept) <= set(decoded)
    for data in (handed, counted):
        data.pop("generated_at")
        data["quality"]["seconds"] = 0
        for values in data["token_lengths"]["_values"].values():
            values.sort()  # in id order when counted, by length when handed over
    assert handed == counted
    assert json.dumps(handed) == json.dumps(counted)  # report.json: the same keys in order


def test_a_tally_by_id_keeps_what_one_pass_in_id_order_keeps(hotel_out, monkeypatch):
    monkeypatch.setattr(measure, "KEPT_EXAMPLES", 2)  # the fixture has few defects
    with Store.open(hotel_out) as store:
        rows = [read_pair_fields(r[:-2]) for r in store.live_rows() if r[-1] is None]
    leaks = dq.leaky_labels(rows)
    in_order = dq.QualityTally(leaks)
    for row in rows:  # live_rows: by id
        in_order.see(row)
    shuffled = random.Random(7).sample(rows, len(rows))
    parts = []
    for at in range(0, len(shuffled), 97):
        part = dq.QualityTally(leaks, by_id=True)
        for row in shuffled[at : at + 97]:
            part.see(row)
        parts.append(part)
    whole = parts[0]
    for part in parts[1:]:
        whole.merge(part)
    assert max(t.count for t in in_order.t.values()) > 2 * measure.KEPT_EXAMPLES  # trimmed
    assert whole.result([], 0.0) | {"seconds": 0} == in_order.result([], 0.0) | {"seconds": 0}


def test_jsonl_bytes_writes_what_json_dumps_writes():
    """The rows' lines, and a digest's JSON, are what `json.dumps` writes (its C encoder
    built once), whatever the values hold."""
    shared = 'say "hi"\\ \n\t\x00\x1f é ✓ \u2028 \ud7ff'
    rows = [
        {
            "id": "a",
            "output": shared,
            "completion": shared,
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "assistant", "content": shared},
            ],
            "round": 3,
            "label": None,
            "extra": [1.5, {"k": [True, None]}],
            "flag": False,
        },
        {
            "id": "b",
            "output": "",
            "completion": "x",
            "messages": [{"content": "order", "role": "user"}, {"role": "user"}],
            "round": None,
            "label": "yes",
            "extra": {"nested": "é"},
            "flag": True,
        },
    ]
    expected = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    assert export_rows.jsonl_bytes(rows) == expected
    item = json.dumps(["i", "a\u00e9", "", shared]).encode()
    assert export_rows.digest_of("i", "a\u00e9", "", shared) == int.from_bytes(
        hashlib.sha256(item).digest(), "big"
    )


def test_arrow_table_is_the_table_from_pylist_builds():
    """The rows' Arrow table, built a column at a time, is `pa.Table.from_pylist`'s."""
    import pyarrow as pa

    from dataprep.rows import COLUMNS, INT_COLUMNS, arrow_schema

    def row(n: int) -> dict:
        values = {
            c: None if n % 3 == 0 and c in ("label", "model") else f"{c} {n} é" for c in COLUMNS
        }
        values |= {c: n if n % 2 else None for c in INT_COLUMNS}
        values["messages"] = [{"role": "user", "content": f"q{n}"}] * (n % 3)
        return values

    rows = [row(n) for n in range(7)]
    for columns in (COLUMNS, COLUMNS[:4]):
        expected = pa.Table.from_pylist(rows, schema=arrow_schema(columns))
        assert export_rows.arrow_table(rows, columns).equals(expected)
    assert export_rows.arrow_table([], COLUMNS).equals(arrow_schema(COLUMNS).empty_table())
