"""Kotlin: the tree-sitter-kotlin slicer, its validity parser and facts.

The language-neutral template tasks apply: code recall, explanations from the KDoc,
names, signatures, the API of a type (and whether it declares a method), annotations,
owners, which test covers a method, writing that test, and what a call returns (from the
tests' assertions). Those whose phrasings say Java or Javadoc (the package of a file, "is
this Java method a test", a signature or an implementation from its Javadoc) and the
Spring routes and the package overviews (which list `public` types) do not, until they
are written for both.
"""

from dataprep.languages import Language

LANGUAGE = Language(
    name="kotlin",
    title="Kotlin",
    suffixes=(".kt",),
    parsers={"tree-sitter": "dataprep.languages.kotlin.slicer:slice_kotlin"},
    validity="dataprep.languages.kotlin.validity:parses",
    facts="dataprep.languages.kotlin.facts",
    semicolons=False,
    families=(
        "type.explain",
        "type.methods",
        "type.declaration",
        "type.fields",
        "type.constructors",
        "type.annotations",
        "field.declaration",
        "field.initializer",
        "method.explain",
        "method.code",
        "method.name",
        "constructor.code",
        "constructor.explain",
        "member.signature",
        "member.annotations",
        "member.owner",
        "file.imports",
        "test.covers",
        "test.write",
        "method.usage",
        "type.has_method",
        "enum.constants",
        "constant.explain",
    ),
)
