"""The page's "where?" toggle in a real Chromium (issue 25): the heat map appears over an image result of a text
or sound query, the toggle hides it, Esc hides every one; a 3D result is coloured by match in the viewer and
restored by the toggle or Esc. Screenshots go to $MCRSEARCH_SCREENSHOTS."""

from __future__ import annotations

import re

import numpy as np
import pytest

from helpers import corpus as H
from helpers.browser import checked_page, image_pixels_at, require_browser, serve_in_thread, viewer_pixels_js
from test_explain_video import swap_video
from mcrsearch.api import Client
from mcrsearch.config import load_settings

pytestmark = require_browser()          # skipped on a workstation without Chromium; under CI=true it fails
TOKEN = "web-explain-test-token"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A served tiny collection plus one two-colour picture (red left half, blue right half)."""
    from PIL import Image

    root = tmp_path_factory.mktemp("web-explain")
    H.write_corpus(root / "corpus", per_class=2)
    arr = np.zeros((96, 128, 3), np.uint8)
    arr[..., 2] = 210
    arr[:, :64] = (225, 25, 25)
    Image.fromarray(arr).save(root / "corpus" / "image" / "red_and_blue.png")
    _dumbbell(root / "corpus" / "3d" / "dumbbell.obj")
    swap_video(root / "corpus" / "video" / "swap.mp4")
    H.write_item(root / "queries", "audio", 0, 41)                  # a red tone
    settings = load_settings(home=root / "home", device="cpu", space="tiny", explain_present_z=1.0)
    client = Client(settings=settings)
    client.index(root / "corpus")
    with serve_in_thread(client, TOKEN) as base:
        yield base, root
    client.close()


def _dumbbell(path) -> None:
    """A mesh of two bars: one along x (the tiny space's red/x cue) and, above it, one along z (blue/z)."""
    import trimesh

    x_bar = trimesh.creation.box(extents=(2.0, 0.3, 0.3))
    z_bar = trimesh.creation.box(extents=(0.3, 0.3, 2.0))
    z_bar.apply_translation((0.0, 1.4, 0.0))
    mesh = trimesh.util.concatenate([x_bar, z_bar])
    for _ in range(4):
        mesh = mesh.subdivide()
    mesh.export(path)


@pytest.fixture()
def page(browser, site):
    with checked_page(browser, site[0], TOKEN) as p:
        yield p


def _card(page, name: str):
    return page.page.locator("#results .card", has=page.page.locator(".name", has_text=name))


def test_where_toggle_overlays_the_heat_map_and_esc_closes_it(page, shots):
    page.open()
    page.search("a red thing low", "image")
    card = _card(page, "red_and_blue.png")
    assert card.count() == 1
    card.locator(".where").click()
    overlay = card.locator(".where-overlay")
    overlay.wait_for()
    page.page.wait_for_function("document.querySelector('.where-overlay').complete")
    assert card.locator(".where").get_attribute("aria-pressed") == "true"
    assert re.search(r"(Here|Not here) · \d+%", card.locator(".where-verdict").inner_text())
    # The overlay is the picture with the map over it: warm on the red half, cool on the blue half.
    left, right = image_pixels_at(page.page, ".where-overlay", (0.25, 0.75))
    assert left[0] > right[0] and right[2] > left[2]
    page.shot(shots, "20-where-overlay")
    card.locator(".where").click()                          # the toggle hides it
    assert card.locator(".where-overlay").count() == 0
    assert card.locator(".where").get_attribute("aria-pressed") == "false"
    card.locator(".where").click()
    card.locator(".where-overlay").wait_for()
    page.page.keyboard.press("Escape")                       # Esc hides every overlay
    page.page.wait_for_function("!document.querySelector('.where-overlay')")


def test_where_follows_a_sound_query_and_is_absent_for_picture_queries(page, site, shots):
    page.open()
    page.page.check("#target input[value='image']")
    page.page.set_input_files("#file", str(site[1] / "queries" / "red_41.wav"))
    page.wait_results()
    card = _card(page, "red_and_blue.png")
    card.locator(".where").click()
    card.locator(".where-overlay").wait_for()
    assert card.locator(".where-verdict").inner_text()
    page.shot(shots, "21-where-sound")
    page.page.keyboard.press("Escape")
    page.open()
    page.page.check("#target input[value='image']")
    page.page.set_input_files("#file", str(site[1] / "corpus" / "image" / "red_and_blue.png"))
    page.wait_results()
    assert page.page.locator("#results .where").count() == 0   # an image query has nothing to look for


PIXELS = viewer_pixels_js(120, 90)

def _pixels(page) -> list[tuple[int, int, int, int]]:
    flat = page.page.evaluate(PIXELS)
    return [tuple(flat[i:i + 4]) for i in range(0, len(flat), 4)]


def _warm_and_cool(pixels) -> tuple[int, int]:
    """Drawn pixels that are clearly red-dominant and clearly blue-dominant."""
    warm = sum(1 for r, g, b, a in pixels if a and r > 150 and r > b + 60)
    cool = sum(1 for r, g, b, a in pixels if a and b > 120 and b > r + 60)
    return warm, cool


def test_a_3d_result_is_coloured_by_match_and_restored(page, shots):
    page.open()
    page.search("a red thing low x", "3d")
    card = _card(page, "dumbbell.obj")
    assert card.count() == 1
    card.locator(".media").click()
    page.page.wait_for_selector("#viewer[data-state='ready'][data-kind='mesh']")
    toggle = page.page.locator("#viewer-match")
    assert toggle.is_visible() and toggle.get_attribute("aria-pressed") == "false"
    before = _pixels(page)
    assert sum(1 for p in before if p[3]) > 200, "the viewer draws the shape"
    assert _warm_and_cool(before)[0] == 0, "the shape's own colour is not the match ramp's red"
    toggle.click()
    page.page.wait_for_selector("#viewer[data-match='on']")
    assert toggle.get_attribute("aria-pressed") == "true"
    assert page.page.locator("#viewer-legend").is_visible()
    assert re.search(r"(Here|Not here) · \d+%|uncalibrated", page.page.locator("#legend-verdict").inner_text())
    low, high = float(page.page.inner_text("#legend-low")), float(page.page.inner_text("#legend-high"))
    assert low < high
    painted = _pixels(page)
    warm, cool = _warm_and_cool(painted)
    assert warm > 30 and cool > 30, f"the ramp paints both ends of the shape (warm {warm}, cool {cool})"
    # The x bar (the matching part) is painted warm, the z bar (drawn above it) cool.
    ys = [i // 120 for i, p in enumerate(painted) if p[3] and p[0] > 150 and p[0] > p[2] + 60]
    yc = [i // 120 for i, p in enumerate(painted) if p[3] and p[2] > 120 and p[2] > p[0] + 60]
    assert sum(ys) / len(ys) > sum(yc) / len(yc), "the warm (matching) bar is the lower one, where the x bar is"
    page.shot(shots, "22-viewer-colour-by-match")
    toggle.click()                                             # the toggle restores the shape's colours
    page.page.wait_for_selector("#viewer[data-match='off']")
    restored = _pixels(page)
    assert sum(a != b for a, b in zip(before, restored)) < 0.01 * len(before)
    assert page.page.locator("#viewer-legend").is_hidden()
    toggle.click()
    page.page.wait_for_selector("#viewer[data-match='on']")
    page.page.keyboard.press("Escape")                        # Esc restores first, the viewer stays open
    page.page.wait_for_selector("#viewer[data-match='off']")
    assert page.page.locator("#viewer").evaluate("d => d.open")
    assert sum(a != b for a, b in zip(before, _pixels(page))) < 0.01 * len(before)
    page.shot(shots, "23-viewer-restored")
    page.page.keyboard.press("Escape")                        # the next Esc closes it
    page.page.wait_for_function("() => !document.querySelector('#viewer').open")

    # A point cloud (coloured by height of its own) is painted and restored the same way.
    page.page.locator("#results .card.shape", has_text=".npy").first.locator(".media").click()
    page.page.wait_for_selector("#viewer[data-state='ready'][data-kind='points']")
    cloud = _pixels(page)
    toggle.click()
    page.page.wait_for_selector("#viewer[data-match='on']")
    assert sum(a != b for a, b in zip(cloud, _pixels(page))) > 50, "the cloud's points are repainted"
    toggle.click()
    page.page.wait_for_selector("#viewer[data-match='off']")
    assert sum(a != b for a, b in zip(cloud, _pixels(page))) < 0.01 * len(cloud)
    page.page.keyboard.press("Escape")
    page.page.wait_for_function("() => !document.querySelector('#viewer').open")


def test_the_viewer_offers_no_colouring_without_a_text_or_sound(page, site):
    page.open()
    page.page.check("#target input[value='3d']")
    page.page.set_input_files("#file", str(site[1] / "corpus" / "image" / "red_and_blue.png"))
    page.wait_results()
    page.page.locator("#results .card.shape").first.locator(".media").click()
    page.page.wait_for_selector("#viewer[data-state='ready']")
    assert page.page.locator("#viewer-match").is_hidden()
    page.page.keyboard.press("Escape")
    page.page.wait_for_function("() => !document.querySelector('#viewer').open")


def test_where_lights_up_a_video_results_frame_at_its_moment(page, shots):
    page.open()
    page.search("a red thing low", "video")
    card = _card(page, "swap.mp4")
    assert card.count() == 1
    card.locator(".where").click()
    layer = card.locator(".media.video .where-layer")
    layer.wait_for()
    page.page.wait_for_function("document.querySelector('.media.video .where-overlay').complete")
    at = float(layer.get_attribute("data-at"))
    assert re.search(r"(Here|Not here) · \d+%", card.locator(".where-verdict").inner_text())
    left, right = image_pixels_at(page.page, ".media.video .where-overlay", (0.2, 0.8))
    red, blue = (left, right) if at < 10 else (right, left)       # red is on the left before 10 s, then right
    assert red[0] > blue[0] and blue[2] > red[2], (at, left, right)
    page.shot(shots, "24-where-video-frame")
    page.page.keyboard.press("Escape")
    page.page.wait_for_function("!document.querySelector('.where-layer')")
