"""Synthetic Java units with planted duplicates, for cross-source dedup tests and benchmarks.

Unit `i` of a corpus is a pure function of (seed, i), so a benchmark can stream units to
dedup without holding their texts, and rebuild any one later to score the result. About
70% are original methods; the rest copy an earlier original:

- "exact": the same code with other indentation and spacing;
- "near": one small edit (a renamed method or local, a changed or inserted line);
- "miss": several lines rewritten, well below the threshold (a near-miss).

Example: corpus_unit(0, 5).role -> "orig"; planted(0, 1000) lists every copy's original.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from dataprep.filters.dedup import jaccard
from dataprep.scaleout.dedup import UnitRef, code_shingles

WORDS = (
    "room booking guest price night rate fee stay token user role money date range page "
    "order item cart stock store shelf label count total limit offset cache entry value "
    "key node edge graph path file line column table index record field event queue task"
).split()
TYPES = ["int", "long", "String", "double", "boolean", "List<String>", "Map<String, Integer>"]
ROLES = (("orig", 0.70), ("exact", 0.10), ("near", 0.12), ("miss", 0.08))


def _name(rng: random.Random) -> str:
    a, b = rng.sample(WORDS, 2)
    return f"{a}{b.capitalize()}{rng.randrange(100)}"


def _statement(rng: random.Random, names: list[str]) -> str:
    v, w, a = rng.sample(names, 3)
    n, m = rng.randrange(1000), _name(rng)
    return rng.choice(
        [
            f"int {v} = {a}.{m}({w}, {n});",
            f"if ({v} > {n}) {{ {w} += {v}; }}",
            f"for (int i = 0; i < {v}; i++) {{ {w}.add({a}.get(i + {n})); }}",
            f'String {v} = "{rng.choice(WORDS)} " + {a}.{m}();',
            f"{w} = Math.max({w}, {v} * {n});",
            f"{a}.{m}({v}, {w}, {n});",
            f"while ({v}.hasNext() && {w} < {n}) {{ {a}.{m}({v}.next()); }}",
        ]
    )


def method(rng: random.Random) -> str:
    """A random Java method of 8 to 24 statements."""
    names = [_name(rng) for _ in range(8)]
    body = [_statement(rng, names) for _ in range(rng.randrange(8, 25))]
    params = ", ".join(f"{rng.choice(TYPES)} {p}" for p in names[:2])
    head = f"public {rng.choice(TYPES)} {_name(rng)}({params}) {{"
    return "\n".join([head, *("    " + s for s in body), f"    return {names[2]};", "}"])


def respace(rng: random.Random, code: str) -> str:
    """Other indentation and spacing, the same tokens."""
    indent = rng.choice(["  ", "\t", "        "])
    lines = [
        indent + line.strip() if line.startswith("    ") else line for line in code.split("\n")
    ]
    return "\n".join(lines).replace(" = ", "  =  ").replace(", ", " ,") + "\n"


def near_edit(rng: random.Random, code: str) -> str:
    """One small edit: rename the method, rename a name used once, change or add a line."""
    lines = code.split("\n")
    kind = rng.randrange(4)
    if kind == 0:
        head = lines[0]
        name = head[: head.index("(")].split()[-1]
        lines[0] = head.replace(name + "(", _name(rng) + "(", 1)
    elif kind == 1:
        k = rng.randrange(1, len(lines) - 2)
        lines[k] = "    " + _statement(rng, [_name(rng) for _ in range(3)])
    elif kind == 2:
        k = rng.randrange(1, len(lines) - 1)
        lines.insert(k, "    " + _statement(rng, [_name(rng) for _ in range(3)]))
    else:
        lines[0] = lines[0].replace("public ", "protected ", 1)
        lines.insert(1, "    // " + " ".join(rng.sample(WORDS, 4)))
    return "\n".join(lines)


def miss_edit(rng: random.Random, code: str) -> str:
    """Several lines rewritten: a near-miss, well below 0.85."""
    lines = code.split("\n")
    names = [_name(rng) for _ in range(4)]
    for k in rng.sample(range(1, len(lines) - 2), max(3, (len(lines) - 3) * 2 // 5)):
        lines[k] = "    " + _statement(rng, names)
    return "\n".join(lines)


@dataclass(frozen=True)
class CorpusUnit:
    index: int
    role: str
    original: int | None
    code: str

    def ref(self, sources: int = 100) -> UnitRef:
        """A UnitRef whose key puts it in one of `sources` repositories (priority 0-2)."""
        rng = random.Random(self.index * 7919 + 1)
        repo = rng.randrange(sources)
        key = (repo % 3, f"https://git.example/org/repo{repo}", f"src/F{self.index}.java")
        uid = f"u{self.index:07d}"
        return UnitRef(key=(*key, uid), unit_id=uid, code=self.code)


def _role(seed: int, i: int) -> str:
    if i < 10:
        return "orig"
    x = random.Random(f"{seed}:{i}:role").random()
    for role, share in ROLES:
        if x < share:
            return role
        x -= share
    return "orig"


def corpus_unit(seed: int, i: int) -> CorpusUnit:
    """Unit `i` of the corpus `seed` (rebuilt from scratch on every call)."""
    role = _role(seed, i)
    rng = random.Random(f"{seed}:{i}")
    if role == "orig":
        return CorpusUnit(i, role, None, method(rng))
    j = rng.randrange(i)
    while _role(seed, j) != "orig":
        j = rng.randrange(i)
    base = corpus_unit(seed, j).code
    edit = {"exact": respace, "near": near_edit, "miss": miss_edit}[role]
    return CorpusUnit(i, role, j, edit(rng, base))


def similarity(a: str, b: str) -> float:
    """Exact Jaccard of two units' code shingles."""
    return jaccard(code_shingles(a), code_shingles(b))


def planted(seed: int, n: int) -> list[tuple[int, int, float]]:
    """(copy, original, exact Jaccard) of every planted copy among the first n units."""
    out = []
    for i in range(n):
        u = corpus_unit(seed, i)
        if u.original is not None:
            out.append((i, u.original, similarity(u.code, corpus_unit(seed, u.original).code)))
    return out
