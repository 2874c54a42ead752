"""The javalang backend: a pure-Python alternative to the tree-sitter slicer, for Java 8.

javalang's syntax tree gives names, modifiers and types but only start positions, and
those point past the modifiers. Extents come from its tokens instead: each token's
(line, column) maps back to a character offset in the text, brackets are matched over
the token list, and `code` is the exact slice of the text between the first and the
last token of a declaration. The units follow the conventions in the `Unit` docstring,
and the differential test (tests/test_slicing_parsers.py) holds them equal to the
tree-sitter slicer's on Java 8 sources.

javalang stops at Java 8: records, text blocks, switch expressions, `instanceof`
patterns, `sealed` and the like raise a syntax error, which becomes a one-line error
for the file naming the fix (use the default parser); the run goes on. javalang 0.13
also misses a few Java 8 forms: array constructor references (`String[]::new`),
intersection casts (`(Comparator<T> & Serializable) (a, b) -> ...`) and method
references on generic types (`Collection<T>::add`); those files get the same error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import javalang
from javalang import tree as jt
from javalang.tokenizer import LexerError

from dataprep.languages.java.comments import without_comments
from dataprep.languages.java.javalang_tokens import MODIFIERS, Tokens, Unreadable
from dataprep.languages.java.slicer import (  # one rule for both parsers' signatures
    PACKAGE_INFO,
    normalize_type,
)
from dataprep.models import Unit

LANGUAGE = "java"


@dataclass
class _Scope:
    """A type body (named, anonymous or an enum constant's), by the token range of its braces."""

    kind: str
    name: str
    qualified_name: str
    open: int
    close: int


def slice_java(
    relpath: str, text: str, repo: str, commit: str | None
) -> tuple[list[Unit], list[str]]:
    """Slice one Java file with javalang: (units, errors).

    On syntax javalang cannot read, the file yields no units and one error naming the
    file, the line and the fix. Example:
    slice_java("A.java", "record P(int x) {}", "r", None)
    -> ([], ["A.java:1: javalang cannot parse this (Expected type declaration at 'record';
    Java 9+ syntax?): use the default parser (--parser tree-sitter)"])
    """
    try:
        tokens = Tokens(text)
        tree = javalang.parser.Parser(tokens.toks).parse()
        return _Builder(relpath, tokens, repo, commit).build(tree), []
    except javalang.parser.JavaSyntaxError as exc:
        line = exc.at.position[0] if getattr(exc.at, "position", None) else _last_line(text)
        return [], [_error(relpath, line, f"javalang cannot parse this ({_describe(exc)})")]
    except LexerError as exc:
        line = _lexer_line(exc)
        what = str(exc.args[0] if exc.args else exc).split(", line")[0]
        return [], [_error(relpath, line, f"javalang cannot read this ({what})")]
    except Unreadable as exc:
        return [], [_error(relpath, exc.line, f"javalang cannot parse this ({exc.what}; {_JAVA9})")]
    except Exception as exc:  # noqa: BLE001 - one odd file is an error line, never an abort
        detail = (str(exc).splitlines() or [""])[0][:120]
        what = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        return [], [_error(relpath, 0, f"javalang failed ({what})")]


_JAVA9 = "Java 9+ syntax?"
_FIX = "use the default parser (--parser tree-sitter)"


def _error(relpath: str, line: int, what: str) -> str:
    where = f"{relpath}:{line}" if line else relpath
    return f"{where}: {what}: {_FIX}"


def _describe(exc) -> str:
    """Why javalang stopped, in words a user can act on."""
    at = getattr(exc.at, "value", None)
    detail = exc.description or "syntax error"
    if at:
        detail = f"{detail} at '{at}'"
    return f"{detail}; {_JAVA9}"


def _lexer_line(exc: LexerError) -> int:
    found = re.search(r", line (\d+):", str(exc.args[0]) if exc.args else "")
    return int(found.group(1)) if found else 0


def _last_line(text: str) -> int:
    return text.count("\n") + 1


_TYPE_KINDS = {
    jt.ClassDeclaration: "class",
    jt.InterfaceDeclaration: "interface",
    jt.EnumDeclaration: "enum",
    jt.AnnotationDeclaration: "annotation_type",
}
_DECLARATIONS = (
    jt.TypeDeclaration,
    jt.MethodDeclaration,
    jt.ConstructorDeclaration,
    jt.FieldDeclaration,
    jt.AnnotationMethod,
)
_BLANK = " \t\n\r\f"  # what may stand between a Javadoc comment and its declaration
_WS = re.compile(r"\s+")


@dataclass
class _Constant:
    """An enum constant found by walking its enum's constant list (javalang gives no
    positions for constants)."""

    name: str
    first: int
    name_at: int
    last: int
    enum: _Scope
    body: int | None = None  # the `{` of its class body


class _Builder:
    """Turns one parsed file into units."""

    def __init__(self, relpath: str, tokens: Tokens, repo: str, commit: str | None):
        self.relpath = relpath
        self.t = tokens
        self.repo = repo
        self.commit = commit
        self.package: str | None = None
        self.found: list[tuple[tuple[int, int, int], Unit]] = []
        self.scopes: list[_Scope] = []
        self.constants: list[_Constant] = []
        self.anonymous: dict[str, int] = {}  # enclosing qualified name -> classes numbered

    def build(self, tree: jt.CompilationUnit) -> list[Unit]:
        """Units in source order (the file unit first). A declaration the walk met twice
        gives one unit; a twin (an earlier unit of the file has the same path, kind, name,
        signature and text) takes its repeat number into its id, as with tree-sitter."""
        self.package = tree.package.name if tree.package else None
        self._file_unit(tree)
        decls = _declarations(tree)
        self._collect_scopes(decls)
        for node in decls:
            self._declaration(node)
        for constant in self.constants:
            self._constant_unit(constant)
        units, seen, repeats = [], set(), {}
        for key, unit in sorted(self.found, key=lambda item: item[0]):
            if (key, unit.id) in seen:
                continue
            seen.add((key, unit.id))
            repeat = repeats.get(unit.id, 0)
            repeats[unit.id] = repeat + 1
            if repeat:
                parts = (unit.kind, unit.qualified_name, unit.signature, unit.code)
                unit.id = Unit.make_id(self.relpath, *parts, repeat=repeat)
            units.append(unit)
        return units

    # -- scopes: type bodies by token range, so members find their parent --

    def _collect_scopes(self, decls: list) -> None:
        for node in decls:
            if isinstance(node, jt.TypeDeclaration):
                open_ = self.t.find(self.t.at(node.position), ("{",))
                scope = _Scope("type", node.name, "", open_, self.t.match[open_])
                self.scopes.append(scope)
                if isinstance(node, jt.EnumDeclaration):
                    self._enum_constants(node, scope)
        self._anonymous_scopes()
        self.scopes.sort(key=lambda s: s.open)
        for scope in self.scopes:
            parent = self._enclosing(scope.open)
            scope.qualified_name = self._qualify(parent, scope)

    def _enum_constants(self, node: jt.EnumDeclaration, enum: _Scope) -> None:
        """Walk the constant list (`@A X(1) { ... },`): each constant and its body scope."""
        i = enum.open + 1
        for constant in node.body.constants:
            first = i
            while self.t.value(i) == "@":
                i = self.t.annotation_end(i) + 1
            name_at = i
            if self.t.value(i) != constant.name:
                raise Unreadable(self.t.line(i))
            if self.t.value(i + 1) == "(":
                i = self.t.match[i + 1]
            body = None
            if self.t.value(i + 1) == "{":
                body = i + 1
                i = self.t.match[body]
                self.scopes.append(_Scope("constant", constant.name, "", body, i))
            self.constants.append(_Constant(constant.name, first, name_at, i, enum, body))
            i += 2 if self.t.value(i + 1) == "," else 1

    def _anonymous_scopes(self) -> None:
        """Anonymous class bodies: `new T(...) {` (an array creation has `]` before `{`)."""
        toks = self.t.toks
        for i, tok in enumerate(toks):
            if tok.value != "new" or not isinstance(tok, javalang.tokenizer.Keyword):
                continue
            j = i + 1
            while j < len(toks) and toks[j].value not in ("(", "[", "{", ";"):
                j = self.t.angle_end(j) + 1 if toks[j].value == "<" else j + 1
            if self.t.value(j) != "(" or j not in self.t.match:
                continue
            k = self.t.match[j] + 1
            if self.t.value(k) == "{":
                self.scopes.append(_Scope("anonymous", "", "", k, self.t.match[k]))

    def _enclosing(self, i: int) -> _Scope | None:
        """The innermost type scope whose body contains token i."""
        best = None
        for scope in self.scopes:
            if scope.open >= i:
                break
            if i < scope.close:
                best = scope
        return best

    def _qualify(self, parent: _Scope | None, scope: _Scope) -> str:
        """`pkg.Outer.Inner`; anonymous classes are numbered per enclosing type's qualified
        name, in source order (`pkg.Outer$1`; two local classes of one name share the
        count, as with tree-sitter); an enum constant's body is `pkg.Enum.CONSTANT`."""
        if parent is None:
            return f"{self.package}.{scope.name}" if self.package else scope.name
        if scope.kind == "anonymous":
            number = self.anonymous.get(parent.qualified_name, 0) + 1
            self.anonymous[parent.qualified_name] = number
            return f"{parent.qualified_name}${number}"
        return f"{parent.qualified_name}.{scope.name}"

    # -- declarations --

    def _declaration(self, node) -> None:
        at = self.t.at(node.position)
        if _is_record(node):  # javalang reads a nested `record R(...) {}` as a method
            raise Unreadable(self.t.line(at), "a record")
        first = self.t.decl_start(at)
        parent = self._enclosing(at)
        if isinstance(node, jt.TypeDeclaration):
            self._type_unit(node, first, at, parent)
        elif parent is None:
            return  # a member outside any type cannot parse; kept for symmetry with tree-sitter
        elif isinstance(node, jt.FieldDeclaration):
            self._field_units(node, first, at, parent)
        else:
            self._callable_unit(node, first, at, parent)

    def _type_unit(self, node, first: int, at: int, parent: _Scope | None) -> None:
        open_ = self.t.find(at, ("{",))
        scope = next(s for s in self.scopes if s.open == open_)
        header = self.t.text[self.t.starts[first] : self.t.starts[open_]].rstrip(_BLANK + "\v")
        clauses = self._header_clauses(at, open_)
        self._add(
            first,
            self.t.match[open_],
            header,
            kind=_TYPE_KINDS[type(node)],
            name=node.name,
            qualified_name=scope.qualified_name,
            declaration=without_comments(header).rstrip() + " {}",
            javadoc=self._javadoc(first),
            parent=parent.qualified_name if parent else None,
            type_parameters=clauses.get("<"),
            extends=self._split_types(*clauses["extends"]) if "extends" in clauses else [],
            implements=(
                self._split_types(*clauses["implements"]) if "implements" in clauses else []
            ),
            **self._modifiers_and_annotations(first, at),
        )

    def _callable_unit(self, node, first: int, at: int, parent: _Scope) -> None:
        paren = self.t.find(at, ("(",), skip=())
        close = self.t.match[paren]
        if isinstance(node, jt.AnnotationMethod):  # `default {1, 2}` is no body
            end, body = self.t.find(close + 1, (";",), skip=("(", "[", "{")), None
        else:
            end = self.t.find(close + 1, ("{", ";"))
            body = end if self.t.value(end) == "{" else None
        last = self.t.match[body] if body is not None else end
        code = self.t.slice(first, last)
        head = self.t.text[self.t.starts[first] : self.t.starts[body]] if body is not None else code
        type_start, type_parameters = at, None
        if self.t.value(at) == "<":
            type_start = self.t.angle_end(at) + 1
            type_parameters = self.t.slice(at, type_start - 1)
        types, parameters = self._parameters(paren, close)
        after = close + 1
        while self.t.value(after) in ("[", "]"):
            after += 1
        throws = []
        if self.t.value(after) == "throws":
            throws = self._split_types(after + 1, self.t.find(after, ("{", ";")) - 1)
        default = None
        if self.t.value(after) == "default":
            default = self.t.slice(after + 1, end - 1)
        kind = "constructor" if isinstance(node, jt.ConstructorDeclaration) else "method"
        self._add(
            first,
            last,
            code,
            kind=kind,
            name=node.name,
            qualified_name=f"{parent.qualified_name}.{node.name}",
            signature=f"{node.name}({', '.join(types)})",
            declaration=without_comments(head).rstrip().rstrip(";").rstrip(),
            javadoc=self._javadoc(first),
            parent=parent.qualified_name,
            type=normalize_type(self.t.slice(type_start, paren - 2)) if kind == "method" else None,
            initializer=default,
            type_parameters=type_parameters,
            parameters=parameters,
            throws=throws,
            **self._modifiers_and_annotations(first, at),
        )

    def _parameters(self, paren: int, close: int) -> tuple[list[str], list[str]]:
        """(types for the signature, parameters as written) of the list in paren..close."""
        types, written = [], []
        for a, b in self.t.split_commas(paren + 1, close - 1):
            written.append(_WS.sub(" ", self.t.slice(a, b)))
            k = a
            while self.t.value(k) in ("final", "@"):
                k = self.t.annotation_end(k) + 1 if self.t.value(k) == "@" else k + 1
            name_at = b
            while self.t.value(name_at) == "]":
                name_at -= 2
            if self.t.value(name_at - 1) == "...":
                types.append(normalize_type(self.t.slice(k, name_at - 2)) + "...")
            else:
                dims = self.t.slice(name_at + 1, b) if name_at < b else ""
                types.append(normalize_type(self.t.slice(k, name_at - 1) + dims))
        return types, written

    def _field_units(self, node, first: int, at: int, parent: _Scope) -> None:
        last = self.t.find(at, (";",), skip=("(", "[", "{"))
        names = [d.name for d in node.declarators]
        starts = [self._declarator_at(at, names[0])]
        for name in names[1:]:
            starts.append(self._next_declarator(starts[-1], last, name))
        type_text = normalize_type(self.t.slice(at, starts[0] - 1))
        prefix = self.t.slice(first, starts[0] - 1)
        code = self.t.slice(first, last)
        javadoc = self._javadoc(first)
        flags = self._modifiers_and_annotations(first, at)
        for n, (name, start) in enumerate(zip(names, starts, strict=True)):
            end = (starts[n + 1] - 2) if n + 1 < len(starts) else last - 1
            dims_end = start
            while self.t.value(dims_end + 1) == "[":
                dims_end = self.t.match[dims_end + 1]
            dims = self.t.slice(start + 1, dims_end) if dims_end > start else ""
            field_type = normalize_type(type_text + dims)
            has_value = self.t.value(dims_end + 1) == "="
            self._add(
                first,
                last,
                code,
                order=n,
                kind="field",
                name=name,
                qualified_name=f"{parent.qualified_name}.{name}",
                signature=f"{field_type} {name}",
                declaration=without_comments(f"{prefix} {self.t.slice(start, end)};"),
                javadoc=javadoc,
                parent=parent.qualified_name,
                type=field_type,
                initializer=self.t.slice(dims_end + 2, end) if has_value else None,
                **flags,
            )

    def _constant_unit(self, constant: _Constant) -> None:
        """An enum constant: `Enum NAME`, its arguments as initializer, its declaration the
        constant up to its class body."""
        code = self.t.slice(constant.first, constant.last)
        header = code
        if constant.body is not None:
            header = self.t.text[self.t.starts[constant.first] : self.t.starts[constant.body]]
        arguments = None
        if self.t.value(constant.name_at + 1) == "(":
            arguments = self.t.slice(constant.name_at + 1, self.t.match[constant.name_at + 1])
        enum = constant.enum
        self._add(
            constant.first,
            constant.last,
            code,
            kind="enum_constant",
            name=constant.name,
            qualified_name=f"{enum.qualified_name}.{constant.name}",
            signature=f"{enum.name} {constant.name}",
            declaration=without_comments(header).rstrip(),
            javadoc=self._javadoc(constant.first),
            parent=enum.qualified_name,
            type=enum.name,
            initializer=arguments,
            **self._modifiers_and_annotations(constant.first, constant.name_at),
        )

    # -- pieces of declarations, read off the tokens --

    def _header_clauses(self, at: int, open_: int) -> dict:
        """{'<': type parameters, 'extends': (first, last), 'implements': (first, last)}."""
        i = at + (3 if self.t.value(at) == "@" else 2)  # past `class Name` / `@interface Name`
        clauses: dict = {}
        if self.t.value(i) == "<":
            close = self.t.angle_end(i)
            clauses["<"] = self.t.slice(i, close)
            i = close + 1
        while i < open_:
            key = self.t.value(i)
            j = i + 1
            while j < open_ and self.t.value(j) not in ("extends", "implements"):
                j = self.t.skip_group(j) if self.t.value(j) in ("(", "[") else j + 1
            clauses[key] = (i + 1, j - 1)
            i = j
        return clauses

    def _split_types(self, first: int, last: int) -> list[str]:
        return [self.t.slice(a, b) for a, b in self.t.split_commas(first, last)]

    def _modifiers_and_annotations(self, first: int, at: int) -> dict:
        """Modifiers in source order, and annotations with their arguments as written."""
        modifiers, annotations, i = [], [], first
        while i < at:
            if self.t.value(i) == "@" and self.t.value(i + 1) != "interface":
                end = self.t.annotation_end(i)
                annotations.append(self.t.slice(i, end))
                i = end + 1
            else:
                if self.t.value(i) in MODIFIERS:
                    modifiers.append(self.t.value(i))
                i += 1
        return {"modifiers": modifiers, "annotations": annotations}

    def _declarator_at(self, at: int, name: str) -> int:
        """The first declarator's name token: the first `name` after the field's type."""
        i = at + 1
        while i < len(self.t.toks):
            value = self.t.value(i)
            if value == "<":
                i = self.t.angle_end(i) + 1
                continue
            if value == name and self.t.value(i + 1) in ("=", ",", ";", "["):
                return i
            i += 1
        raise Unreadable(self.t.line(at))

    def _next_declarator(self, i: int, last: int, name: str) -> int:
        """The next top-level `, name` followed by `=`, `,`, `;` or `[`."""
        while i < last:
            value = self.t.value(i)
            if (
                value == ","
                and self.t.value(i + 1) == name
                and self.t.value(i + 2) in ("=", ",", ";", "[")
            ):
                return i + 1
            i = self.t.skip_group(i) if value in ("(", "[", "{") else i + 1
        raise Unreadable(self.t.line(i))

    def _javadoc(self, first: int) -> str | None:
        """The `/** ... */` comment that ends right before token `first` (only blanks
        between), as written; comments live in the gap before the token."""
        start = end = self.t.starts[first]
        gap_start = self.t.end(first - 1) if first > 0 else 0
        while end > gap_start and self.t.text[end - 1] in _BLANK:
            end -= 1
        for comment_start, comment_end in self.t.comments(gap_start, start):
            if comment_end == end and self.t.text.startswith("/**", comment_start):
                return self.t.text[comment_start:comment_end]
        return None

    # -- units --

    def _file_unit(self, tree: jt.CompilationUnit) -> None:
        """Package and imports: from the package declaration to the last import."""
        imports = [self.t.at(imp.position) for imp in tree.imports]
        if tree.package is not None:
            first = self.t.decl_start(self.t.at(tree.package.position) - 1)
        elif imports:
            first = imports[0]
        else:
            return
        last = self.t.find(imports[-1] if imports else first, (";",))
        name = self.relpath.rsplit("/", 1)[-1]
        # a package's own Javadoc: before the package declaration of its package-info.java
        javadoc = None
        if tree.package is not None and name == PACKAGE_INFO:
            javadoc = self._javadoc(first)
        self._add(
            first,
            last,
            self.t.slice(first, last),
            kind="file",
            name=name,
            qualified_name=self.relpath,
            javadoc=javadoc,
            imports=[_import_name(imp) for imp in tree.imports],
        )

    def _add(self, first: int, last: int, code: str, order: int = 0, **fields) -> None:
        """Record a unit spanning tokens first..last whose code is `code`."""
        kind, qualified_name = fields["kind"], fields["qualified_name"]
        unit_id = Unit.make_id(self.relpath, kind, qualified_name, fields.get("signature"), code)
        unit = Unit(
            id=unit_id,
            code=code,
            path=self.relpath,
            start_line=self.t.line(first),
            end_line=self.t.line(last),
            language=LANGUAGE,
            repo=self.repo,
            commit=self.commit,
            package=self.package,
            **fields,
        )
        key = (-1, 0, 0) if kind == "file" else (self.t.starts[first], -self.t.end(last), order)
        self.found.append((key, unit))


def _declarations(root: jt.Node) -> list:
    """Every declaration node under `root`. javalang's own walk misses some: after a cast
    in parentheses (`((T) x).f(new R() {...})`) it keeps the selectors outside the
    node's attributes, so they are visited here too."""
    found, stack = [], [root]
    while stack:
        item = stack.pop()
        if isinstance(item, javalang.ast.Node):
            if isinstance(item, _DECLARATIONS):
                found.append(item)
            stack.extend(getattr(item, attr) for attr in item.attrs)
            if "selectors" not in item.attrs:
                stack.append(getattr(item, "selectors", None))
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


def _is_record(node) -> bool:
    """A method whose "return type" is the bare word `record`: a Java 16 record."""
    kind = getattr(node, "return_type", None)
    return (
        isinstance(node, jt.MethodDeclaration)
        and isinstance(kind, jt.ReferenceType)
        and kind.name == "record"
        and not kind.arguments
        and not kind.dimensions
        and node.body is not None
    )


def _import_name(imp: jt.Import) -> str:
    """Example: `import static a.B.c;` -> "static a.B.c"; `import a.b.*;` -> "a.b.*" """
    name = imp.path + (".*" if imp.wildcard else "")
    return f"static {name}" if imp.static else name
