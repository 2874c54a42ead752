"""Many sources with an LLM: each work item's answers travel with its shards.

Real git repositories (`file://` URLs) and a real HTTP fake of Ollama that counts the
generation requests it answers.
"""

import json
import shutil

import pyarrow.parquet as pq
from test_scaleout import _home, _rows, _run, _urls, repos  # noqa: F401  (fixtures)

from dataprep.scaleout import items as it


def _llm_args(url: str) -> list[str]:
    return [
        "--llm",
        "ollama:smollm2",
        "--llm-host",
        url,
        "--evol-units",
        "6",
        "--evol-rounds",
        "1",
        "--evol-questions",
        "1",
    ]


def test_answers_travel_with_the_shards(repos, tmp_path):  # noqa: F811
    from ollama_harness import Harness, evol_script

    first = tmp_path / "machine1" / "out"
    sources = _urls(repos, "hotel", "vendor")
    with Harness(evol_script()) as harness:
        result = _run(*sources, "--out", str(first), *_llm_args(harness.url))
        calls = harness.calls
    assert result.exit_code == 0, result.output
    assert calls > 0
    shards = sorted((first / "shards").glob("*/llm.parquet"))
    assert shards, "no item exported its answers"
    exported = 0
    for path in shards:
        manifest = json.loads((path.parent / "llm.json").read_text())
        assert it.verify(path.parent, "llm", manifest["settings"]) == manifest
        rows = pq.read_table(path).to_pylist()
        assert manifest["counts"]["answers"] == len(rows) > 0
        assert all(json.loads(r["request"])["unit"] for r in rows)
        assert not any("127.0.0.1" in r["request"] for r in rows)  # keyed without the URL
        exported += len(rows)
    assert exported == calls  # every answer is with the item of its unit
    assert f"{exported} kept with their work items" in result.output
    before = _rows(first)
    assert any('"evol"' in r for rows in before.values() for r in rows)

    # another machine: only the durable state (DIR/shards) copied, a fresh counting server
    second = tmp_path / "machine2" / "out"
    shutil.copytree(first / "shards", second / "shards")
    stamps = {p: p.stat().st_mtime_ns for p in second.glob("shards/*/llm.*")}
    with Harness(evol_script()) as harness:
        again = _run(*sources, "--out", str(second), *_llm_args(harness.url))
        assert again.exit_code == 0, again.output
        assert harness.calls == 0, again.output
    assert f"{exported} loaded into the store's cache" in again.output
    assert _rows(second) == before
    assert {p: p.stat().st_mtime_ns for p in second.glob("shards/*/llm.*")} == stamps

    # a shard altered since its manifest is not trusted: its answers are asked again
    third = tmp_path / "machine3" / "out"
    shutil.copytree(first / "shards", third / "shards")
    path = sorted((third / "shards").glob("*/llm.parquet"))[0]
    n = len(pq.read_table(path).to_pylist())
    path.write_bytes(path.read_bytes() + b"\0")
    with Harness(evol_script()) as harness:
        result = _run(*sources, "--out", str(third), *_llm_args(harness.url))
        assert result.exit_code == 0, result.output
        assert harness.calls == n
    assert _rows(third) == before
    assert path.read_bytes() == (first / path.relative_to(third)).read_bytes()  # written anew
