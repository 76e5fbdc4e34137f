"""Whether the browser tests can run, and what happens when they cannot: a skip on a workstation, a
failure under CI (CI=true), where a missing Chromium or Playwright must never pass as "skipped"."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("MCRSEARCH_CHROMIUM", "/usr/lib/chromium/chromium"))


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(chromium: Path = CHROMIUM) -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright)"
    if not chromium.is_file():
        return (f"no Chromium at {chromium}: install Debian's (apt-get install -y --no-install-recommends "
                "chromium) or set MCRSEARCH_CHROMIUM; Playwright must not download a browser of its own")
    return None


def require_browser(chromium: Path = CHROMIUM):
    """A module's `pytestmark`: skip without a browser, except under CI, where the module fails to collect."""
    reason = unavailable(chromium)
    if reason and in_ci():
        pytest.fail(f"CI runs the browser tests, but {reason}", pytrace=False)
    return pytest.mark.skipif(reason is not None, reason=reason or "")
