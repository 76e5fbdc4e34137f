"""The page's issue-27 features in a real Chromium: less like this and negative terms as chips with weights,
the filter bar, why-this-result on hover, saving and re-running a search, reviewing duplicates."""

from __future__ import annotations

import re
import shutil

import pytest

from helpers import corpus as H
from helpers.browser import checked_page, require_browser, serve_in_thread
from mcrsearch.api import Client
from mcrsearch.config import load_settings

pytestmark = require_browser()          # skipped on a workstation without Chromium; under CI=true it fails
TOKEN = "web-features-test-token"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A served tiny collection with one image copied into another folder: (base URL, root)."""
    root = tmp_path_factory.mktemp("web27")
    files = H.write_corpus(root / "corpus", per_class=2)
    (root / "corpus" / "copies").mkdir()
    shutil.copy(files["image"][0], root / "corpus" / "copies" / "red_0_again.png")
    settings = load_settings(home=root / "home", device="cpu", space="tiny")
    client = Client(settings=settings)
    assert client.index(root / "corpus").indexed == 25
    with serve_in_thread(client, TOKEN) as base:
        yield base, root
    client.close()


@pytest.fixture()
def page(browser, site):
    with checked_page(browser, site[0], TOKEN) as p:
        yield p


def _classes(page) -> list[str]:
    return [n.split("_")[0] for n in page.names()]


def test_less_like_this_negative_terms_weights_and_why(page, shots):
    page.open("/?text=red+blue&target=image")
    page.wait_results()
    assert {"red", "blue"} <= set(_classes(page))
    blue = page.page.locator("#results .card", has_text="blue_0.png")
    blue.get_by_text("Less like this").click()
    page.page.wait_for_url(re.compile(r"not_like="))
    page.wait_results()
    assert "blue_0.png" not in page.names()
    assert "not like" in page.page.locator("#chips").inner_text().lower()
    page.page.fill("#q", 'red -"blue high z"')
    page.page.press("#q", "Enter")
    page.page.wait_for_url(re.compile(r"not_text=blue"))
    page.wait_results()
    assert page.page.locator("#q").input_value() == "red"
    assert _classes(page)[:3] == ["red"] * 3
    chip = page.page.locator("#chips .chip.negative", has_text="blue high z")
    chip.locator(".chip-weight").click()
    page.page.wait_for_url(re.compile(r"weight=not-text%3D2"))
    page.wait_results()
    assert chip.locator(".chip-weight").inner_text() == "×2"
    title = page.page.locator("#results .score").first.get_attribute("title")
    assert "Why this result" in title and "tiny space" in title and "less like" in title
    page.page.reload()                                     # the URL reproduces negatives and weights
    page.wait_results()
    assert page.page.locator("#chips .chip.negative").count() == 2 and "×2" in page.page.locator("#chips").inner_text()
    page.shot(shots, "27-negatives-and-weights")


def test_filter_bar_restricts_results(page, site, shots):
    page.open("/?text=red&target=image")
    page.wait_results()
    page.page.locator("#filters summary").click()
    page.page.fill("#f-under", str(site[1] / "corpus" / "copies"))
    page.page.press("#f-under", "Enter")
    page.page.locator("#f-type").focus()                   # change fires when the field is left
    page.page.wait_for_url(re.compile(r"under="))
    page.wait_results()
    assert page.names() == ["red_0_again.png"]
    assert page.page.locator("#filters-count").inner_text() == "(1)"
    page.shot(shots, "27-filter-bar")


def test_save_run_and_duplicates_review(page, shots):
    page.open("/?text=green&target=audio")
    page.wait_results()
    page.page.once("dialog", lambda d: d.accept("greens"))
    page.page.click("#save-search")
    page.page.wait_for_selector("#toast:not([hidden])")
    assert "Saved as" in page.page.locator("#toast").inner_text()
    page.open("/#collection")
    row = page.page.locator("#saved .saved-row", has_text="greens")
    row.wait_for()
    page.page.click("#find-dups")
    page.page.wait_for_selector("#dups .dup-group")
    group = page.page.locator("#dups .dup-group").first.inner_text()
    assert "Identical" in group and "red_0.png" in group and "red_0_again.png" in group
    page.shot(shots, "27-duplicates-and-saved")
    row.get_by_text("Run").click()
    page.page.wait_for_function("document.querySelector('#status').textContent.includes('greens')")
    assert "0 new" in page.page.locator("#status").inner_text()
    assert page.page.locator("#results .card.audio").count() >= 1
    page.open("/#collection")
    page.page.locator("#saved .saved-row", has_text="greens").get_by_text("Delete").click()
    page.page.wait_for_function("!document.querySelector('#saved').textContent.includes('greens')")
