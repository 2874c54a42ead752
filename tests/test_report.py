"""The funnel report: report.json and a self-contained, escaped report.html."""

import json
import re
from xml.etree import ElementTree

import pytest
from factories import pair, store_with

from dataprep.balance import BalanceConfig, run_balance
from dataprep.filters import run_filters
from dataprep.report import build_report, summary_lines, write_report


def _store(tmp_path):
    pairs = [pair(f"Explain step {i}.", f"It does step {i} of the booking.") for i in range(8)]
    pairs += [pair(f"Empty {i}?", "TODO", task="method.name") for i in range(5)]
    pairs.append(
        pair(
            "<script>alert(1)</script> Explain?",
            "<b>Sorry</b>, I can't help & more",
            task="method.name",
        )
    )
    pairs.append(
        pair(
            "Explain step 0. ",
            "It does step 0 of the booking.",
            task="method.explain",
            generator="evol",
        )
    )
    store = store_with(tmp_path, pairs)
    run_filters(store)
    run_balance(store, BalanceConfig(by="task", cap=5))
    store.put_splits([(p.id, "train", p.path) for p in store.kept_pairs()])
    return store


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """One store and one report for the module."""
    tmp_path = tmp_path_factory.mktemp("report")
    out = tmp_path / "out"
    data = write_report(_store(tmp_path), out, timings={"slice": 1.5, "filter": 0.25})
    return data, out


def test_report_json_has_every_section(written):
    data, out = written
    on_disk = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert on_disk == json.loads(json.dumps(data, default=str))
    stages = [s["stage"] for s in data["funnel"]]
    assert stages[:2] == ["units", "pairs generated"]
    assert (
        stages.index("filter.empty_output")
        < stages.index("filter.exact_duplicate")
        < stages.index("balance")
    )
    counts = {s["stage"]: s["count"] for s in data["funnel"]}
    assert counts["pairs generated"] == 15 and counts["filter.empty_output"] == 10
    assert counts["filter.refusal"] == 9
    assert counts["filter.exact_duplicate"] == 8 and counts["balance"] == 5
    assert data["kept"] == 5
    empty = data["drops"]["filter.empty_output"]
    assert empty["dropped"] == 5 and len(empty["examples"]) == 3  # three examples each
    assert all(x["reason"].startswith("empty or placeholder output") for x in empty["examples"])
    dist = data["distributions"]
    assert dist["before_balance"]["task"] == {"method.explain": 8}
    assert dist["after_balance"]["task"] == {"method.explain": 5}
    assert dist["after_balance"]["split"] == {"train": 5}
    assert dist["after_balance"]["generator"] == {"template": 5}
    tokens = data["token_lengths"]
    assert tokens["tokenizer"].startswith("estimate") and tokens["output"]["max"] > 0
    assert sum(b[2] for b in tokens["output"]["bins"]) == 5
    assert data["timings"]["stages"] == {"slice": 1.5, "filter": 0.25}
    assert set(data["timings"]["filters"]) >= {"empty_output", "near_duplicate"}


def test_report_html_is_self_contained_and_escaped(written):
    data, out = written
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page.replace("&lt;script&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;Sorry&lt;/b&gt;, I can&#x27;t help &amp; more" in page
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", page)  # no CDN, nothing remote
    charts = re.findall(r"<svg .*?</svg>", page, re.S)
    assert len(charts) >= 3  # funnel, token lengths, distributions
    for chart in charts:  # well-formed SVG, each bar a rect, every label escaped
        root = ElementTree.fromstring(chart)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.findall(".//{http://www.w3.org/2000/svg}rect")
    funnel = ElementTree.fromstring(charts[0])
    labels = [t.text for t in funnel.iter("{http://www.w3.org/2000/svg}text")]
    assert "filter.empty_output" in labels and "Funnel" in labels
    assert str(data["funnel"][0]["count"]) in labels  # the bars' values are written out
    headings = ("Counts at every stage", "Drops per filter", "before and after balancing")
    for heading in (*headings, "Token lengths", "Time per stage"):
        assert heading in page


def test_summary_lines(written):
    data, _ = written
    lines = summary_lines(data)
    assert lines[0].startswith("Funnel: units 1 -> pairs generated 15 -> ")
    assert lines[1] == "Dropped: empty_output 5, balance 3, exact_duplicate 1, refusal 1"
    assert lines[2].startswith("Tokens per pair: prompt p50 ")


def test_report_counts_the_pairs_before_balancing_when_balance_kept_no_counts(tmp_path):
    store = _store(tmp_path)
    kept = build_report(store)["distributions"]["before_balance"]
    balance = store.get_meta("balance_report")
    assert balance["distributions"]["before"]  # balance keeps them: the pass reads none
    store.set_meta("balance_report", {k: v for k, v in balance.items() if k != "distributions"})
    counted = build_report(store)["distributions"]["before_balance"]  # balance's drops read
    assert counted["task"] == kept["task"] == {"method.explain": 8}
    assert counted == {c: kept[c] for c in counted}
