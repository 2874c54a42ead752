"""In a real browser: rows picked with their checkbox or `x` and accepted in one action, the
search box, sorting by a column heading and a sample per task. Fixtures from
test_review_browser."""

import re

import pytest
from test_review_browser import browser, page, screenshot, served, statuses  # noqa: F401

pytestmark = pytest.mark.slow


def matched(tab) -> int:
    return int(tab.locator("#matched b").inner_text())


def test_picked_rows_are_accepted_in_one_action_and_undone_in_one(served, page):  # noqa: F811
    out, pairs, url = served
    page.goto(url)
    rows = page.locator("#queue tbody tr")
    first, third = (
        rows.nth(0).get_attribute("data-pair-id"),
        rows.nth(2).get_attribute("data-pair-id"),
    )
    assert page.locator("#picked").is_hidden()
    rows.nth(0).locator("input.pick").check()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("x")  # picks the selected (third) row
    assert page.locator("#picked-n").inner_text() == "2"
    screenshot(page, "queue-picked.png")
    page.click("[data-bulk-picked=accept]")
    assert "Accept the 2 selected pairs?" in page.locator("#bulk-text").inner_text()
    with page.expect_navigation():
        page.click("#bulk-yes")
    assert statuses(out) == {first: "accepted", third: "accepted"}
    with page.expect_navigation():
        page.keyboard.press("u")
    assert statuses(out) == {}
    page.check("#pick-page")
    assert page.locator("#picked-n").inner_text() == str(rows.count())


def test_search_sort_and_sample_from_the_page(served, page):  # noqa: F811
    out, pairs, url = served
    page.goto(url)
    page.keyboard.press("/")
    page.keyboard.type("findFree")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "q=findFree" in page.url and matched(page) == 4
    with page.expect_navigation():
        page.click("th a[data-sort=instruction]")
    assert re.search(r"[?&]sort=instruction\b", page.url) and "q=findFree" in page.url
    shown = page.locator("#queue tbody td.instruction").all_inner_texts()
    assert shown == sorted(shown)
    with page.expect_navigation():
        page.click("th a[data-sort=instruction]")
    assert "sort=-instruction" in page.url
    assert page.locator("#queue tbody td.instruction").all_inner_texts() == shown[::-1]
    page.goto(url)
    page.fill("#sample", "1")
    with page.expect_navigation():
        page.click("#filters button[type=submit]")
    assert "sample=1" in page.url and matched(page) == 3  # one of each task
    screenshot(page, "queue-sample.png")
    with page.expect_navigation():
        page.click("#resample")
    assert matched(page) == 3
