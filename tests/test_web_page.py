"""The web page in a real Chromium (Debian's, driven by Playwright) against the real server over a tiny collection.

Each page records every request it makes; a request that leaves the server fails the test (the page must
work offline), and so does any uncaught JavaScript error. Screenshots go to $MCRSEARCH_SCREENSHOTS (default:
a pytest temporary folder) as artifacts of the run.
"""

from __future__ import annotations

import re

import pytest

from helpers import corpus as H
from helpers.browser import TIMEOUT_MS, checked_page, require_browser, serve_in_thread, viewer_pixels_js
from mcrsearch.api import Client
from mcrsearch.config import load_settings

pytestmark = require_browser()          # skipped on a workstation without Chromium; under CI=true it fails

TOKEN = "web-page-test-token"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A served tiny collection (24 items, 3 colour classes): (base URL, root folder)."""
    root = tmp_path_factory.mktemp("web")
    H.write_corpus(root / "corpus", per_class=2)
    for modality in ("audio", "image"):
        H.write_item(root / "queries", modality, 2, 40)                  # blue queries
    settings = load_settings(home=root / "home", device="cpu", space="tiny")
    client = Client(settings=settings)
    assert client.index(root / "corpus").indexed == 24
    with serve_in_thread(client, TOKEN) as base:
        yield base, root
    client.close()


@pytest.fixture()
def page(browser, site):
    with checked_page(browser, site[0], TOKEN) as p:
        yield p


def test_text_query_shows_image_results_that_load(page, shots):
    page.open()
    assert page.page.locator("#empty").is_visible()
    page.page.wait_for_function("document.querySelector('#summary').textContent.startsWith('24 items')")
    page.shot(shots, "01-empty")
    page.search("a red thing", "image")
    names = page.names()
    assert len(names) == 6 and all(n.endswith(".png") for n in names)
    assert all(n.startswith("red_") for n in names[:2])
    assert page.images_loaded("#results .card.image img") == 6
    assert re.search(r"[?&]text=a\+red\+thing", page.page.url) and "target=image" in page.page.url
    scores = page.page.locator("#results .score").all_inner_texts()
    assert [float(s) for s in scores] == sorted((float(s) for s in scores), reverse=True)
    title = page.page.locator("#results .score").first.get_attribute("title")
    assert "raw cosine" in title
    page.shot(shots, "02-text-to-images")


def test_audio_file_as_query_returns_3d_results_with_thumbnails(page, site, shots):
    page.open()
    page.page.check("#target input[value='3d']")
    page.page.set_input_files("#file", str(site[1] / "queries" / "blue_40.wav"))
    page.wait_results()
    cards = page.page.locator("#results .card")
    assert cards.count() == 6 and page.page.locator("#results .card.shape").count() == 6
    assert all(n.startswith("blue_") for n in page.names()[:2])
    assert page.images_loaded("#results .card.shape img") == 6
    assert "blue_40.wav" in page.page.locator("#chips").inner_text()
    page.shot(shots, "03-audio-to-3d")


def test_dropped_image_is_a_query(page, site):
    page.open()
    page.page.check("#target input[value='audio']")
    page.drop_file(site[1] / "queries" / "blue_40.png", "image/png")
    page.wait_results()
    assert page.page.locator("#results .card.audio").count() == 6
    assert all(n.startswith("blue_") for n in page.names()[:2])


def test_audio_result_player_loads_its_media(page, shots):
    page.open("/?text=green+mid&target=audio")
    page.wait_results()
    audio = page.page.locator("#results .card.audio audio").first
    audio.scroll_into_view_if_needed()
    page.page.wait_for_function(
        "() => { const a = document.querySelector('#results .card.audio audio'); return a && a.readyState >= 1; }")
    duration = audio.evaluate("a => a.duration")
    assert duration == pytest.approx(1.0, abs=0.05)          # the indexed clips are one second long
    src = audio.get_attribute("src")
    assert any(url.endswith(src) for url in page.requests)
    assert page.images_loaded("#results .card.audio img.wave") == 6
    page.shot(shots, "04-audio-results")


PIXELS = viewer_pixels_js(96, 72)


def _drawn(pixels: list[int]) -> list[bool]:
    """Which pixels the viewer painted (the canvas is transparent where nothing is drawn)."""
    return [pixels[i + 3] > 0 for i in range(0, len(pixels), 4)]


def test_3d_result_opens_the_viewer_that_draws_and_turns(page, shots):
    page.open("/?text=green&target=3d")
    page.wait_results()
    meshes = page.page.locator("#results .card.shape", has_text=".obj")
    meshes.first.locator(".media").click()
    dialog = page.page.locator("#viewer")
    page.page.wait_for_selector("#viewer[data-state='ready']")
    assert dialog.get_attribute("data-kind") == "mesh"
    before = page.page.evaluate(PIXELS)
    drawn = _drawn(before)
    assert 0.02 < sum(drawn) / len(drawn) < 0.9, "the viewer shows the object"
    page.shot(shots, "05-viewer-mesh")

    box = page.page.locator("#viewer-canvas").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.page.mouse.move(cx, cy)
    page.page.mouse.down()
    page.page.mouse.move(cx + 220, cy + 60, steps=12)
    page.page.mouse.up()
    page.page.wait_for_function(f"(before) => ({PIXELS})().some((v, i) => v !== before[i])", arg=before)
    after = page.page.evaluate(PIXELS)
    changed = sum(a != b for a, b in zip(_drawn(before), _drawn(after)))
    assert changed > 0.05 * sum(drawn), "a drag turns the object (its silhouette changes)"
    page.shot(shots, "06-viewer-turned")

    page.page.keyboard.press("Escape")
    page.page.wait_for_function("() => !document.querySelector('#viewer').open")

    page.page.locator("#results .card.shape", has_text=".npy").first.locator(".media").click()
    page.page.wait_for_selector("#viewer[data-state='ready'][data-kind='points']")
    cloud = _drawn(page.page.evaluate(PIXELS))
    assert sum(cloud) > 50, "the point cloud is drawn"
    page.shot(shots, "07-viewer-points")
    page.page.click("#viewer-close")
    assert not dialog.evaluate("d => d.open")
    three = [u for u in page.requests if u.endswith("/static/vendor/viewer-three.js")]
    assert len(three) == 1, "three.js is loaded once, on the first 3D click"


def test_url_reproduces_the_search_on_reload(page, shots):
    page.open("/?text=blue&target=image&k=2")
    page.wait_results()
    first = page.names()
    assert len(first) == 2 and page.page.locator("#more").is_visible()
    page.page.click("#more")
    page.page.wait_for_function("document.querySelectorAll('#results .card').length === 4")
    page.page.reload()
    page.wait_results()
    assert page.names() == first, "a reload shows the same first page"
    assert page.page.locator("#target input:checked").get_attribute("value") == "image"

    # "more like this" puts the item in the URL; the URL alone reproduces that search
    page.page.locator("#results .card").first.get_by_text("More like this").click()
    page.page.wait_for_url(re.compile(r"like="))
    page.wait_results()
    liked = page.names()
    assert "like" in page.page.locator("#chips").inner_text().lower()
    url = page.page.url
    page.page.goto("about:blank")
    page.page.goto(url)
    page.wait_results()
    assert page.names() == liked
    page.page.wait_for_function("document.querySelector('#chips').innerText.includes('.png')")

    # a minimum score in the URL filters on the server and shows on the slider
    page.open("/?text=blue&target=any&min_score=1.5")
    page.wait_results()
    scores = [float(s) for s in page.page.locator("#results .score").all_inner_texts()]
    assert scores and min(scores) >= 1.5
    assert page.page.locator("#min-score-value").inner_text() == "1.50"
    page.shot(shots, "08-min-score")

    page.page.set_viewport_size({"width": 390, "height": 844})      # a phone: nothing spills sideways
    assert page.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.shot(shots, "10-phone")


def test_microphone_recording_is_a_query(page):
    page.open()
    page.page.check("#target input[value='image']")
    page.page.click("#mic")
    page.page.wait_for_function("document.querySelector('#rec-time').textContent >= '0:01'")
    page.page.click("#mic")
    page.wait_results()
    assert "recording.wav" in page.page.locator("#chips").inner_text()
    assert page.page.locator("#results .card.image").count() == 6


def test_collection_page_counts_browses_and_follows_an_index_job(page, site, shots):
    page.open("/#collection")
    page.page.wait_for_selector("#counts .count")
    counts = dict(zip(page.page.locator("#counts .count span").all_inner_texts(),
                      page.page.locator("#counts .count strong").all_inner_texts()))
    assert counts == {"Image": "6", "Sound": "6", "3D": "6", "Text": "6"}
    page.page.wait_for_selector("#browse .card")
    assert page.page.locator("#browse .card.image").count() == 6
    page.page.check("#browse-modality input[value='text']")
    page.page.wait_for_selector("#browse .card.text")
    assert "thing" in page.page.locator("#browse .card.text blockquote").first.inner_text()

    more = site[1] / "more"
    for idx in range(3):
        H.write_item(more, "image", 0, 50 + idx)
    page.page.fill("#job-path", str(more))
    page.page.click("#job-form button")
    page.page.wait_for_selector(".job[data-state='done']")
    assert page.page.locator(".job progress.bar").evaluate("b => b.value === b.max")
    assert "3 indexed" in page.page.locator(".job .job-counts").inner_text()
    page.page.wait_for_function(
        "[...document.querySelectorAll('#counts .count strong')].map(s => s.textContent)[0] === '9'")
    page.shot(shots, "09-collection")
    assert any("/api/jobs/" in u and u.endswith("/events") for u in page.requests)


def test_an_undecodable_upload_is_one_clear_sentence(page, site):
    bad = site[1] / "queries" / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio")
    page.open()
    page.page.set_input_files("#file", str(bad))
    toast = page.page.locator("#toast")
    toast.wait_for(state="visible")
    assert "broken.wav" in toast.inner_text() and "Traceback" not in toast.inner_text()
    assert page.page.locator("#results .card").count() == 0
    # the browser logs the refused request itself ("Failed to load resource: ... 422"); nothing else
    page.errors[:] = [e for e in page.errors if "status of 422" not in e]


def test_accessibility_basics_radio_groups_players_and_the_job_bar(page, site):
    """Radio groups are native radios (arrow keys move the choice and search again), every audio player has
    a name, and the job bar is a <progress>; the page's vocabulary is the server's (/api/constants)."""
    page.open("/?text=green&target=image")
    page.wait_results()
    page.page.focus("#target input:checked")
    page.page.keyboard.press("ArrowRight")
    page.page.wait_for_url(re.compile(r"target=audio"))
    page.wait_results()
    assert page.page.locator("#target input:checked").get_attribute("value") == "audio"
    assert page.page.locator("#results .card.audio").count() == 6
    names = page.page.locator("#results audio").evaluate_all("els => els.map(a => a.getAttribute('aria-label'))")
    assert names and all(n and n.startswith("Play ") and n.endswith(".wav") for n in names)
    accept = page.page.locator("#file").get_attribute("accept")
    for ext in (".m4a", ".aac", ".opus", ".wma", ".aif", ".aiff", ".ply", ".txt"):
        assert ext in accept.split(","), f"{ext} missing from the page's file picker"
    page.open("/#collection")
    page.page.wait_for_selector("#browse .card")
    page.page.focus("#browse-modality input:checked")
    page.page.keyboard.press("ArrowLeft")                      # wraps from Images to Text
    page.page.wait_for_selector("#browse .card.text")
    assert page.page.locator("#browse-modality input:checked").get_attribute("value") == "text"


def test_the_page_without_its_token_says_how_to_get_it(browser, site):
    """Issue 22: the API needs the token on loopback too; a page opened without it says so in one sentence."""
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(site[0] + "/")
        tab.wait_for_function("document.body.innerText.includes('token')", timeout=TIMEOUT_MS)
        assert "mcrsearch serve" in tab.inner_text("body")
    finally:
        context.close()
