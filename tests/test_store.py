import sqlite3

import pytest
from factories import pair, store_with, unit

from dataprep.errors import StoreError
from dataprep.models import Decision, Pair, Review, Unit
from dataprep.store import Store
from dataprep.store_schema import MIGRATIONS


def make_unit(path="A.java", name="f", code="void f() {}") -> Unit:
    return unit(
        code, name, path=path, qualified_name=f"A.{name}", signature=f"{name}()",
        start_line=1, end_line=1, repo="r", parent=None,
    )  # fmt: skip


def make_pair(source: Unit, output: str = "void f() {}") -> Pair:
    return pair("What?", output, source=source, task="t", template="t.1")


def test_open_creates_wal_store_with_schema(tmp_path):
    store = Store.open(tmp_path / "out")
    assert (tmp_path / "out" / "dataprep.db").exists()
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    store.close()
    # reopening applies nothing twice
    Store.open(tmp_path / "out").close()


def test_newer_schema_is_refused(tmp_path):
    Store.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / "dataprep.db")
    conn.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(StoreError, match="upgrade dataprep"):
        Store.open(tmp_path)


def test_missing_store_names_the_fix(tmp_path):
    with pytest.raises(StoreError, match="run `dataprep run PATH --out"):
        Store.open(tmp_path / "nothing", create=False)


def test_units_replaced_per_file_and_pairs_follow_live_units(tmp_path):
    store = Store.open(tmp_path)
    u1, u2 = make_unit(), make_unit(name="g", code="void g() {}")
    store.put_file("A.java", "d1", "parsed", [u1, u2])
    assert store.put_pairs([make_pair(u1), make_pair(u2, "void g() {}")]) == 2
    assert store.put_pairs([make_pair(u1)]) == 0  # same content, same id: no duplicate
    store.put_file("A.java", "d2", "parsed", [u2])  # the file changed: f is gone
    assert [u.name for u in store.units()] == ["g"]
    assert [p.output for p in store.pairs()] == ["void g() {}"]
    assert len(store.pairs(live_only=False)) == 2
    assert store.file_digests() == {"A.java": "d2"}


def test_transaction_rolls_back_on_error(tmp_path):
    store = Store.open(tmp_path)
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.put_file("A.java", "d1", "parsed", [make_unit()])
            raise RuntimeError("killed")
    assert store.units() == []


def test_decisions_drop_pairs_with_reasons(tmp_path):
    store = Store.open(tmp_path)
    unit = make_unit()
    store.put_file("A.java", "d", "parsed", [unit])
    pair = make_pair(unit)
    store.put_pairs([pair])
    store.put_decisions(
        "exact_duplicate",
        [Decision(pair_id=pair.id, stage="exact_duplicate", kept=False, reason="dup")],
    )
    assert store.kept_pairs() == []
    assert store.dropped()[pair.id].reason == "dup"
    store.put_decisions("exact_duplicate", [])
    assert store.kept_pairs() == [pair]


def test_reviews_log_every_change(tmp_path):
    store = Store.open(tmp_path)
    store.put_review(Review(pair_id="p", status="accepted"))
    store.put_review(Review(pair_id="p", status="edited", output="new"))
    assert store.reviews()["p"].output == "new"
    events = store.conn.execute("SELECT before IS NULL FROM review_events ORDER BY id").fetchall()
    assert events == [(1,), (0,)]


def filled(tmp_path, n: int) -> tuple[Store, list]:
    """A store holding `n` small methods of A.java and a pair of each."""
    store = Store.open(tmp_path)
    units = [make_unit(name=f"f{i}", code=f"void f{i}() {{}}") for i in range(n)]
    store.put_file("A.java", "d", "parsed", units)
    pairs = [make_pair(u, output=u.code) for u in units]
    store.put_pairs(pairs)
    return store, pairs


def test_state_digests_follow_the_writes_they_depend_on(tmp_path, monkeypatch):
    store, pairs = filled(tmp_path, 3)
    kept = store.state_digest("kept", before="balance")
    live, splits = store.state_digest("live"), store.state_digest("splits")

    def drop(stage, p):
        store.put_decisions(stage, [Decision(pair_id=p.id, stage=stage, kept=False, reason="x")])

    drop("balance", pairs[0])  # a later stage's verdict: not what balance starts from
    assert store.state_digest("kept", before="balance") == kept
    assert store.state_digest("kept") != kept
    drop("filter.length", pairs[1])
    assert store.state_digest("kept", before="balance") != kept
    assert store.state_digest("live") == live  # live ignores every verdict
    store.put_splits([(pairs[2].id, "train", "A.java")])
    assert store.state_digest("splits") != splits

    # read back from the cache while the counters stand still: nothing is recomputed
    before = store.state_digest("kept", before="balance")
    monkeypatch.setattr(Store, "_alive", lambda *a, **k: pytest.fail("recomputed"))
    assert store.state_digest("kept", before="balance") == before
    monkeypatch.undo()

    # another connection's write (the review server, an older dataprep) bumps the counters
    reviews = store.state_digest("reviews")
    other = sqlite3.connect(tmp_path / "dataprep.db")
    other.execute(
        'INSERT INTO reviews (pair_id, data, updated_at) VALUES (?, \'{"status": "accepted"}\', 1)',
        (pairs[2].id,),
    )
    other.commit()
    other.close()
    assert store.state_digest("reviews") != reviews
    store.close()


def test_a_bulk_split_write_counts_once_and_keeps_its_triggers(tmp_path):
    store, pairs = filled(tmp_path, 3)

    def triggers():
        sql = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'splits'"
        return sorted(store.conn.execute(sql))

    def counter():
        return store.conn.execute("SELECT n FROM changes WHERE name = 'splits'").fetchone()[0]

    made, count, digest = triggers(), counter(), store.state_digest("splits")
    store.put_split_rows([(p.id, "train", None) for p in pairs])
    assert triggers() == made and len(made) == 3 and counter() == count + 1
    assert store.state_digest("splits") != digest
    assert sorted(store.split_assignments()) == sorted((p.id, "train", "A.java") for p in pairs)
    with pytest.raises(sqlite3.IntegrityError):  # a failed write: triggers and rows as they were
        store.put_split_rows([(pairs[0].id, "test", None), (pairs[0].id, "train", None)])
    assert triggers() == made and counter() == count + 1
    assert store.splits() == {p.id: "train" for p in pairs}
    store.put_splits([(pairs[0].id, "test", "A.java")])  # the triggers still count row writes
    assert counter() > count + 1
    store.close()


def test_a_bulk_decision_write_counts_once_for_its_stage_rank(tmp_path):
    store, pairs = filled(tmp_path, 1200)

    def counters():
        return dict(store.conn.execute("SELECT name, n FROM changes WHERE name LIKE 'decisions.%'"))

    def triggers():
        sql = "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'decisions'"
        return sorted(store.conn.execute(sql))

    made, before, kept = triggers(), counters(), store.state_digest("kept")
    drops = [Decision(pair_id=p.id, stage="balance", kept=False, reason="x") for p in pairs]
    assert store.put_decisions("balance", drops[:1100]) == 1100  # a bulk write
    assert counters() == {**before, "decisions.2": before["decisions.2"] + 1}
    assert triggers() == made and len(made) == 3
    assert store.state_digest("kept") != kept and store.kept_count() == 100
    store.put_decisions("balance", drops[:1103])  # three rows more: the triggers count each
    assert counters()["decisions.2"] == before["decisions.2"] + 1 + 3
    assert store.kept_count() == 97 and store.state_digest("kept", before="balance") == kept
    store.close()


def test_the_change_counters_survive_reopening_and_start_at_their_migration(tmp_path):
    store = Store.open(tmp_path)
    unit = make_unit()
    store.put_file("A.java", "d", "parsed", [unit])
    digest = store.state_digest("live")
    store.close()
    again = Store.open(tmp_path)
    assert again.state_digest("live") == digest
    again.put_pairs([make_pair(unit)])
    assert again.state_digest("live") != digest
    again.close()


def test_kept_rows_are_the_kept_live_rows_with_their_split(tmp_path):
    """`kept_rows` (the export's knowledge pass) reads what `live_rows` reads of the pairs
    no decision dropped, by id, within the ids asked for."""
    from dataprep.store_schema import read_pair_fields, read_question

    store, pairs = filled(tmp_path, 6)
    store.put_decisions(
        "filter.length",
        [Decision(pair_id=pairs[1].id, stage="filter.length", kept=False, reason="x")],
    )
    store.put_decisions("balance", [Decision(pair_id=pairs[4].id, stage="balance", kept=True)])
    store.put_splits([(p.id, "train" if i % 2 else "test", "A.java") for i, p in enumerate(pairs)])
    live = [row[:-1] for row in store.live_rows() if row[-1] is None]
    assert list(store.kept_rows()) == live and len(live) == 5
    ids = sorted(p.id for p in pairs)
    assert list(store.kept_rows(ids[2], ids[4])) == [r for r in live if ids[2] <= r[0] <= ids[4]]
    for row in live:  # a pair's question read off its JSON's head: what decoding it reads
        fields = read_pair_fields(row[:-1])
        assert read_question(row[-2]) == (fields["instruction"], fields["input"])


def test_live_rows_of_some_stages_are_those_live_rows_names(tmp_path):
    """`live_rows_of` reads the rows of `live_rows` whose pair one of the stages dropped
    (the first by name: a pair balance and a filter dropped is balance's), and the kept
    ones when asked, by id, within the ids asked for."""
    store, pairs = filled(tmp_path, 8)
    verdicts = {  # a stage's verdicts are written together (its pass replaces them)
        "filter.length": [(1, False), (2, False)],
        "balance": [(2, False), (4, True)],
        "decontaminate": [(3, False), (5, False)],
    }
    for stage, found in verdicts.items():
        store.put_decisions(
            stage, [Decision(pair_id=pairs[i].id, stage=stage, kept=kept) for i, kept in found]
        )
    live = list(store.live_rows())
    assert {r[-1] for r in live} == {None, "filter.length", "balance", "decontaminate"}
    for stages, kept in [
        (["decontaminate"], False),
        (["balance", "decontaminate"], True),
        ([], True),
        ([], False),
    ]:
        wanted = set(stages) | ({None} if kept else set())
        assert list(store.live_rows_of(stages, kept)) == [r for r in live if r[-1] in wanted]
    ids = sorted(p.id for p in pairs)
    found = list(store.live_rows_of(["decontaminate"], True, ids[2], ids[6]))
    assert found == [
        r for r in live if r[-1] in (None, "decontaminate") and ids[2] <= r[0] <= ids[6]
    ]


@pytest.mark.parametrize("input", ["", 'int a;\n"q" \\ é \u2028'])
def test_read_question_reads_instruction_and_input_of_any_stored_json(input):
    from dataprep.codec import pack
    from dataprep.store_schema import pack_pair, read_question

    stored = pair('Say "hi" \\ é', "x", input, source=make_unit(), task="t", template="t.1")
    assert read_question(pack_pair(stored)) == (stored.instruction, input)
    old = pack(stored.model_dump_json())  # a store written before the columns left the JSON
    assert read_question(old) == (stored.instruction, input)


def test_export_rows_come_by_path_with_the_pairs_whose_path_is_not_their_units(tmp_path):
    # read in the units' path order (no sort of every row), a pair stored with a path of
    # its own merged in where its path falls
    units = [make_unit("B.java", "b"), make_unit("D.java", "d"), make_unit("A.java", "a")]
    pairs = [make_pair(u, f"void {u.name}() {{ return; }}") for u in units]
    moved = make_pair(units[1], "void moved() {}").model_copy(update={"path": "C.java"})
    moved = Pair(**{**moved.model_dump(), "id": "moved"})
    store = store_with(tmp_path, [*pairs, moved], units)
    assert store.conn.execute("SELECT count(*) FROM pairs WHERE path != ''").fetchone() == (1,)
    paths = [row[4] for row in store.export_rows()]
    assert paths == ["A.java", "B.java", "C.java", "D.java"]
    assert [row[4] for row in store.export_rows(tasks=["other"])] == []
    assert [p.path for p, _ in store.export_pairs()] == paths
