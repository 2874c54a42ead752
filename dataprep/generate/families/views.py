"""The views a Spring MVC controller returns (no LLM).

Views (Java methods of a `@Controller`, not `@ResponseBody`, with a request mapping and
a `String` or `ModelAndView` result): "Which view does `list` of `RoomPageController`
return?" -> the view name(s) of its `return` statements (string literals, constants of its
class, `new ModelAndView("x")`; every return must be one of them), and the template
`src/main/resources/templates/<view>.<suffix>` of the same module when the repository has
it; `redirect:` and `forward:` are named as such.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

from dataprep.generate.families import family
from dataprep.generate.families.config import emit
from dataprep.generate.families.repo import RepoView
from dataprep.generate.java_facts import annotation_name, is_test_path, mapping_method
from dataprep.models import Unit


@lru_cache(maxsize=1)
def _parser():
    import tree_sitter_java
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_java.language()))


def _string(node) -> str | None:
    if node.type != "string_literal" or node.text.startswith(b'"""'):
        return None
    text = node.text.decode("utf-8")[1:-1]
    return None if "\\" in text else text


def _views_of(node, constants: dict[str, str]) -> list[str] | None:
    """The view names an expression can give, or None when it is not only literals (a
    redirect or forward built by concatenation keeps its literal start: `"redirect:/rooms/"
    + id` -> "redirect:/rooms/{id}")."""
    if node.type == "parenthesized_expression":
        return _views_of(node.named_children[0], constants)
    if node.type == "string_literal":
        text = _string(node)
        return [text] if text else None
    if node.type == "identifier":
        name = node.text.decode("utf-8")
        return [constants[name]] if name in constants else None
    if node.type == "ternary_expression":
        found = [_views_of(n, constants) for n in node.named_children[1:]]
        return None if any(f is None for f in found) else [v for f in found for v in f]
    if node.type == "object_creation_expression":
        kind = node.child_by_field_name("type")
        args = node.child_by_field_name("arguments")
        if kind is not None and kind.text == b"ModelAndView" and args and args.named_children:
            return _views_of(args.named_children[0], constants)
    if node.type == "binary_expression" and node.child_by_field_name("operator").text == b"+":
        return _concatenated(node, constants)
    return None


def _concatenated(node, constants: dict[str, str]) -> list[str] | None:
    """`"redirect:/owners/" + owner.getId()` -> ["redirect:/owners/{owner.getId()}"]; None
    unless it starts with a literal redirect or forward."""
    parts: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if item.type == "binary_expression" and item.child_by_field_name("operator").text == b"+":
            stack += [item.child_by_field_name("right"), item.child_by_field_name("left")]
            continue
        found = _views_of(item, constants) if item.type != "binary_expression" else None
        text = found[0] if found and len(found) == 1 else None
        parts.append(text if text is not None else "{" + item.text.decode("utf-8") + "}")
    if not parts[0].startswith(("redirect:", "forward:")) or "{" in parts[0]:
        return None
    return ["".join(parts)]


def _locals(body, constants: dict[str, str]) -> dict[str, str]:
    """Local variables given one view where declared and never assigned again:
    `ModelAndView mav = new ModelAndView("owners/details");` -> {"mav": "owners/details"}."""
    found: dict[str, str] = {}
    assigned: set[str] = set()
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type == "variable_declarator":
            value = node.child_by_field_name("value")
            views = _views_of(value, constants) if value is not None else None
            if views and len(views) == 1:
                found[node.child_by_field_name("name").text.decode("utf-8")] = views[0]
        elif node.type == "assignment_expression":
            assigned.add(node.child_by_field_name("left").text.decode("utf-8"))
        elif node.type == "method_invocation" and node.child_by_field_name("name").text in (
            b"setViewName",
            b"setView",
        ):
            target = node.child_by_field_name("object")
            if target is not None:
                assigned.add(target.text.decode("utf-8"))
        stack.extend(node.named_children)
    return {name: view for name, view in found.items() if name not in assigned}


def returned_views(code: str, constants: dict[str, str]) -> list[str] | None:
    """The view names a controller method returns, in order, or None when one of its
    returns is not a literal view name (or a constant of its class, or a local variable,
    holding one).

    Example: returned_views('public String a() { return ok ? "x" : "redirect:/"; }', {})
    -> ["x", "redirect:/"]
    """
    source = ("class __W {\n" + code + "\n}").encode("utf-8")
    tree = _parser().parse(source)
    body = _method_body(tree.root_node)
    if tree.root_node.has_error or body is None:
        return None
    known = {**constants, **_locals(body, constants)}
    views: list[str] = []
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type in ("lambda_expression", "class_body"):
            continue  # a lambda's or an anonymous class's returns are not the method's
        if node.type == "return_statement":
            if not node.named_children:
                return None
            found = _views_of(node.named_children[0], known)
            if found is None:
                return None
            views += found
            continue
        stack.extend(reversed(node.children))
    return list(dict.fromkeys(views)) or None


def _method_body(root):
    """The body block of the wrapped method."""
    for node in root.named_children:
        body = node.child_by_field_name("body")  # the wrapper class's body
        for member in body.named_children if body is not None else []:
            if member.type == "method_declaration":
                return member.child_by_field_name("body")
    return None


def _constants(repo: RepoView, owner: Unit) -> dict[str, str]:
    out = {}
    for member in repo.members.get(owner.qualified_name, []):
        init = (member.initializer or "").strip()
        if (
            member.kind == "field"
            and "final" in member.modifiers
            and re.fullmatch(r'"[^"\\]*"', init)
        ):
            out[member.name] = init[1:-1]
    return out


def _may_return_a_view(method: Unit) -> bool:
    """A request handler (or exception handler) returning a String or ModelAndView, not
    marked @ResponseBody."""
    names = {annotation_name(a) for a in method.annotations}
    mapped = any(mapping_method(a) for a in method.annotations) or bool(
        names & {"RequestMapping", "ExceptionHandler"}
    )
    return (
        mapped
        and "ResponseBody" not in names
        and (method.type or "").rsplit(".", 1)[-1] in ("String", "ModelAndView")
    )


def _is_view_controller(owner: Unit) -> bool:
    """A @Controller (not @RestController, not @ResponseBody on the class)."""
    names = {annotation_name(a) for a in owner.annotations}
    return "Controller" in names and "ResponseBody" not in names


def view_line(view: str, template: Unit | None) -> str:
    """One view, in words. Example: view_line("redirect:/rooms", None) -> "a redirect to
    `/rooms` (no view is rendered)" """
    for prefix, what in (("redirect:", "a redirect to"), ("forward:", "a forward to")):
        if view.startswith(prefix):
            return f"{what} `{view[len(prefix) :]}` (no view is rendered)"
    if template is not None:
        return f"the view `{view}`, rendered from {template.path}"
    return f"the view `{view}`"


@family("view")
def views(repo: RepoView, tasks: dict, seed: int) -> list:
    templates: dict[str, list[Unit]] = defaultdict(list)
    for unit in repo.units:
        if unit.kind == "view_template":
            templates[unit.qualified_name].append(unit)
    out = []
    for unit in repo.units:
        if unit.kind != "method" or unit.language != "java" or is_test_path(unit.path):
            continue
        if not _may_return_a_view(unit):
            continue
        owner = repo.context(unit.path).owner(unit)
        if owner is None or not _is_view_controller(owner):
            continue
        found = returned_views(unit.code, _constants(repo, owner))
        if not found:
            continue
        module = repo.module_of(unit.path)
        lines = [view_line(v, _template(templates.get(v, []), module, repo)) for v in found]
        if len(lines) == 1:
            text = lines[0][0].upper() + lines[0][1:] + "."
        else:
            text = "One of these, depending on the request:\n" + "\n".join(
                f"- {ln}" for ln in lines
            )
        out += emit(repo, tasks, "view", unit, repo.values(unit), text, seed)
    return out


def _template(found: list[Unit], module: str | None, repo: RepoView) -> Unit | None:
    same = [t for t in found if repo.module_of(t.path) == module]
    if len(same) == 1:
        return same[0]
    return found[0] if len(found) == 1 else None
