"""Encoder precision and runtime on this machine, side by side; writes the `precision` section of docs/BENCHMARKS.md.

    python benchmarks/precision.py [--json] [--items 8] [--rounds 3] [--parts encoders,decode,retrieval,serve]
    python benchmarks/precision.py --tiny --json --parts encoders      # the tiny configurations (tests)
    python benchmarks/precision.py --render docs/precision.json --out docs/BENCHMARKS.md   # section only

For each full-size encoder (random weights: CLIP ViT-B/32 quickgelu image tower, CLAP HTSAT-tiny fusion
audio tower, ULIP-2 PointBERT) every candidate mode runs on the same real-shaped inputs
(`mcrsearch.precision.sample_inputs`) in one process, in interleaved rounds (the order rotates each round),
so ratios to fp32 are fair on a shared machine. Rows: {"encoder", "mode", "items_per_s", "speedup_vs_fp32",
"min_cosine", "chosen"}; `chosen` is what `--precision auto` picks here (mcrsearch.precision.choose).
Candidates: fp32; int8 (dynamic, Linear layers); onnx (ONNX Runtime fp32: CLIP's image tower, ULIP-2 after
the grouping); bf16
(weights cast, autocast for CLAP), run on one item only where the CPU has no bf16 matrix units (to show why
it is refused); torch.compile (inductor) when asked with --compile (its compile time is reported apart); with --onnx, int8 copies of CLIP's exported
image tower (dynamic, and static with activation scales calibrated once) as runtime candidates.
Other parts: decode (JPEG decode, mel features, mesh sampling) against encode per item; ULIP-2 grouping's
share of encode time (and the change the compiled k-NN made); mini-world retrieval (default and hard
worlds) with each allowed mode applied to the mini MCRs; warm query latency of `mcrsearch serve` over HTTP with full-size and tiny encoders.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# encoder key -> (family, full config, tiny config, modality measured)
ENCODERS = {
    "clip": ("openclip", "ViT-B-32-quickgelu", "tiny", "image"),
    "clap": ("clap", "HTSAT-tiny-fusion", "tiny", "audio"),
    "ulip": ("ulip2", "pointbert-ulip2", "tiny", "3d"),
}
MINI = {"clip": "clip", "clap": "clap", "ulip": "ulip"}      # real encoder key -> mini-world MCR


def _build(key: str, tiny: bool) -> Any:
    from mcrsearch.encoders import create_encoder

    family, full, small, _ = ENCODERS[key]
    extra = {"text": False} if family == "clap" else {}
    return create_encoder(family, config=small if tiny else full, random_init=True, device="cpu", **extra)


def matmul_rates(size: int = 1024) -> dict[str, float]:
    """GFLOP/s of one size x size matmul in fp32 and bf16 (the evidence for offering bf16 or not)."""
    import torch

    out = {}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
        a @ b
        reps, t0 = 0, time.perf_counter()
        while reps < 3 or time.perf_counter() - t0 < 0.5:
            a @ b
            reps += 1
        out[name] = 2 * size ** 3 * reps / (time.perf_counter() - t0) / 1e9
    return out


def _timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench_encoder(key: str, items: int, rounds: int, tiny: bool, compile_: bool,
                  onnx_: bool = False) -> tuple[list[dict], dict]:
    """Rows for one encoder (every mode on the same inputs, interleaved rounds) and extra facts."""

    from mcrsearch import precision as P
    from mcrsearch.modality import Modality

    modality = Modality.parse(ENCODERS[key][3])
    inputs = P.sample_inputs(modality, items, seed=1)
    base = _build(key, tiny)
    offered = P.offered_modes("cpu")
    encoders: dict[str, Any] = {"fp32": base}
    notes: dict[str, str] = {}
    facts: dict[str, Any] = {}
    onnx_dir = Path(tempfile.mkdtemp(prefix="precision-onnx-"))
    for mode in ("int8", "bf16", "onnx"):
        if mode not in base.precision_modes or (mode == "onnx" and mode not in offered):
            continue
        enc = copy.deepcopy(base)
        t0 = time.perf_counter()
        P.convert(enc, mode, onnx_dir)
        if mode == "onnx":
            facts["onnx_export_s"] = round(time.perf_counter() - t0, 1)
        encoders[mode] = enc
        if mode not in offered:
            notes[mode] = "not offered here (no bf16 matrix units): one item against fp32 on that item"
    if key == "clip" and onnx_ and "onnx" in encoders:
        for mode, enc in onnx_clip(base, encoders["onnx"].onnx_image.path, onnx_dir, facts).items():
            encoders[mode] = enc
    if compile_:
        enc = copy.deepcopy(base)
        _compile(enc)
        facts["compile_s"] = _timed(lambda: enc.encode(modality, inputs[:1]))
        encoders["compile"] = enc
    reference = base.encode(modality, inputs)
    for mode, enc in encoders.items():                  # one warm-up pass each (not for the emulated ones)
        if mode not in notes:
            enc.encode(modality, inputs[:1])
    times: dict[str, list[float]] = {m: [] for m in encoders}
    vectors: dict[str, np.ndarray] = {}
    single: dict[str, float] = {}          # not-offered modes: one item, against fp32 on that same item
    order = list(encoders)
    for r in range(rounds):
        for mode in order[r % len(order):] + order[:r % len(order)]:
            if mode in notes:
                if r == 0:
                    fp32_one = _timed(lambda: base.encode(modality, inputs[:1]))
                    t0 = time.perf_counter()
                    vectors[mode] = encoders[mode].encode(modality, inputs[:1])
                    single[mode] = fp32_one / (time.perf_counter() - t0)
                continue
            t0 = time.perf_counter()
            vectors[mode] = encoders[mode].encode(modality, inputs)
            times[mode].append(time.perf_counter() - t0)
    fp32_s = statistics.median(times["fp32"])
    drift = {m: float(np.max(np.abs(enc.encode(modality, inputs[:1])[0] - vectors[m][0])))   # row 0 alone vs batch
             for m, enc in encoders.items() if m not in notes}
    rows = []
    for mode in encoders:
        speedup = single[mode] if mode in single else fp32_s / statistics.median(times[mode])
        ref = reference[: len(vectors[mode])]
        rows.append({"encoder": key, "mode": mode, "items_per_s": round(items / fp32_s * speedup, 3),
                     "speedup_vs_fp32": round(speedup, 3),
                     "min_cosine": round(float(np.min(np.sum(ref * vectors[mode], axis=1))), 6),
                     "chosen": False, "offered": mode in offered,
                     "batch_drift": None if mode not in drift else float(f"{drift[mode]:.2g}"),
                     "note": notes.get(mode) or ("" if mode in base.precision_modes else "runtime candidate")})
    chosen = _chosen(key, rows)
    for row in rows:
        row["chosen"] = row["mode"] == chosen
    facts["why"] = _why(key, rows, chosen)
    if key == "ulip":
        facts.update(grouping_share(encoders[chosen], inputs, base))
    facts["encode_s_per_item"] = {r["mode"]: 1 / r["items_per_s"] for r in rows}
    return rows, facts


class _OnnxImageEncoder:
    """CLIP's image tower in ONNX Runtime, behind the same `encode` call (the benchmark's candidate only)."""

    def __init__(self, base: Any, path: Path) -> None:
        import onnxruntime as ort
        import torch

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = torch.get_num_threads()
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.preprocess = base.preprocess

    def encode(self, modality: Any, items: list[Any]) -> np.ndarray:
        import torch

        from mcrsearch.encoders.base import l2_normalize

        pixels = torch.stack([self.preprocess(img.convert("RGB")) for img in items]).numpy()
        return l2_normalize(self.session.run(None, {"input0": pixels})[0])


def onnx_clip(base: Any, fp32: Path, folder: Path, facts: dict) -> dict[str, Any]:
    """Int8 copies of CLIP's exported image tower (`fp32`, the `onnx` mode's file): dynamic (activation scales
    per batch) and static (scales calibrated once on 16 other real-shaped images, so batch-independent)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, \
        quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from mcrsearch import precision as P

    import torch

    t0 = time.perf_counter()
    dynamic = folder / "clip-visual-int8-dynamic.onnx"
    quantize_dynamic(str(fp32), str(dynamic), weight_type=QuantType.QInt8)
    facts["onnx_int8_dynamic_s"] = round(time.perf_counter() - t0, 1)
    pixels = torch.stack([base.preprocess(img) for img in P.sample_inputs("image", 16, seed=0)]).numpy()

    class Calibration(CalibrationDataReader):
        def __init__(self) -> None:
            self.rows = iter([{"input0": pixels[i:i + 1]} for i in range(len(pixels))])

        def get_next(self) -> dict | None:
            return next(self.rows, None)

    t0 = time.perf_counter()
    prepared, static = folder / "clip-visual-pre.onnx", folder / "clip-visual-int8-static.onnx"
    quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
    quantize_static(str(prepared), str(static), Calibration(), quant_format=QuantFormat.QOperator,
                    per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    op_types_to_quantize=["MatMul", "Gemm"])
    facts["onnx_int8_static_s"] = round(time.perf_counter() - t0, 1)
    return {"onnx-int8-dynamic": _OnnxImageEncoder(base, dynamic), "onnx-int8-static": _OnnxImageEncoder(base, static)}


def _compile(enc: Any) -> None:
    import torch

    if enc.family == "openclip":
        enc.model.encode_image = torch.compile(enc.model.encode_image)
    elif enc.family == "clap":
        enc.model.encode_audio = torch.compile(enc.model.encode_audio)
    else:
        enc.model = torch.compile(enc.model)


def _chosen(key: str, rows: list[dict]) -> str:
    """What `--precision auto` picks: the family's order, offered here, within tolerance (this run's inputs)."""
    from mcrsearch import precision as P

    family = ENCODERS[key][0]
    by_mode = {r["mode"]: r for r in rows}
    for mode in P.AUTO_ORDER.get(family, ()):
        row = by_mode.get(mode)
        if row and row["offered"] and row["min_cosine"] >= P.MIN_COSINE:
            return mode
    return "fp32"


def _why(key: str, rows: list[dict], chosen: str) -> str:
    from mcrsearch import precision as P

    by_mode = {r["mode"]: r for r in rows}
    parts = []
    for mode in P.AUTO_ORDER.get(ENCODERS[key][0], ()):
        row = by_mode.get(mode)
        if row is None:
            continue
        if not row["offered"]:
            parts.append(f"{mode} not offered (no bf16 matrix units; {row['speedup_vs_fp32']:.2f}x fp32 here)")
        elif row["min_cosine"] < P.MIN_COSINE:
            parts.append(f"{mode} out of tolerance (min cosine {row['min_cosine']:.5f})")
        elif mode == chosen:
            parts.append(f"{mode}: first in the order, within tolerance (min cosine {row['min_cosine']:.5f}), "
                         f"{row['speedup_vs_fp32']:.2f}x fp32")
            break
    if chosen == "fp32":                # modes auto never picks (P.AUTO_ORDER says why), as measured
        for mode, row in by_mode.items():
            if mode != "fp32" and mode not in P.AUTO_ORDER.get(ENCODERS[key][0], ()) and row["offered"]:
                parts.append(f"{mode} not picked by auto ({row['speedup_vs_fp32']:.2f}x fp32, min cosine "
                             f"{row['min_cosine']:.5f}; explicit only, see mcrsearch.precision.AUTO_ORDER)")
    return "; ".join(parts) or "fp32: no other mode allowed"


def _knn_matmul(points: Any, queries: Any, k: int) -> Any:
    """The k-NN grouping before the compiled kernel: |q|²+|p|²-2q·p and one batched top-k (for comparison)."""
    d = (queries.pow(2).sum(-1, keepdim=True) + points.pow(2).sum(-1).unsqueeze(1)
         - 2.0 * queries @ points.transpose(1, 2))
    return d.topk(k, dim=-1, largest=False, sorted=True).indices


def grouping_share(enc: Any, clouds: list[np.ndarray], fp32_enc: Any) -> dict[str, float]:
    """ULIP-2 grouping (FPS + k-NN) time against the whole encode of the same batch, the torch code each kernel
    replaced, and how far the vectors moved from the earlier matmul-formula k-NN (fp32, same clouds)."""
    import torch

    from mcrsearch.encoders import ulip
    from mcrsearch.encoders._pointops import farthest_point_sample, farthest_point_sample_torch, knn
    from mcrsearch.modality import Modality

    model = fp32_enc.model.point_encoder
    xyz = torch.from_numpy(np.stack([ulip.prepare_points(c, enc.npoints, enc.min_points) for c in clouds]))
    grouping = min(_timed(lambda: ulip.group_points(xyz, model.num_group, model.group_size)) for _ in range(3))
    fps = min(_timed(lambda: farthest_point_sample(xyz, model.num_group)) for _ in range(3))
    centres = xyz[torch.arange(len(clouds)).unsqueeze(-1), farthest_point_sample(xyz, model.num_group)]
    knn_s = min(_timed(lambda: knn(xyz, centres, model.group_size)) for _ in range(3))
    topk_s = min(_timed(lambda: _knn_matmul(xyz, centres, model.group_size)) for _ in range(2))
    new_sets = knn(xyz, centres, model.group_size).sort(-1).values
    old_sets = _knn_matmul(xyz, centres, model.group_size).sort(-1).values
    changed = int((new_sets != old_sets).any(-1).sum())
    encode = min(_timed(lambda: enc.encode(Modality.POINTS, clouds)) for _ in range(2))
    loop = _timed(lambda: farthest_point_sample_torch(xyz[:1], model.num_group)) * len(clouds)
    now = fp32_enc.encode(Modality.POINTS, clouds)
    patched, ulip.knn_indices = ulip.knn_indices, _knn_matmul
    try:
        before = fp32_enc.encode(Modality.POINTS, clouds)
    finally:
        ulip.knn_indices = patched
    return {"grouping_s": grouping, "fps_s": fps, "knn_s": knn_s, "encode_s": encode,
            "grouping_share": grouping / encode, "torch_loop_fps_s": loop, "torch_topk_knn_s": topk_s,
            "groups_changed_vs_matmul_knn": changed, "groups": int(new_sets.shape[0] * new_sets.shape[1]),
            "min_cosine_vs_matmul_knn": float(np.min(np.sum(now * before, axis=1))), "clouds": len(clouds)}


# --------------------------------------------------------------------------- decode against encode

def bench_decode(items: int, encode_per_item: dict[str, float], tiny: bool) -> list[dict]:
    """Per-item decode time of each modality's file path next to the chosen mode's per-item encode time."""
    import soundfile as sf
    import trimesh

    from mcrsearch import media
    from mcrsearch import precision as P
    from mcrsearch.encoders._clap_audio import FusionFeatures

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        jpgs = []
        for i, img in enumerate(P.sample_inputs("image", items, seed=2)):
            path = tmp / f"{i}.jpg"
            img.resize((1600, 1200)).save(path, quality=90)          # a phone-sized photo
            jpgs.append(path)
        wavs = []
        for i, clip in enumerate(P.sample_inputs("audio", items, seed=3)):
            path = tmp / f"{i}.wav"
            sf.write(path, clip.samples, clip.sample_rate)
            wavs.append(path)
        meshes = []
        for i in range(items):
            mesh = trimesh.creation.icosphere(subdivisions=5) if i % 2 else trimesh.creation.box()
            path = tmp / f"{i}.ply"
            mesh.export(path)
            meshes.append(path)
        per = {
            "image: JPEG decode (1600x1200)": _per_item(jpgs, media.load_image),
            "audio: WAV decode (10 s, 48 kHz)": _per_item(wavs, media.load_audio),
            "3d: mesh surface sampling (10k points)": _per_item(meshes, lambda p: media.load_points(p, 10_000)),
        }
        clap = _build("clap", tiny)
        feats: FusionFeatures = clap.features
        clips = [media.load_audio(p) for p in wavs]
        per["audio: fusion mel features (inside CLAP encode)"] = _per_item(
            clips, lambda c: feats(c.samples, c.sample_rate))
    encoder_of = {"image": "clip", "audio": "clap", "3d": "ulip"}
    for what, seconds in per.items():
        enc_s = encode_per_item.get(encoder_of[what.split(":")[0]])
        rows.append({"stage": what, "ms_per_item": round(seconds * 1e3, 2),
                     "encode_ms_per_item": round(enc_s * 1e3, 2) if enc_s else None,
                     "share_of_encode": round(seconds / enc_s, 3) if enc_s else None})
    return rows


def _per_item(things: list[Any], fn: Any) -> float:
    fn(things[0])
    return min(_timed(lambda: [fn(t) for t in things]) for _ in range(2)) / len(things)


# --------------------------------------------------------------------------- mini-world retrieval

def bench_retrieval(modes: dict[str, list[str]], home: Path | None, scales: tuple[str, ...]) -> list[dict]:
    """Within-MCR retrieval (mAP, held-out split) of the mini-world MCRs in fp32 and in each mode given for the
    matching real encoder (the chosen one and the explicit ones within tolerance); an MCR with none is skipped,
    since fp32 against fp32 measures nothing. Trained MCRs are cached under the home, so a rerun only encodes."""
    from mcrsearch.config import load_settings
    from mcrsearch.miniworld.generate import generate_world
    from mcrsearch.miniworld.mcrs import evaluate_mcr, load_or_train_mcrs
    from mcrsearch.miniworld.world import WorldConfig

    settings = load_settings(**({"home": home} if home else {}), device="cpu")
    rows = []
    for scale in scales:
        config = WorldConfig.preset(scale)
        world = generate_world(Path(settings.home) / f"miniworld-{config.key()}", config)
        mcrs = load_or_train_mcrs(world, settings, log=lambda m: print(m, file=sys.stderr))
        for key, mcr in MINI.items():
            if not modes.get(key):
                continue
            enc = getattr(mcrs, mcr)
            base = evaluate_mcr(enc, world)
            for mode in modes[key]:
                trial = copy.deepcopy(enc)
                _mini_mode(trial, mode, Path(tempfile.mkdtemp(prefix="precision-mini-")), key)
                other = evaluate_mcr(trial, world)
                for pair in (k for k in base if "->" in k):
                    rows.append({"world": scale, "mcr": mcr, "mode": mode, "pair": pair,
                                 "map_fp32": round(base[pair]["map"], 4), "map_mode": round(other[pair]["map"], 4),
                                 "delta": round(other[pair]["map"] - base[pair]["map"], 4),
                                 "queries": base[pair].get("n_queries")})
    return rows


def _mini_mode(enc: Any, mode: str, folder: Path, key: str) -> None:
    """Put a mini-world MCR in `mode`: int8/bf16 through mcrsearch.precision.convert; `onnx` runs the tower the
    real encoder runs in ONNX Runtime (CLIP: image, ULIP-2: 3d) there too (benchmark glue: no product mode)."""
    from mcrsearch import precision as P

    if mode != "onnx":
        P.convert(enc, mode)
        return
    import torch

    from mcrsearch.encoders import _onnx
    from mcrsearch.modality import Modality

    modality = Modality.parse(ENCODERS[key][3])
    example = torch.from_numpy(np.ascontiguousarray(enc.preprocess(modality, P.sample_inputs(modality, 1))))
    runner = _onnx.OnnxTower(_onnx.export(enc.model.towers[modality.value], (example,),
                                          folder / f"mini-{modality.value}.onnx"))
    forward = enc.model.forward_batch

    def forward_batch(m: Modality, batch: Any) -> Any:
        if m is modality:
            return torch.from_numpy(runner(batch.cpu().numpy()))
        return forward(m, batch)

    enc.model.forward_batch = forward_batch
    enc.precision = "onnx"


# --------------------------------------------------------------------------- serve latency

def _register_spaces() -> None:
    """Image+text through CLIP and audio through CLAP (random weights), tiny and full size."""
    from mcrsearch.space import SPACE_BUILDERS, Route, Space, register_space

    def make(name: str, tiny: bool):
        def build(settings):
            from mcrsearch.encoders import create_encoder

            clap = _build("clap", tiny)
            clip = (create_encoder("openclip", config="tiny", random_init=True, device="cpu", embed_dim=clap.dim)
                    if tiny else _build("clip", tiny))       # one dimension for both: the tiny CLIP widened
            return Space(name, {"image": Route(clip), "text": Route(clip), "audio": Route(clap)}, clap.dim)
        return build

    for name, tiny in (("precision-tiny", True), ("precision-full", False)):
        if name not in SPACE_BUILDERS:
            register_space(name)(make(name, tiny))


def _serve_child(home: str, folder: str, space: str, precision: str) -> int:
    """Child process: index the folder with the space, then serve it (spaces registered first)."""
    _register_spaces()
    from mcrsearch.cli import main

    common = ["--home", home, "--device", "cpu"]
    rc = main([*common, "index", folder, "--space", space, "--collection", "bench", "--precision", precision,
               "--no-server"])
    if rc:
        return rc
    return main([*common, "serve", "--collection", "bench", "--port", "0", "--precision", precision])


def bench_serve(runs: int, precisions: tuple[str, ...]) -> list[dict]:
    """Warm text and 10 s audio queries end to end over HTTP, per (space, precision)."""
    import httpx
    import soundfile as sf

    from mcrsearch import precision as P
    from mcrsearch.config import load_settings
    from mcrsearch.server.discovery import find_server

    rows = []
    for space, modes in (("precision-tiny", ("fp32",)), ("precision-full", precisions)):
        for mode in modes:
            with tempfile.TemporaryDirectory() as tmp:
                tmp = Path(tmp)
                corpus = tmp / "corpus"
                corpus.mkdir()
                for i, img in enumerate(P.sample_inputs("image", 3, seed=4)):
                    img.save(corpus / f"{i}.jpg")
                clips = P.sample_inputs("audio", 3, seed=5)
                for i, clip in enumerate(clips):
                    sf.write(corpus / f"{i}.wav", clip.samples, clip.sample_rate)
                query_wav = tmp / "query.wav"
                sf.write(query_wav, clips[0].samples, clips[0].sample_rate)
                audio = query_wav.read_bytes()
                home = tmp / "home"
                proc = subprocess.Popen([sys.executable, __file__, "--serve-child", str(home), str(corpus), space,
                                         mode], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                try:
                    settings = load_settings(home=home, collection="bench")
                    deadline = time.time() + 900
                    while (found := find_server(settings)) is None:
                        if proc.poll() is not None or time.time() > deadline:
                            raise RuntimeError(f"the server did not start: {proc.stderr.read()[-2000:]}")
                        time.sleep(0.5)
                    headers = {"Authorization": f"Bearer {found.token}"} if getattr(found, "token", None) else {}
                    with httpx.Client(base_url=found.url, timeout=300, headers=headers) as http:
                        def text(i: int) -> httpx.Response:
                            return http.get("/api/search", params={"text": f"a loud bell number {i}",
                                                                   "target": "audio", "k": 5})

                        def sound(i: int) -> httpx.Response:
                            return http.post("/api/search", data={"target": "image", "k": "5"},
                                             files=[("audio", ("query.wav", audio, "audio/wav"))])

                        for kind, fn in (("text", text), ("audio 10 s", sound)):
                            fn(-1).raise_for_status()                    # warm-up
                            times = []
                            for i in range(runs):
                                t0 = time.perf_counter()
                                fn(i).raise_for_status()
                                times.append(time.perf_counter() - t0)
                            rows.append({"space": space, "precision": mode, "query": kind, "runs": runs,
                                         "p50_ms": round(float(np.median(times)) * 1e3, 1),
                                         "max_ms": round(max(times) * 1e3, 1)})
                finally:
                    proc.terminate()
                    try:
                        proc.wait(30)
                    except subprocess.TimeoutExpired:
                        proc.kill()
    return rows


# --------------------------------------------------------------------------- report

def run(args: argparse.Namespace) -> dict:
    import torch

    from mcrsearch import precision as P

    parts = set(args.parts.split(","))
    support = P.cpu_support()
    result: dict[str, Any] = {
        "machine": {"cpu": _cpu_name(), "capability": support.capability, "bf16_matrix_units": support.bf16_matrix,
                    "flags": sorted(support.flags), "threads": torch.get_num_threads(), "torch": torch.__version__,
                    "python": platform.python_version()},
        "settings": {"items": args.items, "rounds": args.rounds, "tiny": args.tiny},
        "rows": [], "facts": {}}
    fresh_encoders = not args.reuse or "encoders" in parts
    if fresh_encoders:
        result["matmul_gflops"] = {k: round(v, 1) for k, v in matmul_rates(256 if args.tiny else 1024).items()}
    if args.reuse:       # an earlier run's parts not measured now (its encoder rows too unless "encoders" is asked)
        earlier = json.loads(Path(args.reuse).read_text())
        keep = [k for k in ("decode", "retrieval", "serve") if k not in parts]
        if not fresh_encoders:
            keep += ["machine", "settings", "matmul_gflops", "rows", "facts"]
        result.update({k: earlier[k] for k in keep if k in earlier})
        result["commands"] = [c for c in earlier.get("commands", []) if not fresh_encoders
                              or set(c["parts"].split(",")) & set(keep)]
        for key in result["facts"]:         # what auto picks follows today's rules, not the earlier run's
            rows = [r for r in result["rows"] if r["encoder"] == key]
            chosen_now = _chosen(key, rows)
            for row in rows:
                row["chosen"] = row["mode"] == chosen_now
            result["facts"][key]["why"] = _why(key, rows, chosen_now)
    if fresh_encoders and parts & {"encoders", "decode", "retrieval"}:
        for key in ENCODERS:
            rows, facts = bench_encoder(key, args.items, args.rounds, args.tiny, args.compile, args.onnx)
            result["rows"] += rows
            result["facts"][key] = facts
    chosen = {r["encoder"]: r["mode"] for r in result["rows"] if r["chosen"]}
    result["chosen"] = chosen
    if "decode" in parts:
        per_item = {k: f["encode_s_per_item"][chosen[k]] for k, f in result["facts"].items()}
        result["decode"] = bench_decode(max(2, args.items // 2), per_item, args.tiny)
    if "retrieval" in parts:
        modes: dict[str, list[str]] = {}
        for r in result["rows"]:
            family_mode = r["mode"] in ("bf16", "int8", "onnx")         # runtime candidates are not modes
            if r["mode"] != "fp32" and family_mode and r["offered"] and r["min_cosine"] >= P.MIN_COSINE:
                modes.setdefault(r["encoder"], []).append(r["mode"])
        result["retrieval"] = bench_retrieval(modes, args.home, tuple(args.worlds.split(",")))
    if "serve" in parts:
        result["serve"] = bench_serve(args.serve_runs, tuple(dict.fromkeys(("fp32", "auto"))))
    result["load_average"] = round(os.getloadavg()[0], 2)
    result.setdefault("commands", []).append({"parts": args.parts, "command": args.command,
                                              "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                              "load_average": result["load_average"]})
    return result


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def table(rows: list[dict], cols: list[str]) -> list[str]:
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |")
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else ""
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1 else f"{v:.2f}"
    return "" if v is None else str(v)


def report(res: dict) -> list[str]:
    m = res["machine"]
    runs = "; ".join(f"`{c['command'].strip()}` ({c['at']}, load average {c['load_average']})"
                     for c in res.get("commands", []))
    lines = ["## Encoder precision and runtime on CPU", "",
             f"Generated by {runs}. {m['cpu']}, {m['threads']} threads, torch {m['torch']}, "
             f"CPU kernel level {m['capability']}, bf16 matrix units: {'yes' if m['bf16_matrix_units'] else 'no'} "
             f"(flags {', '.join(m['flags']) or 'none'}). A part the last command did not measure is kept from "
             "the earlier command that did (`--reuse`); its `auto` rows ran what auto picked then. "
             "The machine was shared with other engineers' jobs: every figure is a same-run ratio, each mode ran on "
             f"the same {res['settings']['items']} real-shaped inputs in {res['settings']['rounds']} interleaved "
             "rounds (order rotating), medians reported. Random full-size weights; GPU throughput is unmeasured "
             "(no GPU was available).", "",
             f"Matmul 1024²: fp32 {res['matmul_gflops']['fp32']} GFLOP/s, bf16 {res['matmul_gflops']['bf16']} "
             "GFLOP/s. Tolerance: a mode is allowed only if every vector's cosine to its fp32 vector is "
             "at least 0.999.", ""]
    lines += table(res["rows"], ["encoder", "mode", "items_per_s", "speedup_vs_fp32", "min_cosine", "batch_drift",
                                 "chosen", "note"])
    lines += ["", "`batch_drift`: the largest change of one input's vector (max abs, unit vectors) between "
              "encoding it alone and inside the batch of all inputs; auto needs it at rounding level (a vector is "
              "a function of its file, not of its batch-mates)."]
    lines += ["", "Why each mode was chosen (`--precision auto`):", ""]
    lines += [f"- {k}: {f['why']}" for k, f in res["facts"].items()]
    ulip = res["facts"].get("ulip", {})
    if "grouping_share" in ulip:
        lines += ["", f"ULIP-2 grouping (numba FPS + numba k-NN) on {ulip['clouds']} clouds of 10,000 points: "
                  f"{ulip['grouping_s']:.3f} s of a {ulip['encode_s']:.2f} s encode "
                  f"(**{100 * ulip['grouping_share']:.1f}%**; FPS {ulip['fps_s']:.3f} s). The torch code it "
                  f"replaces: {ulip['torch_loop_fps_s']:.2f} s of FPS loop for the same clouds (same centres, tested)"]
        if "knn_s" in ulip:
            lines[-1] += (f", and {ulip['torch_topk_knn_s']:.3f} s of batched top-k k-NN against the kernel's "
                          f"{ulip['knn_s']:.3f} s. The kernel takes exact squared distances (as the released "
                          f"knn_cuda) instead of |q|²+|p|²-2q·p: {ulip['groups_changed_vs_matmul_knn']} of "
                          f"{ulip['groups']} groups got another neighbour set through rounding at the 32nd "
                          f"neighbour; vectors moved to min cosine {ulip['min_cosine_vs_matmul_knn']:.6f} (fp32)")
        lines[-1] += "."
    best = {}
    for r in res["rows"]:          # modes auto may run: offered, within tolerance, independent of the batch
        if r["offered"] and r["min_cosine"] >= 0.999 and (r.get("batch_drift") or 0.0) <= 1e-5:
            best[r["encoder"]] = max(best.get(r["encoder"], 1.0), r["speedup_vs_fp32"])
    lines += ["", "Target ≥ 3x fp32 within tolerance and batch-independent: " + ", ".join(
        f"{k} {v:.2f}x ({'met' if v >= 3 else 'not met'})" for k, v in best.items()) + "."]
    if res.get("decode"):
        lines += ["", "### Decoding against encoding (per item, chosen mode)", ""]
        lines += table(res["decode"], ["stage", "ms_per_item", "encode_ms_per_item", "share_of_encode"])
        worst = max((r for r in res["decode"] if r["share_of_encode"] is not None),
                    key=lambda r: r["share_of_encode"], default=None)
        if worst is not None:
            verdict = ("so decoding is not the bottleneck on CPU and the indexer keeps decoding beside the encoder "
                       "(decode_workers 0 on CPU, unchanged)" if worst["share_of_encode"] < 0.25 else
                       "so decoding is a large share: use `--workers N` decode threads")
            lines += ["", f"The largest decode share is {worst['stage']} at {100 * worst['share_of_encode']:.1f}% "
                          f"of its encoder's per-item time, {verdict}."]
    if res.get("retrieval"):
        lines += ["", "### Mini-world retrieval in each allowed mode (held-out split, mAP)", "",
                  "Each mode a real encoder may run (chosen by auto, or explicit within tolerance) applied to the "
                  "matching mini-world MCR: int8 quantises its Linear layers (the projection MLPs), onnx runs in "
                  "ONNX Runtime the tower the real encoder runs there (image for CLIP, 3d for ULIP-2). The mini towers are small CNNs, so this is a weak proxy for the "
                  "full-size transformers, whose fidelity the min cosine above measures directly. Every held-out "
                  "query of each world is used; the trained MCRs are cached, so the part costs encoding only.", ""]
        lines += table(res["retrieval"], ["world", "mcr", "mode", "pair", "queries", "map_fp32", "map_mode",
                                          "delta"])
    if res.get("serve"):
        lines += ["", "### Warm query latency over HTTP (`mcrsearch serve`, end to end)", "",
                  "A collection of 3 images and 3 clips; text -> audio and a 10 s WAV upload -> image; "
                  "`precision-tiny` is the tiny configurations (today's test-sized figures), `precision-full` "
                  "the full-size CLIP + CLAP.", ""]
        lines += table(res["serve"], ["space", "precision", "query", "runs", "p50_ms", "max_ms"])
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--serve-child"]:
        return _serve_child(*argv[1:5])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="Print the result as JSON on stdout.")
    ap.add_argument("--items", type=int, default=8, help="Inputs per encoder and mode.")
    ap.add_argument("--rounds", type=int, default=3, help="Interleaved rounds.")
    ap.add_argument("--tiny", action="store_true", help="Tiny configurations (fast; for tests).")
    ap.add_argument("--compile", action="store_true", help="Also try torch.compile (slow to compile).")
    ap.add_argument("--onnx", action="store_true", help="Also try ONNX Runtime (CLIP image tower; fp32, int8).")
    ap.add_argument("--parts", default="encoders,decode,retrieval,serve")
    ap.add_argument("--worlds", default="default,hard", help="Mini-world presets for the retrieval part.")
    ap.add_argument("--home", type=Path, default=None, help="Home of the mini-worlds (default: the usual home).")
    ap.add_argument("--serve-runs", type=int, default=5)
    ap.add_argument("--reuse", type=Path, default=None,
                    help="Take the encoder rows from this earlier --json output; measure only the other parts.")
    ap.add_argument("--out", type=Path, default=None, help="Write the `precision` section of this file.")
    ap.add_argument("--render", type=Path, default=None, metavar="PRECISION_JSON",
                    help="Only redo the section of --out from stored results (docs/precision.json); measures nothing.")
    args = ap.parse_args(argv)
    if args.render:
        from mcrsearch.benchmark.report import write_section

        write_section(args.out or ROOT / "docs" / "BENCHMARKS.md", "precision",
                      "\n".join(report(json.loads(args.render.read_text()))))
        return 0
    args.command = "python benchmarks/precision.py " + " ".join(a for a in argv)
    res = run(args)
    if args.json:
        sys.stdout.write(json.dumps(res, indent=1) + "\n")
    else:
        print("\n".join(table(res["rows"], ["encoder", "mode", "items_per_s", "speedup_vs_fp32", "min_cosine",
                                            "chosen"])))
    if args.out:
        from mcrsearch.benchmark.report import write_section

        write_section(args.out, "precision", "\n".join(report(res)))
        (args.out.parent / "precision.json").write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
