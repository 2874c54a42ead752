"""`dataprep filter` and `dataprep balance` from the command line."""

from factories import pair, store_with
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.filters import REGISTRY
from dataprep.store import Store

runner = CliRunner()


def _out(tmp_path):
    pairs = [pair(f"Explain step {i}.", f"It does step {i} of the booking.") for i in range(6)]
    pairs += [
        pair("Name it.", "TODO", task="method.name"),
        pair("Name the method.", "capacity", task="method.name"),
    ]
    store_with(tmp_path, pairs).close()
    return tmp_path / "out"


def test_help_has_an_example():
    for command in ("filter", "balance"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Example: dataprep " + command in result.output


def test_list_shows_every_filter_with_its_settings():
    result = runner.invoke(
        app, ["filter", "--list", "--max-seq-len", "512", "--disable", "refusal"]
    )
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert {line.split(" ")[0] for line in lines if not line.startswith(" ")} == set(REGISTRY)
    assert "refusal (off): refusals and apologies in short outputs (Evol-Instruct case 2)" in lines
    assert "    max_seq_len = 512" in lines and "judge (off): " in result.output
    assert "    near_dup_threshold = 0.7" in lines


def test_filter_records_decisions_and_writes_the_report(tmp_path):
    out = _out(tmp_path)
    result = runner.invoke(app, ["filter", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Filtered 8 pairs: 7 kept\n  empty_output: dropped 1\n")
    assert "Funnel: units 1 -> pairs generated 8 -> filter.empty_output 7" in result.output
    assert (out / "report.html").is_file() and (out / "report.json").is_file()
    with Store.open(out, create=False) as store:
        assert [d.reason for d in store.dropped().values()] == [
            "empty or placeholder output ('TODO')"
        ]


def test_filter_decontaminates_once_splits_exist(tmp_path):
    out = _out(tmp_path)
    with Store.open(out, create=False) as store:
        store.put_splits(
            [(p.id, "test" if i % 2 else "train", p.path) for i, p in enumerate(store.pairs())]
        )
    result = runner.invoke(app, ["filter", "--out", str(out), "--no-report"])
    assert result.exit_code == 0, result.output
    assert "Decontamination: 0 of " in result.output and not (out / "report.html").exists()


def test_filter_errors_are_one_line_with_the_fix(tmp_path):
    result = runner.invoke(app, ["filter", "--out", str(tmp_path / "none")])
    assert result.exit_code == 1
    none = tmp_path / "none"
    expected = (
        f"Error: no working store at {none / 'dataprep.db'}: "
        f"run `dataprep run PATH --out {none}` first"
    )
    assert result.output.strip() == expected
    result = runner.invoke(app, ["filter"])
    assert result.exit_code == 1 and "Error: --out is missing" in result.output
    result = runner.invoke(app, ["filter", "--out", str(_out(tmp_path)), "--disable", "nope"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: unknown filter(s) nope: see `dataprep filter --list`"
    result = runner.invoke(app, ["filter", "--list", "--tokenizer", str(tmp_path / "no-tokenizer")])
    assert result.exit_code == 0  # listing loads nothing
    result = runner.invoke(
        app, ["filter", "--out", str(_out(tmp_path / "t")), "--tokenizer", str(tmp_path / "x")]
    )
    assert result.exit_code == 1 and result.output.startswith("Error: cannot load tokenizer")
    assert "Traceback" not in result.output


def test_balance_by_task_with_a_cap_and_uniform(tmp_path):
    out = _out(tmp_path)
    result = runner.invoke(
        app, ["balance", "--out", str(out), "--by", "task", "--cap", "3", "--no-report"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:3] == [
        "Balanced by task (seed 0): 3 pairs dropped",
        "  method.explain       6 -> 3",
        "  method.name          2 -> 2",
    ]
    result = runner.invoke(app, ["balance", "--out", str(out), "--by", "task"])
    assert result.exit_code == 0, result.output
    assert "  method.explain       6 -> 2" in result.output and "Report: " in result.output


def test_balance_errors(tmp_path):
    out = _out(tmp_path)
    for args, message in [
        (["--by", "colour"], "Error: --by 'colour' is not a pair column"),
        (["--weights", "a=x"], "Error: --weights 'a=x': write VALUE=WEIGHT pairs"),
        (["--fill", "method.is_test"], "Error: --fill needs --llm"),
    ]:
        result = runner.invoke(app, ["balance", "--out", str(out), *args])
        assert result.exit_code == 1 and result.output.startswith(message), result.output
