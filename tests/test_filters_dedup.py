"""Duplicates, conflicts, MinHash LSH near-duplicates and decontamination, held to datasketch."""

import json

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from factories import ROOM_CODE, pair, store_with, unit

from dataprep.filters import (
    FilterConfig,
    contaminated_pairs,
    content_shingles,
    decontaminate,
    dedup,
    jaccard,
    minhashes,
    near_duplicate_groups,
    pair_text,
    preference,
    run_filters,
    shingles,
    signatures,
)


def test_exact_duplicates_keep_the_template_pair_and_conflicts_drop_all(tmp_path):
    a = pair("Explain capacity.", "It returns the capacity.", generator="evol")
    b = pair("Explain  capacity.", "It returns the capacity. ", generator="template")
    c1 = pair("Name the method.", "capacity", task="method.name")
    c2 = pair("Name the method.", "rateFor", task="method.name", source=unit(name="rateFor"))
    store = store_with(tmp_path, [a, b, c1, c2], [unit(), unit(name="rateFor")])
    report = run_filters(store)
    dropped = store.dropped()
    assert dropped[a.id].stage == "filter.exact_duplicate" and b.id in dropped[a.id].reason
    assert b.id not in dropped
    assert {c1.id, c2.id} <= set(dropped) and dropped[c1.id].stage == "filter.conflict"
    assert report.kept == 1 and [p.id for p in store.kept_pairs()] == [b.id]


def test_near_duplicate_methods_collapse_and_different_ones_stay():
    copy = ROOM_CODE.replace("maxGuests", "maximumGuests").replace("    ", "  ")
    other = """public String label() {
    StringBuilder out = new StringBuilder(type.name().toLowerCase());
    for (String feature : features) {
        out.append(", ").append(feature);
    }
    return out.toString();
}"""
    a = pair("Write the method capacity of Room.", ROOM_CODE, task="method.code")
    b = pair(
        "Write the method capacity of Room.",
        copy,
        task="method.code",
        source=unit(path="b/Room.java"),
    )
    c = pair(
        "Write the method label of Room.", other, task="method.code", source=unit(other, "label")
    )
    assert jaccard(shingles(a.output), shingles(b.output)) < 1.0
    dropped = near_duplicate_groups([a, b, c])
    assert len(dropped) == 1
    ((loser, keeper),) = dropped.items()
    assert {loser, keeper} == {a.id, b.id} and keeper == min(a.id, b.id)
    assert near_duplicate_groups([a, b, c], threshold=0.99) == {}


def test_near_duplicate_scope_task_compares_within_a_task():
    a = pair("Write the method capacity.", ROOM_CODE, task="method.code")
    b = pair("Write the method capacity.", ROOM_CODE + " ", task="method.copy")
    assert near_duplicate_groups([a, b], scope="task") == {}
    assert len(near_duplicate_groups([a, b], scope="all")) == 1


def _split_store(tmp_path, contaminate: bool):
    bodies = [
        f"public int total{i}(int nights, int guests) {{\n"
        f"    int base{i} = nights * rate{i};\n"
        f"    int extra{i} = guests > 2 ? (guests - 2) * fee{i} : 0;\n"
        f"    int tax{i} = (base{i} + extra{i}) * {i} / 100;\n"
        f"    return base{i} + extra{i} + tax{i};\n}}"
        for i in range(12)
    ]
    units = [unit(code, f"total{i}", f"Type{i}") for i, code in enumerate(bodies)]
    pairs = [
        pair(f"Write total{i} of Type{i}.", code, task="method.code", source=u)
        for i, (code, u) in enumerate(zip(bodies, units, strict=True))
    ]
    if contaminate:  # train pair 0, copied into another module with one word added
        leaked = bodies[0].replace("int tax0", "final int tax0")
        extra = unit(leaked, "total0", "Type0", path="other/Type0.java")
        units.append(extra)
        pairs.append(pair("Write total0 of Type0.", leaked, task="method.code", source=extra))
    store = store_with(tmp_path, pairs, units)
    splits = [(p.id, "train" if i < 9 else "test", p.path) for i, p in enumerate(pairs[:12])]
    if contaminate:
        splits.append((pairs[12].id, "test", pairs[12].path))
    store.put_splits(splits)
    return store, pairs


def test_a_contaminated_test_split_is_caught(tmp_path):
    store, pairs = _split_store(tmp_path, contaminate=True)
    report = decontaminate(store)
    assert report.contaminated == 1 and report.by_split == {"test": 1}
    decision = store.dropped()[pairs[12].id]
    assert decision.stage == "decontaminate" and pairs[0].id in decision.reason
    assert json.loads(decision.detail)["train_pair"] == pairs[0].id
    assert pairs[12].id not in {p.id for p in store.kept_pairs()}


def test_a_clean_split_passes_and_move_moves_to_train(tmp_path):
    store, _ = _split_store(tmp_path, contaminate=False)
    assert decontaminate(store).contaminated == 0
    store2, pairs = _split_store(tmp_path / "b", contaminate=True)
    decontaminate(store2, FilterConfig(decontam_action="move"))
    assert store2.splits()[pairs[12].id] == "train"
    assert pairs[12].id not in store2.dropped()


def test_contaminated_pairs_confirms_with_exact_jaccard():
    a = pair("Write it.", ROOM_CODE)
    b = pair("Write it.", ROOM_CODE.replace("must be positive", "must be above zero"))
    found = contaminated_pairs([a], [b], threshold=0.3)
    score = found[b.id][1]
    assert found[b.id][0] == a.id and 0.3 <= score < 1
    assert contaminated_pairs([a], [b], threshold=min(1.0, score + 0.05)) == {}


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7, 0.9])
def test_decontamination_reads_again_every_train_pair_that_can_copy(threshold):
    # only the train pairs `_Reach` lets through are hashed: it must pass every one whose
    # Jaccard with a held-out pair (on the sets with template wording set aside) reaches the
    # threshold, or a near-copy would go unseen
    import random

    from dataprep.filters.decontam import _Reach

    rng = random.Random(int(threshold * 10))
    words = [f"w{i}" for i in range(500)]
    phrasing = "Write the body of the method below so that it does what its comment says"
    other = "Say in a few words of plain English what the code below is for"  # train only

    def text(n):
        return [rng.choice(words) for _ in range(n)]

    def changed(code, n):  # n words replaced: Jaccard from 1 down to 0
        code = list(code)
        for k in rng.sample(range(len(code)), min(n, len(code))):
            code[k] = rng.choice(words)
        return " ".join(code)

    bases = [text(rng.randint(3, 40)) for _ in range(20)]
    # half the held-out pairs asked in the phrasing, the others in none
    held = [pair(phrasing if i % 2 else "", " ".join(c)) for i, c in enumerate(bases)]
    held.append(pair("", ""))
    train = [pair("", "", task="x")]  # no words at all: alike another such pair
    for i in range(1200):
        code = bases[i % len(bases)]
        wording = [phrasing, other, f"Explain {' '.join(text(6))}"][(i // len(bases)) % 3]
        if i % 3:  # some words changed
            train.append(pair(wording, changed(code, rng.randint(0, len(code) // 2))))
        else:  # some words added: the held-out pair's set within the train pair's
            more = " ".join(text(rng.randint(0, 2 * len(code))))
            train.append(pair(wording, f"{' '.join(code)} {more}"))
    shingler = dedup.Shingler([*held, *train], 5)  # the phrasing's shingles are wording
    assert shingler.common
    sets = {p.id: shingler.shingles_of(p) for p in [*held, *train]}
    reach = _Reach(held, 5, threshold)
    copies = passed = 0
    for p in train:
        instruction = dedup._words(p.instruction)
        may = reach.may_copy(p, instruction, len(dedup._grams(instruction, 5)))
        passed += may
        if any(jaccard(sets[p.id], sets[h.id]) >= threshold for h in held):
            copies += 1
            assert may, p
    assert copies > 20 and passed < len(train)  # the test sees copies, and the bound says no


def test_code_cloned_into_many_files_still_collapses():
    # a clone in a dozen files is not "template boilerplate": only instruction wording is
    code = ROOM_CODE.replace(
        "return Math",
        'log.info("capacity for {} guests", guests);\n'
        "    audit.record(type, guests, maxGuests);\n    return Math",
    )
    clones = [
        pair(
            f"Write the method capacity of Room{i}.",
            code,
            task="method.code",
            source=unit(path=f"m{i}/Room{i}.java", type_name=f"Room{i}"),
        )
        for i in range(12)
    ]
    dropped = near_duplicate_groups(clones)
    assert len(dropped) == 11 and set(dropped.values()) == {min(p.id for p in clones)}


def _variants(n: int):
    """n method pairs, each a small edit of ROOM_CODE or of a few other bodies."""
    out = []
    for i in range(n):
        code = ROOM_CODE.replace("maxGuests", f"max{i % 3}")
        if i % 5 == 0:
            code = f'public void m{i}() {{ log("{i} {i * 7}"); }}'
        task = "method.code" if i % 2 else "method.name"
        out.append(pair(f"Write method {i} of Room.", code, task=task, source=unit(name=f"m{i}")))
    return out


def test_near_duplicates_after_the_exact_ones_count_the_instructions_of_the_pairs_left():
    from dataprep.filters import REGISTRY, Context, apply_filters

    # 7 pairs share the instruction's wording (over min_df 5: template boilerplate, left out);
    # once the two exact copies go, 5 do (not over it: the wording counts, and they look alike)
    asked = (
        "Say what the method does in one short sentence, the way a reader of the class would "
        "want to hear it before they read its code, with no detail of how it does it please."
    )
    outputs = ["It returns the capacity.", "It books a room.", "It cancels a booking.",
               "It prints the bill.", "It counts the guests."]  # fmt: skip
    pairs = [pair(asked, o, f"m{i}()", source=unit(name=f"m{i}")) for i, o in enumerate(outputs)]
    pairs += [pair(asked, outputs[0], "m0()", source=unit(name=f"copy{i}")) for i in range(2)]
    per_pair = [n for n in REGISTRY if n not in ("exact_duplicate", "conflict", "near_duplicate")]
    config = FilterConfig(disabled=tuple(per_pair), near_dup_threshold=0.5)
    kept, report, decisions = apply_filters(pairs, config, Context(config=config))
    assert report.dropped["exact_duplicate"] == 2 and report.dropped["conflict"] == 0
    exact = {v.pair_id for v in decisions["filter.exact_duplicate"]}
    left = [p for p in pairs if p.id not in exact]
    expected = near_duplicate_groups(left, config.near_dup_threshold, scope=config.near_dup_scope)
    assert expected, "the five left look alike"
    assert {v.pair_id for v in decisions["filter.near_duplicate"]} == set(expected)
    assert {p.id for p in kept} == {p.id for p in left} - set(expected)


def test_signatures_equal_datasketch_minhashes():
    sets = [*content_shingles(_variants(12)), set(), {"one"}]
    sigs = signatures(sets, 64)
    for row, shingle_set in zip(sigs, sets, strict=True):
        mh = MinHash(num_perm=64, seed=1, hashfunc=dedup._datasketch_hash)
        mh.update_batch([s.encode("utf-8") for s in shingle_set])
        assert row.tolist() == mh.hashvalues.tolist()


def test_shingle_hashes_take_the_words_in_order():
    assert dedup.shingle_hash32("a b c d e") != dedup.shingle_hash32("b a c d e")
    assert dedup.shingle_hash32("ab c") != dedup.shingle_hash32("a bc")
    assert len({dedup.shingle_hash32(f"w{i} x y z v") for i in range(5000)}) == 5000


def test_batch_signatures_equal_those_of_the_shingle_strings():
    """The vectorised path (no shingle string) against `signatures` of `shingles_of`: the
    template wording taken out, unless it is in the input or output or is all there is."""
    wording = "Say what the method of the class Room does"
    pairs = [
        *_variants(10),
        *(pair(f"{wording} {i}.", f"It returns rate {i} for each night.") for i in range(12)),
        pair(f"{wording}.", "x"),  # all wording but one word of output
        pair(f"{wording}.", ""),  # nothing but wording: the set keeps it all
        pair(f"{wording}.", f"{wording}, then stops."),  # the wording is also the answer
        pair("What does Room do the method of", "the class Room does"),  # windows across
        pair("", ""),  # no words at all
        pair("Name it.", "x", input="int a;"),  # under five words: one shingle
        pair("One two three four", "five"),  # exactly five words
        pair("Où est la méthode très", "utile à Zürich"),  # words beyond ASCII
    ]
    shingler = dedup.Shingler(pairs, max_df=0.1, min_df=2)
    assert shingler.common, "the wording is common"
    for batch in (pairs, pairs[-7:], pairs[3:4]):
        reference = signatures([shingler.shingles_of(p) for p in batch], 64)
        assert np.array_equal(shingler.batch_signatures(batch, 64), reference)


def test_content_shingles_equal_the_shingles_of_the_whole_text():
    short = pair("Name it.", "x", input="int a;")
    pairs = [*_variants(6), short, pair("One two three four five six", "seven")]
    for p, sh in zip(pairs, content_shingles(pairs, max_df=1.0, min_df=10**6), strict=True):
        assert sh == shingles(pair_text(p))  # nothing is common: the full text's shingles


@pytest.mark.parametrize("scope", ["task", "all"])
def test_near_duplicates_are_the_ones_datasketch_lsh_finds(scope):
    pairs = _variants(40)
    ordered = sorted(pairs, key=preference)
    sets = content_shingles(ordered)
    lsh = MinHashLSH(threshold=0.5, num_perm=256)  # LSH runs 0.2 below the 0.7 threshold
    kept, expected = {}, {}
    for p, sh, mh in zip(ordered, sets, minhashes(sets, 256), strict=True):
        key = p.task if scope == "task" else ""
        match = next(
            (
                o
                for o in sorted(lsh.query(mh))
                if kept[o][0] == key and jaccard(sh, kept[o][1]) >= 0.7
            ),
            None,
        )
        if match:
            expected[p.id] = match
        else:
            lsh.insert(p.id, mh)
            kept[p.id] = (key, sh)
    assert expected  # the variants do collapse
    assert near_duplicate_groups(pairs, scope=scope) == expected


def test_signatures_estimate_the_jaccard_datasketch_estimates():
    sets = content_shingles(_variants(8))
    sigs = signatures(sets, 128)
    reference = minhashes(sets, 128)
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            estimate = float(np.mean(sigs[i] == sigs[j]))
            assert estimate == reference[i].jaccard(reference[j])


@pytest.mark.parametrize("num_perm", [1, 64, 256])
def test_permutations_are_the_ones_datasketch_draws(num_perm):
    reference = MinHash(num_perm=num_perm, seed=1)
    assert reference.scheme == "affine32"
    a, b = dedup.permutations(num_perm)
    assert a.dtype == b.dtype == np.uint32
    assert [a.tolist(), b.tolist()] == [p.tolist() for p in reference.permutations]


def test_lsh_params_are_the_bands_and_rows_datasketch_chooses():
    for threshold, num_perm in [*dedup.KNOWN_LSH_PARAMS, (0.6, 128)]:
        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        assert dedup.lsh_params(threshold, num_perm) == (lsh.b, lsh.r)


def test_decontaminate_sets_aside_its_own_verdicts_but_not_earlier_stages(tmp_path):
    from dataprep.models import Decision

    store, pairs = _split_store(tmp_path, contaminate=True)
    decontaminate(store)
    assert decontaminate(store).contaminated == 1  # its own drop does not hide the pair
    store.put_decisions(
        "balance", [Decision(pair_id=pairs[12].id, stage="balance", kept=False, reason="cap")]
    )
    report = decontaminate(store)
    assert report.contaminated == 0 and report.checked == 3  # balance dropped it first


def test_signatures_from_worker_processes_equal_those_of_one_process():
    from dataprep import procs
    from dataprep.filters.dedup import Shingler

    pairs = [
        pair(f"Explain method{i} of Room.", f"It returns the {i}th rate times {i * 7} nights.")
        for i in range(40)
    ]
    shingler = Shingler(pairs)
    one = shingler.signatures(64, batch=8)
    procs.set_jobs(2)
    try:
        two = shingler.signatures(64, batch=8)  # five batches over two forked workers
    finally:
        procs.set_jobs(1)
    assert one.shape == (40, 64) and np.array_equal(one, two)


def test_the_chain_in_forked_workers_decides_as_one_process(tmp_path, monkeypatch):
    from dataprep import procs
    from dataprep.filters import chain, passes

    units = [unit(), unit(name="rateFor"), *(unit(name=f"m{i}") for i in range(60))]
    pairs = [
        *_variants(60),
        pair("Explain capacity.", "It returns the capacity.", generator="evol"),
        pair("Explain  capacity.", "It returns the capacity. "),
        pair("Name the method.", "capacity", task="method.name"),
        pair("Name the method.", "rateFor", task="method.name", source=unit(name="rateFor")),
        pair("Explain rateFor.", ""),
        pair("Who keeps the rates?", "Write to ops@grandhotel.io for the rates of each room."),
    ]

    def run(where, jobs):
        store = store_with(where, pairs, units)
        procs.set_jobs(jobs)
        try:
            first = run_filters(store).to_dict()
            again = run_filters(store).to_dict()  # the verdicts come from the cache
        finally:
            procs.set_jobs(1)
        for report in (first, again):
            report.pop("seconds")
        dropped = {p: (d.stage, d.reason) for p, d in store.dropped().items()}
        return dropped, first, again, store.filter_verdicts()

    one = run(tmp_path / "one", 1)
    pools = []
    real_pool = procs.process_pool
    monkeypatch.setattr(procs, "process_pool", lambda n: pools.append(n) or real_pool(n))
    monkeypatch.setattr(chain, "_FORK_BATCH", 8)  # 66 pairs: several batches per pass
    monkeypatch.setattr(passes, "BATCH", 8)
    two = run(tmp_path / "two", 2)
    # per run: the per-pair pass (it gathers the dedup filters' facts too) and the
    # near-duplicate band keys
    assert pools == [2] * 4
    stages = {stage for stage, _ in one[0].values()}
    assert {"filter.exact_duplicate", "filter.conflict", "filter.near_duplicate"} <= stages
    assert {"filter.empty_output", "filter.secrets"} <= stages
    assert two == one and one[1] == one[2]
    assert len(one[3]) == len(pairs)  # a first run's cold cache kept every verdict it made


def test_a_cold_cache_reads_nothing_and_a_warm_one_reads_what_it_wrote(tmp_path, monkeypatch):
    from dataprep.filters.cache import VerdictCache

    store = store_with(tmp_path, [pair("Explain capacity.", "It returns the capacity.")])
    cache = VerdictCache.load(store, FilterConfig())
    assert cache.cold
    monkeypatch.setattr(store, "filter_verdicts_of", lambda keys: pytest.fail("read when cold"))
    monkeypatch.setattr(store, "filter_verdict_keys", lambda: pytest.fail("stale when cold"))
    run_filters(store)
    monkeypatch.undo()
    assert not VerdictCache.load(store, FilterConfig()).cold
    assert len(store.filter_verdicts()) == 1


def test_encoded_verdicts_are_stored_as_put_filter_verdicts_stores_them(tmp_path):
    from dataprep.filters.cache import VerdictCache

    verdicts = {"0" * 15 + "1": {"refusal": "", "length": "too short"}, "f" * 16: {"length": ""}}
    one = store_with(tmp_path / "one", [])
    one.put_filter_verdicts(verdicts)
    cache = VerdictCache(FilterConfig())
    cache.stored = {k: dict(v) for k, v in verdicts.items()}
    cache.dirty = set(verdicts)
    two = store_with(tmp_path / "two", [])
    two.put_filter_verdict_texts(cache.made())
    assert two.filter_verdicts() == one.filter_verdicts() == verdicts


def test_band_keys_read_back_from_disk_give_the_buckets_of_the_keys_in_memory(tmp_path):
    rng = np.random.default_rng(7)
    bands, n = 5, 1000
    keys = rng.integers(0, 40, size=(n, bands)).astype(np.uint64)  # many shared buckets
    keys[:, 4] = np.arange(n, dtype=np.uint64)  # a band where every row is alone
    at = rng.permutation(n)  # a row -> its place in the visiting order
    with dedup._BandKeys(bands, str(tmp_path), chunk=64) as spill:
        for start in range(0, n, 37):  # batches that straddle the blocks
            spill.add(start, keys[start : start + 37])
        assert all((spill.band(b) == keys[:, b]).all() for b in range(bands)), (
            "a band reads back as written"
        )
        rows, band_of, bucket_of = spill.shared(at)
    assert list(tmp_path.iterdir()) == []  # the temporary file has no name
    order = np.argsort(at)
    dense = [np.unique(keys[order, b], return_inverse=True)[1].reshape(-1) for b in range(bands)]
    expected = []
    for b, bucket in enumerate(dense):
        for row in np.flatnonzero(np.bincount(bucket)[bucket] > 1).tolist():
            expected.append((row, b, keys[order[row], b]))
    got = [
        (r, b, k)
        for r, b, k in zip(rows.tolist(), band_of.tolist(), bucket_of.tolist(), strict=True)
    ]
    assert [g[:2] for g in got] == sorted(e[:2] for e in expected)  # by row, then band
    assert 4 not in band_of.tolist()
    # one bucket number per key within a band: rows share a number exactly when their keys match
    for b in range(bands - 1):
        pick = [(r, k) for r, bb, k in got if bb == b]
        same = {(r1, r2) for r1, k1 in pick for r2, k2 in pick if k1 == k2}
        want = {
            (r1, r2) for r1, _ in pick for r2, _ in pick if keys[order[r1], b] == keys[order[r2], b]
        }
        assert same == want


def test_greedy_over_dense_buckets_keeps_the_first_of_each_group():
    buckets = [np.array([0, 1, 0, 2, 0]), np.array([3, 3, 4, 5, 6])]
    seen = []

    def match(i, candidates):
        seen.append((i, sorted(candidates)))
        return min(candidates)

    assert dedup.greedy_near_duplicates(buckets, match) == {1: 0, 2: 0, 4: 0}
    assert seen == [(1, [0]), (2, [0]), (4, [0])]


def test_words_are_word_re_s_words_lower_cased():
    import random

    from dataprep.filters.core import WORD_RE

    rng = random.Random(2)
    texts = [
        "".join(chr(rng.randrange(128)) for _ in range(rng.randint(0, 40))) for _ in range(5000)
    ]
    texts += ["Straße ΣΑΣ x_1 $y", "a\x1cb\x1fc d\u00a0e", "İstanbul K"]
    for text in texts:
        assert dedup._words(text) == [w.lower() for w in WORD_RE.findall(text)], repr(text)
