"""The shape of the code itself: no import cycle, SQL only in the store, modules of a size
a reader can hold (ARCHITECTURE.md names the few larger ones and why)."""

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "dataprep"
STORE_MODULES = {"store.py", "store_schema.py", "store_review.py"}
# Above about 500 lines, each one cohesive thing (ARCHITECTURE.md, "Modules and their sizes").
LARGE = {
    "store.py",
    "store_review.py",
    "store_schema.py",
    "export.py",
    "filters/dedup.py",
    "languages/java/slicer.py",
    "languages/java/javalang_backend.py",
    "languages/kotlin/slicer.py",
}
LIMIT = 520
# Modules that read or describe the SQL of the user's repository (schema files, tables).
USERS_SQL = {"slicing/sql.py", "slicing/configfiles.py", "generate/families/schema.py", "models.py"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _runtime_imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, names, level) of every import that runs (anywhere but under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for stmt in node.body
        for n in ast.walk(stmt)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, [], 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", [a.name for a in node.names], node.level))
    return found


def import_graph() -> dict[str, set[str]]:
    """dataprep module -> the dataprep modules it imports (a package's `__init__` is the
    package's name; `from pkg import sub` points at the submodule)."""
    modules = _modules()

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for module, names, level in _runtime_imports(path):
            if level:
                base = package.split(".")[: len(package.split(".")) - (level - 1)]
                module = ".".join(base + ([module] if module else []))
            for target in [f"{module}.{n}" for n in names if f"{module}.{n}" in modules] or [
                known(module)
            ]:
                if target and target != name and target.split(".")[0] == "dataprep":
                    targets.add(target)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_cycle_check_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    real = import_graph()
    assert "dataprep.store" in real["dataprep.pipeline"]  # the graph sees real imports
    assert "dataprep.generate.tasks" in real["dataprep.generate.candidates"]


SQL = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|DELETE\s+FROM|UPDATE\s+\w+\s+SET|CREATE\s+(TABLE|INDEX))\b",
    re.S,
)


def test_sql_lives_in_the_store_modules():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in STORE_MODULES:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"\.(execute|executemany|executescript)\(|sqlite3\.connect|\.conn\b", text):
            offenders.append(rel)
        elif SQL.search(text) and rel not in USERS_SQL:
            offenders.append(rel)
    assert offenders == []


def test_modules_stay_small_unless_named():
    sizes = {
        path.relative_to(PACKAGE).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    large = {rel for rel, n in sizes.items() if n > LIMIT}
    assert large <= LARGE, f"over {LIMIT} lines: {sorted(large - LARGE)}"
    assert LARGE <= set(sizes), "a named module is gone: update LARGE and ARCHITECTURE.md"
