"""The tree-sitter slicer for Java: one file's text in, its units out.

`declaration_nodes` finds every declaration, enum constant and anonymous class body
(type bodies walked member by member; anonymous and local classes found by their text
and confirmed by the tree; `query_nodes`, one tree query, does the same for files with
syntax errors). The slicer then visits only those nodes, in source order, with a stack
of open type bodies to know each declaration's enclosing type. Nothing walks the whole
tree in Python and nothing recurses, so deeply nested code costs no more than flat code.

Units follow the conventions in the `Unit` docstring (dataprep/models.py).
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from functools import lru_cache
from json.encoder import encode_basestring as _quote

import pydantic_core
import tree_sitter_java
from tree_sitter import Language, Node, Parser, Query, QueryCursor

from dataprep.hashing import HASH_VERSION
from dataprep.languages.java.comments import without_comments
from dataprep.models import Unit

LANGUAGE = "java"
MAX_ERRORS_PER_FILE = 20
PACKAGE_INFO = "package-info.java"

_TYPE_NODES = {
    "class_declaration": "class",
    "interface_declaration": "interface",
    "enum_declaration": "enum",
    "record_declaration": "record",
    "annotation_type_declaration": "annotation_type",
}
_QUERY = """
[(class_declaration) (interface_declaration) (enum_declaration) (record_declaration)
 (annotation_type_declaration) (field_declaration) (constant_declaration)
 (method_declaration) (annotation_type_element_declaration) (constructor_declaration)
 (compact_constructor_declaration) (enum_constant)] @decl
(object_creation_expression (class_body) @anon)
"""
_NAME_NODES = frozenset({"identifier", "scoped_identifier"})
_WS = re.compile(r"\s+")
_SPACE = frozenset(b" \t\n\r\f")
_DOC_END = re.compile(rb"\*/[ \t\n\r\f]*")
_ODD_SPACE = re.compile(r"\s\s|[^\S ]")  # whitespace other than single spaces
_PLAIN = re.compile(r"[\w$.<>?\[\]]+(?:, [\w$.<>?\[\]]+)*")
_TIGHT = re.compile(r"\s*([>\])])|([<(\[])\s*|\s*(\.\.\.)|\s*(\[)|\s*,\s*")


@lru_cache(maxsize=1)
def _language() -> Language:
    return Language(tree_sitter_java.language())


@lru_cache(maxsize=1)
def _query() -> Query:
    return Query(_language(), _QUERY)


@lru_cache(maxsize=1)
def parser() -> Parser:
    """The (per-process) tree-sitter Java parser."""
    return Parser(_language())


@lru_cache(maxsize=65536)
def normalize_type(text: str) -> str:
    """A type as written, with whitespace normalised (the form signatures use).

    Example: normalize_type("Map< String ,List<Integer> >") -> "Map<String, List<Integer>>"
    """
    if _PLAIN.fullmatch(text):
        return text  # the common case: `int`, `String`, `List<Foo>`, `Map<K, V>`
    text = _WS.sub(" ", text.strip())
    return _TIGHT.sub(_tight, text)


def _tight(m: re.Match) -> str:
    if m.group(1):
        return m.group(1)
    if m.group(2):
        return m.group(2)
    if m.group(3):
        return m.group(3)
    if m.group(4):
        return m.group(4)
    return ", "


def slice_java(
    relpath: str, text: str, repo: str, commit: str | None
) -> tuple[list[Unit], list[str]]:
    """Slice one Java file with tree-sitter: (units in source order, syntax errors).

    Errors read "PATH:LINE: syntax error"; the declarations that parse still become units.
    Example: slice_java("A.java", "class A { int a, b; }", "r", None)
    -> ([class A, field A.a, field A.b], [])
    """
    rows, errors = slice_java_rows(relpath, text, repo, commit)
    return [Unit.of_row(row) for row in rows], errors


def slice_java_rows(
    relpath: str, text: str, repo: str, commit: str | None, src: bytes | None = None
) -> tuple[list[dict], list[str]]:
    """Like slice_java, with each unit as a plain dict of every Unit field in field order
    (what `Unit(**row).model_dump()` gives, empty lists as (); `unit_json(row)` is its
    model_dump_json()).
    `src`, when given, must be `text` encoded as UTF-8 (saves encoding it again)."""
    if src is None:
        src = text.encode("utf-8")
    tree = parser().parse(src)
    return _Slicer(relpath, src, repo, commit).run(tree.root_node)


# defaults of every Unit field; lists as () so that rows never share a mutable default
_ROW_TEMPLATE = {
    name: () if info.default_factory is list else (None if info.is_required() else info.default)
    for name, info in Unit.model_fields.items()
}
_CALLABLE_ROW_FIELDS = (
    "id kind name qualified_name path start_line end_line code language repo commit signature "
    "declaration modifiers annotations javadoc parent package type initializer type_parameters "
    "parameters extends implements permits throws imports heading_path parse_errors"
).split()
assert _CALLABLE_ROW_FIELDS == list(Unit.model_fields), "update _Slicer._callable's row"


def unit_json(row: dict) -> bytes:
    """A row as UTF-8 JSON, byte for byte what `Unit(**row).model_dump_json()` writes (the
    same serializer, without the record; tested)."""
    return pydantic_core.to_json(row)


def query_nodes(root: Node) -> list[tuple[Node, str]]:
    """Every declaration ("decl") and anonymous class body ("anon"), by one tree query.

    The reference way, used for files with syntax errors (declarations can hide under
    ERROR nodes there); `declaration_nodes` finds the same nodes faster in clean files.
    """
    captures = QueryCursor(_query()).captures(root)
    nodes = [(n, "decl") for n in captures.get("decl", ())]
    return nodes + [(n, "anon") for n in captures.get("anon", ())]


_MEMBER_NODES = frozenset(
    {
        "field_declaration",
        "constant_declaration",
        "method_declaration",
        "annotation_type_element_declaration",
        "constructor_declaration",
        "compact_constructor_declaration",
    }
)
# `) {` (comments allowed between): where an anonymous class body can open
_ANON_OPEN = re.compile(rb"\)(?:\s*(?://[^\n]*\n|/\*(?:[^*]|\*(?!/))*\*/))*\s*\{")
_TYPE_KEYWORDS = (b"class", b"interface", b"enum", b"record")
_IDENT_BYTES = frozenset(
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$"
) | frozenset(range(128, 256))


def _keyword_spans(src: bytes):
    """(start, end) of each whole word class/interface/enum/record (bytes.find is far
    faster than a regex alternation here)."""
    size = len(src)
    for word in _TYPE_KEYWORDS:
        i = src.find(word)
        while i != -1:
            j = i + len(word)
            if (i == 0 or src[i - 1] not in _IDENT_BYTES) and (
                j == size or src[j] not in _IDENT_BYTES
            ):
                yield i, j
            i = src.find(word, j)


def declaration_nodes(root: Node, src: bytes) -> list[tuple[Node, str]]:
    """What `query_nodes` finds, without walking every node of the tree: type bodies are
    walked member by member; anonymous class bodies and local types (inside method
    bodies, initializers, lambdas) are found by their text (`) {`, a type keyword) and
    confirmed by the tree, so a string or comment that looks like one is not taken.
    """
    found: dict[tuple[int, int, str], tuple[Node, str]] = {}
    comments: list[tuple[int, int]] = []  # the comments between members (most of them)

    def walk(container: Node) -> None:
        stack = [container]
        while stack:
            for child in stack.pop().children:
                kind = child.type
                if kind == "block_comment" or kind == "line_comment":
                    comments.append((child.start_byte, child.end_byte))
                elif kind in _MEMBER_NODES:
                    found[(child.start_byte, child.end_byte, "decl")] = (child, "decl")
                elif kind in _TYPE_NODES or kind == "enum_constant":
                    found[(child.start_byte, child.end_byte, "decl")] = (child, "decl")
                    body = child.child_by_field_name("body")
                    if body is not None:
                        stack.append(body)
                elif kind == "enum_body_declarations":
                    stack.append(child)

    walk(root)
    comments.sort()
    starts = [a for a, _ in comments]
    ends = [b for _, b in comments]

    def in_comment(start: int, end: int) -> bool:
        # the tree would answer with the comment node: no need to ask it
        i = bisect_right(starts, start) - 1
        return i >= 0 and end <= ends[i]

    for match in _ANON_OPEN.finditer(src):
        brace = match.end() - 1
        if in_comment(brace, brace + 1):
            continue
        # the smallest named node holding the `{` is the body it opens (asks no parent)
        body = root.named_descendant_for_byte_range(brace, brace + 1)
        if body is None or body.type != "class_body" or body.start_byte != brace:
            continue
        creation = body.parent
        if creation is not None and creation.type == "object_creation_expression":
            found[(body.start_byte, body.end_byte, "anon")] = (body, "anon")
            walk(body)
    for start, end in _keyword_spans(src):
        if in_comment(start, end):
            continue
        decl = root.named_descendant_for_byte_range(start, end)
        if decl is None or decl.type not in _TYPE_NODES:
            continue  # a comment, a `.class` literal, a variable named `record`
        key = (decl.start_byte, decl.end_byte, "decl")
        if key not in found:
            found[key] = (decl, "decl")
            body = decl.child_by_field_name("body")
            if body is not None:
                walk(body)
    return list(found.values())


class _Slicer:
    def __init__(self, relpath: str, src: bytes, repo: str, commit: str | None):
        self.relpath = relpath
        self.src = src
        self.repo = repo
        self.commit = commit
        self.package: str | None = None
        self.rows: list[dict] = []
        self.ids: set[str] = set()
        self.repeats: dict[str, int] = {}  # id -> how many twins of that unit came after it
        # open type bodies: (start byte, end byte, qualified name); an enum constant's body
        # is pushed before the anonymous classes in its arguments are seen, so the parent
        # is the innermost scope that has started
        self.scopes: list[tuple[int, int, str]] = []
        self.anonymous: dict[str, int] = {}
        # what Unit.make_id hashes before the kind (the same for every unit of the file)
        self.id_prefix = f'[{HASH_VERSION},"unit",{_quote(relpath)},'
        # end of the whitespace after each `*/` -> just past that `*/` (where a comment
        # that could be a declaration's Javadoc ends)
        self.doc_ends = {m.end(): m.start() + 2 for m in _DOC_END.finditer(src)}

    def text(self, node: Node | None) -> str:
        if node is None:
            return ""
        return self.src[node.start_byte : node.end_byte].decode("utf-8")

    def run(self, root: Node) -> tuple[list[dict], list[str]]:
        errors = _syntax_errors(root, self.relpath) if root.has_error else []
        self._file_unit(root, errors)
        nodes = query_nodes(root) if root.has_error else declaration_nodes(root, self.src)
        nodes.sort(key=lambda item: (item[0].start_byte, -item[0].end_byte))
        scopes = self.scopes
        for node, what in nodes:
            start = node.start_byte
            while scopes and scopes[-1][1] <= start:
                scopes.pop()
            if scopes and scopes[-1][0] <= start:
                parent = scopes[-1][2]  # the common case: the innermost scope holds it
            else:
                parent = next((q for a, b, q in reversed(scopes) if a <= start < b), None)
            if what == "anon":
                self._anonymous(node, parent)
                continue
            kind = node.type
            if kind in _TYPE_NODES:
                self._type(node, parent)
            elif kind == "enum_constant":
                self._enum_constant(node, parent)
            elif parent is None:
                continue  # a member outside any type: only in broken files
            elif kind == "field_declaration" or kind == "constant_declaration":
                self._fields(node, parent)
            else:
                self._callable(node, parent, kind)
        return self.rows, errors

    # -- units --

    def _add(self, node: Node, code_start: int, code_end: int, **fields) -> None:
        """Append a unit whose code is src[code_start:code_end]; `node` gives the span
        (its start is code_start; its end line is the unit's end line)."""
        code = self.src[code_start:code_end].decode("utf-8")
        signature = fields.get("signature")
        # Unit.make_id, with the file's part of the text made once per file
        head = (
            f"{self.id_prefix}{_quote(fields['kind'])},{_quote(fields['qualified_name'])},"
            f"{'null' if signature is None else _quote(signature)},"
        )
        unit_id = self._unique(_hash_id(head, code), fields, code)
        self.rows.append(
            {
                **_ROW_TEMPLATE,
                **fields,
                "id": unit_id,
                "code": code,
                "path": self.relpath,
                "start_line": fields.get("start_line") or node.start_point[0] + 1,
                "end_line": node.end_point[0] + 1,
                "language": LANGUAGE,
                "repo": self.repo,
                "commit": self.commit,
                "package": self.package,
            }
        )

    def _unique(self, unit_id: str, fields: dict, code: str) -> str:
        """`unit_id`, or its twin's id when an earlier unit of the file has it; recorded."""
        if unit_id in self.ids:
            kind, name = fields["kind"], fields["qualified_name"]
            unit_id = self._twin(unit_id, kind, name, fields.get("signature"), code)
        self.ids.add(unit_id)
        return unit_id

    def _twin(self, unit_id: str, kind: str, name: str, signature: str | None, code: str) -> str:
        """The id of a unit whose path, kind, name, signature and text an earlier unit of
        the file has too (identical members of two local classes of one name): the earlier
        keeps its id, this one takes its repeat number (`Unit.make_id`)."""
        repeat = self.repeats.get(unit_id, 0) + 1
        self.repeats[unit_id] = repeat
        return Unit.make_id(self.relpath, kind, name, signature, code, repeat=repeat)

    def _file_unit(self, root: Node, errors: list[str]) -> None:
        package, imports = None, []
        for child in root.named_children:
            if child.type == "package_declaration" and package is None:
                package = child
            elif child.type == "import_declaration":
                imports.append(child)
        if package is not None:
            # the name, not one of the annotations before `package` (package-info.java)
            name = next((c for c in package.named_children if c.type in _NAME_NODES), None)
            self.package = self.text(name) if name is not None else None
        if package is None and not imports:
            return
        first = package if package is not None else imports[0]
        last = imports[-1] if imports else package
        name = self.relpath.rsplit("/", 1)[-1]
        # a package's own Javadoc is the one before the package declaration of its
        # package-info.java (anywhere else, javac ignores a comment there)
        javadoc = self._javadoc(package) if package is not None and name == PACKAGE_INFO else None
        self._add(
            last,
            first.start_byte,
            last.end_byte,
            start_line=first.start_point[0] + 1,
            kind="file",
            name=name,
            qualified_name=self.relpath,
            javadoc=javadoc,
            imports=[_import_name(self.text(i)) for i in imports],
            parse_errors=list(errors),
        )

    def _modifiers(self, node: Node, mods: Node | None = None) -> dict:
        """Keywords and annotations of the `modifiers` child of `node` (or of `mods`)."""
        modifiers, annotations = [], []
        if mods is None:
            mods = next((c for c in node.children if c.type == "modifiers"), None)
        if mods is not None:
            for child in mods.children:
                kind = child.type
                if kind == "annotation" or kind == "marker_annotation":
                    annotations.append(self.text(child))
                elif kind != "line_comment" and kind != "block_comment":
                    modifiers.append(kind)  # a keyword node's type is the keyword itself
        return {"modifiers": modifiers, "annotations": annotations}

    def _javadoc(self, node: Node) -> str | None:
        """The `/** ... */` comment right before `node` (only whitespace between)."""
        i = self.doc_ends.get(node.start_byte)
        if i is None:
            start = node.start_byte
            if start >= len(self.src) or self.src[start] not in _SPACE:
                return None  # the common case, decided without asking the tree
            i = start  # a node starting at whitespace (never seen): walk back to a `*/`
            while i > 0 and self.src[i - 1] in _SPACE:
                i -= 1
            if self.src[i - 2 : i] != b"*/":
                return None
        comment = node.prev_sibling
        if comment is None or comment.type != "block_comment" or comment.end_byte != i:
            return None
        if self.src[comment.start_byte : comment.start_byte + 3] != b"/**":
            return None
        return self.text(comment)

    def _type(self, node: Node, parent: str | None) -> None:
        name = self.text(node.child_by_field_name("name"))
        body = node.child_by_field_name("body")
        if not name or body is None or _header_has_error(node, body):
            return
        qualified_name = _qualify(self.package, parent, name)
        self.scopes.append((body.start_byte, body.end_byte, qualified_name))
        header_end = body.start_byte
        while header_end > node.start_byte and self.src[header_end - 1 : header_end].isspace():
            header_end -= 1
        header = self.src[node.start_byte : header_end].decode("utf-8")
        extends, implements, permits = [], [], []
        for child in node.children:
            if child.type == "superclass":
                extends = [self.text(c) for c in child.named_children]
            elif child.type == "extends_interfaces":
                extends = self._type_list(child)
            elif child.type == "super_interfaces":
                implements = self._type_list(child)
            elif child.type == "permits":
                permits = self._type_list(child)
        type_parameters = node.child_by_field_name("type_parameters")
        params = (
            node.child_by_field_name("parameters") if node.type == "record_declaration" else None
        )
        self._add(
            node,
            node.start_byte,
            header_end,
            kind=_TYPE_NODES[node.type],
            name=name,
            qualified_name=qualified_name,
            declaration=without_comments(header).rstrip() + " {}",
            javadoc=self._javadoc(node),
            parent=parent,
            type_parameters=self.text(type_parameters) or None,
            parameters=self._parameters(params)[1] if params is not None else [],
            extends=extends,
            implements=implements,
            permits=permits,
            **self._modifiers(node),
        )

    def _type_list(self, node: Node) -> list[str]:
        types = next((c for c in node.named_children if c.type == "type_list"), None)
        return [self.text(c) for c in types.named_children] if types is not None else []

    def _anonymous(self, body: Node, parent: str | None) -> None:
        if parent is None:
            return
        number = self.anonymous.get(parent, 0) + 1
        self.anonymous[parent] = number
        self.scopes.append((body.start_byte, body.end_byte, f"{parent}${number}"))

    def _enum_constant(self, node: Node, parent: str | None) -> None:
        if parent is None or node.has_error:
            return
        name = self.text(node.child_by_field_name("name"))
        qualified_name = f"{parent}.{name}"
        body = node.child_by_field_name("body")
        if body is not None:
            self.scopes.append((body.start_byte, body.end_byte, qualified_name))
        arguments = node.child_by_field_name("arguments")
        enum_name = parent.rsplit(".", 1)[-1]
        header_end = body.start_byte if body is not None else node.end_byte
        header = self.src[node.start_byte : header_end].decode("utf-8")
        self._add(
            node,
            node.start_byte,
            node.end_byte,
            kind="enum_constant",
            name=name,
            qualified_name=qualified_name,
            signature=f"{enum_name} {name}",
            declaration=without_comments(header).rstrip(),
            javadoc=self._javadoc(node),
            parent=parent,
            type=enum_name,
            initializer=self.text(arguments) or None,
            **self._modifiers(node),
        )

    def _fields(self, node: Node, parent: str) -> None:
        if node.has_error:
            return
        type_node = node.child_by_field_name("type")
        type_text = normalize_type(self.text(type_node))
        prefix = self.src[node.start_byte : type_node.end_byte].decode("utf-8")
        javadoc = self._javadoc(node)
        modifiers = self._modifiers(node)
        src = self.src
        start = node.start_byte
        code = src[start : node.end_byte].decode("utf-8")
        start_line, end_line = node.start_point[0] + 1, node.end_point[0] + 1
        for declarator in node.children_by_field_name("declarator"):
            name = self.text(declarator.child_by_field_name("name"))
            dims = self.text(declarator.child_by_field_name("dimensions"))
            value = declarator.child_by_field_name("value")
            field_type = normalize_type(type_text + dims)
            qualified_name = f"{parent}.{name}"
            signature = f"{field_type} {name}"
            # what _add does, with the row written out in field order
            head = f'{self.id_prefix}"field",{_quote(qualified_name)},{_quote(signature)},'
            unit_id = _hash_id(head, code)
            if unit_id in self.ids:
                unit_id = self._twin(unit_id, "field", qualified_name, signature, code)
            self.ids.add(unit_id)
            self.rows.append(
                {
                    "id": unit_id,
                    "kind": "field",
                    "name": name,
                    "qualified_name": qualified_name,
                    "path": self.relpath,
                    "start_line": start_line,
                    "end_line": end_line,
                    "code": code,
                    "language": LANGUAGE,
                    "repo": self.repo,
                    "commit": self.commit,
                    "signature": signature,
                    "declaration": without_comments(f"{prefix} {self.text(declarator)};"),
                    "modifiers": modifiers["modifiers"],
                    "annotations": modifiers["annotations"],
                    "javadoc": javadoc,
                    "parent": parent,
                    "package": self.package,
                    "type": field_type,
                    "initializer": self.text(value) if value is not None else None,
                    "type_parameters": None,
                    "parameters": (),
                    "extends": (),
                    "implements": (),
                    "permits": (),
                    "throws": (),
                    "imports": (),
                    "heading_path": (),
                    "parse_errors": (),
                }
            )

    def _callable(self, node: Node, parent: str, node_type: str) -> None:
        if node.has_error:
            return
        src = self.src
        mods = params = body = throws = type_parameters = None
        for child in node.children:  # one pass instead of a lookup per field
            kind = child.type
            if kind == "modifiers":
                mods = child
            elif kind == "formal_parameters":
                params = child
            elif kind == "block" or kind == "constructor_body":
                body = child
            elif kind == "throws":
                throws = child
            elif kind == "type_parameters":
                type_parameters = child
        name_node = node.child_by_field_name("name")
        name = "" if name_node is None else src[name_node.start_byte : name_node.end_byte].decode()
        if node_type == "compact_constructor_declaration":
            kind = "constructor"
            record = node.parent.parent if node.parent is not None else None
            params = record.child_by_field_name("parameters") if record is not None else None
            return_type = default = None
        elif node_type == "constructor_declaration":
            kind, return_type, default = "constructor", None, None
        else:
            kind = "method"
            return_type = normalize_type(self.text(node.child_by_field_name("type")))
            default = None
            if node_type == "annotation_type_element_declaration":
                value = node.child_by_field_name("value")
                default = self.text(value) if value is not None else None
        types, parameters = self._parameters(params)
        start, end = node.start_byte, node.end_byte
        header_end = body.start_byte if body is not None else end
        header = without_comments(src[start:header_end].decode("utf-8"))
        header = header.rstrip().rstrip(";").rstrip()
        modifiers, annotations = [], []
        if mods is not None:
            for child in mods.children:
                mod = child.type
                if mod == "annotation" or mod == "marker_annotation":
                    annotations.append(src[child.start_byte : child.end_byte].decode())
                elif mod != "line_comment" and mod != "block_comment":
                    modifiers.append(mod)  # a keyword node's type is the keyword itself
        if start in self.doc_ends or (start < len(src) and src[start] in _SPACE):
            javadoc = self._javadoc(node)
        else:
            javadoc = None  # what _javadoc says, without the call (most members)
        # what _add does, with the row written out in field order (most units are these)
        code = src[start:end].decode("utf-8")
        qualified_name = f"{parent}.{name}"
        signature = f"{name}({', '.join(types)})"
        head = f"{self.id_prefix}{_quote(kind)},{_quote(qualified_name)},{_quote(signature)},"
        unit_id = _hash_id(head, code)
        if unit_id in self.ids:
            unit_id = self._twin(unit_id, kind, qualified_name, signature, code)
        self.ids.add(unit_id)
        self.rows.append(
            {
                "id": unit_id,
                "kind": kind,
                "name": name,
                "qualified_name": qualified_name,
                "path": self.relpath,
                "start_line": node.start_point[0] + 1,
                "end_line": node.end_point[0] + 1,
                "code": code,
                "language": LANGUAGE,
                "repo": self.repo,
                "commit": self.commit,
                "signature": signature,
                "declaration": header,
                "modifiers": modifiers,
                "annotations": annotations,
                "javadoc": javadoc,
                "parent": parent,
                "package": self.package,
                "type": return_type,
                "initializer": default,
                "type_parameters": (
                    src[type_parameters.start_byte : type_parameters.end_byte].decode()
                    if type_parameters is not None
                    else None
                ),
                "parameters": parameters,
                "extends": (),
                "implements": (),
                "permits": (),
                "throws": (
                    [src[c.start_byte : c.end_byte].decode() for c in throws.named_children]
                    if throws is not None
                    else ()
                ),
                "imports": (),
                "heading_path": (),
                "parse_errors": (),
            }
        )

    def _parameters(self, params: Node | None) -> tuple[list[str], list[str]]:
        """(types for the signature, parameters as written) of a formal parameter list."""
        types, written = [], []
        if params is None:
            return types, written
        src = self.src
        for param in params.named_children:
            kind = param.type
            if kind == "formal_parameter":
                dims = param.child_by_field_name("dimensions")
                type_node = param.child_by_field_name("type")
                written_type = (
                    ""
                    if type_node is None
                    else src[type_node.start_byte : type_node.end_byte].decode()
                )
                if dims is not None:
                    written_type += src[dims.start_byte : dims.end_byte].decode()
                types.append(normalize_type(written_type))
            elif kind == "spread_parameter":
                type_node = next(
                    (
                        c
                        for c in param.named_children
                        if c.type not in ("modifiers", "variable_declarator")
                    ),
                    None,
                )
                types.append(normalize_type(self.text(type_node)) + "...")
            else:
                continue  # receiver parameter (`Outer this`) and comments
            text = src[param.start_byte : param.end_byte].decode()
            written.append(_WS.sub(" ", text) if _ODD_SPACE.search(text) else text)
        return types, written


def _hash_id(head: str, code: str) -> str:
    """`Unit.make_id`'s hash of `head` + the JSON-quoted code + "]", without building a
    JSON encoder per call (canonical JSON of a list of strings is each string JSON-quoted,
    joined by commas). The code, the long part,
    is quoted by pydantic's serializer: the same bytes as json's `encode_basestring` (both
    escape `"`, `\\` and control characters alone, as \\n or lowercase \\u00xx; tested by
    the golden ids), about twice as fast."""
    digest = hashlib.sha256(head.encode("utf-8"))
    digest.update(pydantic_core.to_json(code))
    digest.update(b"]")
    return digest.hexdigest()[:16]


def _qualify(package: str | None, parent: str | None, name: str) -> str:
    if parent is not None:
        return f"{parent}.{name}"
    return f"{package}.{name}" if package else name


def _header_has_error(node: Node, body: Node) -> bool:
    return any(c.has_error or c.is_missing for c in node.children if c != body)


def _import_name(text: str) -> str:
    """Example: "import static a.B.c ;" -> "static a.B.c" """
    text = _WS.sub(" ", text.strip())
    text = text.removeprefix("import").removesuffix(";").strip()
    return text.replace(" .", ".").replace(". ", ".")


def _syntax_errors(root: Node, relpath: str) -> list[str]:
    """ "PATH:LINE: syntax error" for each ERROR or missing node (iterative: no recursion)."""
    found: set[tuple[int, str]] = set()
    stack = [root]
    while stack and len(found) < MAX_ERRORS_PER_FILE:
        node = stack.pop()
        for child in node.children:
            if child.type == "ERROR":
                found.add((child.start_point[0] + 1, "syntax error"))
            elif child.is_missing:
                found.add((child.start_point[0] + 1, f"syntax error (missing {child.type})"))
            elif child.has_error:
                stack.append(child)
    return [f"{relpath}:{line}: {what}" for line, what in sorted(found)]
