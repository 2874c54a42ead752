"""The review server's guards, as ASGI middleware: security headers on every response, the
CSRF token (and same-origin) check on every POST, and a cap on request bodies.

The app answers only to the hosts in ALLOWED_HOSTS (DNS rebinding; Starlette's
TrustedHostMiddleware), and the Content-Security-Policy allows scripts from the app's own
static files only.
"""

import hmac

from starlette.responses import JSONResponse

ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
CSRF_HEADER = "x-csrf-token"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


class Guard:
    """ASGI middleware: security headers on every response, CSRF check on every POST."""

    def __init__(self, app, token: str):
        self.app = app
        self.token = token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_secured(message):
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.decode() not in SECURITY_HEADERS
                ]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        if scope["method"] not in ("GET", "HEAD") and not self._authorised(scope):
            refusal = error_response("missing or wrong CSRF token: reload the page", 403)
            return await refusal(scope, receive, send_secured)
        await self.app(scope, receive, send_secured)

    def _authorised(self, scope) -> bool:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return False
        origin = headers.get("origin")
        # A browser sends Origin on a cross-site POST; it must be this very server.
        return origin is None or origin == f"http://{headers.get('host', '')}"


class _BodyTooLarge(Exception):
    """Raised by BodyLimit's receive when a streamed body passes the limit."""


class BodyLimit:
    """ASGI middleware: a request body over `limit` bytes is a 413 (and the connection
    closed), from its Content-Length before any of it is read, or as soon as a body sent
    without one (chunked) passes the limit, so memory holds at most the limit and a chunk.
    """

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = _content_length(scope)
        if length is not None and length > self.limit:
            return await self._refuse(scope, receive, send)
        received, started = 0, False

        async def receive_limited():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _BodyTooLarge
            return message

        async def send_started(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive_limited, send_started)
        except _BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope, receive, send):
        refusal = error_response(
            f"the request body is larger than {self.limit} bytes: shorten the text", 413
        )
        refusal.headers["connection"] = "close"  # the rest of the body is never read
        await refusal(scope, receive, send)


def _content_length(scope) -> int | None:
    """The request's Content-Length as a number, or None when absent or not a number."""
    for key, value in scope["headers"]:
        if key.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            if not text.isdigit():
                return None  # the HTTP server refuses these before the app sees them
            return int(text) if len(text) < 19 else 10**18  # int() of 5,000 digits fails
    return None


def error_response(message: str, status: int) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status_code=status)
