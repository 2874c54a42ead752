"""API existence and package overviews.

Existence: "Does `Element` declare a method `childNodeSize`?" -> "Yes: `public int
childNodeSize()`." and, for a plausible name the type does not declare (built from its
real names by swapping a verb: get/find, size/count, add/append...), "No. Element declares
no method `childCount`; the closest are `childNodeSize()` and `childrenSize()`." The
question says *declare*, so a method inherited from outside the repository cannot make a
"no" wrong; a name some supertype in the repository declares is never asked.

Overviews: "What does the package p contain?" -> the package's own Javadoc (from
`package-info.java`) when it has one, then its public types, each with its summary.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections import defaultdict
from functools import lru_cache

from dataprep.generate.families import family
from dataprep.generate.families.repo import RepoView
from dataprep.generate.java_facts import is_test_path, signature_of
from dataprep.generate.javadoc import parse_javadoc
from dataprep.models import TYPE_KINDS, Unit

MIN_METHODS = 3  # a type with fewer methods gives no existence questions
MIN_TYPES = 2  # a package with fewer public types gives no overview
MAX_LISTED = 25  # types listed in an overview

# Verbs and nouns that name the same idea: swapping one gives a name an API could have.
_SWAPS = [
    ("get", "find"), ("find", "lookup"), ("get", "fetch"), ("is", "has"), ("has", "contains"),
    ("add", "append"), ("add", "insert"), ("remove", "delete"), ("set", "update"),
    ("create", "build"), ("new", "create"), ("size", "count"), ("length", "size"),
    ("to", "as"), ("contains", "includes"), ("clear", "reset"), ("close", "shutdown"),
    ("start", "begin"), ("stop", "end"), ("parse", "read"), ("write", "save"),
    ("validate", "check"), ("apply", "run"), ("of", "from"), ("next", "advance"),
]  # fmt: skip


def _words(name: str) -> list[str]:
    """camelCase -> its words. Example: _words("getChildCount") -> ["get", "Child", "Count"]"""
    return re.findall(r"[a-z]+|[A-Z][a-z0-9]*|[0-9]+", name) or [name]


@lru_cache(maxsize=1 << 14)  # a type's method names recur in other types
def plausible_names(name: str) -> list[str]:
    """Names an API could have instead of `name`, by swapping one word for a synonym.

    Example: plausible_names("getSize") -> ["findSize", "fetchSize", "getCount", "getLength"]
    """
    words = _words(name)
    out = []
    for i, word in enumerate(words):
        for dst in _SWAP_TO.get(word.lower(), ()):
            new = dst if i == 0 else dst.capitalize()
            out.append("".join(words[:i] + [new] + words[i + 1 :]))
    return list(dict.fromkeys(n for n in out if n != name))


# A word -> its synonyms, in `_SWAPS` order (each pair read both ways)
_SWAP_TO: dict[str, list[str]] = {}
for _a, _b in _SWAPS:
    for _src, _dst in ((_a, _b), (_b, _a)):
        _SWAP_TO.setdefault(_src, []).append(_dst)


def _supertypes(unit: Unit, repo: RepoView, seen: set[str] | None = None) -> list[Unit]:
    seen = seen if seen is not None else set()
    out = []
    for name in [*unit.extends, *unit.implements]:
        simple = re.sub(r"<.*", "", name).rsplit(".", 1)[-1].strip()
        for sup in repo.main_types.get(simple, []):
            if sup.id not in seen:
                seen.add(sup.id)
                out += [sup, *_supertypes(sup, repo, seen)]
    return out


def _pick(items: list, key: str):
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return items[int.from_bytes(digest, "big") % len(items)]


def _short_sig(unit: Unit) -> str:
    params = (signature_of(unit) or "").partition("(")[2].rpartition(")")[0]
    params = re.sub(r"@[\w.]+(?:\([^()]*\))?\s*", "", params)  # @PathVariable("id") long id
    return f"{unit.name}({' '.join(params.split())})"  # inline code: one line


@family("exists")
def existence(repo: RepoView, tasks: dict, seed: int) -> list:
    out = []
    for units in repo.main_types.values():
        for unit in units:
            if unit.kind not in TYPE_KINDS or "private" in unit.modifiers:
                continue
            methods = [m for m in repo.methods_of(unit) if "private" not in m.modifiers]
            names = sorted({m.name for m in methods})
            if len(names) < MIN_METHODS:
                continue
            inherited = {m.name for sup in _supertypes(unit, repo) for m in repo.methods_of(sup)}
            known = set(names) | inherited | {m.name for m in repo.members.get(unit.id, [])}
            real = _pick(names, f"{unit.id}:yes")  # by content: seeds change phrasings only
            sigs = [signature_of(m) for m in methods if m.name == real]
            yes = "Yes: " + "; ".join(f"`{' '.join(s.split())}`" for s in sigs if s) + "."
            fakes = [n for r in names for n in plausible_names(r) if n not in known]
            questions = [(real, yes)]
            if fakes:
                fake = _pick(sorted(set(fakes)), f"{unit.id}:no")
                close = difflib.get_close_matches(fake, names, n=2, cutoff=0.0)
                shown = " and ".join(
                    f"`{_short_sig(next(m for m in methods if m.name == c))}`" for c in close
                )
                questions.append(
                    (fake, f"No. {unit.name} declares no method `{fake}`; the closest are {shown}.")
                )
            for method, answer in questions:
                values = [dict(v, method=method) for v in repo.values(unit)]
                span = (unit.start_line, unit.end_line)
                for task_id, task in tasks.items():
                    cand = repo.candidate(task_id, task, unit, values, "", (answer, *span), seed)
                    out.append(cand)
    return out


def _summary(unit: Unit) -> str:
    return parse_javadoc(unit.javadoc).summary if unit.javadoc else ""


@family("package_types")
def package_overview(repo: RepoView, tasks: dict, seed: int) -> list:
    by_package: dict[str, list[Unit]] = defaultdict(list)
    infos: dict[str, Unit] = {}
    for unit in repo.units:
        if is_test_path(unit.path):
            continue
        if unit.kind == "file" and unit.path.endswith("package-info.java"):
            if unit.package:  # its Javadoc is the package's own (the slicer's file unit)
                infos[unit.package] = unit
        elif unit.kind in TYPE_KINDS and unit.parent is None and "public" in unit.modifiers:
            if unit.package:
                by_package[unit.package].append(unit)
    out = []
    for package in sorted(by_package):
        types = sorted(by_package[package], key=lambda u: u.name)
        if len(types) < MIN_TYPES:
            continue
        info = infos.get(package)
        parts = []
        if info is not None and info.javadoc and parse_javadoc(info.javadoc).description:
            parts.append(parse_javadoc(info.javadoc).description)
        lines = []
        for unit in types[:MAX_LISTED]:
            kind = unit.kind.replace("_", " ")
            summary = _summary(unit)
            lines.append(f"- `{unit.name}` ({kind})" + (f": {summary}" if summary else ""))
        if len(types) > MAX_LISTED:
            lines.append(f"- and {len(types) - MAX_LISTED} more public types")
        parts.append("Its public types:\n" + "\n".join(lines))
        answer_text = "\n\n".join(parts)
        unit = info or types[0]
        values = [dict(v, package=package) for v in repo.values(unit)]
        span = (unit.start_line, unit.end_line)
        for task_id, task in tasks.items():
            out.append(repo.candidate(task_id, task, unit, values, "", (answer_text, *span), seed))
    return out
