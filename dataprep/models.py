"""The records that flow through the pipeline: Unit, Pair, Decision, Review, Run.

Every record is a pydantic model with `extra="forbid"`, so a misspelt field is an error,
not a silently dropped value. Ids are content hashes (see dataprep.hashing).
"""

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from dataprep.hashing import content_hash

UnitKind = Literal[
    "file",
    "class",
    "interface",
    "enum",
    "record",
    "annotation_type",
    "field",
    "enum_constant",
    "constructor",
    "method",
    "doc_section",
    "object",
    "function",
    "property",
    "config",
    "table",
    "view_template",
]
TYPE_KINDS = ("class", "interface", "enum", "record", "annotation_type", "object")
MEMBER_KINDS = ("field", "enum_constant", "constructor", "method", "property")

SplitName = Literal["train", "validation", "test", "knowledge"]
# The exported splits (dataprep.splits): train; validation and test, held-out files (the
# generalisation set); knowledge, held-out facts and phrasings about files in train.
SPLITS: tuple[SplitName, ...] = ("train", "validation", "test", "knowledge")


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Unit(Record):
    """One logical unit of a repository: a declaration, a file header or a doc section.

    Conventions shared by both Java parsers (the differential test holds them to it):
    - `code` is an exact substring of the file, lying within `start_line`..`end_line`
      (1-based, inclusive). Javadoc is not part of `code`; it is in `javadoc`.
    - members (field, enum_constant, constructor, method): `code` runs from the first
      annotation or modifier to the closing `}` or `;` (an enum constant's last token);
      the span is that of `code`.
    - types: `code` is the header only (annotations, modifiers, name, type parameters,
      extends, implements, permits, record components) up to, not including, the `{`;
      `declaration` is that header with an empty body, as a reader would write it; the
      span covers the whole type, body included.
    - field: one unit per declared variable. `code` is the whole declaration statement
      (`int a, b;`) and `declaration` the single variable's own (`int a;`).
    - file: `code` runs from the package declaration to the last import. The file unit of
      a `package-info.java` has the package's own Javadoc (the comment before the package
      declaration and its annotations) in `javadoc`; `package` is always the name.
    - doc_section: `code` is the section's text, `heading_path` its headings from the top;
      `qualified_name` is the heading path joined with " > " when the unit is the whole
      section, and names the part otherwise (docs.py). HTML, xdoc and Maven changes.xml
      are converted to Markdown first: their `code` is that Markdown (not a substring of
      the file) and the line span is the source's. A changelog version's heading path is
      ["Changelog", VERSION].
    - ids: `make_id`; a unit whose (path, kind, qualified name, signature, code) repeats
      in its file (two identical doc sections; identical members of two local classes of
      one name) gets its repeat number in the hash, so ids are unique; the first keeps
      the id it would have alone.

    Names and signatures (both parsers):
    - qualified_name: types `pkg.Outer.Inner`; anonymous classes `pkg.Outer$1`, numbered
      from 1 per innermost enclosing type in source order (`Outer$1$1` when nested);
      local classes like member classes (`pkg.Outer.Local`); members
      `<parent>.<name>`, constructors named after their type (`pkg.Room.Room`); file units
      name = file name, qualified_name = path; `parent` = the enclosing type's qualified name.
    - signature: methods and constructors `name(T1, T2)` with each parameter's type as
      written (no annotations or `final`), whitespace normalised (one space after each
      comma, none inside `<>`, `()` or `[]`), varargs `T...`, `String a[]` as `String[]`;
      compact record constructors take the record components. Fields `Type name`
      (`int[] b` for `int b[]`). Types: None.
    - enum_constant: one unit per constant of an enum (signature `Enum NAME`, type `Enum`,
      initializer the argument list text `(1, "x")` or None, `code` the constant as
      written, class body included; `declaration` the constant up to its class body:
      annotations, name, arguments); an enum constant with a body is a type scope named
      `pkg.Enum.NAME` for the methods inside it.
    - `declaration` never holds a comment: one that stands in the header
      (`@Override // why`, `int /* n */ n`) is taken out, the lines around it kept
      (dataprep/languages/java/comments.py); `code` keeps it.
    - methods/constructors: `declaration` is the header as written up to the body (no `;`),
      `type` the return type, annotation-type elements are methods whose `initializer` is
      the default value. Types: `declaration` = header + " {}"; record components in
      `parameters`. `parameters` are the parameters as written (annotations kept).
    - `modifiers` are the keywords in source order; `annotations` full text with arguments;
      `javadoc` the `/** ... */` comment right before the declaration, as written.
    - file: `imports` as `java.util.List`, `static a.B.c`, `java.util.*`; syntax errors of
      the file are listed in its `parse_errors` ("PATH:LINE: syntax error").

    Kotlin (dataprep/languages/kotlin; `language` "kotlin") keeps the conventions above
    (exact `code` within the span, KDoc in `javadoc`, types' `code` the header, members'
    `declaration` the header up to the body, `parent`, `modifiers`, `annotations`), with
    its declarations mapped onto the kinds the templates already ask about where Java has
    the same thing, and three kinds of its own where it has not:
    - class (class, data, sealed, abstract, open, inner, value class), interface, enum
      (`enum class`), annotation_type (`annotation class`): as in Java; `parameters` are
      the primary constructor's parameters as written; `extends` the supertypes called
      with a constructor (`Base(x)` -> `Base`), and every supertype of an interface;
      `implements` the others (interfaces, `Api by impl` -> `Api`).
    - object: an object declaration or a companion object (named `Companion` unless it
      has a name; `modifiers` end with "companion"). A type: its members have it as parent.
    - method: a `fun` in a class, object or interface body; function: a top-level `fun`
      (extension functions included; `parent` None, qualified name `pkg.name`). `code`
      runs to the end of the block or of the `= expression` body; `declaration` is the
      header without the body; signature `name(T1, T2)` (`vararg T`), prefixed with the
      receiver for an extension: `Money.format(String)`; `type` the declared return type
      or None.
    - property: a `val`/`var` at the top level or in a body, and a `val`/`var` parameter
      of a primary constructor (whose `code` is the parameter). `code` includes its
      accessors; `declaration` stops before them; signature `name: Type` (`name` when the
      type is inferred, `Money.units: BigDecimal` for an extension); `initializer` the
      expression after `=` (a constructor property's default value), not a `by` delegate.
      `val (a, b) = p` gives one unit per name, like Java's `int a, b;`.
    - constructor: a secondary `constructor(...)`, named after its class; `declaration`
      includes the `: this(...)` delegation. enum entries are `enum_constant` units like
      Java's enum constants, with signature `NAME: Enum` (`declaration` up to the body).
    - file: from the first `@file:` annotation or the package header to the last import;
      `annotations` are the file annotations; imports as written (`a.b.C as D`).
    - Not units: declarations inside function bodies, initializers, lambdas and object
      expressions; `typealias`; `init` blocks. `.kts` scripts are not sliced.

    The application's configuration (dataprep/slicing/configfiles.py says which files;
    `language` "properties", "yaml", "sql", or the template's: "html", "freemarker", ...):
    - config: one key of `application*.properties|yml|yaml`, `bootstrap*.*` or another
      `.properties` of `src/main/resources` (message bundles are not sliced). `name` and
      `qualified_name` the full key (`spring.datasource.url`; YAML nesting joined with
      dots, lists of mappings as `routes[0].id`); `code` from the key (its own segment in
      YAML) to the end of its value; `initializer` the value as the application reads it
      (escapes resolved, quotes removed; after redaction, the redacted value); `javadoc`
      the `#` comment lines right above; `modifiers` ["profile:NAME"] for a Spring profile's
      key (`application-NAME.*`, or a YAML document's `spring.config.activate.on-profile`).
    - table: one `CREATE TABLE`, `ALTER TABLE` or `DROP TABLE` statement of a `.sql` file
      (one unit per table of a `DROP TABLE a, b`). `name` the table, `qualified_name` with
      its schema as written (quotes removed); `type` the statement ("CREATE TABLE");
      `code` the statement to its `;`; `parameters` its column and constraint definitions
      (CREATE) or its actions (ALTER), whitespace collapsed, comments removed.
    - view_template: a template under `src/main/resources/templates/`; `qualified_name` the
      view name a controller returns (`rooms/list`), `name` the file name, `code` the file.
    """

    id: str
    kind: UnitKind
    name: str
    qualified_name: str
    path: str
    start_line: int
    end_line: int
    code: str
    language: str
    repo: str
    commit: str | None = None
    signature: str | None = None
    declaration: str | None = None
    modifiers: list[str] = Field(default_factory=list)
    annotations: list[str] = Field(default_factory=list)
    javadoc: str | None = None
    parent: str | None = None
    package: str | None = None
    type: str | None = None
    initializer: str | None = None
    type_parameters: str | None = None
    parameters: list[str] = Field(default_factory=list)
    extends: list[str] = Field(default_factory=list)
    implements: list[str] = Field(default_factory=list)
    permits: list[str] = Field(default_factory=list)
    throws: list[str] = Field(default_factory=list)
    imports: list[str] = Field(default_factory=list)
    heading_path: list[str] = Field(default_factory=list)
    parse_errors: list[str] = Field(default_factory=list)

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> Self:
        """The unit of a slicer's plain row (every field in field order, unset ones None or
        (): `slicing.slice_file_rows`), with only the set fields given (a smaller
        `model_fields_set` saves ~1.5 KB a unit)."""
        return cls(**{k: v for k, v in row.items() if v not in UNSET})

    @staticmethod
    def make_id(
        path: str,
        kind: str,
        qualified_name: str,
        signature: str | None,
        code: str,
        repeat: int = 0,
    ) -> str:
        """The unit's content hash over (path, kind, qualified name, signature, code), and
        `repeat`, the number of earlier units of the file with all of these the same (two
        identical sections of one document): 0, the usual case, leaves it out of the hash.

        Example: make_id("a.md", "doc_section", "A", None, "# A", repeat=1) differs from
        make_id("a.md", "doc_section", "A", None, "# A"), which is the id it always had.
        """
        if repeat:
            return content_hash("unit", path, kind, qualified_name, signature, code, repeat)
        return content_hash("unit", path, kind, qualified_name, signature, code)


UNSET = (None, [], ())  # a row's value that leaves its field unset (`Unit.of_row`)

Generator = Literal["template", "evol", "output_first"]


class Pair(Record):
    """An Alpaca instruction/input/output pair and where it came from."""

    id: str
    instruction: str
    input: str = ""
    output: str
    generator: Generator
    task: str
    template: str
    unit_id: str
    unit_kind: str
    path: str
    start_line: int
    end_line: int
    repo: str
    commit: str | None = None
    module: str | None = None
    label: str | None = None
    # Evol-Instruct provenance (generator == "evol")
    operation: str | None = None
    round: int | None = None
    parent_id: str | None = None
    model: str | None = None

    @staticmethod
    def make_id(unit_id: str, template: str, instruction: str, input: str, output: str) -> str:
        """The pair's content hash over (unit, template, instruction, input, output)."""
        return content_hash("pair", unit_id, template, instruction, input, output)

    @classmethod
    def from_unit(
        cls,
        unit: Unit,
        instruction: str,
        output: str,
        *,
        task: str,
        template: str,
        generator: Generator = "template",
        input: str = "",
        **fields,
    ) -> Self:
        """A pair about `unit`: its provenance (unit id and kind, path, lines, repo, commit)
        copied from the unit and its id hashed; `fields` sets the rest (module, label, evol).

        Example: Pair.from_unit(u, "What does f do?", "It returns 1.", task="method.explain",
        template="method.explain.0") has unit_id u.id and path u.path.
        """
        data = {
            "unit_id": unit.id,
            "unit_kind": unit.kind,
            "path": unit.path,
            "start_line": unit.start_line,
            "end_line": unit.end_line,
            "repo": unit.repo,
            "commit": unit.commit,
            **fields,
        }
        return cls(
            id=cls.make_id(unit.id, template, instruction, input, output),
            instruction=instruction,
            input=input,
            output=output,
            generator=generator,
            task=task,
            template=template,
            **data,
        )


class Decision(Record):
    """A stage's verdict on a pair: kept or dropped, with the reason when dropped."""

    pair_id: str
    stage: str
    kept: bool
    reason: str | None = None
    detail: str | None = None


ReviewStatus = Literal["unreviewed", "accepted", "rejected", "edited"]


class Review(Record):
    """A person's decision on a pair; an edit keeps the original beside the revision."""

    pair_id: str
    status: ReviewStatus
    reason: str | None = None
    note: str | None = None
    flagged: bool = False
    instruction: str | None = None
    input: str | None = None
    output: str | None = None
