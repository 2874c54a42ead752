"""Does a snippet parse as Java? The check behind the code-validity filter."""

from __future__ import annotations

from functools import lru_cache

from dataprep.languages.java.slicer import parser


def _parses(source: str) -> bool:
    return not parser().parse(source.encode("utf-8")).root_node.has_error


@lru_cache(maxsize=65536)  # a unit's code is the output of several phrasings
def parses(code: str) -> bool:
    """Does `code` parse as Java as a file, a type header, a member or statements?

    Example: parses("int x = 1;") -> True; parses("int x = ;") -> False.
    """
    stripped = code.strip()
    if not stripped:
        return False
    tries = (
        stripped,
        f"class __Wrap__ {{\n{stripped}\n}}",
        f"{stripped} {{}}",
        f"class __Wrap__ {{ void __m__() {{\n{stripped}\n}} }}",
        f"class __Wrap__ {{\n{stripped} {{}}\n}}",  # a member's signature line
        f"{stripped}\nclass __Wrap__ {{}}",  # annotations alone
        f"record __Wrap__() {{\n{stripped} {{}}\n}}",  # a compact constructor's header
    )
    return any(_parses(source) for source in tries)
