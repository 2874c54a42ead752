"""Does a snippet parse as Kotlin? The check behind the code-validity filter for Kotlin."""

from __future__ import annotations

from functools import lru_cache

from dataprep.languages.kotlin.slicer import parser


def _parses(source: str) -> bool:
    return not parser().parse(source.encode("utf-8")).root_node.has_error


@lru_cache(maxsize=65536)
def parses(code: str) -> bool:
    """Does `code` parse as Kotlin as a file, a declaration, a class member or statements?

    Example: parses("val x = 1") -> True; parses("val x = ") -> False.
    """
    stripped = code.strip()
    if not stripped:
        return False
    tries = (
        stripped,  # a file, a declaration or a type header
        f"class __Wrap__ {{\n{stripped}\n}}",  # a member (constructor, companion object)
        f"fun __wrap__() {{\n{stripped}\n}}",  # statements
        f"{stripped}\nclass __Wrap__",  # annotations alone
    )
    return any(_parses(source) for source in tries)
