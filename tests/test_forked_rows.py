"""The export and the report made in forked workers, a batch at a time, give what one
process gives in one batch: the same files byte for byte, the same report."""

import json
import shutil
from pathlib import Path

import pytest

from dataprep import export, export_rows, procs, report
from dataprep.models import Review
from dataprep.store import Store


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
    split = _made(forked, jobs=2)
    assert split == alone
    assert alone["kept"] > 10 * report.BATCH
    mine, theirs = _files(hotel_out), _files(forked)
    assert sorted(mine) == sorted(theirs)
    for name in mine:  # the Parquet and Arrow files too: the same row groups
        assert mine[name] == theirs[name], name
