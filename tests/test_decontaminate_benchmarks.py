"""Decontamination against an index of benchmark snippets (`--decontaminate-against`).

fixtures/benchmarks holds HumanEval-X/MBPP-style records made for this project; one
(FixtureBench/3) copies `PriceCalculator.apply` of the hotel fixture.
"""

import json
import shutil

import pyarrow.parquet as pq
import pytest
from conftest import FIXTURES, HOTEL
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.filters.benchmarks import BenchmarkIndex
from dataprep.models import SPLITS
from dataprep.store import Store

BENCH = FIXTURES / "benchmarks"
PLANTED = "java-problems.jsonl#3 (FixtureBench/3)"
CALC = HOTEL / "booking/src/main/java/com/example/hotel/booking/PriceCalculator.java"


def _apply_method() -> str:
    src = CALC.read_text()
    return src[src.index("    public Money apply") : src.index("    /**\n     * Describes")]


def _rows(out):
    return [r for s in SPLITS for r in pq.read_table(out / "dataset" / f"{s}.parquet").to_pylist()]


def _copies(rows) -> list[dict]:
    body = "case FixedAmount(Money amount) -> amount.compareTo(total)"
    return [
        r for r in rows if any(body in (r.get(k) or "") for k in ("instruction", "input", "output"))
    ]


def test_the_index_finds_a_copy_and_only_a_copy():
    index = BenchmarkIndex.load([BENCH])
    names = [s.name for s in index.snippets]
    assert PLANTED in names and "GreatestCommonDivisor.java" in names
    assert "README.md" not in names  # prose beside the benchmark is not a snippet
    assert index.match(_apply_method()) == (PLANTED, 1.0)
    assert index.match(CALC.read_text())[0] == PLANTED  # the whole file holds the copy
    src = CALC.read_text()
    assert index.match(src[src.index("    public String describe") :]) is None
    assert index.match("public static void main(String[] args) {\n}") is None


def test_run_drops_copies_in_every_split_and_says_so(tmp_path):
    out = tmp_path / "out"
    runner = CliRunner()
    plain = runner.invoke(app, ["run", str(HOTEL), "--out", str(out), "--jobs", "1"])
    assert plain.exit_code == 0, plain.output
    before = _rows(out)
    copies = _copies(before)
    assert copies, "the fixture makes no pair that shows PriceCalculator.apply"

    index = tmp_path / "index"
    shutil.copytree(BENCH, index)
    args = ["run", str(HOTEL), "--out", str(out), "--jobs", "1"]
    result = runner.invoke(app, [*args, "--decontaminate-against", str(index)])
    assert result.exit_code == 0, result.output
    after = _rows(out)
    assert not _copies(after)
    gone = {r["id"] for r in before} - {r["id"] for r in after}
    assert gone >= {r["id"] for r in copies}
    with Store.open(out) as store:
        decisions = {i: store.decisions_of(i) for i in gone}
        stored = {r["id"] for r in copies if store.pair(r["id"]) is not None}
    dropped = {
        i for i, ds in decisions.items() for st, kept, reason, _ in ds
        if st == "decontaminate" and not kept and PLANTED in (reason or "")
    }  # fmt: skip
    # each stored pair that shows the method; a knowledge row asking a dropped train pair
    # again in another phrasing goes with it, and is no stored pair
    assert stored and dropped >= stored and len(gone) - len(dropped) <= len(dropped)
    line = next(x for x in result.output.splitlines() if x.startswith("Benchmark decontamination:"))
    assert f"{len(dropped)} of " in line and "java-problems.jsonl" in line
    report = json.loads((out / "report.json").read_text())
    bench = report["decontamination"]["benchmark"]
    assert bench["dropped"] == len(dropped) and bench["snippets"] == 5
    assert "nearly copy one of 5 snippets" in (out / "report.html").read_text()
    card = (out / "dataset" / "README.md").read_text()
    assert f"{len(dropped)} of {bench['checked']} pairs nearly copied one" in card

    # `dataprep export` checks against the same files without being told again
    again = runner.invoke(app, ["export", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert _rows(out) == after

    # the index is part of the stage's fingerprint: the planted snippet edited away
    planted = index / "java-problems.jsonl"
    lines = planted.read_text().splitlines()
    planted.write_text("\n".join(lines[:3]) + "\n")
    edited = runner.invoke(app, [*args, "--decontaminate-against", str(index)])
    assert edited.exit_code == 0, edited.output
    assert "Benchmark decontamination: 0 of" in edited.output
    assert sorted(r["id"] for r in _rows(out)) == sorted(r["id"] for r in before)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.jsonl", None, "no such file or folder"),
        ("broken.jsonl", '{"task_id": "x"\n', "line 1 is not JSON"),
        ("notes.docx", "x", ".docx is not read"),
        ("tiny.jsonl", '{"code": "return 1;"}\n', "no snippet of 10 words"),
    ],
)
def test_a_bad_index_is_one_line_before_any_work(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["run", str(HOTEL), "--out", str(out), "--decontaminate-against", str(path)]
    )
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")
    assert message in result.output and "--decontaminate-against" in result.output
    assert not out.exists()
