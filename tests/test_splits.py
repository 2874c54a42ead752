"""The two held-out sets of dataprep.splits: generalisation (held-out files, the tasks that
generalise) and knowledge (held-out facts and phrasings about files in train)."""

import json
from collections import Counter, defaultdict

import pytest
from factories import shop_pair, shop_unit

from dataprep import knowledge as kn
from dataprep import splits as sp
from dataprep.filters import decontaminate
from dataprep.filters.decontam import WITHHELD_REASON
from dataprep.generate.tasks import load_templates
from dataprep.models import Decision
from dataprep.store import Store

TASKS = ("method.code", "member.signature", "method.explain", "method.implement", "test.write")


def _repo(n_files: int = 60) -> list:
    """n files of one method each; every method has a pair of each task."""
    pairs = []
    for i in range(n_files):
        unit = shop_unit(f"core/src/main/java/acme/C{i:03d}.java", f"run{i}", 10)
        pairs += [shop_pair(unit, task, n) for n, task in enumerate(TASKS)]
    return pairs


def _assign(pairs, **kw):
    return sp.assign_splits(pairs, knowledge=True, **kw)


def test_held_out_files_keep_only_generalisation_tasks_the_rest_is_withheld():
    pairs = _repo()
    where = _assign(pairs)
    by_file = defaultdict(set)
    for pair in pairs:
        split = where[pair.id]
        if split in sp.GENERALISATION_SPLITS:
            assert pair.task in sp.GENERALISATION_TASKS
        if split == sp.WITHHELD:
            assert pair.task not in sp.GENERALISATION_TASKS
        in_training = split in ("train", sp.KNOWLEDGE)
        by_file[pair.path].add("train" if in_training else "held out")
    assert all(len(s) == 1 for s in by_file.values())  # a file is in training or held out
    counts = Counter(where.values())
    generalising = sum(p.task in sp.GENERALISATION_TASKS for p in pairs)  # 120
    assert abs(counts["validation"] - 0.10 * generalising) <= 2
    assert abs(counts["test"] - 0.05 * generalising) <= 2
    assert counts["withheld"] == 3 / 2 * (counts["validation"] + counts["test"])


def test_knowledge_holds_out_facts_whose_unit_stays_in_train():
    pairs = _repo()
    where = _assign(pairs)
    facts = [p for p in pairs if where[p.id] == sp.KNOWLEDGE]
    in_training = Counter(p.task for p in pairs if where[p.id] in ("train", sp.KNOWLEDGE))
    train_units = {p.unit_id for p in pairs if where[p.id] == "train"}
    assert Counter(p.task for p in facts) == {t: round(0.05 * n) for t, n in in_training.items()}
    assert all(p.unit_id in train_units for p in facts)
    assert len({p.unit_id for p in facts}) == len(facts)  # one held-out fact per unit


def test_a_unit_with_one_pair_never_gives_it_to_knowledge():
    units = [shop_unit(f"a/A{i}.java", "only", 1) for i in range(40)]
    assert kn.hold_out_facts([shop_pair(u, "method.code", 0) for u in units]) == []


def test_assignment_is_deterministic_and_seeded():
    pairs = _repo()
    assert _assign(pairs) == _assign(list(reversed(pairs)))
    assert _assign(pairs) != _assign(pairs, seed=1)


def test_the_two_sets_follow_the_data_model_else_the_plain_file_split(monkeypatch):
    from dataprep import models

    pairs = _repo()
    plain = sp.assign_splits(pairs, knowledge=False)
    assert set(plain.values()) == {"train", "validation", "test"}
    by_file = sp.split_by_group(pairs, sp.DEFAULT_RATIOS, 0, "file")
    assert plain == {pid: split for pid, (split, _) in by_file.items()}
    monkeypatch.setattr(models, "SPLITS", ("train", "validation", "test"))
    assert not sp.knowledge_enabled() and sp.assign_splits(pairs) == plain
    monkeypatch.setattr(models, "SPLITS", ("train", "validation", "test", "knowledge"))
    assert sp.knowledge_enabled() and sp.assign_splits(pairs) == _assign(pairs)


def test_a_test_file_goes_with_its_subject():
    paths = {
        "m/src/main/java/a/Money.java",
        "m/src/main/java/b/Money.java",
        "m/src/test/java/a/MoneyTest.java",
        "m/src/test/java/a/Helpers.java",
        "m/src/test/java/a/OrphanTest.java",
    }
    assert sp.subject_files(paths) == {
        "m/src/test/java/a/MoneyTest.java": "m/src/main/java/a/Money.java"
    }
    money = shop_unit("m/src/main/java/a/Money.java", "plus", 1)
    test = shop_unit("m/src/test/java/a/MoneyTest.java", "testPlus", 1)
    pairs = [shop_pair(money, "method.implement", 0), shop_pair(test, "method.is_test", 0)]
    groups = sp.pair_groups(pairs, "file")
    assert set(groups.values()) == {"m/src/main/java/a/Money.java"}
    assert set(sp.pair_groups(pairs, "module").values()) == {p.path for p in pairs}


@pytest.mark.parametrize(
    ("template", "instruction", "expected"),
    [
        (
            "method.explain.1",
            "Explain what login in AuthController does.",
            {"method.explain.0", "method.explain.2", "method.explain.4", "method.explain.5"},
        ),
        (  # a qualified instruction keeps its qualifier in the new phrasing
            "method.implement.0",
            "Implement this method as its documentation describes. It belongs to Token.",
            {f"method.implement.{i}" for i in (1, 2, 3, 4)},
        ),
    ],
)
def test_rephrase_asks_the_same_fact_in_another_phrasing(template, instruction, expected):
    tasks = load_templates()
    task = template.rsplit(".", 1)[0]
    unit = shop_unit("a/AuthController.java", "login", 1)
    pair = shop_pair(unit, task, 0, template=template, instruction=instruction, input="x")
    again = kn.rephrase(pair, tasks[task].phrasings, tasks[task].qualifier)
    assert again.template in expected and again.template != template
    assert (again.output, again.input, again.unit_id, again.task) == (
        pair.output,
        pair.input,
        pair.unit_id,
        pair.task,
    )
    index = int(again.template.rsplit(".", 1)[1])
    if "It belongs to Token." in instruction:
        assert again.instruction == f"{tasks[task].phrasings[index]} It belongs to Token."
    else:
        values = {"member": "login", "type": "AuthController", "owner_kind": "class"}
        assert again.instruction == tasks[task].phrasings[index].format(**values)
    assert again.id != pair.id


def test_rephrase_gives_up_on_an_edited_instruction():
    tasks = load_templates()
    unit = shop_unit("a/A.java", "login", 1)
    pair = shop_pair(unit, "method.explain", 0, template="method.explain.1", instruction="Hm?")
    assert kn.rephrase(pair, tasks["method.explain"].phrasings, None) is None
    evolved = shop_pair(unit, "evol", 0, template="evol.deepen", generator="evol")
    assert kn.rephrase(evolved, tasks["method.explain"].phrasings, None) is None


def _rephrasings(pairs, splits):
    by_id = {p.id: p for p in pairs}
    found = kn.rephrasings_of(((p, splits.get(p.id)) for p in pairs), by_id.__getitem__)
    return [(again, by_id[source]) for again, source in found]


def test_rephrasings_come_from_train_only_and_never_ask_twice():
    units = [shop_unit(f"a/C{i}.java", f"m{i}", 1) for i in range(40)]
    pairs = [
        shop_pair(
            u,
            "method.explain",
            0,
            template="method.explain.1",
            instruction=f"Explain what m{i} in C{i} does.",
        )
        for i, u in enumerate(units)
    ]
    splits = {p.id: "train" if i < 30 else "test" for i, p in enumerate(pairs)}
    found = _rephrasings(pairs, splits)
    assert len(found) == 2  # 5% of 30, rounded
    assert all(splits[src.id] == "train" for _, src in found)
    assert all(a.output == s.output and a.instruction != s.instruction for a, s in found)
    # a rephrasing that would repeat an existing question is skipped
    taken = [
        shop_pair(units[0], "x.y", 0, instruction=again.instruction, input=again.input)
        for again, _ in found
    ]
    again = _rephrasings([*pairs, *taken], splits)
    asked = {(p.instruction, p.input) for p in taken}
    assert all((a.instruction, a.input) not in asked for a, _ in again)


def test_decontamination_checks_generalisation_only_and_drops_withheld(tmp_path):
    store = Store.open(tmp_path / "out")
    a, b = shop_unit("a/A.java", "a", 1), shop_unit("b/B.java", "b", 1)
    code = "\n".join(f"int total{i} = price{i} * nights{i} + tax{i};" for i in range(40))
    train = shop_pair(a, "method.code", 0, output=code)
    copy_in_test = shop_pair(b, "method.implement", 0, output=code, instruction="Implement")
    copy_in_knowledge = shop_pair(a, "method.implement", 1, output=code, instruction="Do")
    withheld = shop_pair(b, "method.code", 2)
    store.put_file("a/A.java", "d1", "ok", [a])
    store.put_file("b/B.java", "d2", "ok", [b])
    store.put_pairs([train, copy_in_test, copy_in_knowledge, withheld])
    store.put_splits(
        [
            (train.id, "train", "a"),
            (copy_in_test.id, "test", "b"),
            (copy_in_knowledge.id, "knowledge", "a"),
            (withheld.id, "withheld", "b"),
        ]
    )
    report = decontaminate(store)
    assert (report.checked, report.contaminated, report.withheld) == (1, 1, 1)
    dropped = store.dropped()
    assert set(dropped) == {copy_in_test.id, withheld.id}
    assert dropped[withheld.id].reason == WITHHELD_REASON
    assert WITHHELD_REASON.startswith("withheld: in a held-out file, and not a task")
    assert copy_in_knowledge.id not in dropped  # a knowledge row copies train by design
    assert isinstance(dropped[withheld.id], Decision)
    store.close()


def test_the_export_gives_each_rephrasing_its_train_pairs_review_state(tmp_path):
    from dataprep.export import export_dataset
    from dataprep.models import Review

    store = Store.open(tmp_path / "out")
    pairs = []
    for i in range(40):
        unit = shop_unit(f"a/C{i:02}.java", f"m{i}", 1)
        store.put_file(unit.path, f"d{i}", "ok", [unit])
        instruction = f"Explain what m{i} in C{i:02} does."
        pairs.append(
            shop_pair(
                unit, "method.explain", 0, template="method.explain.1", instruction=instruction
            )
        )
    store.put_pairs(pairs)
    for pair in pairs[::2]:
        store.put_review(Review(pair_id=pair.id, status="accepted"))
    export_dataset(store, tmp_path / "out", include_unreviewed=True)
    rows = {}
    for split in ("train", "knowledge"):
        path = tmp_path / "out" / "dataset" / f"{split}.jsonl"
        rows[split] = (
            [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        )
    again = [r for r in rows["knowledge"] if r["template"] != "method.explain.1"]
    assert again, "no train fact was asked again"
    train = {(r["path"], r["output"]): r for r in rows["train"]}
    for row in again:
        source = train[(row["path"], row["output"])]
        assert row["instruction"] != source["instruction"]
        assert row["review"] == source["review"]
    store.close()


def test_questions_hold_digests_that_end_in_zero_bytes():
    import numpy as np

    digests = [bytes([9] * 15) + b"\x00", bytes([9] * 14) + b"\x00\x00", b"\x01" * 16]
    asked = kn.Questions(np.array(digests[:2], dtype="S16"))
    assert digests[0] in asked and digests[1] in asked
    assert digests[2] not in asked and bytes([9] * 16) not in asked
    asked.add(digests[2])
    assert digests[2] in asked
