"""Cross-source unit dedup: exact and near-duplicate units, the smallest key kept, any order."""

import random

import numpy as np
import pytest

from dataprep.scaleout.dedup import (
    UnitRef,
    code_shingles,
    code_tokens,
    find_duplicates,
    shingle_hashes,
    sketch_jaccard,
)
from tests.dedup_corpus import corpus_unit, method, planted, similarity

BASE = method(random.Random(42))


def ref(code: str, uid: str, priority: int = 1, url: str = "https://git.example/a") -> UnitRef:
    return UnitRef(key=(priority, url, f"src/{uid}.java", uid), unit_id=uid, code=code)


def test_code_tokens_are_identifiers_numbers_and_punctuation():
    assert code_tokens("return a.b(c, 42);") == [
        "return", "a", ".", "b", "(", "c", ",", "42", ")", ";",
    ]  # fmt: skip
    assert code_shingles("f(x);", 3) == {"f ( x", "( x )", "x ) ;"}
    assert code_shingles("x;", 3) == {"x ;"} and code_shingles("   ", 3) == set()


def test_exact_copies_differing_in_whitespace_keep_the_smallest_key():
    spaced = "\n".join("\t" + line.strip() for line in BASE.split("\n")) + "\n\n"
    units = [
        ref(spaced, "fork", priority=2),
        ref(BASE, "upstream", priority=0),
        ref(BASE, "vendored", priority=1, url="https://git.example/b"),
    ]
    assert find_duplicates(units) == {"fork": "upstream", "vendored": "upstream"}


def _rename_method(code: str) -> str:
    name = code.split("\n")[0].split("(")[0].split()[-1]
    return code.replace(name + "(", "renamedMethod(", 1)


def _change_line(code: str) -> str:
    lines = code.split("\n")
    lines[3] = "    int changed = other.compute(first, 7);"
    return "\n".join(lines)


@pytest.mark.parametrize("edit", [_rename_method, _change_line], ids=["rename", "line"])
def test_near_copies_above_the_threshold_are_dropped(edit):
    copy = "  " + edit(BASE).replace("    ", "  ")
    assert 0.85 <= similarity(BASE, copy) < 1.0
    other = method(random.Random(7))
    units = [ref(copy, "b", priority=1), ref(BASE, "a", priority=1), ref(other, "c")]
    assert find_duplicates(units) == {"b": "a"}


def test_near_misses_below_the_threshold_are_kept():
    lines = BASE.split("\n")
    for k in range(2, len(lines) - 2, 8):  # three statements rewritten
        lines[k] = f"    int rewritten{k} = source{k}.next({k});"
    miss = "\n".join(lines)
    assert 0.75 < similarity(BASE, miss) < 0.82
    assert find_duplicates([ref(BASE, "a"), ref(miss, "b")]) == {}
    assert find_duplicates([ref(BASE, "a"), ref(miss, "b")], threshold=0.7) == {"b": "a"}


def test_a_chain_drops_only_what_is_close_to_a_kept_copy():
    a = BASE
    b = _change_line(a)
    lines = b.split("\n")
    lines[6] = "    int second = other.compute(first, 8);"
    lines[9] = "    int third = other.compute(first, 9);"
    c = "\n".join(lines)
    got = find_duplicates([ref(c, "c"), ref(b, "b"), ref(a, "a")])
    assert got.get("b") == "a"
    if similarity(a, c) < 0.85:  # c is kept or points at a, never at the dropped b
        assert got.get("c") in (None, "a")
    assert set(got.values()) <= {"a", "c"} - set(got)


def _corpus(n: int, seed: int = 3) -> list[UnitRef]:
    return [corpus_unit(seed, i).ref(sources=12) for i in range(n)]


def test_the_result_does_not_depend_on_order_or_batching():
    units = _corpus(600)
    expected = find_duplicates(units)
    assert len(expected) > 100
    rng = random.Random(0)
    for batch in (3, 37, 10_000):
        shuffled = units[:]
        rng.shuffle(shuffled)
        assert find_duplicates(iter(shuffled), batch=batch) == expected
    keys = {u.unit_id: u.key for u in units}
    assert all(keys[kept] < keys[dropped] for dropped, kept in expected.items())
    assert not set(expected.values()) & set(expected)  # nothing points at a dropped copy


def test_planted_duplicates_are_found_with_high_recall_and_precision():
    n, seed = 2000, 5
    units = _corpus(n, seed)
    got = find_duplicates(units)

    def kept(uid: str) -> str:
        return got.get(uid, uid)

    truth = [(i, j) for i, j, s in planted(seed, n) if s >= 0.85]
    ids = [u.unit_id for u in units]
    found = sum(ids[i] in got or ids[j] in got for i, j in truth)  # not both kept
    same = sum(kept(ids[i]) == kept(ids[j]) for i, j in truth)
    code = {u.unit_id: u.code for u in units}
    right = sum(similarity(code[d], code[k]) >= 0.85 for d, k in got.items())
    assert found / len(truth) >= 0.98 and same / len(truth) >= 0.95
    assert right / len(got) >= 0.99


def test_no_units_and_a_unit_given_twice():
    assert find_duplicates([]) == {}
    assert find_duplicates([ref(BASE, "a"), ref(BASE, "a")]) == {}


def test_shingle_hashes_hash_the_code_shingles_and_sketches_give_jaccard():
    code = corpus_unit(1, 0).code
    hashes = shingle_hashes(code)
    assert len(hashes) == len(code_shingles(code)) > 50  # no collision among them
    assert (np.diff(hashes.astype(np.int64)) > 0).all()
    assert np.array_equal(shingle_hashes("a  b\n c d e f"), shingle_hashes("a b c d e f"))
    assert len(shingle_hashes("f(x);", 3)) == 3 and len(shingle_hashes(" ")) == 0
    assert sketch_jaccard(np.array([1, 2, 3]), np.array([2, 3, 4, 5])) == 0.4
    big_a, big_b = np.arange(3000, dtype=np.uint32), np.arange(300, 3300, dtype=np.uint32)
    rng = np.random.default_rng(0)
    perm = rng.permutation(1 << 20).astype(np.uint32)  # a random order of the values
    a, b = np.sort(perm[big_a])[:256], np.sort(perm[big_b])[:256]
    assert abs(sketch_jaccard(a, b) - 2700 / 3300) < 0.06
    assert sketch_jaccard(a[:0], b[:0]) == 1.0
