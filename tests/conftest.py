"""Test-wide isolation: no hub access, a private MCRSEARCH_HOME, deterministic threads."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")

import pytest


@pytest.fixture(scope="session", autouse=True)
def _tiny_space():
    """The tiny test space, registered once for the session (as a plug-in registers its spaces)."""
    from helpers.corpus import register_tiny

    register_tiny()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.getbasetemp() / "mcrsearch-home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("MCRSEARCH_HOME", str(home))
    yield home


@pytest.fixture(scope="module")
def single_thread():
    """One intra-op torch thread: small models gain nothing from threads, and on a busy 2-core machine
    OpenMP contention made them tens of times slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, one per browser test module (those modules' `pytestmark` is
    `helpers.browser.require_browser()`, which skips or, under CI, fails before this runs)."""
    from playwright import sync_api

    from helpers.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """Where the browser tests' screenshots go: $MCRSEARCH_SCREENSHOTS, else a pytest temporary folder."""
    from pathlib import Path

    folder = Path(os.environ.get("MCRSEARCH_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
