"""Values the store keeps once (migration 9, `store_schema.SHARED`): a pair's path when it is
its unit's, a decision's reason, a filter verdict; and a store of the schema before it."""

import json

import pytest
from factories import pair, unit

import dataprep.store as store_module
from dataprep.codec import FORMAT_1, FORMAT_2, _codecs, load, pack, unpack
from dataprep.models import Decision, Unit
from dataprep.store import Store
from dataprep.store_schema import MIGRATIONS, PAIR_SQL, SHARED, UNIT_OF_PAIR, pack_pair

BALANCE = "task=t (a trivia task) over its target 1 (3 available, seed 0)"


def units_of(path: str, n: int) -> list[Unit]:
    return [
        unit(f"void f{i}() {{}}", f"f{i}", path=path, signature=f"f{i}()", start_line=i + 1)
        for i in range(n)
    ]


def pairs_of(units: list[Unit]):
    return [pair("What?", u.code, source=u, task="t", template="t.1") for u in units]


def filled(tmp_path, n: int, digest: str = "d") -> tuple[Store, list[Unit], list]:
    """A store holding `n` units of a/A.java and a pair of each."""
    store = Store.open(tmp_path)
    units = units_of("a/A.java", n)
    store.put_file("a/A.java", digest, "parsed", units)
    pairs = pairs_of(units)
    store.put_pairs(pairs)
    return store, units, pairs


def stored(store: Store, sql: str) -> list[tuple]:
    return store.conn.execute(sql).fetchall()


def test_a_pair_stores_no_path_of_its_own_and_keeps_it_when_its_unit_goes(tmp_path):
    store, units, pairs = filled(tmp_path, 3, digest="d1")
    assert stored(store, "SELECT DISTINCT path FROM pairs") == [("",)]
    assert store.pairs() == sorted(pairs, key=lambda p: p.id)
    assert store.pair(pairs[0].id) == pairs[0]
    assert store.kept_counts("path") == {"a/A.java": 3}

    store.put_file("a/A.java", "d2", "parsed", units[1:])  # f0 is gone: its pair keeps its path
    assert store.pair(pairs[0].id) == pairs[0]
    assert pairs[0] in store.pairs(live_only=False)
    assert [p.id for p in store.pairs()] == sorted(p.id for p in pairs[1:])
    # the units that came back hold their pairs' path again
    assert stored(store, "SELECT path FROM pairs WHERE path != ''") == [("a/A.java",)]

    store.clear_units()  # the many-source merge: every unit out, then in again
    store.add_units(units[1:])
    assert stored(store, "SELECT path FROM pairs WHERE path != ''") == [("a/A.java",)]
    assert store.split_assignments() == []
    store.put_splits([(p.id, "train", "a/A.java") for p in pairs])
    assert stored(store, "SELECT DISTINCT grp FROM splits") == [(None,)]
    assert sorted(store.split_assignments()) == sorted((p.id, "train", "a/A.java") for p in pairs)
    assert store.paths_in_splits(["train"]) == {"a/A.java"}


def test_a_pair_of_a_unit_not_stored_keeps_its_path(tmp_path):
    store = Store.open(tmp_path)
    (alone,) = pairs_of(units_of("b/B.java", 1))
    store.put_pairs([alone])
    assert stored(store, "SELECT path FROM pairs") == [("b/B.java",)]
    assert store.pair(alone.id) == alone


def test_reasons_and_verdicts_are_stored_once(tmp_path):
    store, units, pairs = filled(tmp_path, 3)
    store.put_decisions(
        "balance",
        [Decision(pair_id=p.id, stage="balance", kept=False, reason=BALANCE) for p in pairs],
    )
    assert stored(store, "SELECT text FROM reasons") == [(BALANCE,)]
    assert stored(store, "SELECT DISTINCT reason FROM decisions") == [(None,)]
    assert {d.reason for d in store.dropped().values()} == {BALANCE}
    assert store.decisions_of(pairs[0].id) == [("balance", 0, BALANCE, None)]
    assert store.review_reasons([pairs[0].id]) == {pairs[0].id: [f"balance: {BALANCE}"]}
    # the same verdicts again write nothing; a changed one is written with its new reason
    assert (
        store.put_decisions(
            "balance",
            [Decision(pair_id=p.id, stage="balance", kept=False, reason=BALANCE) for p in pairs],
        )
        == 0
    )
    again = [Decision(pair_id=pairs[0].id, stage="balance", kept=False, reason="other")]
    assert store.put_decisions("balance", again) == 3
    assert [(r[2], r[4]) for r in store.decision_rows()] == [("balance", "other")]

    kept = {"length": "", "secrets": ""}
    verdicts = {f"{i:016x}": kept for i in range(5)} | {"f" * 16: {"length": "too long"}}
    store.put_filter_verdicts(verdicts)
    store.put_filter_verdicts({f"{9:016x}": kept}, forget=[f"{4:016x}"])
    assert stored(store, "SELECT count(*) FROM verdict_values") == [(2,)]
    assert stored(store, "SELECT DISTINCT typeof(data) FROM filter_cache") == [("integer",)]
    expected = {k: v for k, v in verdicts.items() if k != f"{4:016x}"} | {f"{9:016x}": kept}
    assert store.filter_verdicts() == expected
    assert store.filter_verdicts_of(["f" * 16, "0" * 16]) == {
        "f" * 16: {"length": "too long"},
        "0" * 16: kept,
    }


def test_a_store_of_the_schema_before_opens_with_the_same_answers(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS[: SHARED - 1])
    units = units_of("a/A.java", 3)
    pairs = pairs_of(units)
    (other,) = pairs_of(units_of("b/B.java", 1))  # a pair whose unit is not stored
    with Store.open(tmp_path) as old:  # written as the code of that schema wrote it
        old.put_file("a/A.java", "d", "parsed", units)
        old.conn.executemany(
            "INSERT INTO pairs (id, unit_id, generator, task, path, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(p.id, p.unit_id, p.generator, p.task, p.path, pack_pair(p)) for p in [*pairs, other]],
        )
        old.conn.executemany(
            "INSERT INTO decisions (pair_id, stage, kept, reason) VALUES (?, ?, 0, ?)",
            [(pairs[0].id, "balance", BALANCE), (pairs[1].id, "balance", BALANCE),
             (pairs[1].id, "filter.length", "too long")],
        )  # fmt: skip
        old.conn.executemany(
            "INSERT INTO stage_seen VALUES (?, 3)", [("balance",), ("filter.length",)]
        )
        verdicts = {"length": "", "secrets": ""}
        old.conn.executemany(
            "INSERT INTO filter_cache (key, data) VALUES (?, ?)",
            [(bytes([i]) * 16, pack(json.dumps(verdicts, sort_keys=True))) for i in range(3)],
        )
        old.conn.execute(
            "INSERT INTO splits (pair_id, split, grp) VALUES (?, 'train', NULL)", (pairs[2].id,)
        )
        live = old.state_digest("live")
    monkeypatch.undo()

    with Store.open(tmp_path) as store:
        assert stored(store, "PRAGMA user_version") == [(len(MIGRATIONS),)]
        assert stored(store, "SELECT path FROM pairs WHERE path != ''") == [("b/B.java",)]
        assert store.pairs(live_only=False) == sorted([*pairs, other], key=lambda p: p.id)
        assert store.pair(other.id) == other
        assert store.state_digest("live") == live
        assert stored(store, "SELECT reason FROM decisions WHERE reason IS NOT NULL") == [
            ("too long",)
        ]  # a reason given once stays in its row
        assert sorted(store.decision_rows()) == sorted(
            [
                (pairs[0].id, pairs[0].unit_id, "balance", 0, BALANCE, None),
                (pairs[1].id, pairs[1].unit_id, "balance", 0, BALANCE, None),
                (pairs[1].id, pairs[1].unit_id, "filter.length", 0, "too long", None),
            ]
        )
        assert store.dropped()[pairs[1].id].reason == BALANCE
        assert store.decision_counts() == [
            ("balance", 0, 2), ("balance", 1, 1), ("filter.length", 0, 1), ("filter.length", 1, 2),
        ]  # fmt: skip
        assert store.kept_pairs() == [pairs[2]]
        # keys of 16 bytes (before `SLIM`) kept as their first 8
        assert store.filter_verdicts() == {(bytes([i]) * 8).hex(): verdicts for i in range(3)}
        assert stored(store, "SELECT DISTINCT typeof(data) FROM filter_cache") == [("integer",)]
        assert store.split_assignments() == [(pairs[2].id, "train", "a/A.java")]
        # the change counters still count: a write after the migration is seen
        store.put_file("a/A.java", "d2", "parsed", units[:2])
        assert store.state_digest("live") != live
        assert store.pair(pairs[2].id) == pairs[2]  # its unit is gone, its path is kept


def test_the_migration_run_again_changes_nothing(tmp_path):
    store, units, pairs = filled(tmp_path, 2)
    store.put_decisions(
        "balance", [Decision(pair_id=pairs[0].id, stage="balance", kept=False, reason=BALANCE)]
    )
    store.put_filter_verdicts({"0" * 16: {"length": ""}})
    for _ in range(2):
        with store.transaction():
            MIGRATIONS[SHARED - 1](store.conn)
    assert store.pairs() == sorted(pairs, key=lambda p: p.id)
    assert store.dropped()[pairs[0].id].reason == BALANCE
    assert store.filter_verdicts() == {"0" * 16: {"length": ""}}
    store.close()


def test_values_are_packed_with_the_second_dictionary_and_the_first_still_reads():
    text = json.dumps({"instruction": "What does Room.capacity(int) return?", "output": "int"})
    assert pack(text)[:1] == FORMAT_2 and unpack(pack(text)) == text
    compressor = _codecs(FORMAT_1)[0]  # a row written before zdict-2
    assert unpack(FORMAT_1 + compressor.compress(text.encode())) == text
    assert unpack(text) == text  # plain JSON, from before the store was compacted
    with pytest.raises(ValueError, match="upgrade dataprep"):
        unpack(b"\x09" + compressor.compress(text.encode()))


def test_load_reads_what_json_reads_of_every_stored_form():
    values = [
        {"instruction": "What does Room.capacity(int) return?", "output": "int", "round": 2},
        {"output": "caf\u00e9 \u2028 \U0001f600 \"q\" \\ \n\t", "start_line": 0},
        {"a": 1, "a": 2},  # the last of a repeated key, as json
        {"f": 1.5e-7, "g": -0.0, "h": [None, True, False]},
    ]
    texts = [json.dumps(v, ensure_ascii=False) for v in values]
    texts += ['{"x": "\\ud800 alone"}', '{"f": NaN}', '{"f": 1e400}']  # orjson refuses these
    compressor = _codecs(FORMAT_1)[0]
    for text in texts:
        expected = json.loads(text)
        for stored in (pack(text), FORMAT_1 + compressor.compress(text.encode()), text):
            got = load(stored)
            assert repr(got) == repr(expected), text  # repr: NaN is not equal to itself
    with pytest.raises(ValueError, match="upgrade dataprep"):
        load(b"\x09" + compressor.compress(b"{}"))


def test_a_unit_keeps_its_columns_out_of_its_json_and_an_older_row_reads_the_same(tmp_path):
    store = Store.open(tmp_path)
    new, old = units_of("a/A.java", 2)
    store.put_file("a/A.java", "d", "parsed", [new])
    (name, data) = store.conn.execute("SELECT qualified_name, data FROM units").fetchone()
    assert name == "" and json.loads(unpack(data))["qualified_name"] == new.qualified_name
    assert not {"id", "path", "kind"} & set(json.loads(unpack(data)))
    store.conn.execute(  # a row as the code before wrote it: every field in its JSON
        "INSERT INTO units (id, path, kind, qualified_name, data) VALUES (?, ?, ?, ?, ?)",
        (old.id, old.path, old.kind, old.qualified_name, pack(old.model_dump_json())),
    )
    assert store.units() == sorted([new, old], key=lambda u: u.id)
    assert store.unit(old.id) == old and store.units_in("a/A.java") == store.units()
    assert store.unit_counts("repo") == {"hotel": 2}
    assert store.unit_counts("kind") == {"method": 2}
    summaries = store.unit_summaries(["method"], ["qualified_name", "path", "javadoc"])
    assert summaries == [
        {"qualified_name": u.qualified_name, "path": u.path, "javadoc": None}
        for u in sorted([new, old], key=lambda u: u.id)
    ]
    store.close()


def test_a_pair_reads_its_unit_path_from_an_index_not_the_unit_row(tmp_path):
    store = Store.open(tmp_path)
    plan = stored(store, f"EXPLAIN QUERY PLAN SELECT {PAIR_SQL} FROM pairs p JOIN {UNIT_OF_PAIR}")
    assert any("COVERING INDEX units_id_path" in row[-1] for row in plan), plan
    store.close()
