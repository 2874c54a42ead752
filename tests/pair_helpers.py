"""Small builders of units, pairs and stores for the filter, balance and report tests."""

from pathlib import Path

from dataprep.models import Pair, Unit
from dataprep.store import Store

ROOM_CODE = """public int capacity(int guests) {
    if (guests <= 0) {
        throw new IllegalArgumentException("guests must be positive");
    }
    return Math.min(guests, maxGuests) * rateFor(type);
}"""


def unit(
    code: str = ROOM_CODE, name: str = "capacity", type_name: str = "Room", path: str | None = None
) -> Unit:
    path = path or f"room/src/main/java/com/example/{type_name}.java"
    qualified = f"com.example.{type_name}.{name}"
    return Unit(
        id=Unit.make_id(path, "method", qualified, f"{name}(int)", code),
        kind="method",
        name=name,
        qualified_name=qualified,
        path=path,
        start_line=10,
        end_line=15,
        code=code,
        language="java",
        repo="hotel",
        signature=f"{name}(int)",
        parent=f"com.example.{type_name}",
    )


def pair(
    instruction: str,
    output: str,
    input: str = "",
    generator: str = "template",
    task: str = "method.explain",
    source: Unit | None = None,
    label: str | None = None,
    module: str | None = None,
) -> Pair:
    source = source or unit()
    template = task if generator == "template" else generator
    return Pair(
        id=Pair.make_id(source.id, template, instruction, input, output),
        instruction=instruction,
        input=input,
        output=output,
        generator=generator,
        task=task,
        template=template,
        unit_id=source.id,
        unit_kind=source.kind,
        path=source.path,
        start_line=source.start_line,
        end_line=source.end_line,
        repo=source.repo,
        label=label,
        module=module,
    )


def store_with(tmp_path: Path, pairs: list[Pair], units: list[Unit] | None = None) -> Store:
    """A store holding the pairs and their units (pairs are live only when their unit is)."""
    store = Store.open(tmp_path / "out")
    by_path: dict[str, list[Unit]] = {}
    for u in units or [unit()]:
        by_path.setdefault(u.path, []).append(u)
    for path, members in by_path.items():
        store.put_file(path, "digest", "ok", members)
    store.put_pairs(pairs)
    return store
