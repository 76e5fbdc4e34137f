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
