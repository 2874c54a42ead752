"""`dataprep export`: output, options and errors."""

import json

from factories import shop_store
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.models import Review
from dataprep.store import Store

runner = CliRunner()


def test_help_has_an_example():
    result = runner.invoke(app, ["export", "--help"])
    assert result.exit_code == 0
    assert "Example: dataprep export --out out" in result.output


def test_export_prints_a_summary(tmp_path):
    shop_store(tmp_path / "out", n_files=30, repo_root=tmp_path / "repo").close()
    result = runner.invoke(app, ["export", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "dataset" / "export.json").read_text())
    splits = manifest["splits"]
    assert result.stdout == (
        f"Exported {manifest['rows']} rows (train {splits['train']}, validation "
        f"{splits['validation']}, test {splits['test']}, knowledge {splits['knowledge']}) to "
        f"{tmp_path / 'out' / 'dataset'}\n"
        "License: MIT; reviewed by a person: 0\n"
    )


def test_options_reach_the_export(tmp_path):
    shop_store(tmp_path / "out", n_files=30, modules=5).close()
    args = ["export", "-O", str(tmp_path / "out"), "--style", "chatml", "--split-by", "module"]
    result = runner.invoke(app, [*args, "--seed", "7"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "dataset" / "export.json").read_text())
    assert (manifest["style"], manifest["split_by"], manifest["seed"]) == ("chatml", "module", 7)
    row = json.loads((tmp_path / "out" / "dataset" / "train.jsonl").read_text().splitlines()[0])
    assert row["prompt"].startswith("<|im_start|>system\nYou are an expert on the acme/shop code")
    assert row["completion"] == row["output"] + "<|im_end|>" and "text" not in row


def test_include_unreviewed(tmp_path):
    store = shop_store(tmp_path / "out", n_files=30)
    total = len(store.kept_pairs())
    store.put_review(Review(pair_id=store.kept_pairs()[0].id, status="accepted"))
    store.close()
    out = str(tmp_path / "out")
    result = runner.invoke(app, ["export", "--out", out])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Exported 1 rows (")
    notes = [line for line in result.stdout.splitlines() if line.startswith("Note: the ")]
    assert notes == [  # the one accepted pair is in train
        "Note: the validation split is empty (too few files with tasks that generalise, or "
        "none of its pairs selected)",
        "Note: the test split is empty (too few files with tasks that generalise, or none of "
        "its pairs selected)",
        "Note: the knowledge split is empty (too few train pairs to hold facts out or ask "
        "again, or none of its pairs selected)",
    ]
    result = runner.invoke(app, ["export", "--out", out, "--include-unreviewed"])
    with Store.open(tmp_path / "out") as store:  # less the held-out files' withheld pairs
        withheld = sum(split == "withheld" for split in store.splits().values())
    assert withheld and result.stdout.startswith(f"Exported {total - withheld} rows (")


def test_no_store_is_one_line_and_exit_1(tmp_path):
    result = runner.invoke(app, ["export", "--out", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: no working store at {tmp_path / 'none' / 'dataprep.db'}: "
        f"run `dataprep run PATH --out {tmp_path / 'none'}` first\n"
    )


def test_bad_split_by_and_style(tmp_path):
    shop_store(tmp_path / "out", n_files=5).close()
    out = str(tmp_path / "out")
    result = runner.invoke(app, ["export", "--out", out, "--split-by", "package"])
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: --split-by 'package' is not known: use file or module\n",
    )
    result = runner.invoke(app, ["export", "--out", out, "--style", "nope"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: unknown prompt style 'nope': use one of alpaca, chatml")
    assert "Traceback" not in result.output
