"""Declared sizes are checked before anything is allocated; long audio is decoded in a bounded window;
formats decoded through PyAV (issue 15, parts 1-2)."""

from __future__ import annotations

import io
import json
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

from mcrsearch import media
from mcrsearch.config import Settings, load_settings
from mcrsearch.errors import MediaError
from mcrsearch.media import Limits, decode, describe, load_audio, load_points
from mcrsearch.modality import Modality, detect_modality
from helpers.media import cloud

SMALL = Limits(decoded_bytes=1 << 20, points=100_000, audio_seconds=2.0)


def _peak_during(fn):
    """(result or exception, peak bytes traced while fn ran): numpy reports its buffers to tracemalloc."""
    tracemalloc.start()
    try:
        try:
            out = fn()
        except MediaError as exc:
            out = exc
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _npy_header(shape, dtype="<f4") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def test_limits_come_from_settings_and_the_environment(monkeypatch):
    assert Limits.from_settings() == Limits.from_settings(Settings())
    monkeypatch.setenv("MCRSEARCH_MAX_POINTS", "1234")
    monkeypatch.setenv("MCRSEARCH_MAX_DECODED_MB", "2")
    lim = Limits.from_settings(load_settings())
    assert lim.points == 1234 and lim.decoded_bytes == 2 * 2**20


def test_npz_bomb_refused_without_inflating_it(tmp_path):
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, xyz=np.zeros((2_000_000, 3), np.float32))       # 24 MB of zeros, tiny on disk
    assert path.stat().st_size < 200_000
    out, peak = _peak_during(lambda: load_points(path, limits=SMALL))
    assert isinstance(out, MediaError) and "decompression bomb" in out.reason
    assert peak < SMALL.decoded_bytes


def test_npz_member_with_a_forged_header_is_truncated_not_allocated(tmp_path):
    path = tmp_path / "forged.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xyz.npy", _npy_header((400_000_000, 3)) + b"\0" * 120)
    out, peak = _peak_during(lambda: load_points(path))
    assert isinstance(out, MediaError) and "truncated NumPy file" in out.reason
    assert peak < 1 << 20


def test_npy_header_checked_against_the_file_and_the_limits(tmp_path):
    forged = tmp_path / "forged.npy"
    forged.write_bytes(_npy_header((10**9, 3)) + b"\0" * 64)
    assert "truncated NumPy file" in pytest.raises(MediaError, load_points, forged).value.reason
    many = tmp_path / "many.npy"
    np.save(many, cloud(2_000).astype(np.float32))
    with pytest.raises(MediaError, match="too many points"):
        load_points(many, limits=Limits(points=1_000))


def test_large_cloud_is_subsampled_not_refused(tmp_path):
    path = tmp_path / "dense.npy"
    np.save(path, cloud(25_000).astype(np.float32) * 1000.0)
    pts = load_points(path)
    assert pts.shape == (10_000, 3) and len(np.unique(pts, axis=0)) == 10_000
    assert np.isclose(np.linalg.norm(pts, axis=1).max(), 1.0, atol=1e-5)


@pytest.mark.parametrize("name,body,reason", [
    ("huge.ply", b"ply\nformat ascii 1.0\nelement vertex 4000000000\nproperty float x\nproperty float y\n"
                 b"property float z\nend_header\n0 0 0\n", "over the limit"),
    ("short.ply", b"ply\nformat binary_little_endian 1.0\nelement vertex 1000\nproperty float x\nproperty float y\n"
                  b"property float z\nend_header\n" + b"\0" * 24, "truncated file"),
    ("huge.off", b"OFF\n900000000 900000000 0\n0 0 0\n", "over the limit"),
    ("short.off", b"OFF\n50000 10 0\n0 0 0\n1 0 0\n0 1 0\n", "truncated file"),
    ("huge.stl", b"\0" * 80 + struct.pack("<I", 2**31) + b"\0" * 50, "over the limit"),
    ("short.stl", b"\0" * 80 + struct.pack("<I", 5000) + b"\0" * 100, "truncated file"),
])
def test_mesh_element_counts_checked_before_loading(tmp_path, name, body, reason):
    path = tmp_path / name
    path.write_bytes(body)
    out, peak = _peak_during(lambda: load_points(path))
    assert isinstance(out, MediaError) and reason in out.reason, out
    assert peak < 4 << 20


def _glb(doc: dict, binary: bytes) -> bytes:
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    binary += b"\0" * (-len(binary) % 4)
    chunks = struct.pack("<II", len(js), 0x4E4F534A) + js + struct.pack("<II", len(binary), 0x004E4942) + binary
    return b"glTF" + struct.pack("<II", 2, 12 + len(chunks)) + chunks


def test_gltf_buffer_lengths_and_accessor_counts_checked(tmp_path):
    base = {"asset": {"version": "2.0"}, "buffers": [{"byteLength": 36}],
            "bufferViews": [{"buffer": 0, "byteLength": 36}],
            "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"}]}
    lying_buffer = dict(base, buffers=[{"byteLength": 2**40}])
    lying_count = dict(base, accessors=[{"bufferView": 0, "componentType": 5126, "count": 10**9, "type": "VEC3"}])
    for name, doc, reason in (("buffer.glb", lying_buffer, "truncated file"),
                              ("count.glb", lying_count, "over the limit")):
        path = tmp_path / name
        path.write_bytes(_glb(doc, b"\0" * 36))
        with pytest.raises(MediaError, match=reason):
            load_points(path)
    gltf = tmp_path / "external.gltf"
    (tmp_path / "tiny.bin").write_bytes(b"\0" * 8)
    gltf.write_text(json.dumps(dict(base, buffers=[{"byteLength": 36, "uri": "tiny.bin"}])))
    with pytest.raises(MediaError, match="truncated file"):
        load_points(gltf)


def test_obj_and_point_lists_checked_against_the_point_limit(tmp_path):
    obj = tmp_path / "dense.obj"
    obj.write_text("".join(f"v {i} {i % 7} {i % 3}\n" for i in range(500)) + "f 1 2 3\n")
    with pytest.raises(MediaError, match="over the limit"):
        load_points(obj, limits=Limits(points=100))
    xyz = tmp_path / "dense.xyz"
    np.savetxt(xyz, cloud(500))
    with pytest.raises(MediaError, match="too many points"):
        load_points(xyz, limits=Limits(points=100))
    assert load_points(xyz).shape == (500, 3)


# ---------------------------------------------------------------------------------------------- audio


def _wav(path, seconds: float, rate: int = 16_000, channels: int = 1):
    import soundfile as sf

    t = np.arange(int(seconds * rate)) / rate
    sig = 0.3 * np.sin(2 * np.pi * 440 * t)
    sf.write(path, np.tile(sig[:, None], (1, channels)), rate, subtype="PCM_16")
    return path


def test_long_audio_decodes_only_its_window_and_says_so(tmp_path):
    path = _wav(tmp_path / "long.wav", 30.0)
    out, peak = _peak_during(lambda: load_audio(path, limits=SMALL))
    assert out.duration == pytest.approx(2.0) and out.source_duration == pytest.approx(30.0)
    assert peak < 2 * 2.0 * 16_000 * 8 + (1 << 20)          # the 2 s window, not 30 s
    info = describe(Modality.AUDIO, out)
    assert info["duration"] == pytest.approx(30.0) and info["embedded_seconds"] == [0.0, 2.0]
    short = load_audio(_wav(tmp_path / "short.wav", 1.0), limits=SMALL)
    assert short.source_duration is None and "embedded_seconds" not in describe(Modality.AUDIO, short)


def test_audio_window_over_the_decoded_bytes_cap_is_refused(tmp_path):
    path = _wav(tmp_path / "wide.wav", 0.5, rate=48_000, channels=8)
    with pytest.raises(MediaError, match="audio window too large"):
        load_audio(path, limits=Limits(decoded_bytes=100_000, audio_seconds=60.0))


def _encoded(seconds: float, container: str, codec: str, rate: int = 44_100) -> bytes:
    from helpers.fuzzing import encode_audio

    return encode_audio(seconds, container, codec, rate, channels=2)


@pytest.mark.parametrize("name,container,codec", [("clip.m4a", "mp4", "aac"), ("clip.aac", "adts", "aac"),
                                                   ("clip.opus", "ogg", "libopus")])
def test_ffmpeg_formats_decode_through_pyav(tmp_path, name, container, codec):
    pytest.importorskip("av")
    path = tmp_path / name
    try:
        path.write_bytes(_encoded(3.0, container, codec, rate=48_000 if codec == "libopus" else 44_100))
    except Exception as exc:  # noqa: BLE001 - an FFmpeg build without this encoder
        pytest.skip(f"cannot encode {codec}: {exc}")
    assert detect_modality(path) is Modality.AUDIO
    modality, clip = decode(path)
    assert modality is Modality.AUDIO and clip.samples.dtype == np.float32
    assert clip.duration == pytest.approx(3.0, abs=0.1)
    assert 0.3 < float(np.abs(clip.samples).max()) <= 0.5
    window = load_audio(path, data=path.read_bytes(), limits=Limits(audio_seconds=1.0))
    assert window.duration == pytest.approx(1.0, abs=0.03) and window.source_duration > 2.5


def test_truncated_m4a_is_a_media_error(tmp_path):
    pytest.importorskip("av")
    data = _encoded(1.0, "mp4", "aac")
    path = tmp_path / "cut.m4a"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(MediaError) as err:
        media.load_audio(path)
    assert err.value.path == str(path)
