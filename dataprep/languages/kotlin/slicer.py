"""The tree-sitter slicer for Kotlin: one file's text in, its units out.

Declarations are found by walking the file's top level and the bodies of the classes,
objects and enum entries found there (no recursion, and nothing inside a function body,
an initializer or a lambda: local declarations and object expressions are not units).
Units follow the conventions in the `Unit` docstring (dataprep/models.py), Kotlin part.
"""

from __future__ import annotations

import re
from functools import lru_cache

import tree_sitter_kotlin
from tree_sitter import Language, Node, Parser

from dataprep.models import Unit

LANGUAGE = "kotlin"
MAX_ERRORS_PER_FILE = 20

_BODIES = ("class_body", "enum_class_body")
_SPACE = re.compile(r"\s+")
_TIGHT = re.compile(r"\s*([>)\]?])|([<(\[])\s*|\s*,\s*")
_COMMENTS = ("line_comment", "block_comment")


@lru_cache(maxsize=1)
def parser() -> Parser:
    """The (per-process) tree-sitter Kotlin parser."""
    return Parser(Language(tree_sitter_kotlin.language()))


@lru_cache(maxsize=65536)
def normalize_type(text: str) -> str:
    """A type as written, whitespace normalised (the form signatures use).

    Example: normalize_type("Map< String ,List<Int> >?") -> "Map<String, List<Int>>?"
    """
    text = _SPACE.sub(" ", text.strip())
    return _TIGHT.sub(lambda m: m.group(1) or m.group(2) or ", ", text)


def slice_kotlin(
    relpath: str, text: str, repo: str, commit: str | None
) -> tuple[list[Unit], list[str]]:
    """Slice one Kotlin file: (units in source order, syntax errors).

    Errors read "PATH:LINE: syntax error"; the declarations that parse still become units.
    Example: slice_kotlin("A.kt", "class A {\\n    fun f() = 1\\n}\\n", "r", None)
    -> ([class A, method A.f], [])
    """
    src = text.encode("utf-8")
    return _Slicer(relpath, src, repo, commit).run(parser().parse(src).root_node)


class _Slicer:
    def __init__(self, relpath: str, src: bytes, repo: str, commit: str | None):
        self.relpath, self.src, self.repo, self.commit = relpath, src, repo, commit
        self.package: str | None = None
        self.units: list[Unit] = []
        self.ids: set[str] = set()
        self.starts: dict[str, int] = {}  # unit id -> start byte, for the source order
        # declaration start byte -> (first stray annotation node, the annotations' text)
        self.lead: dict[int, tuple[Node, list[str]]] = {}

    def text(self, node: Node | None) -> str:
        return "" if node is None else self.src[node.start_byte : node.end_byte].decode("utf-8")

    def run(self, root: Node) -> tuple[list[Unit], list[str]]:
        errors = _syntax_errors(root, self.relpath) if root.has_error else []
        self._file_unit(root, errors)
        self._find_stray_annotations(root)
        # (container, its qualified name or None at the top level), in source order
        stack: list[tuple[Node, str | None]] = [(root, None)]
        while stack:
            container, parent = stack.pop()
            nested = []
            for child in container.children:
                scope = self._declaration(child, parent)
                if scope is not None:
                    nested.append(scope)
            stack.extend(reversed(nested))
        self.units.sort(key=lambda u: self.starts[u.id])  # stable: a `val (a, b)` keeps a, b
        return self.units, errors

    def _find_stray_annotations(self, root: Node) -> None:
        """tree-sitter-kotlin 1.1 reads an annotation with arguments at the top level, after
        a comment that follows a declaration, as a script statement (`annotated_expression`)
        beside the declaration it belongs to. A .kt file has no statements at its top level,
        so such annotations right before a declaration are that declaration's."""
        pending: list[Node] = []
        for child in root.children:
            texts = self._annotations_of(child) if child.type == "annotated_expression" else None
            if texts is not None and (not pending or _adjacent(self.src, pending[-1], child)):
                pending.append(child)
                continue
            if pending and child.type in _DECLARATIONS and _adjacent(self.src, pending[-1], child):
                found = [t for node in pending for t in self._annotations_of(node) or []]
                self.lead[child.start_byte] = (pending[0], found)
            pending = [child] if texts is not None else []

    def _annotations_of(self, node: Node) -> list[str] | None:
        """The annotations an `annotated_expression` holds, or None if it holds more."""
        texts = []
        while node is not None and node.type == "annotated_expression":
            named = node.named_children
            if not named or named[0].type != "annotation" or len(named) > 2:
                return None
            rest = named[1] if len(named) == 2 else None
            if rest is not None and rest.type == "parenthesized_expression":
                texts.append(self.src[named[0].start_byte : rest.end_byte].decode("utf-8"))
                return texts
            texts.append(self.text(named[0]))
            node = rest
        return texts if node is None else None

    def first(self, node: Node) -> Node:
        """Where a declaration starts: its first stray annotation, if any, else itself."""
        lead = self.lead.get(node.start_byte)
        return (
            lead[0]
            if lead is not None and node.parent is not None and (node.parent.type == "source_file")
            else node
        )

    # -- dispatch --

    def _declaration(self, node: Node, parent: str | None) -> tuple[Node, str] | None:
        """Slice one child of a file or a body; returns a body to walk next, if any."""
        kind = node.type
        if kind == "class_declaration":
            return self._type(node, parent, _class_kind(node))
        if kind == "object_declaration":
            return self._type(node, parent, "object")
        if kind == "companion_object" and parent is not None:
            return self._type(node, parent, "object")
        if kind == "function_declaration":
            self._function(node, parent)
        elif kind == "property_declaration":
            self._property(node, parent)
        elif kind == "secondary_constructor" and parent is not None:
            self._constructor(node, parent)
        elif kind == "enum_entry" and parent is not None:
            return self._enum_entry(node, parent)
        return None

    # -- units --

    def _add(self, node: Node, code_end: int, last: Node | None = None, **fields) -> None:
        """Append a unit whose code is src[node.start_byte:code_end]; the span runs from
        `node`'s first line to the last line of `last` (default: `node`)."""
        first = self.first(node)
        code = self.src[first.start_byte : code_end].decode("utf-8")
        kind, qualified_name = fields["kind"], fields["qualified_name"]
        unit_id = Unit.make_id(self.relpath, kind, qualified_name, fields.get("signature"), code)
        if unit_id in self.ids:
            return  # an exact twin (same path, name, signature and text): keep the first
        self.ids.add(unit_id)
        self.starts[unit_id] = first.start_byte
        self.units.append(
            Unit(
                id=unit_id,
                path=self.relpath,
                start_line=first.start_point[0] + 1,
                end_line=(last or node).end_point[0] + 1,
                code=code,
                language=LANGUAGE,
                repo=self.repo,
                commit=self.commit,
                package=self.package,
                **{k: v for k, v in fields.items() if v is not None and v != []},
            )
        )

    def _file_unit(self, root: Node, errors: list[str]) -> None:
        header = [c for c in root.children if c.type in ("file_annotation", "package_header")]
        imports = [c for c in root.children if c.type == "import"]
        package = next((c for c in header if c.type == "package_header"), None)
        if package is not None:
            name = next((c for c in package.named_children if c.type not in _COMMENTS), None)
            self.package = _SPACE.sub("", self.text(name)) or None
        parts = sorted(header + imports, key=lambda n: n.start_byte)
        if not parts:
            return
        self._add(
            parts[0],
            parts[-1].end_byte,
            last=parts[-1],
            kind="file",
            name=self.relpath.rsplit("/", 1)[-1],
            qualified_name=self.relpath,
            annotations=[self.text(c) for c in header if c.type == "file_annotation"],
            imports=[_import_name(self.text(i)) for i in imports],
            parse_errors=list(errors),
        )

    def _type(self, node: Node, parent: str | None, kind: str) -> tuple[Node, str] | None:
        body = next((c for c in node.children if c.type in _BODIES), None)
        if any(c.has_error or c.is_missing for c in node.children if c != body):
            return None
        name_node = node.child_by_field_name("name")
        name = self.text(name_node) or ("Companion" if node.type == "companion_object" else "")
        if not name:
            return None
        qualified_name = _qualify(self.package, parent, name)
        header_end = body.start_byte if body is not None else node.end_byte
        while header_end > node.start_byte and self.src[header_end - 1 : header_end].isspace():
            header_end -= 1
        extends, implements = self._supertypes(node, kind)
        params = next((c for c in node.children if c.type == "primary_constructor"), None)
        modifiers = self._modifiers(node)
        if node.type == "companion_object":
            modifiers["modifiers"].append("companion")
        self._add(
            node,
            header_end,
            kind=kind,
            name=name,
            qualified_name=qualified_name,
            declaration=self.src[self.first(node).start_byte : header_end].decode("utf-8") + " {}",
            javadoc=self._kdoc(node),
            parent=parent,
            type_parameters=self.text(_child(node, "type_parameters")) or None,
            parameters=self._class_parameters(params),
            extends=extends,
            implements=implements,
            **modifiers,
        )
        if params is not None:
            for param in _children(_child(params, "class_parameters"), "class_parameter"):
                self._constructor_property(param, qualified_name)
        return (body, qualified_name) if body is not None else None

    def _supertypes(self, node: Node, kind: str) -> tuple[list[str], list[str]]:
        """(extends, implements): supertypes called with a constructor, or every supertype
        of an interface, extend; the others (interfaces, `by` delegation) are implemented."""
        extends, implements = [], []
        for spec in _children(_child(node, "delegation_specifiers"), "delegation_specifier"):
            target = spec.named_children[0] if spec.named_children else spec
            if target.type == "constructor_invocation":
                extends.append(normalize_type(self.text(_child(target, "user_type"))))
            elif target.type == "explicit_delegation":
                implements.append(normalize_type(self.text(target.named_children[0])))
            elif kind == "interface":
                extends.append(normalize_type(self.text(target)))
            else:
                implements.append(normalize_type(self.text(target)))
        return extends, implements

    def _class_parameters(self, primary: Node | None) -> list[str]:
        params = _child(primary, "class_parameters") if primary is not None else None
        return [_SPACE.sub(" ", self.text(p)) for p in _children(params, "class_parameter")]

    def _constructor_property(self, param: Node, parent: str) -> None:
        """A `val`/`var` parameter of a primary constructor: a property of its class."""
        if param.has_error or not any(c.type in ("val", "var") for c in param.children):
            return
        name = self.text(_child(param, "identifier"))
        type_node = _after(param, ":")
        default = _after(param, "=")
        type_text = normalize_type(self.text(type_node)) if type_node is not None else None
        code = self.text(param)
        self._add(
            param,
            param.end_byte,
            kind="property",
            name=name,
            qualified_name=f"{parent}.{name}",
            signature=f"{name}: {type_text}" if type_text else name,
            declaration=code,
            javadoc=self._kdoc(param),
            parent=parent,
            type=type_text,
            initializer=self.text(default) or None,
            **self._modifiers(param),
        )

    def _function(self, node: Node, parent: str | None) -> None:
        if node.has_error:
            return
        name = self.text(node.child_by_field_name("name"))
        if not name:
            return
        receiver = self._receiver(node, node.child_by_field_name("name"))
        params = _child(node, "function_value_parameters")
        types, written = self._parameters(params)
        body = _child(node, "function_body")
        header_end = _trimmed_end(self.src, node, body)
        signature = f"{name}({', '.join(types)})"
        return_type = _after(node, ":", start=params)
        self._add(
            node,
            node.end_byte,
            kind="method" if parent is not None else "function",
            name=name,
            qualified_name=_qualify(self.package, parent, name),
            signature=f"{receiver}.{signature}" if receiver else signature,
            declaration=self.src[self.first(node).start_byte : header_end].decode("utf-8"),
            javadoc=self._kdoc(node),
            parent=parent,
            type=normalize_type(self.text(return_type)) if return_type is not None else None,
            type_parameters=self.text(_child(node, "type_parameters")) or None,
            parameters=written,
            **self._modifiers(node),
        )

    def _receiver(self, node: Node, name_node: Node | None) -> str | None:
        """The receiver type of an extension (`Money` in `fun Money.format()`), or None."""
        before = name_node.prev_sibling if name_node is not None else None
        if before is None or before.type != ".":
            return None
        receiver = before.prev_sibling
        return normalize_type(self.text(receiver)) if receiver is not None else None

    def _parameters(self, params: Node | None) -> tuple[list[str], list[str]]:
        """(types for the signature, parameters as written) of a function's parameter list.

        tree-sitter-kotlin puts a parameter's modifiers and default value beside it, so a
        parameter is everything between two commas (or a bracket)."""
        types, written = [], []
        if params is None:
            return types, written
        group: list[Node] = []
        for child in [*params.children[1:], None]:
            if child is not None and child.type not in (",", ")"):
                if child.type not in _COMMENTS:
                    group.append(child)
                continue
            param = next((c for c in group if c.type == "parameter"), None)
            if param is not None:
                type_text = normalize_type(self.text(_after(param, ":")))
                vararg = any(c.type == "parameter_modifiers" and "vararg" in self.text(c)
                             for c in group)  # fmt: skip
                types.append(f"vararg {type_text}" if vararg else type_text)
                text = self.src[group[0].start_byte : group[-1].end_byte].decode("utf-8")
                written.append(_SPACE.sub(" ", text))
            group = []
        return types, written

    def _property(self, node: Node, parent: str | None) -> None:
        if node.has_error:
            return
        single = _child(node, "variable_declaration")
        variables = [single] if single is not None else []
        multi = _child(node, "multi_variable_declaration")
        if multi is not None:
            variables = list(_children(multi, "variable_declaration"))
        receiver = self._receiver(node, single) if single is not None else None
        accessors = [c for c in node.children if c.type in ("getter", "setter")]
        declaration_end = _trimmed_end(self.src, node, accessors[0] if accessors else None)
        declaration = self.src[self.first(node).start_byte : declaration_end].decode("utf-8")
        initializer = _after(node, "=")
        javadoc, modifiers = self._kdoc(node), self._modifiers(node)
        for variable in variables:
            name = self.text(_child(variable, "identifier"))
            type_node = _after(variable, ":")
            type_text = normalize_type(self.text(type_node)) if type_node is not None else None
            signature = f"{name}: {type_text}" if type_text else name
            self._add(
                node,
                node.end_byte,
                kind="property",
                name=name,
                qualified_name=_qualify(self.package, parent, name),
                signature=f"{receiver}.{signature}" if receiver else signature,
                declaration=declaration,
                javadoc=javadoc,
                parent=parent,
                type=type_text,
                initializer=self.text(initializer) or None,
                type_parameters=self.text(_child(node, "type_parameters")) or None,
                **{k: list(v) for k, v in modifiers.items()},
            )

    def _constructor(self, node: Node, parent: str) -> None:
        if node.has_error:
            return
        name = parent.rsplit(".", 1)[-1]
        types, written = self._parameters(_child(node, "function_value_parameters"))
        header_end = _trimmed_end(self.src, node, _child(node, "block"))
        self._add(
            node,
            node.end_byte,
            kind="constructor",
            name=name,
            qualified_name=f"{parent}.{name}",
            signature=f"{name}({', '.join(types)})",
            declaration=self.src[self.first(node).start_byte : header_end].decode("utf-8"),
            javadoc=self._kdoc(node),
            parent=parent,
            parameters=written,
            **self._modifiers(node),
        )

    def _enum_entry(self, node: Node, parent: str) -> tuple[Node, str] | None:
        if node.has_error:
            return None
        name = self.text(_child(node, "identifier"))
        enum_name = parent.rsplit(".", 1)[-1]
        qualified_name = f"{parent}.{name}"
        body = _child(node, "class_body")
        header_end = body.start_byte if body is not None else node.end_byte
        self._add(
            node,
            node.end_byte,
            kind="enum_constant",
            name=name,
            qualified_name=qualified_name,
            signature=f"{name}: {enum_name}",
            declaration=self.src[node.start_byte : header_end].decode("utf-8").rstrip(),
            javadoc=self._kdoc(node),
            parent=parent,
            type=enum_name,
            initializer=self.text(_child(node, "value_arguments")) or None,
            **self._modifiers(node),
        )
        return (body, qualified_name) if body is not None else None

    # -- parts --

    def _modifiers(self, node: Node) -> dict[str, list[str]]:
        """Modifier keywords and annotations (with arguments) of a declaration, as written."""
        modifiers, annotations = [], []
        if self.first(node) is not node:
            annotations.extend(self.lead[node.start_byte][1])
        for mods in node.children:
            if mods.type not in ("modifiers", "parameter_modifiers"):
                continue
            for child in mods.children:
                if child.type == "annotation":
                    annotations.append(self.text(child))
                elif child.type not in _COMMENTS:
                    modifiers.append(self.text(child))
        return {"modifiers": modifiers, "annotations": annotations}

    def _kdoc(self, node: Node) -> str | None:
        """The `/** ... */` comment right before `node` (only whitespace between)."""
        node = self.first(node)
        comment = node.prev_sibling
        if comment is None or comment.type != "block_comment":
            return None
        if self.src[comment.end_byte : node.start_byte].strip():
            return None
        text = self.text(comment)
        return text if text.startswith("/**") and text != "/**/" else None


_DECLARATIONS = frozenset(
    {"class_declaration", "object_declaration", "function_declaration", "property_declaration"}
)


def _adjacent(src: bytes, before: Node, after: Node) -> bool:
    return not src[before.end_byte : after.start_byte].strip()


def _class_kind(node: Node) -> str:
    """class, interface, enum or annotation_type, by the keyword and the modifiers."""
    if any(c.type == "interface" for c in node.children):
        return "interface"
    mods = _child(node, "modifiers")
    words = {g.type for c in mods.children for g in c.children} if mods is not None else set()
    if "enum" in words:
        return "enum"
    if "annotation" in words:
        return "annotation_type"
    return "class"


def _child(node: Node | None, kind: str) -> Node | None:
    if node is None:
        return None
    return next((c for c in node.children if c.type == kind), None)


def _children(node: Node | None, kind: str) -> list[Node]:
    return [c for c in node.children if c.type == kind] if node is not None else []


def _after(node: Node, token: str, start: Node | None = None) -> Node | None:
    """The named child right after the first `token` child (after `start`, when given)."""
    children = node.children
    i = 0
    if start is not None:
        i = next((k + 1 for k, c in enumerate(children) if c == start), len(children))
    while i < len(children) and children[i].type != token:
        i += 1
    i += 1
    while i < len(children) and (not children[i].is_named or children[i].type in _COMMENTS):
        i += 1
    return children[i] if i < len(children) else None


def _trimmed_end(src: bytes, node: Node, stop: Node | None) -> int:
    """Where a header ends: before `stop` (a body, the accessors), trailing space and a
    body's `=` dropped; the node's end when there is no `stop`."""
    if stop is None:
        return node.end_byte
    end = stop.start_byte
    while end > node.start_byte and src[end - 1 : end].isspace():
        end -= 1
    return end


def _qualify(package: str | None, parent: str | None, name: str) -> str:
    if parent is not None:
        return f"{parent}.{name}"
    return f"{package}.{name}" if package else name


def _import_name(text: str) -> str:
    """Example: "import kotlin.math.max as maxOf" -> "kotlin.math.max as maxOf" """
    text = _SPACE.sub(" ", text.strip()).removeprefix("import").strip().removesuffix(";")
    return text.strip().replace(" .", ".").replace(". ", ".")


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
                found.add((child.start_point[0] + 1, "syntax error (missing)"))
            elif child.has_error:
                stack.append(child)
    return [f"{relpath}:{line}: {what}" for line, what in sorted(found)]
