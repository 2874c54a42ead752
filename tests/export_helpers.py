"""Synthetic working stores for the export and push tests, built from Unit/Pair records."""

from pathlib import Path

from dataprep.models import Decision, Pair, Unit
from dataprep.store import Store

MIT_TEXT = """MIT License

Copyright (c) 2026 Test

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
"""


def make_unit(path: str, name: str, line: int, module: str | None = None) -> Unit:
    code = f"public void {name}() {{ return; }}"
    qname = f"{Path(path).stem}.{name}"
    return Unit(
        id=Unit.make_id(path, "method", qname, f"{name}()", code),
        kind="method",
        name=name,
        qualified_name=qname,
        path=path,
        start_line=line,
        end_line=line + 2,
        code=code,
        language="java",
        repo="acme/shop",
        commit="0123abc",
        signature=f"{name}()",
    )


def make_pair(
    unit: Unit, task: str = "method_code", n: int = 0, module: str | None = None, **kw
) -> Pair:
    instruction = kw.pop("instruction", f"How does {unit.qualified_name} work? ({task} {n})")
    input_ = kw.pop("input", "" if n % 2 == 0 else f"// context {n}")
    output = kw.pop("output", unit.code)
    template = kw.pop("template", f"{task}.v{n % 3}")
    return Pair(
        id=Pair.make_id(unit.id, template, instruction, input_, output),
        instruction=instruction,
        input=input_,
        output=output,
        generator=kw.pop("generator", "template"),
        task=task,
        template=template,
        unit_id=unit.id,
        unit_kind=unit.kind,
        path=unit.path,
        start_line=unit.start_line,
        end_line=unit.end_line,
        repo=unit.repo,
        commit=unit.commit,
        module=module,
        **kw,
    )


def build_store(
    out: Path,
    n_files: int = 40,
    pairs_per_file=lambda i: 1 + i % 7,
    modules: int = 0,
    repo_root: Path | None = None,
) -> Store:
    """A store with `n_files` files, a method unit each, and a varying number of pairs per file."""
    store = Store.open(out)
    all_pairs: list[Pair] = []
    for i in range(n_files):
        module = f"mod{i % modules}" if modules else None
        path = f"{module or 'core'}/src/main/java/acme/C{i:03d}.java"
        unit = make_unit(path, f"run{i}", 10 + i, module)
        store.put_file(path, f"digest{i}", "ok", [unit])
        for n in range(pairs_per_file(i)):
            # a third of the pairs a task that generalises, so held-out files have rows
            task = ("method.code", "member.signature", "method.implement")[n % 3]
            all_pairs.append(make_pair(unit, task, n, module))
    store.put_pairs(all_pairs)
    if repo_root is not None:
        repo_root.mkdir(parents=True, exist_ok=True)
        (repo_root / "LICENSE").write_text(MIT_TEXT, encoding="utf-8")
        store.set_meta("repo_root", str(repo_root))
    return store


def drop(store: Store, pair_ids: list[str], stage: str = "dedup") -> None:
    store.put_decisions(
        stage,
        [Decision(pair_id=p, stage=stage, kept=False, reason="exact_duplicate") for p in pair_ids],
    )
