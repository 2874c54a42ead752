"""The per-file template cache keeps a candidate that became a pair as a mark on its pair
(`dataprep.generate.template_cache`): read back, it is the candidate the file's units make;
a pass over slim rows makes the pairs a pass from scratch makes; a pair gone from under a
row makes the file's candidates be built again."""

import json
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES

from dataprep.generate import candidates as gcand
from dataprep.generate import template_cache
from dataprep.generate.template_stage import _module_finder, _rebuild, generate_stage
from dataprep.settings import RunConfig
from dataprep.slicing.stage import slice_stage
from dataprep.stages import Context
from dataprep.store import Store
from dataprep.store_schema import SLIM

MONEY = "common/src/main/java/com/example/hotel/common/Money.java"


def _generate(repo: Path, out: Path, jobs: int = 1) -> dict:
    """Slice and generate (nothing else) `repo` into `out`."""
    cfg = RunConfig(path=repo, out=out, jobs=jobs)
    with Store.open(out) as store:
        ctx = Context(store=store, config=cfg, run_id=None, info={"repo": repo.name})
        slice_stage(ctx)
        return generate_stage(ctx)


def _template_pairs(out: Path) -> dict[str, object]:
    with Store.open(out) as store:
        return {p.id: p for p in store.pairs(live_only=False) if p.generator == "template"}


def _stored(out: Path) -> dict[str, dict]:
    with Store.open(out) as store:
        return {path: json.loads(store.template_blob(path)) for path in store.template_keys()}


@pytest.fixture
def repo(tmp_path):
    shutil.copytree(FIXTURES / "hotel-booking", tmp_path / "hotel-booking")
    return tmp_path / "hotel-booking"


def test_a_candidate_made_a_pair_is_kept_as_a_mark_and_reads_back_whole(repo, tmp_path):
    out = tmp_path / "out"
    _generate(repo, out)
    pairs = _template_pairs(out)
    rows = [row for data in _stored(out).values() for row in data["candidates"]]
    marked = [row for row in rows if "pair" in row]
    assert 1000 < len(marked) < len(pairs)  # the families' pairs are not the files'

    assert all("output" not in row and "input" not in row for row in marked)
    values = [v for data in _stored(out).values() for v in data["values"]]
    assert values and all(set(v) == {"delta"} for v in values)  # read back whole below
    assert {row["pair"] for row in marked} >= {""}  # most by their unit and task alone
    assert all(row["pair"] in pairs for row in marked if row["pair"])
    with Store.open(out) as store:
        for path in store.template_keys():
            data, refs, _, slim = template_cache.read(store, path, lambda p=path: pytest.fail(p), 0)
            assert slim == set() and set(refs) - {None} <= set(pairs)
            units = store.units_in(path)
            built = gcand.file_candidates(units, 0, module_of=_module_finder(str(repo)))
            fresh = json.loads(gcand.dump_candidates(built))
            assert data["values"] == fresh["values"]
            for row, made in zip(data["candidates"], fresh["candidates"], strict=True):
                assert {**row, "level": 0} == {**made, "level": 0}


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_edit_makes_the_pairs_a_run_from_scratch_makes(repo, tmp_path, jobs):
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    _generate(repo, out, jobs)
    money = repo / MONEY
    money.write_text(
        money.read_text().rstrip().removesuffix("}")
        + "\n    /** Half of it. */\n    public Money halved() {\n        return this;\n    }\n}\n"
    )
    counts = _generate(repo, out, jobs)
    assert counts["files_generated"] == 1 and counts["pairs_new"] > 0
    _generate(repo, fresh, jobs)
    # the same pairs; one whose id stands keeps the lines it was stored with (a pair's id
    # hashes its unit, template and texts, not where the unit ends: as before this cache)
    lines = {"start_line", "end_line"}
    assert {k: p.model_dump(exclude=lines) for k, p in _template_pairs(out).items()} == {
        k: p.model_dump(exclude=lines) for k, p in _template_pairs(fresh).items()
    }
    assert _stored(out) == _stored(fresh)  # each file's rows marked as a fresh pass marks them


def test_a_pair_gone_from_under_its_mark_is_made_again(repo, tmp_path):
    out = tmp_path / "out"
    _generate(repo, out)
    pairs, stored = _template_pairs(out), _stored(out)
    with Store.open(out) as store:
        data, _, marks, _ = template_cache.read(store, MONEY, lambda: pytest.fail(), 0)
        gone = next(row for row, mark in zip(data["candidates"], marks, strict=True) if mark == "")
        (victim,) = [
            pid
            for pid, unit_id, task in store.template_pairs_of([gone["unit_id"]])
            if task == gone["task"]
        ]
        store.delete_pairs([victim])
        assert store.template_blob(MONEY) is not None
        rebuilt = []
        rebuild = _rebuild(store, MONEY, str(repo), 0)
        template_cache.read(store, MONEY, lambda: rebuilt.append(1) or rebuild(), 0)
        assert rebuilt == [1]
        store.set_meta("pipeline.templates", None)  # a pass over the cached files
    counts = _generate(repo, out)
    assert counts["files_generated"] == 0 and counts["pairs_new"] == 1
    assert _template_pairs(out) == pairs and _stored(out) == stored


def test_a_store_with_whole_rows_is_made_slim_by_the_migration_and_the_next_pass(repo, tmp_path):
    out = tmp_path / "out"
    _generate(repo, out)
    pairs, stored = _template_pairs(out), _stored(out)
    with Store.open(out) as store:  # the rows as the schema before wrote them: whole
        state = store.get_meta("pipeline.templates")
        for path, key in store.template_keys().items():
            units = store.units_in(path)
            built = gcand.file_candidates(units, 0, module_of=_module_finder(str(repo)))
            store.put_templates(path, key, gcand.dump_candidates(built))
        store.conn.execute(f"PRAGMA user_version = {SLIM - 1}")
    assert all("pair" not in row for data in _stored(out).values() for row in data["candidates"])
    with Store.open(out) as store:
        assert store.get_meta("pipeline.templates") is None  # forgotten: the next pass runs
        assert state is not None
    counts = _generate(repo, out)
    assert (counts["files_generated"], counts["pairs_new"], counts["pairs_removed"]) == (0, 0, 0)
    assert _template_pairs(out) == pairs and _stored(out) == stored
    assert _generate(repo, out)["skipped"] is True


def test_level_values_are_stored_as_what_each_level_changes():
    levels = [{"type": "A", "file": "a/A.java"}, {"type": "p.A", "file": "a/A.java"}]
    levels += [dict(levels[1]), {"type": "p.A in a/A.java", "file": "a/A.java"}]
    stored = template_cache._delta(levels)
    assert stored == {"delta": [levels[0], {"type": "p.A"}, {}, {"type": levels[3]["type"]}]}
    assert template_cache._levels(json.loads(json.dumps(stored))) == levels
    odd = [{"type": "A", "route": "/a"}, {"type": "p.A"}]  # a level without a key: whole
    assert template_cache._delta(odd) == odd
    assert template_cache._levels(template_cache._delta([])) == []
