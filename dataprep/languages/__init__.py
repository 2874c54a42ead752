"""Languages: one folder per programming language, and the registry that maps names to them.

A `Language` says which files are its own (`suffixes`), how to slice one into units
(`slicer`, one function per parser backend), whether a snippet is valid code (`parses`),
the facts the template generator reads from its units (`signature_of`) and which template
tasks apply to its units (`families`). The heavy parts (tree-sitter grammars, javalang)
are named as "module:function" and imported on first use, so the registry costs nothing to
load.

    get("java").slicer("javalang")        # the javalang backend's slicing function
    language_for_path("app/Money.kt")     # Language(name="kotlin", ...)
    get(unit.language).parses(code)       # does `code` parse in the unit's language?

Adding a language: a folder `dataprep/languages/NAME/` whose `__init__.py` defines
`LANGUAGE = Language(...)`, and its line in `BUILTIN`. A plugin outside the package calls
`register(Language(...))` instead.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import TYPE_CHECKING

from dataprep.errors import InputError

if TYPE_CHECKING:
    from dataprep.models import Unit

# name -> the module whose LANGUAGE it is: the registry's built-in lines
BUILTIN: dict[str, str] = {
    "java": "dataprep.languages.java",
    "kotlin": "dataprep.languages.kotlin",
}
DEFAULT_PARSER = "tree-sitter"

SliceFunction = Callable[[str, str, str, "str | None"], "tuple[list[Unit], list[str]]"]


@dataclass(frozen=True)
class Language:
    """A programming language dataprep slices. Functions are "module:function" references."""

    name: str
    """The value of `Unit.language` for its units: "java"."""
    title: str
    """How messages name it: "Java"."""
    suffixes: tuple[str, ...]
    """File name endings, lower case: (".java",)."""
    parsers: dict[str, str]
    """Parser name -> slicing function `(relpath, text, repo, commit) -> (units, errors)`;
    the first is the language's default."""
    validity: str
    """`(code) -> bool`: does a snippet (a file, a declaration, a member or statements) parse?"""
    facts: str
    """The module of the facts the generators read from its units: `signature_of(unit)` (a
    callable's header as written, without annotations and body), test names, ..."""
    families: tuple[str, ...] | None = None
    """The template tasks that apply to its units: task ids, or patterns such as "type.*";
    None: every task."""
    rows: str | None = None
    """Optional fast path of the default parser: `(relpath, text, repo, commit, src) ->
    (rows, errors)`, each row a dict that `unit_json` writes as its Unit's JSON."""
    semicolons: bool = True
    """Whether its statements end with `;` (a fill-in answer ends on one), or on any line
    that leaves nothing open (Kotlin)."""

    def slicer(self, parser: str | None = None) -> SliceFunction:
        """The slicing function of `parser`, or of the default when the language has no
        such backend (`--parser javalang` slices Kotlin with tree-sitter)."""
        ref = self.parsers.get(parser or "") or next(iter(self.parsers.values()))
        return _load(ref)

    def row_slicer(self, parser: str | None = None) -> Callable | None:
        """The rows fast path, when `parser` is the default backend and the language has one."""
        if self.rows is None or self.slicer(parser) is not self.slicer():
            return None
        return _load(self.rows)

    def parses(self, code: str) -> bool:
        """Does `code` parse in this language? Example: get("java").parses("int x = ;") -> False"""
        return _load(self.validity)(code)

    def fact(self, name: str) -> Callable:
        """A function of the language's facts module. Example: fact("signature_of")(unit)"""
        return _load(f"{self.facts}:{name}")

    def signature_of(self, unit: Unit) -> str | None:
        """A method's, function's or constructor's header as written (no annotations, no body)."""
        return self.fact("signature_of")(unit)

    def applies(self, task_id: str) -> bool:
        """Does the template task `task_id` apply to this language's units?"""
        return _applies(self.families, task_id)


@lru_cache(maxsize=4096)
def _applies(families: tuple[str, ...] | None, task_id: str) -> bool:
    return families is None or any(fnmatchcase(task_id, f) for f in families)


@lru_cache(maxsize=64)
def _load(ref: str) -> Callable:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


_REGISTRY: dict[str, Language] = {}
_SUFFIXES: dict[str, Language] = {}


def register(language: Language) -> Language:
    """Add a language (replacing one of the same name); returns it.

    Raises InputError when one of its suffixes belongs to another language.
    """
    _builtins()
    _add(language)
    return language


def _add(language: Language) -> None:
    for suffix in language.suffixes:
        owner = _SUFFIXES.get(suffix)
        if owner is not None and owner.name != language.name:
            raise InputError(
                f"language {language.name!r}: suffix {suffix} is already {owner.name!r}'s: "
                "register it under that language or drop the suffix"
            )
    old = _REGISTRY.pop(language.name, None)
    if old is not None:
        for suffix in old.suffixes:
            _SUFFIXES.pop(suffix, None)
    _REGISTRY[language.name] = language
    for suffix in language.suffixes:
        _SUFFIXES[suffix] = language


_loaded = False


def _builtins() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILTIN.values():
            _add(importlib.import_module(module).LANGUAGE)


def languages() -> dict[str, Language]:
    """Every registered language, by name (the built-in ones first)."""
    _builtins()
    return dict(_REGISTRY)


def titles() -> str:
    """The registered languages' titles for a message. Example: titles() -> "Java, Kotlin" """
    return ", ".join(language.title for language in languages().values())


def get(name: str) -> Language:
    """The language registered as `name`; InputError naming the choices otherwise."""
    found = find(name)
    if found is None:
        choices = ", ".join(sorted(languages()))
        raise InputError(f"unknown language {name!r}: choose one of {choices}")
    return found


def find(name: str | None) -> Language | None:
    """The language registered as `name`, or None (doc sections' "markdown" is none)."""
    _builtins()
    return _REGISTRY.get(name or "")


def language_for_path(path: str) -> Language | None:
    """The language of a file by its suffix, or None.

    Example: language_for_path("src/A.java").name -> "java"; language_for_path("a.py") -> None
    """
    _builtins()
    dot = path.rfind(".")
    if dot < 0 or "/" in path[dot:]:
        return None
    return _SUFFIXES.get(path[dot:].lower())


def parsers() -> tuple[str, ...]:
    """Every parser name any language offers, the default first: ("tree-sitter", "javalang")."""
    names = {DEFAULT_PARSER: None}
    for language in languages().values():
        names.update(dict.fromkeys(language.parsers))
    return tuple(names)


def slicer_for(parser: str) -> None:
    """Check that `parser` names a backend of some language and that it imports.

    Raises InputError naming the choices, or the fix when the backend is not installed.
    """
    if parser not in parsers():
        choices = ", ".join(sorted(parsers()))
        raise InputError(f"unknown parser {parser!r}: choose one of {choices}")
    for language in languages().values():
        if parser in language.parsers:
            try:
                language.slicer(parser)
            except (ImportError, AttributeError) as exc:
                raise InputError(
                    f"parser {parser!r} is not available ({exc}): use --parser {DEFAULT_PARSER}"
                ) from None


def signature_of(unit: Unit) -> str | None:
    """The unit's callable header through its language's hook (None for other languages)."""
    language = find(unit.language)
    return language.signature_of(unit) if language is not None else None


def semicolons(language: str | None) -> bool:
    """`Language.semicolons` of a unit's language; True for an unknown one (Java's rule)."""
    found = find(language)
    return True if found is None else found.semicolons


def task_applies(language: str | None, task_id: str) -> bool:
    """Does a template task apply to units of `language`? Languages outside the registry
    (doc sections: "markdown", ...) take every task whose kinds fit them."""
    found = find(language)
    return found is None or found.applies(task_id)
