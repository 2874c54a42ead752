"""The one home of the tests' record builders: units, pairs and small working stores.

Units get their id from `Unit.make_id` and pairs are built by `Pair.from_unit`, the way
production builds them. Three families of records:
- `unit`/`pair`/`store_with`: the method `com.example.Room.capacity(int)` and pairs about
  it (filters, balance, report);
- `shop_unit`/`shop_pair`/`shop_store`: a synthetic repository of N files with a varying
  number of pairs each (export, push, splits);
- `service_unit`/`review_store`: RoomService with an XSS payload in its Javadoc (review).
"""

import json
from pathlib import Path

from dataprep.models import Decision, Pair, Unit
from dataprep.store import Store

ROOM_CODE = """public int capacity(int guests) {
    if (guests <= 0) {
        throw new IllegalArgumentException("guests must be positive");
    }
    return Math.min(guests, maxGuests) * rateFor(type);
}"""


def unit(
    code: str = ROOM_CODE,
    name: str = "capacity",
    type_name: str = "Room",
    path: str | None = None,
    **fields,
) -> Unit:
    """A unit, by default the method com.example.Room.capacity(int) at lines 10-15; `fields`
    overrides any other field (kind, qualified_name, signature, lines, repo...)."""
    data = {
        "kind": "method",
        "name": name,
        "qualified_name": f"com.example.{type_name}.{name}",
        "path": path or f"room/src/main/java/com/example/{type_name}.java",
        "start_line": 10,
        "end_line": 15,
        "code": code,
        "language": "java",
        "repo": "hotel",
        "signature": f"{name}(int)",
        "parent": f"com.example.{type_name}",
        **fields,
    }
    if "id" not in data:
        data["id"] = Unit.make_id(
            data["path"], data["kind"], data["qualified_name"], data["signature"], code
        )
    return Unit(**data)


def pair(
    instruction: str,
    output: str,
    input: str = "",
    *,
    source: Unit | None = None,
    generator: str = "template",
    task: str = "method.explain",
    template: str | None = None,
    **fields,
) -> Pair:
    """A pair about `source` (default: `unit()`); the template defaults to the task for
    template pairs and to the generator's name otherwise."""
    template = template or (task if generator == "template" else generator)
    return Pair.from_unit(
        source or unit(),
        instruction,
        output,
        task=task,
        template=template,
        generator=generator,
        input=input,
        **fields,
    )


def store_with(tmp_path: Path, pairs: list[Pair], units: list[Unit] | None = None) -> Store:
    """A store (tmp_path/out) holding the pairs and their units (pairs live only when their
    unit does)."""
    store = Store.open(tmp_path / "out")
    by_path: dict[str, list[Unit]] = {}
    for u in units or [unit()]:
        by_path.setdefault(u.path, []).append(u)
    for path, members in by_path.items():
        store.put_file(path, "digest", "ok", members)
    store.put_pairs(pairs)
    return store


# -- a synthetic repository of many files (export, push, splits) ----------------------------

MIT_TEXT = """MIT License

Copyright (c) 2026 Test

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
"""


def shop_unit(path: str, name: str, line: int) -> Unit:
    """The method `NAME()` of the file PATH in acme/shop at commit 0123abc."""
    return unit(
        f"public void {name}() {{ return; }}",
        name,
        path=path,
        qualified_name=f"{Path(path).stem}.{name}",
        signature=f"{name}()",
        start_line=line,
        end_line=line + 2,
        repo="acme/shop",
        commit="0123abc",
        parent=None,
    )


def shop_pair(
    source: Unit, task: str = "method_code", n: int = 0, module: str | None = None, **kw
) -> Pair:
    """The n-th pair of a task about `source`: odd ones have an input, templates cycle by 3."""
    return pair(
        kw.pop("instruction", f"How does {source.qualified_name} work? ({task} {n})"),
        kw.pop("output", source.code),
        kw.pop("input", "" if n % 2 == 0 else f"// context {n}"),
        source=source,
        task=task,
        template=kw.pop("template", f"{task}.v{n % 3}"),
        module=module,
        **kw,
    )


def shop_store(
    out: Path,
    n_files: int = 40,
    pairs_per_file=lambda i: 1 + i % 7,
    modules: int = 0,
    repo_root: Path | None = None,
) -> Store:
    """A store with `n_files` files, a method unit each, and a varying number of pairs per
    file (`modules` spreads them over that many modules; `repo_root` gets an MIT LICENSE)."""
    store = Store.open(out)
    all_pairs: list[Pair] = []
    for i in range(n_files):
        module = f"mod{i % modules}" if modules else None
        path = f"{module or 'core'}/src/main/java/acme/C{i:03d}.java"
        source = shop_unit(path, f"run{i}", 10 + i)
        store.put_file(path, f"digest{i}", "ok", [source])
        for n in range(pairs_per_file(i)):
            # a third of the pairs a task that generalises, so held-out files have rows
            task = ("method.code", "member.signature", "method.implement")[n % 3]
            all_pairs.append(shop_pair(source, task, n, module))
    store.put_pairs(all_pairs)
    if repo_root is not None:
        repo_root.mkdir(parents=True, exist_ok=True)
        (repo_root / "LICENSE").write_text(MIT_TEXT, encoding="utf-8")
        store.set_meta("repo_root", str(repo_root))
    return store


def drop(store: Store, pair_ids: list[str], stage: str = "dedup") -> None:
    """Drop the pairs at `stage` as exact duplicates."""
    store.put_decisions(
        stage,
        [Decision(pair_id=p, stage=stage, kept=False, reason="exact_duplicate") for p in pair_ids],
    )


# -- the review page's store ----------------------------------------------------------------

XSS_SCRIPT = "<script>alert('xss')</script>"
XSS_IMG = '<img src=x onerror="alert(1)">'

SERVICE_JAVADOC = f"""/**
 * Finds a free room for the dates. {XSS_SCRIPT}
 * See {XSS_IMG} for the rules.
 */"""
SERVICE_CODE = """public Room findFree(DateRange range) {
    return rooms.stream().filter(r -> r.isFree(range)).findFirst().orElseThrow();
}"""
SERVICE = "com.example.hotel.room.RoomService"


def service_unit(
    name: str, code: str, line: int, javadoc: str | None = None, kind: str = "method"
) -> Unit:
    """A member `NAME()` of RoomService in hotel-booking, spanning its code from `line`."""
    return unit(
        code,
        name,
        path="room/src/main/java/com/example/hotel/room/RoomService.java",
        kind=kind,
        qualified_name=f"{SERVICE}.{name}",
        signature=f"{name}()",
        start_line=line,
        end_line=line + code.count("\n"),
        repo="hotel-booking",
        javadoc=javadoc,
        parent=SERVICE,
    )


def service_pair(source: Unit, task: str, instruction: str, output: str, **fields) -> Pair:
    """A template pair of `task` (template TASK.v1 unless given) about `source`."""
    fields.setdefault("template", f"{task}.v1")
    return pair(instruction, output, source=source, task=task, **fields)


def review_store(out: Path, n_extra: int = 0) -> dict[str, Pair]:
    """A store with 6 pairs (+ `n_extra` plain ones); returns them by a short name.

    - `xss`: a pair whose output carries the XSS payload, on a unit whose Javadoc does too;
    - `explain`, `signature`: plain template pairs (`signature` in the test split);
    - `dup`: dropped by the near-duplicate filter;
    - `evol1` -> `evol2`: an evolution chain rooted at `explain`, with judge scores as the
      judge filter records them (the detail of its decision: {"judge_score": ...}).
    """
    find = service_unit("findFree", SERVICE_CODE, 40, javadoc=SERVICE_JAVADOC)
    count = service_unit("count", "public int count() {\n    return rooms.size();\n}", 60)
    pairs = {
        "xss": service_pair(
            find, "document_method", "Write the Javadoc for findFree.", SERVICE_JAVADOC
        ),
        "explain": service_pair(
            find,
            "explain_method",
            "Explain what RoomService.findFree does.",
            "It returns the first room free for the range.",
        ),
        "signature": service_pair(
            count,
            "method_signature",
            "Give the signature of RoomService.count.",
            "public int count()",
            input="class RoomService",
        ),
        "dup": service_pair(
            count,
            "explain_method",
            "Explain what RoomService.count does.",
            "It returns how many rooms there are.",
        ),
    }
    pairs["evol1"] = service_pair(
        find,
        "explain_method",
        "Explain findFree and its complexity.",
        "Linear in the number of rooms.",
        generator="evol",
        operation="deepen",
        round=1,
        parent_id=pairs["explain"].id,
        model="m",
    )
    pairs["evol2"] = service_pair(
        find,
        "explain_method",
        "Explain findFree, its complexity, and what happens when no room is free.",
        "Linear; it throws NoSuchElementException.",
        generator="evol",
        operation="add_constraint",
        round=2,
        parent_id=pairs["evol1"].id,
        model="m",
    )
    for i in range(n_extra):
        pairs[f"extra{i}"] = service_pair(
            count, "explain_method", f"Extra question {i:03d}?", f"Answer {i}."
        )
    with Store.open(out) as store:
        store.put_file(find.path, "digest", "ok", [find, count])
        store.put_pairs(pairs.values())
        store.put_decisions(
            "filter.near_duplicate",
            [
                Decision(
                    pair_id=p.id,
                    stage="filter.near_duplicate",
                    kept=name != "dup",
                    reason="near-duplicate (Jaccard >= 0.7) of 0123" if name == "dup" else None,
                )
                for name, p in pairs.items()
            ],
        )
        store.put_decisions(
            "filter.judge",
            [
                Decision(
                    pair_id=pairs[name].id,
                    stage="filter.judge",
                    kept=True,
                    detail=json.dumps({"judge_score": score}),
                )
                for name, score in (("evol1", 60), ("evol2", 90))
            ],
        )
        store.put_splits(
            [
                (p.id, "test" if name == "signature" else "train", p.path)
                for name, p in pairs.items()
            ]
        )
    return pairs
