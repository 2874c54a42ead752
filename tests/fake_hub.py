"""A local HTTP server on 127.0.0.1 answering the few Hub API routes a dataset push uses.

It answers like the Hub does (status codes, `X-Error-Code` headers, JSON bodies) for
whoami, repo info, repo creation, README validation, pre-upload and commit, and records
what was committed, so tests can run the real `huggingface_hub` client against it.
"""

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class HubState:
    tokens: dict[str, str] = field(default_factory=lambda: {"hf_good": "write", "hf_read": "read"})
    user: str = "tester"
    writable: set[str] = field(default_factory=lambda: {"tester", "acme-org"})
    repos: dict[str, bool] = field(default_factory=dict)  # repo id -> private
    commits: list[tuple[str, dict[str, bytes]]] = field(default_factory=list)
    created: list[tuple[str, bool]] = field(default_factory=list)
    fail_commit: int | None = None
    seen_auth: list[str] = field(default_factory=list)


def _handler(state: HubState):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _send(self, status: int, body: dict, headers: dict[str, str] | None = None):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _token(self) -> str | None:
            auth = self.headers.get("Authorization", "")
            state.seen_auth.append(auth)
            return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _authorized(self) -> bool:
            if self._token() in state.tokens:
                return True
            self._send(
                401,
                {"error": "Invalid credentials in Authorization header"},
                {"X-Error-Message": "Invalid credentials in Authorization header"},
            )
            return False

        def _not_found(self, repo: str):
            self._send(
                404,
                {"error": "Repository not found"},
                {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"},
            )

        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/api/whoami-v2":
                if not self._authorized():
                    return
                role = state.tokens[self._token()]
                body = {"type": "user", "name": state.user, "auth": {"accessToken": {"role": role}}}
                return self._send(200, body)
            m = re.fullmatch(r"/api/datasets/([^/]+/[^/]+)(/revision/.*)?", path)
            if m:
                if not self._authorized():
                    return
                repo = m.group(1)
                if repo not in state.repos:
                    return self._not_found(repo)
                body = {"id": repo, "private": state.repos[repo], "sha": "0" * 40}
                return self._send(200, body)
            self._send(404, {"error": f"no route {path}"})

        def do_POST(self):
            path = self.path.split("?")[0]
            body = self._body()
            if not self._authorized():
                return
            if state.tokens[self._token()] != "write" and path != "/api/validate-yaml":
                return self._send(403, {"error": "token is read-only"})
            if path == "/api/repos/create":
                data = json.loads(body)
                owner = data.get("organization") or state.user
                repo = f"{owner}/{data['name']}"
                if owner == "ghost":
                    return self._send(404, {"error": "namespace not found"})
                if owner not in state.writable:
                    return self._send(
                        403, {"error": "You don't have the rights to create a dataset"}
                    )
                if repo in state.repos:
                    return self._send(409, {"error": "You already created this dataset repo"})
                private = data.get("visibility", "private" if data.get("private") else "public")
                state.repos[repo] = private == "private"
                state.created.append((repo, state.repos[repo]))
                return self._send(200, {"url": f"http://{self.headers['Host']}/datasets/{repo}"})
            if path == "/api/validate-yaml":
                return self._send(200, {"errors": [], "warnings": []})
            m = re.fullmatch(r"/api/datasets/([^/]+/[^/]+)/(preupload|commit)/(.+)", path)
            if m:
                repo, action = m.group(1), m.group(2)
                if repo not in state.repos:
                    return self._not_found(repo)
                if m.group(1).split("/")[0] not in state.writable:
                    return self._send(403, {"error": "no write access"})
                if action == "preupload":
                    files = json.loads(body)["files"]
                    answer = [
                        {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                        for f in files
                    ]
                    return self._send(200, {"files": answer})
                if state.fail_commit:
                    return self._send(state.fail_commit, {"error": "Internal Error"})
                files: dict[str, bytes] = {}
                for line in body.decode().splitlines():
                    item = json.loads(line)
                    if item["key"] == "file":
                        files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                state.commits.append((repo, files))
                oid = "c0ffee" + "0" * 34
                url = f"http://{self.headers['Host']}/datasets/{repo}/commit/{oid}"
                return self._send(200, {"commitUrl": url, "commitOid": oid})
            self._send(404, {"error": f"no route {path}"})

    return Handler


class FakeHub:
    """Start with `with FakeHub() as hub:`; `hub.url` is the endpoint, `hub.state` what it saw."""

    def __init__(self, state: HubState | None = None):
        self.state = state or HubState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeHub":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
