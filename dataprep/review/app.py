"""The review web app: a Starlette application over one working store.

Safety (the middleware is dataprep.review.guards): the app answers only to the hosts
127.0.0.1 and localhost (DNS rebinding), every POST needs the per-server CSRF token in
`X-CSRF-Token` (403 otherwise), everything from the repository or an LLM goes through
Jinja's autoescape (or Pygments, which escapes), the Content-Security-Policy allows
scripts from the app's own static files only, and a request body over MAX_BODY bytes is
refused (413) before it is read.
"""

import json
import secrets
import sqlite3
import textwrap
import threading
import uuid
from pathlib import Path
from urllib.parse import parse_qsl

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from dataprep.errors import DataprepError
from dataprep.models import TYPE_KINDS, Pair, Unit
from dataprep.review import actions, queue
from dataprep.review.guards import ALLOWED_HOSTS, BodyLimit, Guard, error_response
from dataprep.secrets import Redactor
from dataprep.store import Store

HERE = Path(__file__).resolve().parent
MAX_BODY = 4 * actions.MAX_TEXT
MAX_CHAIN = 20
MAX_SELECTED = 10_000  # pair ids in one bulk action on selected rows
CACHE_MB = 256  # the store's pages the server may keep in memory (at most)
_FORMATTER = HtmlFormatter(cssclass="highlight", wrapcode=True)


class ReviewApp:
    """Request handlers over one store; a lock serialises the store's single connection.

    The queue's grouped counts are cached until the store changes: every write of this app
    clears them, and `_sync` notices another process's writes (SQLite's data_version) and
    brings their state into the queue's rows first.
    """

    def __init__(self, out_dir: Path, token: str):
        self.store = Store.open(out_dir, create=False)
        self.store.use_cache(CACHE_MB)
        self.out_dir = Path(out_dir)
        self.token = token
        self.lock = threading.Lock()
        self.version: int | None = None
        self.cache: dict[tuple, list[queue.Group]] = {}
        env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
        )
        env.filters["query"] = lambda filters, **kw: filters.to_query(**kw)
        env.filters["qs"] = _qs
        env.filters["score"] = _score
        self.templates = Jinja2Templates(env=env)
        with self.lock:
            self._sync()

    def _sync(self) -> None:
        """Refresh the queue's rows when another process wrote the store since we looked."""
        version = self.store.data_version()
        if version != self.version:
            self.store.refresh_review_rows()
            self.version = version
            self._changed()

    def _changed(self) -> None:
        self.cache.clear()

    def _groups(self, filters: queue.Filters, ids: list[str] | None = None) -> list[queue.Group]:
        """`queue.groups`, cached until the store changes (not for a sample's ids)."""
        if ids is not None:
            return queue.groups(self.store, filters, ids)
        key = (filters.q, filters.judge_min, filters.judge_max)
        if key not in self.cache:
            if len(self.cache) > 16:
                self.cache.clear()
            self.cache[key] = queue.groups(self.store, filters)
        return self.cache[key]

    def _sample(self, filters: queue.Filters) -> list[str] | None:
        """The ids of the queue's sample, or None when it shows every pair that passes."""
        if not filters.sample:
            return None
        return self.store.review_sample(filters, filters.sample, filters.seed)

    # pages -----------------------------------------------------------------------
    def queue_page(self, request: Request) -> Response:
        filters = queue.Filters.from_query(request.query_params)
        sort, desc = filters.order
        with self.lock:
            self._sync()
            everything = self._groups(queue.Filters())
            groups = self._groups(filters) if filters.narrowed else everything
            sample = self._sample(filters)
            if sample is None:
                matched = sum(g.n for g in groups if g.passes(filters))
                shown = queue.progress(groups, filters)
            else:
                matched = len(sample)
                shown = queue.progress(self._groups(filters, sample), filters)
            page, pages = queue.page_count(matched, _int(request.query_params.get("page"), 1))
            offset = (page - 1) * queue.PAGE_SIZE
            if sample is not None:
                values = self.store.review_page(
                    filters, sort, desc, queue.PAGE_SIZE, offset, ids=sample
                )
            elif matched:
                values = queue.page(self.store, filters, groups, offset, _walk(matched, everything))
            else:
                values = []
            rows = queue.rows(self.store, values)
        return self._render(
            request,
            "queue.html",
            filters=filters,
            rows=rows,
            page=page,
            pages=pages,
            matched=matched,
            counts=queue.facet_counts(groups, filters),
            progress=queue.progress(everything, queue.Filters()),
            shown_progress=shown,
            has_judge=any(g.judged for g in everything),
            first_index=offset,
            new_seed=secrets.token_hex(3),
        )

    def pair_page(self, request: Request) -> Response:
        pair_id = request.path_params["pair_id"]
        filters = queue.Filters.from_query(request.query_params)
        with self.lock:
            self._sync()
            pair = self.store.pair(pair_id)
            if pair is None:
                return self._render(request, "missing.html", status_code=404, pair_id=pair_id)
            values = self.store.review_row(pair_id)
            everything = self._groups(queue.Filters())
            sample = self._sample(filters)
            if sample is not None:
                sort, desc = filters.order
                prev_id, next_id = self.store.review_neighbours(
                    pair_id, filters, sort, desc, ids=sample
                )
            else:
                groups = self._groups(filters) if filters.narrowed else everything
                matched = sum(g.n for g in groups if g.passes(filters))
                prev_id, next_id = queue.neighbours(
                    self.store, filters, groups, pair_id, _walk(matched, everything)
                )
            unit = self.store.unit(pair.unit_id)
            review = self.store.review(pair_id)
            decisions = self.store.decisions_of(pair_id)
            chain = self._chain(pair)
            members = self._members(unit) if unit and unit.kind in TYPE_KINDS else []
            progress = queue.progress(everything, queue.Filters())
        return self._render(
            request,
            "pair.html",
            filters=filters,
            pair=pair,
            unit=unit,
            review=review,
            row=queue.Row.of(values) if values else None,
            revised=review is not None and actions.has_revision(review),
            decisions=decisions,
            chain=chain,
            prev_id=prev_id,
            next_id=next_id,
            code_html=_highlight(unit.code, unit.language, unit.start_line) if unit else None,
            javadoc_html=_highlight(unit.javadoc, unit.language, None)
            if unit and unit.javadoc
            else None,
            progress=progress,
            members=[(m, _highlight(m.code, m.language, m.start_line)) for m in members],
        )

    def _members(self, unit: Unit) -> list[Unit]:
        """A type's own members in file order (a type unit's code is its header only)."""
        members = self.store.units_in(unit.path)
        seen, out = set(), []
        for m in sorted(members, key=lambda m: (m.start_line, m.end_line)):
            # one field unit per variable shares its statement: show the statement once
            if m.parent == unit.qualified_name and (m.start_line, m.code) not in seen:
                seen.add((m.start_line, m.code))
                out.append(m)
        return out

    def _chain(self, pair: Pair) -> list[tuple[str, Pair | None]]:
        """The evolved pair's ancestors, root first: (id, pair or None when not stored)."""
        chain: list[tuple[str, Pair | None]] = []
        seen = {pair.id}
        parent_id = pair.parent_id
        while parent_id and parent_id not in seen and len(chain) < MAX_CHAIN:
            seen.add(parent_id)
            parent = self.store.pair(parent_id)
            chain.append((parent_id, parent))
            parent_id = parent.parent_id if parent else None
        return chain[::-1]

    def pygments_css(self, request: Request) -> Response:
        return Response(_FORMATTER.get_style_defs(".highlight"), media_type="text/css")

    # actions ---------------------------------------------------------------------
    async def act(self, request: Request) -> Response:
        pair_id, action = request.path_params["pair_id"], request.path_params["action"]
        payload = await _json(request)
        if isinstance(payload, Response):
            return payload
        with self.lock:
            pair = self.store.pair(pair_id)
            if pair is None:
                return error_response(f"no pair {pair_id}: reload the queue", 404)
            if action == "undo":
                undone = self.store.undo_review(pair_id)
                self._changed()
                return JSONResponse({"ok": True, "undone": undone, "review": self._dump(pair_id)})
            redactor = Redactor(self.store)
            payload, rules = actions.redact_payload(payload, redactor.redact)
            try:
                review = actions.next_review(self.store.review(pair_id), pair, action, payload)
            except DataprepError as exc:
                return error_response(str(exc), 400)
            with self.store.transaction():  # the placeholders' numbering with the review
                self.store.put_review(review)
                redactor.save()
            self._changed()
        answer = {"ok": True, "review": review.model_dump(), "redacted": len(rules)}
        if rules:
            answer["message"] = actions.redaction_note(rules)
        return JSONResponse(answer)

    async def undo(self, request: Request) -> Response:
        payload = await _json(request)
        if isinstance(payload, Response):
            return payload
        with self.lock:
            undone = self.store.undo_review()
            self._changed()
        return JSONResponse({"ok": True, "undone": undone})

    async def bulk(self, request: Request) -> Response:
        """Accept or reject many pairs at once: the `ids` selected, or else every pair the
        queue's `query` matches; `expected` is the count the person confirmed (409 when the
        queue has changed since). One undo reverts the whole action."""
        payload = await _json(request)
        if isinstance(payload, Response):
            return payload
        action = payload.get("action")
        if action not in actions.BULK_ACTIONS:
            return error_response("bulk action must be accept or reject", 400)
        ids = payload.get("ids")
        if ids is not None and not _ids(ids):
            return error_response(f"ids must be a list of at most {MAX_SELECTED} pair ids", 400)
        filters = queue.Filters.from_query(dict(parse_qsl(str(payload.get("query") or ""))))
        expected = payload.get("expected")
        with self.lock:
            self._sync()
            redactor = Redactor(self.store)
            payload, rules = actions.redact_payload(payload, redactor.redact)
            try:
                status, reason = actions.bulk_review(action, payload)
            except DataprepError as exc:
                return error_response(str(exc), 400)
            if ids is not None:
                filters, expected = queue.Filters(flag="all"), len(ids)
            else:
                ids = self._sample(filters)
            with self.store.transaction():
                matched, changed = self.store.bulk_review(
                    filters, status, reason, uuid.uuid4().hex, ids=ids, expected=expected
                )
                if matched != expected:
                    return error_response(_stale(matched, expected, picked=payload.get("ids")), 409)
                redactor.save()
            self._changed()
        answer = {"ok": True, "matched": matched, "changed": changed, "redacted": len(rules)}
        if rules:
            answer["message"] = actions.redaction_note(rules)
        return JSONResponse(answer)

    # helpers ---------------------------------------------------------------------
    def _dump(self, pair_id: str) -> dict | None:
        review = self.store.review(pair_id)
        return review.model_dump() if review else None

    def _render(self, request: Request, name: str, status_code: int = 200, **context) -> Response:
        context.update(csrf_token=self.token, out_dir=str(self.out_dir))
        return self.templates.TemplateResponse(request, name, context, status_code=status_code)


def create_app(out_dir: Path, token: str | None = None) -> Starlette:
    """The review app over `out_dir/dataprep.db` (StoreError if there is none).

    Example:
        app = create_app(Path("out"))
        uvicorn.run(app, host="127.0.0.1", port=8765)
    """
    token = token or secrets.token_urlsafe(32)
    handlers = ReviewApp(out_dir, token)
    routes = [
        Route("/", handlers.queue_page),
        Route("/pair/{pair_id}", handlers.pair_page),
        Route("/pygments.css", handlers.pygments_css),
        Route("/api/pairs/{pair_id}/{action}", handlers.act, methods=["POST"]),
        Route("/api/undo", handlers.undo, methods=["POST"]),
        Route("/api/bulk", handlers.bulk, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={sqlite3.OperationalError: _store_busy},
        middleware=[
            Middleware(Guard, token=token),
            Middleware(TrustedHostMiddleware, allowed_hosts=ALLOWED_HOSTS),
            Middleware(BodyLimit, limit=MAX_BODY),
        ],
    )
    app.state.review = handlers
    app.state.csrf_token = token
    return app


def _reindent(code: str) -> str:
    """Code cut from its file starts at its first token: give the first line back the
    indentation the rest implies, then dedent the whole, for display only.

    Example: "void f() {\n        x();\n    }" -> "void f() {\n    x();\n}"
    """
    lines = code.split("\n")
    rest = [line for line in lines[1:] if line.strip()]
    if not rest or lines[0][:1].isspace():
        return code
    indent = min(len(line) - len(line.lstrip(" ")) for line in rest)
    return textwrap.dedent(" " * indent + code)


def _highlight(text: str, language: str | None, first_line: int | None) -> Markup:
    """Syntax-highlighted HTML; Pygments escapes the source, so the result is safe markup."""
    try:
        lexer = get_lexer_by_name(language or "text")
    except ClassNotFound:
        lexer = TextLexer()
    if first_line is None:
        formatter = _FORMATTER
    else:
        formatter = HtmlFormatter(
            cssclass="highlight", wrapcode=True, linenos="inline", linenostart=first_line
        )
        text = _reindent(text) if language == "java" else text
    return Markup(highlight(text, lexer, formatter))  # noqa: S704 (Pygments output is escaped)


async def _json(request: Request) -> dict | Response:
    try:
        body = await request.body()  # at most MAX_BODY bytes: BodyLimit refuses a larger one
    except ClientDisconnect:  # the browser went away mid-body: nobody reads the answer
        return error_response("the client disconnected", 400)
    if not body:
        return {}
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: arrays or objects nested too deep
        return error_response("the request body must be a JSON object of a few fields", 400)
    return (
        data
        if isinstance(data, dict)
        else error_response("the request body must be a JSON object", 400)
    )


async def _store_busy(request: Request, exc: Exception) -> JSONResponse:
    """Another dataprep command holds the store's write lock past the busy timeout."""
    return error_response(
        f"the store is busy ({exc}): another dataprep command is writing; try again", 503
    )


def _qs(filters: queue.Filters, **overrides: object) -> str:
    """`?query` for a link keeping the filters, or nothing when they are the defaults."""
    query = filters.to_query(**overrides)
    return f"?{query}" if query else ""


def _score(value: float | None) -> str:
    """A judge score as shown: `7`, `7.5`, or empty when there is none."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _walk(matched: int, everything: list[queue.Group]) -> bool:
    """Whether the filters pass so many pairs (1 in 20 or more) that the queue's order is
    best read by walking its index, stopping at a page, rather than sorting what they pass."""
    return matched * 20 >= sum(g.n for g in everything)


def _stale(matched: int, expected: object, picked: object) -> str:
    """Why a bulk action was refused: the queue or the selection changed since the page."""
    if picked is not None:
        gone = f"{expected - matched} of the {expected}"  # type: ignore[operator]
        return f"{gone} selected pairs are no longer in the store: reload and select again"
    return f"the queue changed: {matched} pairs match now; reload and confirm again"


def _ids(value: object) -> bool:
    """Whether `value` is a list of pair ids a bulk action takes (strings, not too many)."""
    return (
        isinstance(value, list)
        and len(value) <= MAX_SELECTED
        and all(isinstance(v, str) and 0 < len(v) <= 64 for v in value)
    )


def _int(value: object, default: int) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default
