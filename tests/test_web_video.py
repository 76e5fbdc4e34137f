"""Video on the page, in a real Chromium: a video hit shows its poster at the matched moment, plays from that
moment in the one shared <video> element with the segment marked on the timeline, and a dropped video is a query."""

from __future__ import annotations

import pytest

pytest.importorskip("av")

from helpers import corpus as H
from helpers.browser import checked_page, require_browser, serve_in_thread
from helpers.media import write_class_video
from mcrsearch.api import Client
from mcrsearch.config import load_settings

pytestmark = require_browser()          # skipped on a workstation without Chromium; under CI=true it fails
TOKEN = "web-video-test-token"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A served tiny collection with videos (VP8 in WebM, which every Chromium build plays)."""
    root = tmp_path_factory.mktemp("web-video")
    H.write_corpus(root / "corpus", per_class=1)
    write_class_video(root / "corpus" / "rgb.webm", [0, 1, 2], seconds_each=10.0, fps=2, codec="libvpx",
                      sounds=[None, None, None])
    write_class_video(root / "queries" / "blue.webm", [2], seconds_each=4.0, fps=2, codec="libvpx",
                      sounds=[None])
    settings = load_settings(home=root / "home", device="cpu", space="tiny")
    client = Client(settings=settings)
    assert client.index(root / "corpus").failed == []
    with serve_in_thread(client, TOKEN) as base:
        yield base, root
    client.close()


@pytest.fixture()
def page(browser, site):
    with checked_page(browser, site[0], TOKEN) as p:
        yield p


def test_video_hit_plays_from_its_moment_with_the_segment_marked(page, shots):
    page.search("a blue high z thing", "video")
    card = page.page.locator("#results .card.video").first
    assert page.page.locator("#results .card.video").count() == 1
    poster = card.locator("img")
    assert "?at=2" in poster.get_attribute("src")                # a frame inside the matched 20-30 s window
    assert page.images_loaded("#results .card.video img") == 1
    assert "0:20" in card.inner_text()
    card.locator("button.media.video").click()
    page.page.wait_for_function(
        "() => { const v = document.querySelector('#video-dock video'); return v && v.readyState >= 1 && v.currentTime >= 19.5; }")
    state = page.page.evaluate("""() => { const v = document.querySelector('#video-dock video');
        const best = document.querySelector('#video-dock .seg.best');
        return {t: v.currentTime, d: v.duration, left: parseFloat(best.style.left), width: parseFloat(best.style.width),
                videos: document.querySelectorAll('video').length, hidden: document.querySelector('#video-dock').hidden}; }""")
    assert not state["hidden"] and state["videos"] == 1
    assert 19.5 <= state["t"] <= 30.5 and state["d"] == pytest.approx(30.0, abs=0.6)
    assert state["left"] == pytest.approx(66.7, abs=1.0) and state["width"] == pytest.approx(33.3, abs=1.0)
    page.shot(shots, "09-video-playing-from-its-moment")


def test_dropped_video_is_a_query(page, site):
    page.open()
    page.page.check("#target input[value='image']")
    page.drop_file(site[1] / "queries" / "blue.webm", "video/webm")
    page.wait_results()
    assert page.names()[0].startswith("blue_")
    assert page.page.locator("#chips").inner_text().lower().count("video") >= 1
