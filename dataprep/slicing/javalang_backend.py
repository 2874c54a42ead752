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
for the file naming the fix (use the default parser); the run goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import javalang
from javalang import tree as jt
from javalang.tokenizer import JavaTokenizer, LexerError

from dataprep.models import Unit

MODIFIERS = frozenset(
    "public protected private static abstract final native synchronized transient "
    "volatile strictfp default".split()
)
_OPEN = {"(": ")", "[": "]", "{": "}"}


class _ExactTokenizer(JavaTokenizer):
    """javalang's tokenizer without its unicode-escape decoding, so that every
    token's position indexes the text exactly as written (escapes inside string and
    character literals are still read as part of the literal)."""

    def pre_tokenize(self) -> None:
        self.data = self.decode_data()
        self.length = len(self.data)


class _Tokens:
    """The token list of one file with character offsets and matched brackets."""

    def __init__(self, text: str):
        self.text = text
        self.toks = list(_ExactTokenizer(text).tokenize())
        line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.starts: list[int] = []
        for tok in self.toks:
            line, column = tok.position
            offset = line_starts[line - 1] + column - 1
            if "\n" in tok.value:  # a text block read as strings: positions drift from here
                raise _Mismatch(line, "a text block")
            if not text.startswith(tok.value, offset):
                raise _Mismatch(line, "token positions do not match the text")
            self.starts.append(offset)
        self.index = {tok.position: i for i, tok in enumerate(self.toks)}
        self.match = self._match_brackets()

    def _match_brackets(self) -> dict[int, int]:
        match: dict[int, int] = {}
        stack: list[int] = []
        for i, tok in enumerate(self.toks):
            value = tok.value
            if value in _OPEN and _is_separator(tok):
                stack.append(i)
            elif value in (")", "]", "}") and _is_separator(tok) and stack:
                j = stack.pop()
                match[i], match[j] = j, i
        return match

    def value(self, i: int) -> str:
        return self.toks[i].value if 0 <= i < len(self.toks) else ""

    def end(self, i: int) -> int:
        """Character offset just past token i."""
        return self.starts[i] + len(self.toks[i].value)

    def slice(self, first: int, last: int) -> str:
        """The exact text from token `first` to token `last`, inclusive."""
        return self.text[self.starts[first] : self.end(last)]

    def line(self, i: int) -> int:
        return self.toks[i].position[0]

    def at(self, position) -> int:
        return self.index[tuple(position)]

    def skip_group(self, i: int) -> int:
        """Index past the bracket group opening at i (or i + 1 for any other token)."""
        return self.match.get(i, i) + 1

    def find(self, i: int, stops: tuple[str, ...], skip: tuple[str, ...] = ("(", "[")) -> int:
        """First index >= i whose token is in `stops`, jumping over groups opened by `skip`."""
        n = len(self.toks)
        while i < n:
            value = self.toks[i].value
            if value in stops and _is_separator(self.toks[i]):
                return i
            i = self.skip_group(i) if value in skip and i in self.match else i + 1
        raise _Mismatch(self.line(n - 1) if n else 1)

    def decl_start(self, i: int) -> int:
        """Walk back from token i over the modifiers and annotations in front of it."""
        j = i - 1
        while j >= 0:
            tok = self.toks[j]
            if tok.value in MODIFIERS and not isinstance(tok, javalang.tokenizer.Identifier):
                j -= 1
                continue
            k = j
            if tok.value == ")" and j in self.match:
                k = self.match[j] - 1
            k = self._qualified_name_start(k)
            if k is not None and self.value(k - 1) == "@":
                j = k - 2
                continue
            break
        return j + 1

    def _qualified_name_start(self, k: int) -> int | None:
        if not isinstance(self.toks[k], javalang.tokenizer.Identifier):
            return None
        while self.value(k - 1) == "." and isinstance(
            self.toks[k - 2] if k >= 2 else None, javalang.tokenizer.Identifier
        ):
            k -= 2
        return k

    def annotation_end(self, i: int) -> int:
        """The last token of the annotation whose `@` is token i."""
        j = i + 1
        while self.value(j + 1) == ".":
            j += 2
        if self.value(j + 1) == "(":
            j = self.match[j + 1]
        return j


class _Mismatch(Exception):
    """javalang's tokens do not line up with the text (a text block, odd line breaks)."""

    def __init__(self, line: int, what: str = "cannot find a declaration's extent"):
        super().__init__(line, what)
        self.line = line
        self.what = what


def _is_separator(tok) -> bool:
    return isinstance(tok, javalang.tokenizer.Separator)


@dataclass
class _Scope:
    """A type body (named, anonymous or an enum constant's) or a member, by token range."""

    kind: str
    name: str
    qualified_name: str
    open: int
    close: int
    children: list[_Scope] = field(default_factory=list)


def slice_java(
    relpath: str, text: str, repo: str, commit: str | None
) -> tuple[list[Unit], list[str]]:
    """Slice one Java file with javalang: (units, errors).

    On syntax javalang cannot read, the file yields no units and one error naming the
    file, the line and the fix. Example:
    slice_java("A.java", "record P(int x) {}", "r", None)
    -> ([], ["A.java:1: javalang cannot parse this (Java 9+ syntax?): use the default
    parser (--parser tree-sitter)"])
    """
    try:
        tokens = _Tokens(text)
        tree = javalang.parser.Parser(tokens.toks).parse()
        return _Builder(relpath, tokens, repo, commit).build(tree), []
    except javalang.parser.JavaSyntaxError as exc:
        line = exc.at.position[0] if getattr(exc.at, "position", None) else _last_line(text)
        return [], [_error(relpath, line, f"javalang cannot parse this ({_describe(exc)})")]
    except LexerError as exc:
        line = _lexer_line(exc)
        what = str(exc.args[0] if exc.args else exc).split(", line")[0]
        return [], [_error(relpath, line, f"javalang cannot read this ({what})")]
    except _Mismatch as exc:
        return [], [_error(relpath, exc.line, f"javalang cannot parse this ({exc.what}; {_JAVA9})")]
    except (RecursionError, StopIteration, IndexError, KeyError, AttributeError, TypeError) as exc:
        return [], [_error(relpath, 0, f"javalang failed ({type(exc).__name__})")]


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


class _Builder:
    """Turns one parsed file into units."""

    def __init__(self, relpath: str, tokens: _Tokens, repo: str, commit: str | None):
        self.relpath = relpath
        self.t = tokens
        self.repo = repo
        self.commit = commit
        self.package: str | None = None
        self.units: list[Unit] = []
        self.scopes: list[_Scope] = []

    def build(self, tree: jt.CompilationUnit) -> list[Unit]:
        self.package = tree.package.name if tree.package else None
        self._file_unit(tree)
        decls = [node for _, node in tree if _is_declaration(node)]
        self._collect_scopes(decls)
        for node in decls:
            self._declaration(node)
        return self.units

    # -- scopes: type bodies by token range, so members find their parent --

    def _collect_scopes(self, decls: list) -> None:
        for node in decls:
            if isinstance(node, jt.TypeDeclaration):
                first = self.t.at(node.position)
                open_ = self.t.find(first, ("{",))
                self.scopes.append(_Scope("type", node.name, "", open_, self.t.match[open_]))
                if isinstance(node, jt.EnumDeclaration):
                    self._enum_constant_scopes(node, open_)
        self._anonymous_scopes()
        self.scopes.sort(key=lambda s: s.open)
        for scope in self.scopes:
            parent = self._enclosing(scope.open)
            scope.qualified_name = self._qualify(parent, scope)
            if parent is not None:
                parent.children.append(scope)

    def _enum_constant_scopes(self, node: jt.EnumDeclaration, open_: int) -> None:
        """Bodies of enum constants (`A(1) { ... }`), found by walking the constant list."""
        i = open_ + 1
        for constant in node.body.constants:
            while self.t.value(i) == "@":
                i = self.t.annotation_end(i) + 1
            name_at = i
            i += 1
            if self.t.value(i) == "(":
                i = self.t.skip_group(i)
            if self.t.value(i) == "{":
                close = self.t.match[i]
                self.scopes.append(_Scope("constant", constant.name, "", i, close))
                i = close + 1
            assert self.t.value(name_at) == constant.name
            if self.t.value(i) == ",":
                i += 1

    def _anonymous_scopes(self) -> None:
        """Anonymous class bodies: `new T(...) {` (an array creation has `]` before `{`)."""
        toks = self.t.toks
        for i, tok in enumerate(toks):
            if tok.value != "new" or not isinstance(tok, javalang.tokenizer.Keyword):
                continue
            j = i + 1
            while j < len(toks) and toks[j].value not in ("(", "[", "{", ";"):
                j = self.t.skip_group(j) if toks[j].value == "@" else j + 1
            if self.t.value(j) != "(" or j not in self.t.match:
                continue
            k = self.t.match[j] + 1
            if self.t.value(k) == "{":
                self.scopes.append(
                    _Scope("anonymous", self.t.slice(i + 1, j - 1), "", k, self.t.match[k])
                )

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
        if parent is None:
            return f"{self.package}.{scope.name}" if self.package else scope.name
        if scope.kind == "anonymous":
            number = 1 + sum(1 for c in parent.children if c.kind == "anonymous")
            return f"{parent.qualified_name}${number}"
        return f"{parent.qualified_name}.{scope.name}"

    # -- declarations --

    def _declaration(self, node) -> None:
        at = self.t.at(node.position)
        first = self.t.decl_start(at)
        parent = self._enclosing(at)
        if isinstance(node, jt.TypeDeclaration):
            self._type_unit(node, first, at, parent)
        elif isinstance(node, jt.FieldDeclaration):
            self._field_units(node, first, at, parent)
        else:
            self._callable_unit(node, first, at, parent)

    def _type_unit(self, node, first: int, at: int, parent: _Scope | None) -> None:
        open_ = self.t.find(at, ("{",))
        scope = next(s for s in self.scopes if s.open == open_)
        header = self.t.slice(first, open_ - 1)
        self._add(
            kind=_TYPE_KINDS[type(node)],
            name=node.name,
            qualified_name=scope.qualified_name,
            first=first,
            last=self.t.match[open_],
            code=header,
            signature=None,
            declaration=_with_empty_body(header),
            parent=parent,
            extra=self._type_parts(node, at, open_),
            **self._modifiers_and_annotations(first, at),
        )

    def _type_parts(self, node, at: int, open_: int) -> dict:
        """type_parameters, extends and implements as written in the header."""
        parts: dict = {}
        clauses = self._header_clauses(at, open_)
        if "<" in clauses:
            parts["type_parameters"] = clauses["<"]
        for key in ("extends", "implements"):
            if key in clauses:
                parts[key] = self._split_types(*clauses[key])
        return parts

    def _header_clauses(self, at: int, open_: int) -> dict:
        """{'<': type parameters text, 'extends': (first, last), 'implements': ...}."""
        i = at + 1  # `class`/`interface`/`enum` -> name; `@interface` -> `interface`
        if self.t.value(at) == "@":
            i += 1
        i += 1  # past the name
        clauses: dict = {}
        if self.t.value(i) == "<":
            close = self._angle_end(i)
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

    def _angle_end(self, i: int) -> int:
        """The `>` closing the `<` at token i (javalang splits `>>` into two tokens)."""
        depth = 0
        while True:
            value = self.t.value(i)
            if value == "<":
                depth += 1
            elif value == ">":
                depth -= 1
                if depth == 0:
                    return i
            i = self.t.skip_group(i) if value in ("(", "[") else i + 1

    def _split_commas(self, first: int, last: int) -> list[tuple[int, int]]:
        """Token ranges between top-level commas of first..last (generics kept whole)."""
        parts, start, depth, i = [], first, 0, first
        while i <= last:
            value = self.t.value(i)
            if value == "<":
                depth += 1
            elif value == ">":
                depth -= 1
            elif value == "," and depth == 0:
                parts.append((start, i - 1))
                start = i + 1
            i = self.t.skip_group(i) if value in ("(", "[", "{") else i + 1
        if start <= last:
            parts.append((start, last))
        return parts

    def _split_types(self, first: int, last: int) -> list[str]:
        return [self.t.slice(a, b) for a, b in self._split_commas(first, last)]

    def _modifiers_and_annotations(self, first: int, at: int) -> dict:
        """Modifiers in source order and annotations (with arguments) as written."""
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

    def _callable_unit(self, node, first: int, at: int, parent: _Scope | None) -> None:
        paren = self.t.find(at, ("(",), skip=())
        close = self.t.match[paren]
        if isinstance(node, jt.AnnotationMethod):
            last = self.t.find(close, (";",), skip=("(", "[", "{"))
        else:
            last = self.t.find(close + 1, ("{", ";"))
            last = self.t.match.get(last, last) if self.t.value(last) == "{" else last
        type_start, extra = at, {}
        if self.t.value(at) == "<":
            type_start = self._angle_end(at) + 1
            extra["type_parameters"] = self.t.slice(at, type_start - 1)
        params = [self.t.slice(a, b) for a, b in self._split_commas(paren + 1, close - 1)]
        kind = "constructor" if isinstance(node, jt.ConstructorDeclaration) else "method"
        if kind == "method":
            extra["type"] = self.t.slice(type_start, paren - 2)
        if self.t.value(close + 1) == "throws":
            stop = self.t.find(close + 1, ("{", ";"))
            extra["throws"] = self._split_types(close + 2, stop - 1)
        extra["parameters"] = params
        signature = f"{node.name}({', '.join(_parameter_type(p) for p in params)})"
        self._add(
            kind=kind,
            name=node.name,
            qualified_name=self._member_name(parent, node.name),
            first=first,
            last=last,
            code=self.t.slice(first, last),
            signature=signature,
            declaration=None,
            parent=parent,
            extra=extra,
            **self._modifiers_and_annotations(first, at),
        )

    def _field_units(self, node, first: int, at: int, parent: _Scope | None) -> None:
        last = self.t.find(at, (";",), skip=("(", "[", "{"))
        names = [d.name for d in node.declarators]
        starts = [self._declarator_at(at, names[0])]
        for name in names[1:]:
            starts.append(self._next_declarator(starts[-1], last, name))
        type_text = self.t.slice(at, starts[0] - 1)
        head = self.t.slice(first, starts[0] - 1)
        code = self.t.slice(first, last)
        flags = self._modifiers_and_annotations(first, at)
        for n, (name, start) in enumerate(zip(names, starts, strict=True)):
            end = (starts[n + 1] - 2) if n + 1 < len(starts) else last - 1
            own = self.t.slice(start, end)
            extra = {"type": type_text}
            eq = self._top_level(start, end, "=")
            if eq is not None:
                extra["initializer"] = self.t.slice(eq + 1, end)
            self._add(
                kind="field",
                name=name,
                qualified_name=self._member_name(parent, name),
                first=first,
                last=last,
                code=code,
                signature=None,
                declaration=f"{head}{own};",
                parent=parent,
                extra=extra,
                **flags,
            )

    def _declarator_at(self, at: int, name: str) -> int:
        """The first declarator's name token: the first `name` after the type."""
        i = at
        while True:
            if self.t.value(i) == "<":
                i = self._angle_end(i) + 1
                continue
            if i > at and self.t.value(i) == name and self.t.value(i + 1) in ("=", ",", ";", "["):
                return i
            i += 1

    def _next_declarator(self, i: int, last: int, name: str) -> int:
        """The next `, name` at the top level, followed by `=`, `,`, `;` or `[`."""
        while i < last:
            value = self.t.value(i)
            if (
                value == ","
                and self.t.value(i + 1) == name
                and self.t.value(i + 2) in ("=", ",", ";", "[")
            ):
                return i + 1
            i = self.t.skip_group(i) if value in ("(", "[", "{") else i + 1
        raise _Mismatch(self.t.line(i))

    def _top_level(self, first: int, last: int, wanted: str) -> int | None:
        i = first
        while i <= last:
            if self.t.value(i) == wanted:
                return i
            i = self.t.skip_group(i) if self.t.value(i) in ("(", "[", "{") else i + 1
        return None

    def _member_name(self, parent: _Scope | None, name: str) -> str:
        prefix = parent.qualified_name if parent else self.package
        return f"{prefix}.{name}" if prefix else name

    # -- units --

    def _file_unit(self, tree: jt.CompilationUnit) -> None:
        starts = []
        if tree.package is not None:
            starts.append(self.t.at(tree.package.position) - 1)  # the `package` keyword
        imports = [(self.t.at(imp.position), imp) for imp in tree.imports]
        if not starts and not imports:
            return
        first = starts[0] if starts else imports[0][0]
        last = self.t.find(imports[-1][0], (";",)) if imports else self.t.find(first, (";",))
        name = self.relpath.rsplit("/", 1)[-1]
        self._add(
            kind="file",
            name=name,
            qualified_name=self.relpath,
            first=first,
            last=last,
            code=self.t.slice(first, last),
            signature=None,
            declaration=None,
            parent=None,
            extra={"imports": [_import_text(imp) for _, imp in imports]},
            modifiers=[],
            annotations=[],
            javadoc_ok=False,
        )

    def _add(
        self,
        *,
        kind,
        name,
        qualified_name,
        first,
        last,
        code,
        signature,
        declaration,
        parent,
        extra,
        modifiers,
        annotations,
        javadoc_ok=True,
    ) -> None:
        unit_id = Unit.make_id(self.relpath, kind, qualified_name, signature, code)
        self.units.append(
            Unit(
                id=unit_id,
                kind=kind,
                name=name,
                qualified_name=qualified_name,
                path=self.relpath,
                start_line=self.t.line(first),
                end_line=self.t.line(last),
                code=code,
                language="java",
                repo=self.repo,
                commit=self.commit,
                signature=signature,
                declaration=declaration,
                modifiers=modifiers,
                annotations=annotations,
                javadoc=self._javadoc(first) if javadoc_ok else None,
                parent=parent.qualified_name if parent else None,
                package=self.package,
                **extra,
            )
        )

    def _javadoc(self, first: int) -> str | None:
        """The `/** ... */` comment right before token `first`, normalised."""
        before = self.t.text[: self.t.starts[first]].rstrip()
        if not before.endswith("*/"):
            return None
        start = before.rfind("/**")
        if start < 0 or "*/" in before[start + 3 : -2]:
            return None
        return normalise_javadoc(before[start:])


def normalise_javadoc(comment: str) -> str:
    """Javadoc text without the comment markers and leading asterisks.

    Example: "/**\\n * Adds one.\\n *\\n * @param x a value\\n */"
    -> "Adds one.\\n\\n@param x a value"
    """
    body = comment[3:-2]
    lines = [re.sub(r"^\s*\*? ?", "", line) for line in body.split("\n")]
    return "\n".join(line.rstrip() for line in lines).strip()


def _is_declaration(node) -> bool:
    return isinstance(
        node,
        (
            jt.TypeDeclaration,
            jt.MethodDeclaration,
            jt.ConstructorDeclaration,
            jt.FieldDeclaration,
            jt.AnnotationMethod,
        ),
    )


def _with_empty_body(header: str) -> str:
    return f"{header} {{}}"


def _parameter_type(parameter: str) -> str:
    """`final Map<K, V> map` -> `Map<K, V>`; `String... args` -> `String...`."""
    words = re.sub(r"@[\w.]+(\([^)]*\))?\s*", "", parameter).split()
    words = [w for w in words if w != "final"]
    return " ".join(words[:-1])


def _import_text(imp: jt.Import) -> str:
    text = imp.path + (".*" if imp.wildcard else "")
    return f"static {text}" if imp.static else text
