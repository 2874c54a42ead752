"""Java: tree-sitter (the default) and javalang (pure Python, Java 8) slicers, the validity
parser, and the facts the template generator reads (dataprep.generate.java_facts)."""

from dataprep.languages import Language

LANGUAGE = Language(
    name="java",
    title="Java",
    suffixes=(".java",),
    parsers={
        "tree-sitter": "dataprep.languages.java.slicer:slice_java",
        "javalang": "dataprep.languages.java.javalang_backend:slice_java",
    },
    validity="dataprep.languages.java.validity:parses",
    facts="dataprep.generate.java_facts",
    families=None,  # the shipped templates were written for Java: every task applies
    rows="dataprep.languages.java.slicer:slice_java_rows",
)
