"""A short fuzz run of every decoder (issue 15): each mutated or generated input ends as a valid decoded
item or a MediaError with a reason, within the per-file time limit and the memory caps. The long run
with figures is `python benchmarks/hostile.py`; the machinery is tests/helpers/fuzzing.py."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from helpers import fuzzing as F

_DIR = Path(tempfile.mkdtemp(prefix="mcr-fuzz-seeds-"))
SEEDS = F.write_seeds(_DIR)
SHORT = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def test_every_format_has_a_seed():
    expected = {"png", "jpg", "webp", "bmp", "gif", "wav", "flac", "ogg", "obj", "stl", "off", "glb", "gltf",
                "ply-mesh", "ply-points", "xyz", "pts", "npy", "npy-dict", "npz", "txt", "m4a"}
    assert expected <= set(SEEDS), expected - set(SEEDS)


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_mutated_inputs_decode_or_are_refused_with_a_reason(fmt, tmp_path_factory):
    seed_path, modality = SEEDS[fmt]
    seed = seed_path.read_bytes()
    assert F.check(seed_path, modality).kind == "decoded", "the seed itself must decode"
    folder = tmp_path_factory.mktemp(f"fuzz-{fmt}")

    @SHORT
    @given(ops=F.operations)
    def run(ops):
        path = folder / f"input{seed_path.suffix}"
        path.write_bytes(F.mutate(seed, ops))
        outcome = F.check(path, modality)
        assert outcome.kind != "finding", f"{fmt} {ops}: {outcome.detail}"

    run()


@pytest.mark.parametrize("fmt", ["png", "wav", "glb", "ply-mesh", "npy", "npz", "m4a", "off"])
def test_generated_inputs_behind_a_magic_decode_or_are_refused(fmt, tmp_path_factory):
    if fmt not in SEEDS:
        pytest.skip(f"no {fmt} seed on this machine")
    seed_path, modality = SEEDS[fmt]
    folder = tmp_path_factory.mktemp(f"gen-{fmt}")

    @SHORT
    @given(data=F.generated(seed_path.read_bytes()[:12]))
    def run(data):
        path = folder / f"input{seed_path.suffix}"
        path.write_bytes(data)
        outcome = F.check(path, modality)
        assert outcome.kind != "finding", f"{fmt} {data[:40]!r}: {outcome.detail}"

    run()


def test_fuzz_finding_aac_layout_change_mid_stream_is_refused_not_a_crash():
    """Found by benchmarks/hostile.py: this mutated ADTS stream turns from mono to 7.1 after four frames,
    and decoding it through PyAV's resampler segfaulted. Run in a child, so a regression fails, not kills."""
    import subprocess
    import sys

    sample = Path(__file__).parent / "data" / "fuzz_layout_change.aac"
    code = ("import sys\nfrom mcrsearch import media\nfrom mcrsearch.errors import MediaError\n"
            f"try:\n    media.decode({str(sample)!r})\nexcept MediaError as exc:\n    print(exc.reason)\n")
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert child.returncode == 0, f"the decoder crashed (rc {child.returncode})"
    assert "changes its channel layout" in child.stdout


def test_memory_is_measured_from_each_inputs_own_baseline():
    """An earlier, higher peak must not hide an input's allocation (the lifetime peak did)."""
    import numpy as np

    big = np.ones(160 * 2**20 // 8)             # a high peak, freed before the "input"
    del big
    base = F.reset_peak_rss()
    block = np.ones(96 * 2**20 // 8)            # the input's own allocation, below the earlier peak
    grown = F.peak_rss_bytes() - base
    del block
    assert grown >= 90 * 2**20, f"only {grown / 2**20:.0f} MB of a 96 MB allocation seen"


def test_a_memory_error_is_a_finding_even_when_the_decoder_refuses_with_it(tmp_path, monkeypatch):
    from mcrsearch import video
    from mcrsearch.errors import MediaError

    path = tmp_path / "x.png"
    path.write_bytes(b"\x89PNG")

    def decode(p, *args, **kwargs):
        try:
            raise MemoryError()
        except MemoryError as exc:
            raise MediaError(p, "image too large to decode in memory") from exc

    monkeypatch.setattr(video, "decode", decode)
    outcome = F.check(path, SEEDS["png"][1])
    assert outcome.kind == "finding" and "MemoryError" in outcome.detail
