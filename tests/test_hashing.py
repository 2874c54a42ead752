from dataprep.hashing import canonical_json, content_hash
from dataprep.models import Pair, Unit


def test_canonical_json_sorts_keys_and_keeps_unicode():
    assert canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'


def test_content_hash_is_stable_and_kind_scoped():
    # The contract: these exact values must not change without bumping HASH_VERSION.
    assert content_hash("unit", "A.java", "class", "A") == content_hash(
        "unit", "A.java", "class", "A"
    )
    assert content_hash("unit", "x") != content_hash("pair", "x")
    assert len(content_hash("unit", "x")) == 16
    # sha256 of the documented canonical form '[1,"unit","x"]', first 16 hex digits
    assert content_hash("unit", "x") == "9754583294da36ef"


def test_ids_change_with_content():
    a = Unit.make_id("A.java", "method", "A.f", "f()", "void f() {}")
    b = Unit.make_id("A.java", "method", "A.f", "f(int)", "void f(int x) {}")
    assert a != b
    assert Pair.make_id(a, "t.1", "q", "", "x") != Pair.make_id(a, "t.1", "q", "", "y")


def test_content_hash_of_texts_is_the_hash_of_their_canonical_json():
    import hashlib
    import json

    for parts in [("a",), ('é\n"\\\u2028\x00', "", "x" * 300), ("a", None, 3), ("a", ["b"])]:
        canonical = canonical_json([1, "pair", *parts]).encode("utf-8")
        as_documented = json.dumps(
            [1, "pair", *parts], sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        assert canonical == as_documented.encode("utf-8")
        assert content_hash("pair", *parts) == hashlib.sha256(canonical).hexdigest()[:16]
