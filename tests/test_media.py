"""media.py: every supported kind decodes to its model input; every bad file is a MediaError with a reason."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers.media import (
    EVIL_MARKER,
    cloud,
    mp3_writable,
    write_bad_corpus,
    write_media_corpus,
)

from mcrsearch import media
from mcrsearch.errors import MediaError, UnsupportedMediaError
from mcrsearch.media import (
    AudioClip,
    decode,
    describe,
    load_audio,
    load_image,
    load_points,
    load_text,
    normalize_points,
)
from mcrsearch.modality import Modality


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> dict[str, Path]:
    return write_media_corpus(tmp_path_factory.mktemp("good"))


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bad")


@pytest.fixture(scope="module")
def bad(bad_dir) -> dict[str, Path]:
    return write_bad_corpus(bad_dir)


# ---------------------------------------------------------------------------------------------- images

IMAGE_KEYS = ["image_jpg", "image_png", "image_webp", "image_bmp", "image_gray", "image_palette",
              "image_rgba", "image_cmyk", "image_16bit", "image_gif", "image_exif"]


@pytest.mark.parametrize("key", IMAGE_KEYS)
def test_every_image_kind_decodes_to_rgb(good, key):
    from PIL import Image

    modality, img = decode(good[key])
    assert modality is Modality.IMAGE
    assert isinstance(img, Image.Image) and img.mode == "RGB"
    expected = (30, 40) if key == "image_exif" else (40, 30)
    assert img.size == expected
    assert describe(modality, img) == {"width": expected[0], "height": expected[1]}
    arr = np.asarray(img)
    assert arr.dtype == np.uint8 and arr.shape == (expected[1], expected[0], 3)


def test_lossless_png_round_trips_pixels(good):
    from PIL import Image

    with Image.open(good["image_png"]) as raw:
        original = np.asarray(raw)
    assert np.array_equal(np.asarray(load_image(good["image_png"])), original)


def test_rgba_is_composited_on_white(good):
    arr = np.asarray(load_image(good["image_rgba"]))
    assert (arr[:, :20] == 255).all()          # transparent half -> white
    assert not (arr[:, 20:] == 255).all()       # opaque half keeps its colours


def test_sixteen_bit_grey_is_rescaled_not_clipped(good):
    arr = np.asarray(load_image(good["image_16bit"])).astype(int)
    assert arr[0, 0, 0] == 0 and arr[-1, -1, 0] == 255
    assert 100 < arr[15, 20, 0] < 160  # the middle of a 0..65535 ramp is mid-grey, not white
    assert (arr[..., 0] == arr[..., 1]).all()


def test_cmyk_and_grey_become_plausible_rgb(good):
    cmyk = np.asarray(load_image(good["image_cmyk"])).astype(int)
    ref = np.asarray(load_image(good["image_png"])).astype(int)
    assert np.abs(cmyk - ref).mean() < 20  # same picture, lossy CMYK JPEG round trip
    grey = np.asarray(load_image(good["image_gray"]))
    assert (grey[..., 0] == grey[..., 2]).all()


def test_gif_gives_first_frame(good):
    arr = np.asarray(load_image(good["image_gif"])).astype(int)
    assert abs(arr.mean() - 200) < 5  # frame 0 is light, frame 1 dark


def test_exif_orientation_applied(good):
    from PIL import Image

    with Image.open(good["image_exif"]) as stored:
        assert stored.size == (40, 30)
    assert load_image(good["image_exif"]).size == (30, 40)


def test_decompression_bomb_refused_before_decoding(bad, good):
    with pytest.raises(MediaError, match="too large"):
        load_image(bad["bomb_png"])
    with pytest.raises(MediaError, match="too large"):
        load_image(good["image_png"], max_pixels=100)


# ----------------------------------------------------------------------------------------------- audio

AUDIO_KEYS = [("audio_wav", 16000), ("audio_flac", 22050), ("audio_ogg", 44100), ("audio_mp3", 44100)]


@pytest.mark.parametrize("key,rate", AUDIO_KEYS)
def test_every_audio_kind_decodes_to_mono_float(good, key, rate):
    if key not in good:
        pytest.skip("this libsndfile cannot write MP3")
    modality, clip = decode(good[key])
    assert modality is Modality.AUDIO and isinstance(clip, AudioClip)
    assert clip.samples.dtype == np.float32 and clip.samples.ndim == 1
    assert clip.sample_rate == rate
    assert np.abs(clip.samples).max() <= 1.0 and np.abs(clip.samples).max() > 0.1
    assert abs(clip.duration - 0.5) < 0.06  # mp3/ogg codecs pad a little
    info = describe(modality, clip)
    assert info["sample_rate"] == rate and abs(info["duration"] - 0.5) < 0.06


def test_stereo_is_averaged(good):
    import soundfile as sf

    stereo, _ = sf.read(good["audio_wav"], dtype="float32")
    clip = load_audio(good["audio_wav"])
    assert np.allclose(clip.samples, stereo.mean(axis=1), atol=1e-6)


def test_mp3_support_matches_soundfile(good, monkeypatch, tmp_path):
    import soundfile as sf

    assert media.mp3_supported() == ("MP3" in sf.available_formats())
    assert ("audio_mp3" in good) == mp3_writable()
    if "audio_mp3" in good:
        via_sndfile = load_audio(good["audio_mp3"])
        monkeypatch.setattr(media, "mp3_supported", lambda: False)
        via_av = load_audio(good["audio_mp3"])              # libsndfile without MP3: FFmpeg through PyAV
        assert via_av.sample_rate == via_sndfile.sample_rate
        assert abs(via_av.duration - via_sndfile.duration) < 0.06   # decoders differ in codec padding
        monkeypatch.setattr(media, "av_supported", lambda: False)
        with pytest.raises(UnsupportedMediaError, match="MP3"):
            load_audio(good["audio_mp3"])


# ---------------------------------------------------------------------------------------------- 3D

MESH_KEYS = ["mesh_obj", "mesh_ply", "mesh_stl", "mesh_off", "mesh_glb", "mesh_gltf"]
CLOUD_KEYS = ["cloud_ply", "cloud_xyz", "cloud_txt", "cloud_pts", "cloud_npy", "cloud_npz"]


@pytest.mark.parametrize("key", MESH_KEYS)
def test_meshes_are_sampled_normalised_and_deterministic(good, key):
    modality, pts = decode(good[key], Modality.POINTS, n_points=2048)
    assert modality is Modality.POINTS
    assert pts.shape == (2048, 3) and pts.dtype == np.float32
    assert np.allclose(pts.mean(axis=0), 0, atol=1e-5)
    assert np.isclose(np.linalg.norm(pts, axis=1).max(), 1.0, atol=1e-5)
    # a 2 x 4 x 6 box: the z extent stays 1.5x the y extent after normalisation
    extent = np.ptp(pts, axis=0)
    assert np.isclose(extent[2] / extent[1], 1.5, rtol=0.02)
    again = load_points(good[key], n_points=2048)
    assert np.array_equal(pts, again)


def test_all_mesh_formats_give_the_same_sample(good):
    ref = load_points(good["mesh_obj"], n_points=1000)
    for key in MESH_KEYS[1:]:
        other = load_points(good[key], n_points=1000)
        assert np.allclose(np.sort(np.linalg.norm(other, axis=1)), np.sort(np.linalg.norm(ref, axis=1)),
                           atol=0.05), key


@pytest.mark.parametrize("key", CLOUD_KEYS)
def test_point_clouds_keep_their_points_normalised_like_ulip(good, key):
    modality, pts = decode(good[key], "3d")
    assert modality is Modality.POINTS
    assert pts.dtype == np.float32 and pts.shape == (500, 3)        # 500 < 10,000: every point, none tiled
    assert np.allclose(pts, normalize_points(cloud()), atol=1e-5)   # centred, unit radius (ULIP's loaders)
    assert np.allclose(pts.mean(axis=0), 0, atol=1e-5)
    assert np.isclose(np.linalg.norm(pts, axis=1).max(), 1.0, atol=1e-5)
    assert describe(modality, pts) == {"point_count": 500}


def test_authors_pickled_dict_npy_read_without_allow_pickle(good, monkeypatch):
    original_load = np.load

    def guarded(*args, **kwargs):
        assert not kwargs.get("allow_pickle"), "media must never use allow_pickle=True"
        return original_load(*args, **kwargs)

    monkeypatch.setattr(np, "load", guarded)
    pts = load_points(good["cloud_dict_npy"])
    assert pts.shape == (10_000, 3) and pts.dtype == np.float32
    assert np.allclose(pts, normalize_points(cloud(10_000, seed=1).astype(np.float16)), atol=1e-6)


def test_bare_pickle_dict_and_protocol_2_are_readable(tmp_path):
    pts = cloud(50).astype(np.float16)
    for proto in (2, 4, 5):
        path = tmp_path / f"bare{proto}.npy"
        path.write_bytes(pickle.dumps({"xyz": pts, "meta": [1, 2.5, "x", None, True]}, protocol=proto))
        assert np.allclose(load_points(path), normalize_points(pts), atol=1e-6), proto


def test_normalize_points_helper():
    pts = normalize_points(np.array([[1, 1, 1], [3, 1, 1], [2, 5, 1]], dtype=np.float64))
    assert pts.dtype == np.float32
    assert np.allclose(pts.mean(axis=0), 0, atol=1e-6)
    assert np.isclose(np.linalg.norm(pts, axis=1).max(), 1.0)


# ---------------------------------------------------------------------------------------------- text


def test_text_utf8_and_latin1(good):
    assert decode(good["text_txt"]) == (Modality.TEXT, "A dog barks at a passing train.")
    assert load_text(good["text_latin1"]) == "Café crème, déjà vu."
    assert load_text(good["text_utf16"]) == "Grüße aus Köln"  # its BOM is not mistaken for MP3 sync


def test_long_text_kept_but_described_short(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("word " * 2000)
    text = load_text(path)
    assert len(text) == len(("word " * 2000).strip())
    info = describe(Modality.TEXT, text)
    assert len(info["text"]) <= 500 and info["chars"] == len(text)


# ------------------------------------------------------------------------------------- bad input

BAD_EXPECTED = {
    "empty": "empty file",
    "empty_txt": "empty file",
    "blank_txt": "empty text",
    "truncated_png": "truncated or corrupt PNG",
    "truncated_jpg": "truncated or corrupt JPEG",
    "truncated_wav": "truncated or corrupt WAV",
    "truncated_wav_data": "truncated WAV",
    "gltf_missing_buffer": "missing file",
    "random_png": "not a valid image",
    "png_as_wav": "not a valid audio file (looks like PNG image)",
    "text_as_jpg": "not a valid image file (looks like text)",
    "png_as_txt": "looks like PNG image",
    "wav_as_npy": "looks like WAV audio",
    "bomb_png": "too large",
    "nan_wav": "NaN",
    "zero_len_wav": "no samples",
    "evil_npy": "refused pickle",
    "evil_raw_npy": "refused pickle",
    "evil_npz": "refused pickle",
    "nan_cloud": "non-finite",
    "inf_dict_cloud": "non-finite",
    "identical_cloud": "all points identical",
    "two_points": "at least 3",
    "flat_array": "shape",
    "dict_without_xyz": "no 'xyz'",
    "garbage_obj": "no 3D geometry",
    "flat_mesh": "zero surface area",
    "truncated_glb": "corrupt",
    "prose_xyz": "no x y z rows",
    "binary_txt": "binary",
    "unsupported_docx": "unsupported file type .docx",
    "no_extension": "unsupported file type",
}


def test_bad_corpus_is_fully_covered(bad):
    assert set(bad) == set(BAD_EXPECTED)


@pytest.mark.parametrize("key", sorted(BAD_EXPECTED))
def test_bad_file_is_a_media_error_with_path_and_reason(bad, key):
    with pytest.raises(MediaError) as info:
        decode(bad[key])
    err = info.value
    assert err.path == str(bad[key])
    assert err.reason and BAD_EXPECTED[key] in err.reason
    assert str(bad[key]) in str(err)


def test_malicious_pickles_never_execute(bad, bad_dir):
    for key in ("evil_npy", "evil_raw_npy", "evil_npz"):
        with pytest.raises(MediaError, match="posix.system|nt.system|os.system"):
            load_points(bad[key])
    assert not (bad_dir / EVIL_MARKER).exists()


@pytest.mark.parametrize("global_ref", [b"builtins\neval\n", b"subprocess\nPopen\n",
                                        b"numpy\nload\n", b"numpy.lib.npyio\nload\n"])
def test_restricted_unpickler_refuses_other_globals(tmp_path, global_ref):
    path = tmp_path / "g.npy"
    path.write_bytes(b"\x80\x02c" + global_ref + b"X\x01\x00\x00\x001\x85R.")
    with pytest.raises(MediaError, match="refused pickle"):
        load_points(path)


def test_pickled_array_allocation_bomb_refused(tmp_path):
    # REDUCE numpy.ndarray((10**12,)): an 8 TB allocation if ndarray were callable from the pickle
    big = b"\x8a\x06" + (10**12).to_bytes(6, "little")  # LONG1 10**12 (signed, so 6 bytes)
    path = tmp_path / "alloc.npy"
    path.write_bytes(b"\x80\x02cnumpy\nndarray\n" + big + b"\x85\x85R.")
    with pytest.raises(MediaError):
        load_points(path)
    path.write_bytes(b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
                     + big + b"\x85U\x01b\x87R.")
    with pytest.raises(MediaError, match="refused pickle"):
        load_points(path)


def test_unsupported_extension_is_its_own_type(bad):
    with pytest.raises(UnsupportedMediaError):
        decode(bad["unsupported_docx"])


def test_huge_file_refused_before_reading(good, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("a huge file must not be opened")

    monkeypatch.setattr("builtins.open", boom)
    with pytest.raises(MediaError, match="exceeds the 100 B limit"):
        decode(good["audio_wav"], max_bytes=100)


def test_default_size_limit_comes_from_settings():
    from mcrsearch.config import Settings

    assert media.default_max_bytes() == int(Settings().max_file_mb * 1024 * 1024)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(MediaError, match="not found"):
        decode(tmp_path / "nope.png")
    folder = tmp_path / "dir.png"
    folder.mkdir()
    with pytest.raises(MediaError, match="directory"):
        decode(folder)


def test_each_loader_refuses_other_kinds(good):
    with pytest.raises(MediaError, match="looks like PNG"):
        load_audio(good["image_png"])
    with pytest.raises(MediaError, match="looks like WAV"):
        load_image(good["audio_wav"])
    with pytest.raises(MediaError, match="looks like JPEG"):
        load_points(good["image_jpg"])
    with pytest.raises(MediaError, match="looks like"):
        load_text(good["audio_flac"])


# ---------------------------------------------------------------------------------------------- hashing


def test_read_hashed_is_sha256_of_bytes(good, tmp_path):
    import hashlib

    path = good["mesh_glb"]
    assert media.read_hashed(path)[0] == hashlib.sha256(path.read_bytes()).hexdigest()
    copy = tmp_path / "renamed.bin"
    copy.write_bytes(path.read_bytes())
    assert media.read_hashed(copy)[0] == media.read_hashed(path)[0]
    with pytest.raises(MediaError):
        media.read_hashed(tmp_path / "missing")


def test_read_hashed_keeps_the_bytes_of_files_read_in_one_piece(tmp_path, monkeypatch):
    import hashlib

    data = np.random.default_rng(1).bytes(10_000)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert media.read_hashed(path) == (hashlib.sha256(data).hexdigest(), data)       # one read
    monkeypatch.setattr(media, "HASH_BLOCK", 4096)              # 3 blocks, the last one short: streamed,
    assert media.read_hashed(path) == (hashlib.sha256(data).hexdigest(), None)      # the bytes not kept


def _decoded_or_reason(path: Path, data: bytes | None):
    try:
        modality, item = decode(path, n_points=256, data=data)
    except MediaError as exc:
        return type(exc).__name__, exc.reason
    if isinstance(item, AudioClip):
        return modality, item.sample_rate, item.samples.tobytes()
    if isinstance(item, str):
        return modality, item
    return modality, np.asarray(item).tobytes()


def test_decoding_from_the_read_bytes_matches_decoding_from_the_path(good, bad):
    """The indexer decodes the bytes it hashed: every good file gives the same input, every bad file the
    same reason, as decoding from the path."""
    for key, path in {**good, **{f"bad:{k}": v for k, v in bad.items()}}.items():
        data = path.read_bytes() if path.is_file() else None
        assert _decoded_or_reason(path, data) == _decoded_or_reason(path, None), key


def test_decoding_from_bytes_reads_no_file(good, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("the bytes were given: nothing may open the file")

    kinds = ["image_png", "image_jpg", "audio_wav", "audio_flac", "cloud_npy", "cloud_dict_npy", "text_latin1"]
    given = {key: good[key].read_bytes() for key in kinds}
    monkeypatch.setattr("builtins.open", boom)
    monkeypatch.setattr("os.stat", boom)
    for key in kinds:
        decode(good[key], n_points=256, data=given[key])


@pytest.mark.parametrize("head,expected", [
    (b"\xff\xfeh\x00i\x00", ("text", "text")),                 # UTF-16 BOM, not an MP3 frame sync
    (b"\xff\xfb\x90\x64" + b"\x00" * 20, ("audio", "MP3 audio")),  # MPEG-1 layer III frame
    (b"ID3\x04\x00", ("audio", "MP3 audio")),
    (b"BMW builds cars and motorbikes", ("text", "text")),   # starts with BM, not a bitmap
    (b"\x93NUMPY\x01\x00", ("3d", "NumPy array")),
    (b"\x80\x03}q\x00", ("3d", "Python pickle")),
    (b"\x00\x01\x02\x03", None),
])
def test_sniff(head, expected):
    assert media.sniff(head) == expected


def test_mesh_default_sample_size_is_the_default_space_sample_size(good):
    from mcrsearch.space import DEFAULT_MESH_POINTS

    assert load_points(good["mesh_off"]).shape == (DEFAULT_MESH_POINTS, 3)


def test_decoding_in_threads_matches_serial(good):
    """The indexer decodes in worker threads: results must not depend on it."""
    from concurrent.futures import ThreadPoolExecutor

    keys = [k for k in good if not k.startswith("cloud_txt")]

    def as_array(key):
        _, item = decode(good[key], n_points=512)
        return np.asarray(item.samples if isinstance(item, AudioClip) else item, dtype=object
                          if isinstance(item, str) else None)

    serial = [as_array(k) for k in keys]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(as_array, keys))
    for key, a, b in zip(keys, serial, threaded):
        assert np.array_equal(a, b), key
