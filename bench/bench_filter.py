"""Filter benchmark: pairs per second for the full filter chain and for near-duplicate
detection alone, over synthetic pairs (default 100,000).

The pairs look like the generator's: template questions about Java members whose answers
are method bodies, fields or names, plus evol-style prose, with 10% exact duplicates, 10%
near-duplicates (a renamed local), and a sprinkle of empty outputs, refusals and broken code.

Run: .venv/bin/python bench/bench_filter.py [--pairs 100000] [--num-perm 256] [--store]
(`--store` also times `run_filters` through a SQLite store, decisions included).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dataprep.filters import (  # noqa: E402
    Context,
    FilterConfig,
    RepoIndex,
    apply_filters,
    near_duplicate_groups,
    run_filters,
)
from dataprep.models import Pair, Unit  # noqa: E402

WORDS = "room booking guest price night rate fee stay token user role money date range page".split()
TYPES = ["Room", "Booking", "Guest", "Invoice", "Payment", "Token", "User", "Money", "Stay", "Rate"]


def method(rng: random.Random, i: int) -> tuple[str, str]:
    name = rng.choice(["compute", "find", "check", "load", "apply"]) + rng.choice(TYPES) + str(i)
    a, b, c = rng.sample(WORDS, 3)
    body = (
        f"public int {name}(int {a}, int {b}) {{\n"
        f"    int {c} = {a} * {rng.randint(2, 99)} + {b};\n"
        f"    if ({c} > {rng.randint(100, 999)}) {{\n"
        f"        {c} = {c} - {b} * {rng.randint(2, 9)};\n"
        f"    }}\n"
        f"    return {c} + {a};\n}}"
    )
    return name, body


def synthetic_pairs(n: int, seed: int = 0) -> tuple[list[Pair], list[Unit]]:
    rng = random.Random(seed)
    pairs: list[Pair] = []
    units: list[Unit] = []
    while len(pairs) < n:
        i = len(pairs)
        name, code = method(rng, i)
        type_name = rng.choice(TYPES)
        path = f"mod{i % 50}/src/main/java/com/example/{type_name}{i % 997}.java"
        qualified = f"com.example.{type_name}.{name}"
        unit = Unit(
            id=Unit.make_id(path, "method", qualified, None, code), kind="method", name=name,
            qualified_name=qualified, path=path, start_line=1, end_line=7, code=code,
            language="java", repo="bench",
        )  # fmt: skip
        units.append(unit)
        roll, input_ = rng.random(), ""
        if roll < 0.4:
            task, instruction, output = (
                "method.code",
                f"Write the method {name} of {type_name}.",
                code,
            )
        elif roll < 0.6:
            task, instruction, output, input_ = "method.name", "Name the method below.", name, code
        elif roll < 0.8:
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60)))
            task, instruction, output = (
                "evol",
                f"Explain how {name} handles the {rng.choice(WORDS)}.",
                words,
            )
        elif roll < 0.9 and pairs:  # exact duplicate of an earlier pair
            pairs.append(pairs[rng.randrange(len(pairs))].model_copy(update={"id": f"dup{i}"}))
            continue
        else:  # near-duplicate: an earlier code answer with a comment added
            source = next((p for p in reversed(pairs) if p.task == "method.code"), None)
            if source is None:
                continue
            task, instruction = "method.code", source.instruction.replace("Write", "Write out")
            output = source.output.replace("return", "return /* same */", 1)
        if rng.random() < 0.02:
            output = rng.choice(["TODO", "", "Sorry, I cannot help with that.", "public int x( {"])
        generator = "evol" if task == "evol" else "template"
        pairs.append(
            Pair(
                id=Pair.make_id(unit.id, task, instruction, input_, output),
                instruction=instruction, input=input_, output=output, generator=generator,
                task=task, template=task, unit_id=unit.id, unit_kind="method", path=path,
                start_line=1, end_line=7, repo="bench",
            )
        )  # fmt: skip
    return pairs[:n], units


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--num-perm", type=int, default=256)
    parser.add_argument(
        "--store", action="store_true", help="also time run_filters through a store"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    pairs, units = synthetic_pairs(args.pairs)
    print(f"built {len(pairs):,} synthetic pairs in {time.perf_counter() - started:.1f} s")
    config = FilterConfig(num_perm=args.num_perm)
    ctx = Context(config=config, index=RepoIndex.from_units(units))

    started = time.perf_counter()
    apply_filters(pairs[:200], config, ctx)  # warm-up: imports, tree-sitter, LSH band parameters
    print(f"warm-up (imports, parser, LSH parameters): {time.perf_counter() - started:.1f} s")

    started, cpu = time.perf_counter(), time.process_time()
    groups = near_duplicate_groups(
        pairs, config.near_dup_threshold, config.num_perm, config.shingle_size
    )
    near, near_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"near-duplicate detection alone: {len(pairs):,} pairs in {near:.1f} s = "
        f"{len(pairs) / near:,.0f} pairs/s wall, {len(pairs) / near_cpu:,.0f} pairs/s CPU "
        f"({len(groups):,} near-duplicates; MinHash {config.num_perm} perms, word 5-grams, "
        f"Jaccard {config.near_dup_threshold})"
    )

    started, cpu = time.perf_counter(), time.process_time()
    alive, report, _ = apply_filters(pairs, config, ctx)
    chain, chain_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"full filter chain: {len(pairs):,} pairs in {chain:.1f} s = {len(pairs) / chain:,.0f} "
        f"pairs/s wall, {len(pairs) / chain_cpu:,.0f} pairs/s CPU ({len(alive):,} kept)"
    )
    for name, seconds in report.seconds.items():
        print(f"    {name:<16} {seconds:8.2f} s  dropped {report.dropped[name]:>7,}")

    if args.store:
        from dataprep.store import Store

        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(Path(tmp))
            by_path: dict[str, list[Unit]] = {}
            for unit in units:
                by_path.setdefault(unit.path, []).append(unit)
            for path, members in by_path.items():
                store.put_file(path, None, "ok", members)
            store.put_pairs(pairs)
            started = time.perf_counter()
            run_filters(store, config)
            stored = time.perf_counter() - started
            store.close()
        print(f"run_filters through the store: {stored:.1f} s = {len(pairs) / stored:,.0f} pairs/s")


if __name__ == "__main__":
    main()
