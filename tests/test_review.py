"""The review app at the HTTP level (Starlette's TestClient): safety, actions, filters, CLI."""

import contextlib
import json
import re
import socket
import threading
import time
import urllib.request

import pytest

pytest.importorskip("starlette", reason="pip install dataprep[review]")
from factories import XSS_IMG, XSS_SCRIPT, review_store, service_pair, service_unit  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402
from store_text import store_rows  # noqa: E402

from dataprep.errors import InputError  # noqa: E402
from dataprep.export import select_pairs  # noqa: E402
from dataprep.review import queue, server  # noqa: E402
from dataprep.review.app import MAX_BODY, _reindent, create_app
from dataprep.review.guards import CSP  # noqa: E402
from dataprep.store import Store  # noqa: E402

TOKEN = "test-token"


@pytest.fixture
def pairs(tmp_path):
    return review_store(tmp_path)


@pytest.fixture
def client(tmp_path, pairs):
    with TestClient(create_app(tmp_path, token=TOKEN), base_url="http://127.0.0.1") as c:
        yield c


def post(client, url, payload=None, token=TOKEN, **headers):
    return client.post(url, json=payload or {}, headers={"X-CSRF-Token": token, **headers})


def reviews(tmp_path):
    """What export reads: a fresh connection to the store, so only committed data shows."""
    with Store.open(tmp_path, create=False) as store:
        return store.reviews()


def matched(html: str) -> int:
    return int(re.search(r'<span id="matched"><b>(\d+)</b> pairs match', html).group(1))


# safety ---------------------------------------------------------------------------------
@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_post_without_the_csrf_token_is_refused_and_changes_nothing(client, pairs, tmp_path, token):
    headers = {} if token is None else {"X-CSRF-Token": token}
    pid = pairs["explain"].id
    for url in (f"/api/pairs/{pid}/accept", "/api/undo", "/api/bulk"):
        response = client.post(url, json={"action": "accept", "expected": 5}, headers=headers)
        assert response.status_code == 403
        assert response.json() == {
            "ok": False,
            "error": "missing or wrong CSRF token: reload the page",
        }
        assert response.headers["content-security-policy"] == CSP
    assert reviews(tmp_path) == {}


def test_the_page_embeds_the_token_and_a_post_with_it_succeeds(client, pairs, tmp_path):
    assert f'<meta name="csrf-token" content="{TOKEN}">' in client.get("/").text
    assert post(client, f"/api/pairs/{pairs['explain'].id}/accept").status_code == 200
    assert reviews(tmp_path)[pairs["explain"].id].status == "accepted"


def test_a_cross_site_origin_is_refused_even_with_the_token(client, pairs, tmp_path):
    url = f"/api/pairs/{pairs['explain'].id}/accept"
    assert post(client, url, Origin="http://evil.example").status_code == 403
    assert post(client, url, Origin="http://127.0.0.1").status_code == 200


def test_a_server_started_without_a_token_makes_a_random_one(tmp_path, pairs):
    a, b = create_app(tmp_path), create_app(tmp_path)
    assert len(a.state.csrf_token) >= 32 and a.state.csrf_token != b.state.csrf_token


def test_only_local_host_names_are_answered(client):
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "localhost:8765"}).status_code == 200


def test_every_page_carries_the_csp_and_has_no_inline_script(client, pairs):
    for url in ("/", "/?flag=all", *(f"/pair/{p.id}" for p in pairs.values())):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["content-security-policy"] == CSP
        assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
        scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", response.text, flags=re.S)
        assert scripts == [""]  # one script tag, with a src and an empty body
        assert '<script src="/static/review.js" defer>' in response.text
        assert not re.search(r"<[a-z]+\b[^>]*\son[a-z]+\s*=", response.text)  # no onX= handlers
        assert " style=" not in response.text


def test_repository_text_is_escaped_everywhere(client, pairs):
    html = client.get(f"/pair/{pairs['xss'].id}").text
    assert XSS_SCRIPT not in html and XSS_IMG not in html
    assert "<img" not in html
    # the output (Jinja), the edit box (Jinja) and the Javadoc (Pygments) show it as text
    assert html.count("&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;") == 2
    assert "&lt;script&gt;alert('xss')&lt;/script&gt;" in html  # Pygments' escaping
    queue = client.get("/?task=document_method").text
    assert "Write the Javadoc for findFree." in queue and XSS_SCRIPT not in queue


def test_static_files_and_pygments_css_are_served(client):
    js = client.get("/static/review.js")
    assert js.status_code == 200 and "X-CSRF-Token" in js.text
    assert client.get("/static/review.css").status_code == 200
    css = client.get("/pygments.css")
    assert css.headers["content-type"].startswith("text/css") and ".highlight" in css.text


# pages ----------------------------------------------------------------------------------
def test_pair_view_shows_the_source_unit_highlighted(client, pairs):
    html = client.get(f"/pair/{pairs['explain'].id}").text
    assert "room/src/main/java/com/example/hotel/room/RoomService.java</code> lines 40–42" in html
    assert '<span class="kd">public</span>' in html  # Pygments' Java lexer ran
    assert '<span class="linenos">40</span>' in html  # numbered from the unit's first line


def test_a_type_pair_shows_the_types_members(client, tmp_path):
    header = "public class RoomService"
    cls = service_unit("RoomService", header, 10, kind="class").model_copy(
        update={
            "qualified_name": "com.example.hotel.room.RoomService",
            "parent": None,
            "end_line": 70,
        }
    )
    pair = service_pair(cls, "type.name", "Which type is declared here?", "RoomService")
    with Store.open(tmp_path) as store:
        units = store.units()
        store.put_file(cls.path, "digest2", "ok", [*units, cls])
        store.put_pairs([pair])
    html = client.get(f"/pair/{pair.id}").text
    members = html[html.index('<div class="members"') :]
    assert members.index("findFree") < members.index("count")  # file order
    assert '<span class="linenos">60</span>' in members


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("void f() {\n        x();\n    }", "void f() {\n    x();\n}"),
        ("@Autowired\n    private MockMvc mvc;", "@Autowired\nprivate MockMvc mvc;"),
        ("int a;", "int a;"),
        ("  already();\n  indented();", "  already();\n  indented();"),
    ],
)
def test_code_cut_from_its_file_is_shown_reindented(code, shown):
    assert _reindent(code) == shown


def test_evolved_pair_shows_its_chain_root_first(client, pairs):
    html = client.get(f"/pair/{pairs['evol2'].id}").text
    chain = html[html.index('<ol class="chain"') :]
    positions = [
        chain.index(pairs[name].instruction.replace("'", "&#39;"))
        for name in ("explain", "evol1", "evol2")
    ]
    assert positions == sorted(positions)
    assert "deepen, round 1" in chain and "(this pair)" in chain
    assert '<dd id="judge-score">90</dd>' in html


def test_a_missing_pair_is_a_404_page(client):
    response = client.get("/pair/nope")
    assert response.status_code == 404 and "No pair <code>nope</code>" in response.text


def test_queue_counts_and_filters(client, pairs):
    assert matched(client.get("/").text) == 5  # the near-duplicate is dropped by default
    assert matched(client.get("/?flag=all").text) == 6
    dropped = client.get("/?flag=dropped:filter.near_duplicate").text
    assert matched(dropped) == 1 and pairs["dup"].instruction in dropped
    assert matched(client.get("/?generator=evol").text) == 2
    assert matched(client.get("/?task=method_signature").text) == 1
    assert matched(client.get("/?split=test").text) == 1
    assert matched(client.get("/?kind=method").text) == 5
    assert matched(client.get("/?judge_min=70").text) == 1
    assert matched(client.get("/?judge_min=50&judge_max=80").text) == 1
    html = client.get("/").text
    assert 'reviewed <b id="progress-reviewed">0</b> of <b>5</b> kept pairs' in html
    assert '<option value="evol" >evol (2)</option>' in html.replace("  ", " ")


def test_status_filters_and_progress_follow_the_actions(client, pairs):
    post(client, f"/api/pairs/{pairs['explain'].id}/accept")
    post(client, f"/api/pairs/{pairs['evol1'].id}/reject", {"reason": "vague"})
    edit = {"instruction": "New?", "input": "", "output": "New."}
    post(client, f"/api/pairs/{pairs['evol2'].id}/edit", edit)
    post(client, f"/api/pairs/{pairs['xss'].id}/flag", {"note": "check"})
    assert matched(client.get("/?status=accepted").text) == 1
    assert matched(client.get("/?status=rejected").text) == 1
    assert matched(client.get("/?status=edited").text) == 1
    assert matched(client.get("/?status=unreviewed").text) == 2  # flagging is not a review
    assert matched(client.get("/?flag=flagged").text) == 1
    assert 'reviewed <b id="progress-reviewed">3</b> of <b>5</b>' in client.get("/").text


def test_queue_pages_and_neighbours(tmp_path):
    pairs = review_store(tmp_path, n_extra=60)
    with TestClient(create_app(tmp_path, token=TOKEN), base_url="http://127.0.0.1") as client:
        first, second = client.get("/").text, client.get("/?page=2").text
        assert "page 1 of 2" in first and 'id="next-page"' in first
        assert "page 2 of 2" in second and second.count("<tr data-pair-id=") == 65 - 50
        assert "page 2 of 2" in client.get("/?page=99").text
        # next/previous follow the queue's order within the filter, the pair itself excluded
        html = client.get(f"/pair/{pairs['evol1'].id}?generator=evol").text
        assert f'data-next-url="/pair/{pairs["evol2"].id}?generator=evol"' in html
        assert "data-prev-url" not in html


# actions --------------------------------------------------------------------------------
def test_accept_reject_flag_persist_at_once(client, pairs, tmp_path):
    pid = pairs["explain"].id
    assert post(client, f"/api/pairs/{pid}/accept").json()["review"]["status"] == "accepted"
    assert reviews(tmp_path)[pid].status == "accepted"
    post(client, f"/api/pairs/{pid}/reject", {"reason": "  not grounded  "})
    assert reviews(tmp_path)[pid].model_dump(include={"status", "reason"}) == {
        "status": "rejected",
        "reason": "not grounded",
    }
    post(client, f"/api/pairs/{pid}/flag", {"note": "ask Ana"})
    review = reviews(tmp_path)[pid]
    assert (review.status, review.flagged, review.note) == ("rejected", True, "ask Ana")
    post(client, f"/api/pairs/{pid}/unflag")
    assert reviews(tmp_path)[pid].flagged is False


def test_an_edit_keeps_the_original_beside_the_revision(client, pairs, tmp_path):
    pair = pairs["signature"]
    edit = {"instruction": "Signature of count?", "input": "", "output": "int count()"}
    assert post(client, f"/api/pairs/{pair.id}/edit", edit).status_code == 200
    review = reviews(tmp_path)[pair.id]
    assert review.status == "edited"
    assert (review.instruction, review.input, review.output) == (
        "Signature of count?",
        "",
        "int count()",
    )
    with Store.open(tmp_path) as store:
        assert store.pair(pair.id) == pair  # the pair itself never changes
    html = client.get(f"/pair/{pair.id}").text
    assert '<pre class="text" id="rev-output">\nint count()</pre>' in html
    assert '<pre class="text" id="pair-output">\npublic int count()</pre>' in html
    # accepting an edited pair keeps the revision; reject keeps it in the review
    post(client, f"/api/pairs/{pair.id}/accept")
    assert reviews(tmp_path)[pair.id].status == "edited"
    post(client, f"/api/pairs/{pair.id}/reject")
    assert reviews(tmp_path)[pair.id].output == "int count()"


AWS_KEY = "AKIA7LRWFVEALKXWKKXZ"
PASSWORD = "Hunter2Secret!x"


def _everything_stored(tmp_path) -> str:
    """Every row of every table, and the raw bytes of the store's files."""
    with Store.open(tmp_path, create=False) as store:
        tables = [
            t
            for (t,) in store.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'"  # its rows are in its own tables
            )
        ]
    rows = [repr(row) for _, row in store_rows(tmp_path / "dataprep.db")]
    raw = b"".join(f.read_bytes() for f in tmp_path.glob("dataprep.db*"))
    assert "review_events" in tables and "meta" in tables
    return "\n".join(rows) + raw.decode("latin-1")


def test_secrets_in_an_edit_are_redacted_before_they_are_stored(client, pairs, tmp_path):
    pair = pairs["explain"]
    edit = {
        "instruction": "Which key does the client use?",
        "input": f"db.user=app\ndb.password={PASSWORD}\n",
        "output": f"It signs requests with {AWS_KEY}.",
    }
    response = post(client, f"/api/pairs/{pair.id}/edit", edit)
    assert response.status_code == 200
    answer = response.json()
    assert answer["redacted"] == 2
    assert answer["message"] == "2 secrets were redacted before saving (aws_access_key, password)"
    review = reviews(tmp_path)[pair.id]
    assert review.status == "edited"
    assert review.input == "db.user=app\ndb.password=<SECRET:password:1>\n"
    assert review.output == "It signs requests with <SECRET:aws_access_key:1>."
    # a reason and a note are checked the same way; the same value keeps its placeholder
    response = post(client, f"/api/pairs/{pair.id}/flag", {"note": f"rotate {AWS_KEY}"})
    assert response.json()["message"] == "1 secret was redacted before saving (aws_access_key)"
    assert reviews(tmp_path)[pair.id].note == "rotate <SECRET:aws_access_key:1>"
    post(
        client, f"/api/pairs/{pairs['xss'].id}/reject", {"reason": f"it leaks\npassword={PASSWORD}"}
    )
    stored = _everything_stored(tmp_path)
    assert AWS_KEY not in stored and PASSWORD not in stored
    assert "<SECRET:aws_access_key:1>" in stored


def test_an_edit_without_secrets_says_none_were_redacted(client, pairs):
    edit = {"instruction": "Name it.", "input": "", "output": "findFree"}
    answer = post(client, f"/api/pairs/{pairs['explain'].id}/edit", edit).json()
    assert answer["redacted"] == 0 and "message" not in answer


def test_an_edit_equal_to_the_original_is_an_accept(client, pairs, tmp_path):
    pair = pairs["signature"]
    edit = {"instruction": pair.instruction, "input": pair.input, "output": pair.output}
    post(client, f"/api/pairs/{pair.id}/edit", edit)
    review = reviews(tmp_path)[pair.id]
    assert (review.status, review.output) == ("accepted", None)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"instruction": "x", "output": "y"}, "edit needs input as text"),
        (
            {"instruction": " ", "input": "", "output": "y"},
            "instruction and output cannot be empty",
        ),
    ],
)
def test_a_bad_edit_is_a_400_and_changes_nothing(client, pairs, tmp_path, payload, message):
    response = post(client, f"/api/pairs/{pairs['explain'].id}/edit", payload)
    assert response.status_code == 400 and message in response.json()["error"]
    assert reviews(tmp_path) == {}


def test_unknown_action_pair_and_bad_body(client, pairs):
    pid = pairs["explain"].id
    assert post(client, f"/api/pairs/{pid}/approve").status_code == 400
    assert post(client, "/api/pairs/nope/accept").status_code == 404
    response = client.post(
        f"/api/pairs/{pid}/accept", content=b"[1]", headers={"X-CSRF-Token": TOKEN}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body", [b"[" * 50_000, b'{"a":' * 50_000, b"{nope", b'{"a": 1' + b"1" * 5000 + b"}"]
)
def test_a_body_nested_too_deep_or_not_json_is_a_400(client, pairs, tmp_path, body):
    response = client.post(
        f"/api/pairs/{pairs['explain'].id}/accept", content=body, headers={"X-CSRF-Token": TOKEN}
    )
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "error": "the request body must be a JSON object of a few fields",
    }
    assert reviews(tmp_path) == {}


# the body limit, over real HTTP ----------------------------------------------------------
@contextlib.contextmanager
def serving(out):
    """The app over the store in `out`, served by uvicorn on 127.0.0.1 in a thread: its port."""
    import uvicorn

    sock = server.bind_socket(0)
    config = uvicorn.Config(
        create_app(out, token=TOKEN), log_level="warning", access_log=False, lifespan="off"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert uv.started
    try:
        yield sock.getsockname()[1]
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def live(tmp_path, pairs):
    """The review store served over real HTTP: (port, pairs)."""
    with serving(tmp_path) as port:
        yield port, pairs


def _request_head(pid: str, *headers: str, action: str = "accept") -> bytes:
    lines = [
        f"POST /api/pairs/{pid}/{action} HTTP/1.1",
        "Host: 127.0.0.1",
        f"X-CSRF-Token: {TOKEN}",
        "Content-Type: application/json",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _read_response(conn: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the answer; the server must close the connection."""
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), headers, body


TOO_LARGE = {
    "ok": False,
    "error": f"the request body is larger than {MAX_BODY} bytes: shorten the text",
}


def test_a_body_over_the_limit_is_refused_from_its_content_length_before_it_is_sent(live, tmp_path):
    port, pairs = live
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        # the headers announce a gigabyte; not one byte of it is sent
        conn.sendall(_request_head(pairs["explain"].id, "Content-Length: 1000000000"))
        status, headers, body = _read_response(conn)  # a timeout here: the server waited
    assert status == 413 and json.loads(body) == TOO_LARGE
    assert headers["connection"] == "close"
    assert headers["content-security-policy"] == CSP
    assert reviews(tmp_path) == {}


def test_a_chunked_body_is_refused_once_it_passes_the_limit(live, tmp_path):
    port, pairs = live
    piece = b" " * 100_000
    assert MAX_BODY % len(piece) == 0
    chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(_request_head(pairs["explain"].id, "Transfer-Encoding: chunked"))
        for _ in range(MAX_BODY // len(piece)):
            conn.sendall(chunk)  # exactly the limit so far
        conn.sendall(b"1\r\n \r\n")  # one byte over; no closing chunk follows
        status, headers, body = _read_response(conn)
    assert status == 413 and json.loads(body) == TOO_LARGE
    assert headers["connection"] == "close"
    assert reviews(tmp_path) == {}


def test_a_body_at_the_limit_is_read_and_a_deep_one_is_a_400(live, tmp_path):
    port, pairs = live
    pid = pairs["explain"].id
    at_limit = json.dumps({"reason": "vague"}).ljust(MAX_BODY)  # JSON allows the spaces
    for body, action, wanted in ((at_limit, "reject", 200), ("[" * 50_000, "accept", 400)):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            head = _request_head(
                pid, f"Content-Length: {len(body)}", "Connection: close", action=action
            )
            conn.sendall(head + body.encode())
            status, _, answer = _read_response(conn)
        assert status == wanted, answer
    assert reviews(tmp_path)[pid].model_dump(include={"status", "reason"}) == {
        "status": "rejected",
        "reason": "vague",
    }


def test_a_store_locked_by_another_writer_is_a_503_and_the_page_recovers(client, pairs, tmp_path):
    client.app.state.review.store.conn.execute("PRAGMA busy_timeout = 50")
    other = Store.open(tmp_path)
    other.conn.execute("BEGIN IMMEDIATE")  # e.g. `dataprep run` writing
    response = post(client, f"/api/pairs/{pairs['explain'].id}/accept")
    assert response.status_code == 503
    assert "another dataprep command is writing; try again" in response.json()["error"]
    other.conn.execute("ROLLBACK")
    other.close()
    assert post(client, f"/api/pairs/{pairs['explain'].id}/accept").status_code == 200
    assert reviews(tmp_path)[pairs["explain"].id].status == "accepted"


def test_undo_walks_back_one_pair(client, pairs, tmp_path):
    pid = pairs["explain"].id
    post(client, f"/api/pairs/{pid}/accept")
    post(client, f"/api/pairs/{pid}/reject", {"reason": "no"})
    assert post(client, f"/api/pairs/{pid}/undo").json()["undone"] == [pid]
    assert reviews(tmp_path)[pid].status == "accepted"
    post(client, f"/api/pairs/{pid}/undo")
    assert pid not in reviews(tmp_path)
    assert post(client, f"/api/pairs/{pid}/undo").json()["undone"] == []


def test_bulk_needs_the_confirmed_count_and_one_undo_reverts_it(client, pairs, tmp_path):
    query = "generator=evol"
    stale = post(client, "/api/bulk", {"action": "accept", "query": query, "expected": 3})
    assert stale.status_code == 409 and "2 pairs match now" in stale.json()["error"]
    assert reviews(tmp_path) == {}
    post(client, f"/api/pairs/{pairs['xss'].id}/accept")
    done = post(client, "/api/bulk", {"action": "reject", "query": query, "expected": 2})
    assert done.json() == {"ok": True, "matched": 2, "changed": 2, "redacted": 0}
    statuses = {pid: r.status for pid, r in reviews(tmp_path).items()}
    assert statuses == {
        pairs["evol1"].id: "rejected",
        pairs["evol2"].id: "rejected",
        pairs["xss"].id: "accepted",
    }
    assert sorted(post(client, "/api/undo").json()["undone"]) == sorted(
        [pairs["evol1"].id, pairs["evol2"].id]
    )
    assert list(reviews(tmp_path)) == [pairs["xss"].id]
    assert (
        post(client, "/api/bulk", {"action": "edit", "query": "", "expected": 5}).status_code == 400
    )


def test_unreviewed_left_out_counts_what_export_drops_after_the_first_verdict(
    client, pairs, tmp_path
):
    def left_out() -> tuple[int, int]:
        """The helper's count, and what export's selection leaves out as unreviewed."""
        with Store.open(tmp_path, create=False) as store:
            everything = len(select_pairs(store, include_unreviewed=True)[0])
            return queue.unreviewed_left_out(store), everything - len(select_pairs(store)[0])

    assert left_out() == (0, 0)  # 5 kept pairs, no verdict: export takes them all
    post(client, f"/api/pairs/{pairs['xss'].id}/flag", {"note": "look"})
    assert left_out() == (0, 0)  # a flag is not a verdict
    post(client, f"/api/pairs/{pairs['explain'].id}/accept")
    assert left_out() == (4, 4)
    post(client, f"/api/pairs/{pairs['evol1'].id}/reject")
    assert left_out() == (3, 3)  # a rejected pair is out for its own reason
    post(client, f"/api/pairs/{pairs['dup'].id}/accept")
    assert left_out() == (3, 3)  # a pair the filters dropped is not counted
    with Store.open(tmp_path, create=False) as store:
        kept = [p for p in store.kept_pairs() if p.id != pairs["evol2"].id]
        assert queue.unreviewed_left_out(store, kept) == 2


def test_reviews_survive_a_rerun_of_earlier_stages(client, pairs, tmp_path):
    post(client, f"/api/pairs/{pairs['explain'].id}/accept")
    review_store(tmp_path)  # the same units and pairs written again, as a re-run does
    assert reviews(tmp_path)[pairs["explain"].id].status == "accepted"
    assert 'reviewed <b id="progress-reviewed">1</b>' in client.get("/").text


# serving and the command ----------------------------------------------------------------
def test_port_choice(monkeypatch):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        with pytest.raises(InputError, match=rf"port {port} on 127.0.0.1 is in use: pick another"):
            server.bind_socket(port)
        monkeypatch.setattr(server, "DEFAULT_PORT", port)
        fallback = server.bind_socket(None)  # the default port taken: any free one
        free = server.bind_socket(0)
        assert {fallback.getsockname()[0], free.getsockname()[0]} == {"127.0.0.1"}
        assert port not in (fallback.getsockname()[1], free.getsockname()[1])
        assert server.url_of(free) == f"http://127.0.0.1:{free.getsockname()[1]}/"
        fallback.close()
        free.close()
    finally:
        taken.close()
    with pytest.raises(InputError, match="is not a port number"):
        server.bind_socket(70000)


def test_review_json_matches_what_export_reads(client, pairs, tmp_path):
    post(
        client,
        f"/api/pairs/{pairs['evol2'].id}/edit",
        {"instruction": "I", "input": "", "output": "O"},
    )
    with Store.open(tmp_path) as store:
        raw = store.conn.execute("SELECT data FROM reviews").fetchone()[0]
    assert json.loads(raw) == {
        "pair_id": pairs["evol2"].id,
        "status": "edited",
        "reason": None,
        "note": None,
        "flagged": False,
        "instruction": "I",
        "input": "",
        "output": "O",
    }


class _TimerNow:
    """threading.Timer that runs at once."""

    def __init__(self, _delay, fn, args):
        self.fn, self.args = fn, args

    def start(self):
        self.fn(*self.args)


def test_a_browser_opens_only_where_there_is_a_display(monkeypatch):
    opened = []
    monkeypatch.setattr(server.webbrowser, "open", opened.append)
    monkeypatch.setattr(server.sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert server._open_browser("http://127.0.0.1:1/") is False
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(server.threading, "Timer", _TimerNow)
    assert server._open_browser("http://127.0.0.1:1/") is True
    assert opened == ["http://127.0.0.1:1/"]


def test_the_judge_filter_matches_the_scores_the_judge_filter_recorded(tmp_path):
    """The judge runs for real (through the harness); the page served over HTTP filters by
    the scores it recorded in its decisions."""
    from factories import pair, store_with
    from ollama_harness import Harness, scripted

    from dataprep.filters import FilterConfig, run_filters
    from dataprep.generate.llm import LLMOptions, parse_llm_spec

    def score(m, _messages):
        return json.dumps({"score": 20 if "invented" in m.group(1) else 90, "reason": "checked"})

    good = pair("Explain capacity.", "It returns the capacity.")
    bad = pair("What does capacity do?", "It is invented nonsense.")
    store = store_with(tmp_path, [good, bad])
    with Harness(scripted([(r"Answer:\n(.*?)\n\nScore", score)])) as h:
        llm = parse_llm_spec("ollama:smollm2", host=h.url, options=LLMOptions(temperature=0))
        config = FilterConfig(judge="ollama:smollm2", judge_threshold=50)
        report = run_filters(store, config, judge=llm)
    store.close()
    assert report.dropped["judge"] == 1

    def page(url: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{url}", timeout=10) as response:
            return response.read().decode("utf-8")

    with serving(tmp_path / "out") as port:
        assert matched(page("/?flag=all")) == 2
        high = page("/?flag=all&judge_min=80")
        assert matched(high) == 1 and good.instruction in high and bad.instruction not in high
        low = page("/?flag=all&judge_max=50")
        assert matched(low) == 1 and bad.instruction in low
        assert matched(page("/?judge_min=80")) == 1  # the kept one
        assert matched(page("/?judge_max=50")) == 0  # dropped by the judge: not kept
        assert '<dd id="judge-score">90</dd>' in page(f"/pair/{good.id}")
