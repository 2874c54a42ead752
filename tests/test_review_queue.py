"""The review queue in SQL (review_rows, review_search): held to a plain-Python reading of
the store's tables on a varied store, for every filter, sort, page and neighbour; search,
samples, bulk actions (the same rules as one pair's action) and the tables kept in step."""

import json
import random
import re
import uuid

import pytest

pytest.importorskip("starlette", reason="pip install dataprep[review]")
from factories import review_store, service_pair, service_unit  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from dataprep.models import Decision, Review  # noqa: E402
from dataprep.review import actions, queue  # noqa: E402
from dataprep.review.app import create_app  # noqa: E402
from dataprep.store import Store  # noqa: E402
from dataprep.store_review import search_query  # noqa: E402
from dataprep.store_schema import MIGRATIONS, statements  # noqa: E402

TOKEN = "test-token"
TASKS = ("explain_method", "method.code", "type.name")
STAGES = ("filter.length", "filter.near_duplicate")


def varied_store(out, n=120, seed=7) -> Store:
    """`n` pairs over 4 units (one of them gone: its pairs are not live), with drops by one
    or two stages, judge scores, splits, and reviews of every kind."""
    rng = random.Random(seed)
    units = [service_unit(f"m{i}", f"void m{i}() {{}}", 10 * i + 5) for i in range(4)]
    units[2] = units[2].model_copy(update={"kind": "constructor"})
    units[3] = units[3].model_copy(update={"path": "b/Other.java", "id": "gone0000"})
    pairs = []
    for i in range(n):
        unit = units[i % 4]
        words = rng.choice(["alpha beta", "gamma", "Beta delta", "delta, beta", "zeta"])
        pairs.append(
            service_pair(
                unit,
                rng.choice(TASKS),
                f"{rng.choice('QWERTY')} question {i} {words}?",
                f"{rng.choice('abcde')} answer {i}\n  line two",
                generator=rng.choice(["template", "template", "evol"]),
                input=rng.choice(["", "", f"input {words}"]),
            )
        )
    store = Store.open(out)
    store.put_file(units[0].path, "d", "ok", units[:3])
    store.put_pairs(pairs)
    for stage in STAGES:
        kept = {p.id: rng.random() > 0.2 for p in pairs}
        store.put_decisions(
            stage,
            [Decision(pair_id=pid, stage=stage, kept=k, reason="no") for pid, k in kept.items()],
        )
    judged = [p for p in pairs if rng.random() < 0.5]
    store.put_decisions(
        "filter.judge",
        [
            Decision(
                pair_id=p.id,
                stage="filter.judge",
                kept=(score := rng.randint(0, 100)) >= 20,
                detail=json.dumps({"judge_score": score, "why": "ok"}),
            )
            for p in judged
        ],
    )
    store.put_splits(
        [
            (p.id, rng.choice(["train", "train", "test"]), p.path)
            for p in pairs
            if rng.random() < 0.9
        ]
    )
    for p in pairs:
        roll = rng.random()
        if roll < 0.15:
            store.put_review(Review(pair_id=p.id, status="accepted"))
        elif roll < 0.25:
            store.put_review(Review(pair_id=p.id, status="rejected", reason="vague"))
        elif roll < 0.3:
            store.put_review(Review(pair_id=p.id, status="edited", instruction="I", output="O"))
        elif roll < 0.38:
            store.put_review(Review(pair_id=p.id, status="unreviewed", flagged=True, note="n"))
    store.refresh_review_rows()
    return store


def reference(store: Store) -> list[dict]:
    """Every live pair as the queue should see it, read without review_rows, in source order."""
    live = {u.id for u in store.units()}
    reviews, splits = store.reviews(), store.splits()
    dropped: dict[str, list[str]] = {}
    judge: dict[str, float] = {}
    for pid, stage, kept, _, detail in store.notable_decisions():
        if not kept:
            dropped.setdefault(pid, []).append(stage)
        if "judge" in stage and detail:
            judge[pid] = json.loads(detail)["judge_score"]
    rows = []
    for p in sorted(
        store.pairs(live_only=False), key=lambda p: (p.path, p.start_line, p.task, p.id)
    ):
        review = reviews.get(p.id)
        row = dict(id=p.id, task=p.task, kind=p.unit_kind, generator=p.generator)
        row.update(split=splits.get(p.id, ""), status=review.status if review else "unreviewed")
        row.update(flagged=bool(review and review.flagged), dropped=sorted(dropped.get(p.id, [])))
        row.update(judge=judge.get(p.id), instruction=p.instruction, output=p.output)
        row.update(text=" | ".join((p.instruction, p.input, p.output)))
        row.update(live=p.unit_id in live, pos=len(rows))
        rows.append(row)
    return [r for r in rows if r["live"]]


def passes(row: dict, f: queue.Filters) -> bool:
    for name in ("status", "task", "kind", "generator", "split"):
        if getattr(f, name) and row[name] != getattr(f, name):
            return False
    if not queue.flag_matches(f.flag, row["dropped"], row["flagged"]):
        return False
    if f.judge_min is not None and (row["judge"] is None or row["judge"] < f.judge_min):
        return False
    return not (f.judge_max is not None and (row["judge"] is None or row["judge"] > f.judge_max))


def ordered(rows: list[dict], sort: str) -> list[dict]:
    """`rows` in the queue's order for `sort` (ties in source order), e.g. "-status"."""
    name, desc = sort.removeprefix("-"), sort.startswith("-")
    key = {
        "source": lambda r: (),
        "filters": lambda r: (",".join(r["dropped"]),),
        "judge": lambda r: (float("-inf") if r["judge"] is None else r["judge"],),
        "instruction": lambda r: (r["instruction"][:24],),
        "output": lambda r: (r["output"][:24],),
    }.get(name, lambda r: (r[name],))
    return sorted(rows, key=lambda r: (*key(r), r["pos"]), reverse=desc)


FILTERS = [
    {},
    {"flag": "all"},
    {"flag": "dropped"},
    {"flag": "dropped:filter.length"},
    {"flag": "flagged"},
    {"status": "accepted"},
    {"status": "unreviewed", "task": "method.code"},
    {"kind": "constructor", "flag": "all"},
    {"generator": "evol", "split": "test"},
    {"split": "train", "judge_min": "40"},
    {"judge_min": "20", "judge_max": "70", "flag": "all"},
    {"task": "type.name", "status": "rejected", "flag": "all"},
]
SORTS = [s for name in queue.SORTS for s in (name, f"-{name}")]


@pytest.fixture(scope="module")
def varied(tmp_path_factory):
    out = tmp_path_factory.mktemp("varied")
    store = varied_store(out)
    yield store, reference(store)
    store.close()


@pytest.mark.parametrize("query", FILTERS, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()))
def test_counts_match_a_plain_reading_of_the_tables(varied, query):
    store, rows = varied
    f = queue.Filters.from_query(query)
    groups = queue.groups(store, f)
    expected = [r for r in rows if passes(r, f)]
    assert sum(g.n for g in groups if g.passes(f)) == len(expected)
    counts = queue.facet_counts(groups, f)
    for name in ("status", "task", "kind", "generator", "split"):
        others = queue.Filters.from_query({k: v for k, v in query.items() if k != name})
        want: dict[str, int] = {}
        for r in rows:
            if passes(r, others):
                want[r[name]] = want.get(r[name], 0) + 1
        assert dict(counts[name]) == want, name
    flagless = queue.Filters.from_query({**query, "flag": "all"})
    assert counts["flag"]["all"] == sum(passes(r, flagless) for r in rows)
    shown = queue.progress(groups, f)
    assert shown["total"] == len(expected)
    assert shown["accepted"] == sum(r["status"] == "accepted" for r in expected)


@pytest.mark.parametrize("walk", [False, True])
@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_pages_like_a_plain_sort(varied, sort, walk, monkeypatch):
    store, rows = varied
    monkeypatch.setattr(queue, "PAGE_SIZE", 7)  # pages that straddle the blocks of a sort
    for query in FILTERS[:6]:
        f = queue.Filters.from_query({**query, "sort": sort})
        groups = queue.groups(store, f)
        want = [r["id"] for r in ordered([r for r in rows if passes(r, f)], sort)]
        got = []
        for offset in range(0, len(want) + 7, 7):
            got += [v[0] for v in queue.page(store, f, groups, offset, walk)]
        assert got == want, (query, sort)


@pytest.mark.parametrize("sort", SORTS)
def test_neighbours_follow_the_order_even_for_a_pair_outside_the_filter(varied, sort):
    store, rows = varied
    everything = ordered(rows, sort)
    for query in ({}, {"status": "unreviewed"}, {"task": "method.code", "flag": "all"}):
        f = queue.Filters.from_query({**query, "sort": sort})
        groups = queue.groups(store, f)
        for i in (0, 3, 17, len(everything) // 2, len(everything) - 1):
            pid = everything[i]["id"]
            before = [r["id"] for r in everything[:i] if passes(r, f)]
            after = [r["id"] for r in everything[i + 1 :] if passes(r, f)]
            want = (before[-1] if before else None, after[0] if after else None)
            assert queue.neighbours(store, f, groups, pid, walk=True) == want, (query, i)


def test_search_finds_words_phrases_and_prefixes_in_instruction_input_and_output(varied):
    store, rows = varied

    def found(text: str) -> set[str]:
        f = queue.Filters(flag="all", q=text)
        return {v[0] for v in store.review_page(f, limit=1000)}

    def having(*patterns: str) -> set[str]:
        return {r["id"] for r in rows if all(re.search(p, r["text"], re.I) for p in patterns)}

    assert found("question 7") == having(r"\bquestion\b", r"\b7\b")
    assert found("GAMMA") == having(r"\bgamma\b")  # in any case
    assert found("input") == having(r"\binput\b")  # in the input of some pairs only
    assert 0 < len(found("input")) < len(rows)
    assert found('"beta delta"') == having(r"\bbeta delta\b")
    assert found("beta delta") == having(r"\bbeta\b", r"\bdelta\b") > found('"beta delta"')
    assert found("gam*") == found("gamma")
    assert found('answer "line two"') == {r["id"] for r in rows}
    for text in ("get(", '"', "AND OR NOT", "a:b", "(", "*", "-x", "NEAR(a b)", "'; DROP"):
        found(text)  # no FTS5 syntax error, whatever is typed


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ('HashMap "get or" comput*', '"HashMap" "get or" "comput"*'),
        ('say "hi', '"say" """hi"'),
        ("a AND b", '"a" "AND" "b"'),
        ('"" *', ""),
    ],
)
def test_search_text_becomes_a_quoted_fts5_query(text, query):
    assert search_query(text) == query


def test_search_follows_pairs_added_and_removed(tmp_path):
    pairs = review_store(tmp_path)
    with Store.open(tmp_path) as store:

        def hits(text: str) -> int:
            store.refresh_review_rows()  # what the review app does when the store changed
            return store.review_count(queue.Filters(flag="all", q=text))

        assert hits("findFree") == 4 and hits("NoSuchElementException") == 1
        store.delete_pairs([pairs["evol2"].id])
        assert hits("NoSuchElementException") == 0 and hits("findFree") == 3
        store.put_pairs([pairs["evol2"]])
        assert hits("NoSuchElementException") == 1 and hits("findFree") == 4


def test_the_pairs_still_to_index_are_counted_before_the_first_start(tmp_path):
    pairs = review_store(tmp_path)
    with Store.open(tmp_path) as store:
        assert store.review_rows_missing() == len(pairs)  # what `dataprep review` announces
        store.refresh_review_rows()
        assert store.review_rows_missing() == 0
        store.delete_pairs([pairs["evol2"].id])
        store.refresh_review_rows()
        store.put_pairs([pairs["evol2"]])
        assert store.review_rows_missing() == 1


def test_the_search_index_is_built_again_once_a_quarter_of_it_is_of_pairs_gone(tmp_path):
    pairs = list(review_store(tmp_path, n_extra=1600).values())
    with Store.open(tmp_path) as store:
        store.refresh_review_rows()
        store.delete_pairs([p.id for p in pairs[6:406]])  # 400 gone: kept in the index
        store.refresh_review_rows()
        assert store.get_meta("review_search_stale") == 400
        store.delete_pairs([p.id for p in pairs[406:1006]])  # 1000 gone, over a quarter
        store.refresh_review_rows()
        assert store.get_meta("review_search_stale") == 0
        store.conn.execute("INSERT INTO review_search(review_search) VALUES ('integrity-check')")
        assert store.review_count(queue.Filters(flag="all", q="extra question")) == 600
        assert store.review_count(queue.Filters(flag="all", q="findFree")) == 4


def test_a_sample_takes_n_per_task_by_seed(varied):
    store, rows = varied
    f = queue.Filters(flag="all")
    first = store.review_sample(f, 3, "a")
    assert sorted(first) == sorted(set(first))
    tasks = [r["task"] for r in rows if r["id"] in set(first)]
    assert sorted(tasks) == sorted([t for t in TASKS for _ in range(3)])
    assert store.review_sample(f, 3, "a") == first
    assert store.review_sample(f, 3, "b") != first
    everything = store.review_sample(f, 1000, "c")
    assert sorted(everything) == sorted(r["id"] for r in rows)
    narrow = queue.Filters(status="accepted", flag="all")
    accepted = {r["id"] for r in rows if r["status"] == "accepted"}
    assert set(store.review_sample(narrow, 2, "a")) <= accepted


CURRENT = [
    None,
    Review(pair_id="x", status="accepted"),
    Review(pair_id="x", status="rejected", reason="vague"),
    Review(pair_id="x", status="rejected", reason="other"),
    Review(pair_id="x", status="edited", instruction="I", input="", output="O"),
    Review(pair_id="x", status="rejected", reason="r", instruction="I", input="", output="O"),
    Review(pair_id="x", status="unreviewed", flagged=True, note="ask"),
    Review(pair_id="x", status="accepted", flagged=True, note="ask", reason=None),
]


@pytest.mark.parametrize("payload", [{"action": "accept"}, {"action": "reject", "reason": "vague"}])
def test_a_bulk_action_does_to_each_pair_what_one_action_does(tmp_path, payload):
    unit = service_unit("f", "void f() {}", 1)
    pairs = [service_pair(unit, "t", f"Q{i}?", f"A{i}.") for i in range(len(CURRENT))]
    store = Store.open(tmp_path)
    store.put_file(unit.path, "d", "ok", [unit])
    store.put_pairs(pairs)
    for pair, current in zip(pairs, CURRENT, strict=True):
        if current is not None:
            store.put_review(current.model_copy(update={"pair_id": pair.id}))
    store.refresh_review_rows()
    before = store.reviews()
    status, reason = actions.bulk_review(payload["action"], payload)
    matched, changed = store.bulk_review(queue.Filters(), status, reason, "b1")
    after = store.reviews()
    want = {}
    for pair in pairs:
        review = actions.next_review(before.get(pair.id), pair, payload["action"], payload)
        want[pair.id] = review
        assert after[pair.id] == review, before.get(pair.id)
    assert matched == len(pairs)
    assert changed == sum(before.get(p.id) != want[p.id] for p in pairs)
    rows = {v[0]: v for v in store.review_page(queue.Filters(), limit=100)}
    assert {pid: rows[pid][10] for pid in rows} == {pid: r.status for pid, r in want.items()}
    assert store.undo_review() and store.reviews() == before
    assert {v[0]: v[10] for v in store.review_page(queue.Filters(), limit=100)} == {
        p.id: before[p.id].status if p.id in before else "unreviewed" for p in pairs
    }
    assert store.bulk_review(queue.Filters(), status, reason, "b2", expected=3) == (len(pairs), 0)
    assert store.reviews() == before


def test_the_queue_follows_what_another_process_writes(tmp_path):
    pairs = review_store(tmp_path)
    with TestClient(create_app(tmp_path, token=TOKEN), base_url="http://127.0.0.1") as client:
        assert matched(client.get("/").text) == 5
        with Store.open(tmp_path) as other:  # e.g. `dataprep filter` in another terminal
            drop = Decision(pair_id=pairs["explain"].id, stage="filter.length", kept=False)
            other.put_decisions("filter.length", [drop])
            other.put_splits([(pairs["xss"].id, "validation", "x")])
            other.put_review(Review(pair_id=pairs["signature"].id, status="rejected"))
        html = client.get("/").text
        assert matched(html) == 4
        assert matched(client.get("/?flag=dropped:filter.length").text) == 1
        assert matched(client.get("/?split=validation").text) == 1
        assert matched(client.get("/?status=rejected").text) == 1
        with Store.open(tmp_path) as other:  # the file of findFree is sliced again without it
            units = [u for u in other.units() if u.name != "findFree"]
            other.put_file(units[0].path, "d2", "ok", units)
        assert matched(client.get("/?flag=all").text) == 2


def matched(html: str) -> int:
    return int(re.search(r'<span id="matched"><b>(\d+)</b> pairs match', html).group(1))


def post(client, url, payload=None):
    return client.post(url, json=payload or {}, headers={"X-CSRF-Token": TOKEN})


@pytest.fixture
def client(tmp_path):
    pairs = review_store(tmp_path, n_extra=60)
    with TestClient(create_app(tmp_path, token=TOKEN), base_url="http://127.0.0.1") as c:
        c.pairs = pairs
        yield c


def test_the_queue_shows_each_output_shortened_beside_its_instruction(client):
    html = client.get("/?task=document_method").text
    output = re.search(r'<td class="output">(.*?)</td>', html, re.S).group(1)
    assert output.startswith("/** * Finds a free room for the dates. &lt;script&gt;")
    assert output.endswith("…") and len(output) < 200 and "\n" not in output


def test_sort_links_search_and_sample_keep_the_rest_of_the_query(client):
    html = client.get("/?generator=evol&sort=-judge").text
    assert 'href="/?generator=evol&amp;sort=judge"' in html  # the sorted column reverses
    assert 'href="/?generator=evol&amp;sort=task"' in html
    assert 'aria-sort="descending"' in html and "Judge ▼" in html
    first = client.get("/?sort=-instruction").text
    assert first.index("Extra question 059") < first.index("Extra question 058")
    searched = client.get("/?q=extra+question&sort=instruction").text
    assert matched(searched) == 60 and 'value="extra question"' in searched
    assert 'data-href="/pair/' in searched and "q=extra+question&amp;sort=instruction" in searched
    sample = client.get("/?sample=2&seed=abc&flag=all").text
    assert matched(sample) == 1 + 2 + 1  # 2 of each task: 1, 62 and 1 pairs
    assert "another sample" in sample and 'href="/?flag=all"' in sample


def test_pair_page_steps_through_a_sorted_searched_sample(client):
    html = client.get("/?sample=3&seed=s1&sort=-instruction").text
    ids = re.findall(r'<tr data-pair-id="([0-9a-f]+)"', html)
    assert len(ids) == matched(html)
    page = client.get(f"/pair/{ids[1]}?sample=3&seed=s1&sort=-instruction").text
    assert f'data-next-url="/pair/{ids[2]}?sort=-instruction&amp;sample=3&amp;seed=s1"' in page
    assert f'data-prev-url="/pair/{ids[0]}?sort=-instruction&amp;sample=3&amp;seed=s1"' in page


def test_a_bulk_action_on_selected_rows(client, tmp_path):
    chosen = [client.pairs["extra1"].id, client.pairs["extra7"].id]
    answer = post(client, "/api/bulk", {"action": "reject", "ids": chosen, "reason": "dull"})
    assert answer.json() == {"ok": True, "matched": 2, "changed": 2, "redacted": 0}
    with Store.open(tmp_path) as store:
        assert {pid: (r.status, r.reason) for pid, r in store.reviews().items()} == {
            pid: ("rejected", "dull") for pid in chosen
        }
    assert matched(client.get("/?status=rejected").text) == 2
    assert sorted(post(client, "/api/undo").json()["undone"]) == sorted(chosen)
    assert matched(client.get("/?status=rejected").text) == 0
    gone = post(client, "/api/bulk", {"action": "accept", "ids": [chosen[0], "nope"]})
    assert gone.status_code == 409
    assert gone.json()["error"] == (
        "1 of the 2 selected pairs are no longer in the store: reload and select again"
    )
    for bad in ("x", [1], ["a"] * 10_001):
        assert post(client, "/api/bulk", {"action": "accept", "ids": bad}).status_code == 400


def test_a_bulk_action_on_a_sample_takes_the_sample_alone(client, tmp_path):
    query = "sample=2&seed=q&flag=all"
    html = client.get(f"/?{query}").text
    shown = set(re.findall(r'<tr data-pair-id="([0-9a-f]+)"', html))
    done = post(client, "/api/bulk", {"action": "accept", "query": query, "expected": len(shown)})
    assert done.json()["matched"] == len(shown) == 4
    with Store.open(tmp_path) as store:
        assert set(store.reviews()) == shown


DRAFT = """
    CREATE TABLE review_rows (n INTEGER PRIMARY KEY, pair_id TEXT NOT NULL UNIQUE, task TEXT);
    CREATE TRIGGER review_rows_insert AFTER INSERT ON pairs BEGIN
        INSERT INTO review_rows (pair_id, task) VALUES (new.id, new.task);
    END;
"""


@pytest.mark.parametrize("version", [4, 5])
def test_a_store_of_before_6_or_of_a_draft_of_5_gets_the_review_tables(tmp_path, version):
    pairs = review_store(tmp_path)
    with Store.open(tmp_path) as store:
        store.put_review(Review(pair_id=pairs["xss"].id, status="rejected", flagged=True))
        store.conn.execute("DROP TABLE review_rows")
        store.conn.execute("DROP TABLE review_search")
        if version == 5:  # a draft of migration 5 left a table of its own and a trigger
            for statement in statements(DRAFT):
                store.conn.execute(statement)
        # a store of that version has none of the later migrations' tables (change counters)
        for (name,) in store.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'changes_%'"
        ).fetchall():
            store.conn.execute(f"DROP TRIGGER {name}")
        store.conn.execute("DROP TABLE changes")
        store.conn.execute("DROP TABLE state_cache")
        store.conn.execute(f"PRAGMA user_version = {version}")
    with Store.open(tmp_path) as store:
        triggers = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'review%'"
        assert store.conn.execute(triggers).fetchall() == []
        store.refresh_review_rows()
        assert store.review_count(queue.Filters(flag="all", q="findFree")) == 4
        f = queue.Filters(status="rejected", flag="flagged")
        assert [v[0] for v in store.review_page(f)] == [pairs["xss"].id]


def test_migration_scripts_split_into_statements_with_trigger_bodies_whole():
    script = (
        "CREATE TABLE t (a); CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; SELECT ';'; END;"
    )
    assert [s.strip() for s in statements(script)] == [
        "CREATE TABLE t (a);",
        "CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; SELECT ';'; END;",
    ]
    for script in (m for m in MIGRATIONS if isinstance(m, str)):  # between the ';'
        assert [s.strip() for s in statements(script)] == [
            f"{part.strip()};" for part in script.split(";") if part.strip()
        ]


def test_a_batch_id_is_one_bulk_action(tmp_path):
    """Reviews put with a batch are undone together; a bulk action's batch is a new uuid."""
    pairs = review_store(tmp_path)
    with Store.open(tmp_path) as store:
        batch = uuid.uuid4().hex
        for name in ("explain", "signature"):
            store.put_review(Review(pair_id=pairs[name].id, status="accepted"), batch=batch)
        assert sorted(store.undo_review()) == sorted([pairs["explain"].id, pairs["signature"].id])
        assert store.reviews() == {}


def test_a_queue_built_in_steps_equals_one_built_at_once(tmp_path):
    """The first build (rows in order, indexes made after them) and later ones (rows added,
    then numbered by `_REVIEW_ORDER`) give the same queue."""
    columns = "pair_id, pos, unit_id, task, kind, start_line, instruction, output, status, split"

    def queue_rows(store: Store) -> list[tuple]:
        return store.conn.execute(f"SELECT {columns} FROM review_rows ORDER BY pos").fetchall()

    pairs = list(review_store(tmp_path / "once", n_extra=300).values())
    with Store.open(tmp_path / "once") as store:
        store.refresh_review_rows()
        at_once = queue_rows(store)
        indexes = {name for name, _ in store._review_indexes()}
    review_store(tmp_path / "steps", n_extra=300)
    with Store.open(tmp_path / "steps") as store:
        store.delete_pairs([p.id for p in pairs[::3]])
        store.refresh_review_rows()
        store.put_pairs(pairs[::3])
        store.refresh_review_rows()
        assert queue_rows(store) == at_once
        assert {name for name, _ in store._review_indexes()} == indexes
        assert store.review_count(queue.Filters(flag="all", q="extra question")) == 300
    assert [r[1] for r in at_once] == list(range(1, len(pairs) + 1))
    assert "review_rows_facets" in indexes


def test_an_unchanged_store_is_not_read_again_but_an_emptied_queue_is_rebuilt(tmp_path):
    review_store(tmp_path, n_extra=10)
    with Store.open(tmp_path) as store:
        assert store.refresh_review_rows() > 0
        sql = "SELECT pair_id, pos, task, status, split, dropped FROM review_rows ORDER BY pos"
        rows = store.conn.execute(sql).fetchall()
        store.conn.execute("UPDATE review_rows SET status = 'x'")  # not a counted table
        assert store.refresh_review_rows() == 0  # the counters stood still: nothing read
        assert {r[0] for r in store.conn.execute("SELECT status FROM review_rows")} == {"x"}
        store.conn.execute("DELETE FROM review_rows")  # what a migration may do
        store.conn.execute("INSERT INTO review_search(review_search) VALUES ('delete-all')")
        assert store.refresh_review_rows() > 0
        assert store.conn.execute(sql).fetchall() == rows
        assert store.review_count(queue.Filters(flag="all", q="extra question")) == 10
