"""A small working store for the review tests, built from Unit and Pair records directly."""

import json
from pathlib import Path

from dataprep.models import Decision, Pair, Unit
from dataprep.store import Store

XSS_SCRIPT = "<script>alert('xss')</script>"
XSS_IMG = '<img src=x onerror="alert(1)">'

ROOM_JAVADOC = f"""/**
 * Finds a free room for the dates. {XSS_SCRIPT}
 * See {XSS_IMG} for the rules.
 */"""
ROOM_CODE = """public Room findFree(DateRange range) {
    return rooms.stream().filter(r -> r.isFree(range)).findFirst().orElseThrow();
}"""


def make_unit(
    name: str, code: str, line: int, javadoc: str | None = None, kind: str = "method"
) -> Unit:
    path = "room/src/main/java/com/example/hotel/room/RoomService.java"
    qualified = f"com.example.hotel.room.RoomService.{name}"
    return Unit(
        id=Unit.make_id(path, kind, qualified, f"{name}()", code),
        kind=kind,
        name=name,
        qualified_name=qualified,
        path=path,
        start_line=line,
        end_line=line + code.count("\n"),
        code=code,
        language="java",
        repo="hotel-booking",
        javadoc=javadoc,
        parent="com.example.hotel.room.RoomService",
    )


def make_pair(unit: Unit, task: str, instruction: str, output: str, **extra) -> Pair:
    template = extra.pop("template", f"{task}.v1")
    input_ = extra.pop("input", "")
    return Pair(
        id=Pair.make_id(unit.id, template, instruction, input_, output),
        instruction=instruction,
        input=input_,
        output=output,
        generator=extra.pop("generator", "template"),
        task=task,
        template=template,
        unit_id=unit.id,
        unit_kind=unit.kind,
        path=unit.path,
        start_line=unit.start_line,
        end_line=unit.end_line,
        repo=unit.repo,
        **extra,
    )


def build_store(out: Path, n_extra: int = 0) -> dict[str, Pair]:
    """A store with 6 pairs (+ `n_extra` plain ones); returns them by a short name.

    - `xss`: a pair whose output carries the XSS payload, on a unit whose Javadoc does too;
    - `explain`, `signature`: plain template pairs (`signature` in the test split);
    - `dup`: dropped by the near-duplicate filter;
    - `evol1` -> `evol2`: an evolution chain rooted at `explain`, with judge scores.
    """
    find = make_unit("findFree", ROOM_CODE, 40, javadoc=ROOM_JAVADOC)
    count = make_unit("count", "public int count() {\n    return rooms.size();\n}", 60)
    pairs = {
        "xss": make_pair(find, "document_method", "Write the Javadoc for findFree.", ROOM_JAVADOC),
        "explain": make_pair(
            find,
            "explain_method",
            "Explain what RoomService.findFree does.",
            "It returns the first room free for the range.",
        ),
        "signature": make_pair(
            count,
            "method_signature",
            "Give the signature of RoomService.count.",
            "public int count()",
            input="class RoomService",
        ),
        "dup": make_pair(
            count,
            "explain_method",
            "Explain what RoomService.count does.",
            "It returns how many rooms there are.",
        ),
    }
    pairs["evol1"] = make_pair(
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
    pairs["evol2"] = make_pair(
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
        pairs[f"extra{i}"] = make_pair(
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
