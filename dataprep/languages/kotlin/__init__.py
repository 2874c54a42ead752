"""Kotlin: the tree-sitter-kotlin slicer, its validity parser and facts.

The language-neutral template tasks apply (code recall, names, signatures, KDoc to
signature and back, annotations, owners, which test covers a method); those whose
phrasings or answers are Java's (Java packages, "is this Java method a test", Spring
routes read from Java annotations) do not, until they are written for both.
"""

from dataprep.languages import Language

LANGUAGE = Language(
    name="kotlin",
    title="Kotlin",
    suffixes=(".kt",),
    parsers={"tree-sitter": "dataprep.languages.kotlin.slicer:slice_kotlin"},
    validity="dataprep.languages.kotlin.validity:parses",
    facts="dataprep.languages.kotlin.facts",
    families=(
        "type.declaration",
        "type.name",
        "type.fields",
        "type.constructors",
        "type.annotations",
        "field.declaration",
        "field.initializer",
        "method.explain",
        "method.name",
        "constructor.code",
        "member.signature",
        "javadoc.signature",
        "signature.javadoc",
        "member.annotations",
        "member.owner",
        "file.imports",
        "test.covers",
    ),
)
