"""The review page in a real browser: Playwright driving Debian's Chromium.

The server is the real command (`dataprep review --no-browser --port 0`) in a subprocess.
Screenshots of the queue and of a pair view are written under `artifacts/review/` in the
repository root (git-ignored). Chromium is installed with apt when missing and possible
(as `make setup-dev` does); the tests skip only when /usr/bin/chromium cannot be had.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from factories import XSS_IMG, XSS_SCRIPT, review_store

from dataprep.models import SPLITS
from dataprep.store import Store

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "review"


def _ensure_chromium() -> str | None:
    """None when Chromium is there (installing it with apt if we can), else why not."""
    if os.path.exists(CHROMIUM):
        return None
    if os.geteuid() == 0 and shutil.which("apt-get"):
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
            subprocess.run(cmd, capture_output=True, timeout=600, check=False)
    if os.path.exists(CHROMIUM):
        return None
    return f"{CHROMIUM} is absent and could not be installed: run `apt-get install -y chromium`"


@pytest.fixture(scope="module")
def browser():
    reason = _ensure_chromium()
    if reason:
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def start_server(out: Path) -> tuple[subprocess.Popen, str]:
    """`dataprep review --out OUT --no-browser --port 0` in a subprocess; returns it and its URL."""
    code = "from dataprep.cli import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "review", "--out", str(out), "--no-browser", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        pytest.fail(f"no URL from dataprep review: {url!r} {proc.stderr.read()}")
    return proc, url


@pytest.fixture
def served(tmp_path):
    pairs = review_store(tmp_path, n_extra=3)
    proc, url = start_server(tmp_path)
    yield tmp_path, pairs, url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    dialogs: list[str] = []
    errors: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.dialogs, page.errors = dialogs, errors
    yield page
    context.close()
    assert dialogs == [], "a dialog opened: script from the data ran"
    assert errors == [], "the page logged errors (a CSP violation shows here)"


def statuses(out: Path) -> dict[str, str]:
    with Store.open(out, create=False) as store:
        return {pid: review.status for pid, review in store.reviews().items()}


def row_status(page, pair_id: str) -> str:
    return page.locator(f'tr[data-pair-id="{pair_id}"] [data-status]').inner_text()


def wait_for_status(page, pair_id: str, status: str) -> None:
    selector = f'tr[data-pair-id="{pair_id}"] [data-status]'
    page.wait_for_function(
        "([sel, status]) => document.querySelector(sel).textContent === status",
        arg=[selector, status],
    )


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))  # the viewport, as a reviewer sees it
    print(f"screenshot: {path}")
    return path


def test_click_accept_reject_edit_and_bulk_persist(served, page):
    out, pairs, url = served
    page.goto(url)
    assert page.locator("#queue tbody tr").count() == 8
    screenshot(page, "queue.png")

    page.click(f"text={pairs['explain'].instruction}")
    page.wait_for_url(f"**/pair/{pairs['explain'].id}")
    with page.expect_navigation():
        page.click("#btn-accept")  # accept moves on to the next pair
    assert statuses(out) == {pairs["explain"].id: "accepted"}

    page.goto(f"{url}pair/{pairs['evol1'].id}")
    page.click("#btn-reject")
    page.fill("#reject-reason", "too vague")
    with page.expect_navigation():
        page.click("#reject-yes")
    page.goto(f"{url}pair/{pairs['signature'].id}")
    page.click("#btn-edit")
    page.fill("#edit-output", "int count()")
    with page.expect_navigation():
        page.click("#edit-save")
    assert page.locator("#rev-output").inner_text() == "int count()"
    assert page.locator("#pair-output").inner_text() == "public int count()"
    screenshot(page, "pair-edited.png")

    page.goto(url)
    page.reload()
    assert row_status(page, pairs["explain"].id) == "accepted"
    assert row_status(page, pairs["evol1"].id) == "rejected"
    assert row_status(page, pairs["signature"].id) == "edited"
    with Store.open(out, create=False) as store:
        assert store.reviews()[pairs["evol1"].id].reason == "too vague"
        assert store.reviews()[pairs["signature"].id].output == "int count()"

    # bulk accept of the current filter, after an in-page confirmation; one undo reverts it
    page.goto(url + "?status=unreviewed")
    page.click("[data-bulk=accept]")
    assert "Accept all 5 pairs" in page.locator("#bulk-text").inner_text()
    with page.expect_navigation():
        page.click("#bulk-yes")
    assert sorted(statuses(out).values()) == ["accepted"] * 6 + ["edited", "rejected"]
    with page.expect_navigation():
        page.keyboard.press("u")
    assert sorted(statuses(out).values()) == ["accepted", "edited", "rejected"]


def test_keyboard_drives_queue_and_pair_view(served, page):
    out, pairs, url = served
    page.goto(url)
    rows = page.locator("#queue tbody tr")
    first, second = (
        rows.nth(0).get_attribute("data-pair-id"),
        rows.nth(1).get_attribute("data-pair-id"),
    )
    page.keyboard.press("a")  # accept the selected (first) row in place
    wait_for_status(page, first, "accepted")
    page.keyboard.press("r")  # selection moved on: reject the second
    wait_for_status(page, second, "rejected")
    assert statuses(out) == {first: "accepted", second: "rejected"}
    page.keyboard.press("k")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # opens the selected row (the second)
    assert page.url.endswith(f"/pair/{second}")

    with page.expect_navigation():
        page.keyboard.press("u")  # undo the reject
    assert statuses(out) == {first: "accepted"}
    page.keyboard.press("r")
    page.keyboard.type("wrong method")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    third = page.url.rsplit("/", 1)[1]
    assert statuses(out)[second] == "rejected" and third not in (first, second)

    page.keyboard.press("e")
    page.fill("#edit-instruction", "Rewritten instruction?")
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    assert page.locator("#rev-instruction").inner_text() == "Rewritten instruction?"
    page.keyboard.press("f")
    page.keyboard.type("check with the author")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#note").inner_text() == "check with the author"
    with page.expect_navigation():
        page.keyboard.press("k")
    assert page.url.endswith(f"/pair/{second}")
    with page.expect_navigation():
        page.keyboard.press("j")
    with page.expect_navigation():
        page.keyboard.press("q")

    page.reload()
    assert row_status(page, first) == "accepted"
    assert row_status(page, second) == "rejected"
    assert row_status(page, third) == "edited"
    assert page.locator(f'tr[data-pair-id="{third}"] .badge.flagged').count() == 1
    with Store.open(out, create=False) as store:
        review = store.reviews()[third]
    assert (review.flagged, review.note, review.instruction) == (
        True,
        "check with the author",
        "Rewritten instruction?",
    )


def test_xss_in_a_javadoc_and_an_answer_is_shown_as_text(served, page):
    out, pairs, url = served
    page.goto(f"{url}pair/{pairs['xss'].id}")
    assert XSS_SCRIPT in page.locator("#pair-output").inner_text()
    assert XSS_IMG in page.locator("#pair-output").inner_text()
    assert XSS_SCRIPT in page.locator("#javadoc").inner_text()
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 1  # review.js only
    page.keyboard.press("e")
    assert XSS_SCRIPT in page.locator("#edit-output").input_value()
    screenshot(page, "pair-xss.png")
    # dialogs and console errors are asserted empty by the `page` fixture


def test_fixture_javadoc_flows_through_slicing_into_the_page_as_text(tmp_path, page):
    """The real path: fixture -> `dataprep run` -> review page -> accept -> export."""
    fixture = ROOT / "fixtures" / "hotel-booking"
    run = [sys.executable, "-c", "from dataprep.cli import main; main()", "run", str(fixture)]
    # seed 1 keeps BookingController.java in training (seed 0 holds it out, and withholds
    # every pair of its class unit, whose Javadoc this test looks at)
    run += ["--seed", "1"]
    done = subprocess.run([*run, "--out", str(tmp_path), "-j", "1"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with Store.open(tmp_path, create=False) as store:
        (unit,) = [u for u in store.units() if u.javadoc and XSS_SCRIPT in u.javadoc]
        pair = next(p for p in store.kept_pairs() if p.unit_id == unit.id)

    proc, url = start_server(tmp_path)
    try:
        page.goto(url)
        screenshot(page, "queue-fixture.png")
        page.goto(f"{url}pair/{pair.id}")
        javadoc = page.locator("#javadoc").inner_text()
        assert XSS_SCRIPT in javadoc and '<img src=x onerror="alert(1)">' in javadoc
        assert page.locator("#unit-path").inner_text() == unit.path
        assert "public BookingController(BookingService" in page.locator("#members").inner_text()
        assert page.locator("img").count() == 0
        screenshot(page, "pair-fixture-xss.png")
        with page.expect_navigation():
            page.keyboard.press("a")
        page.wait_for_load_state("networkidle")
    finally:
        page.goto("about:blank")  # nothing left loading when the server stops
        proc.terminate()
        proc.wait(timeout=10)

    # a re-run keeps the decision (keyed to the pair's content hash) and exports it alone
    done = subprocess.run([*run, "--out", str(tmp_path), "-j", "1"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with Store.open(tmp_path, create=False) as store:
        assert {pid: r.status for pid, r in store.reviews().items()} == {pair.id: "accepted"}
    rows = [
        json.loads(line)
        for split in SPLITS
        for line in (tmp_path / "dataset" / f"{split}.jsonl").read_text().splitlines()
    ]
    assert [(r["instruction"], r["review"]) for r in rows] == [(pair.instruction, "accepted")]
