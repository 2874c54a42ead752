"""In a real browser: a secret typed into an edit is redacted, and the page says so after
it reloads (the note travels in sessionStorage). Fixtures from test_review_browser."""

import pytest
from test_review_browser import browser, page, served  # noqa: F401 (pytest fixtures)

from dataprep.store import Store

pytestmark = pytest.mark.slow
AWS_KEY = "AKIA7LRWFVEALKXWKKXZ"


def test_an_edit_with_a_secret_is_saved_redacted_and_the_reviewer_is_told(served, page):  # noqa: F811
    out, pairs, url = served
    pair = pairs["signature"]
    page.goto(f"{url}pair/{pair.id}")
    assert page.locator("#message").is_hidden()
    page.click("#btn-edit")
    page.fill("#edit-output", f"int count() // signed with {AWS_KEY}")
    with page.expect_navigation():
        page.click("#edit-save")
    message = page.locator("#message")
    assert message.is_visible()
    assert message.inner_text() == "1 secret was redacted before saving (aws_access_key)"
    shown = "int count() // signed with <SECRET:aws_access_key:1>"
    assert page.locator("#rev-output").inner_text() == shown
    with Store.open(out, create=False) as store:
        assert store.reviews()[pair.id].output == shown
    page.reload()  # the note is shown once
    assert page.locator("#message").is_hidden()
