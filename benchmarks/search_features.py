"""Negatives and filters, measured; writes the `search-features` section of docs/BENCHMARKS.md.

One command:  python benchmarks/search_features.py [--home DIR] [--out docs/BENCHMARKS.md]

1. Negatives on the mini-world (held-out test split, indexed by `mcrsearch demo`, trained here when --home
   holds none): for class pairs (A, B), a fused positive query made of A's sound and B's caption, target
   image; the share of class B (and A) in the top 20 before and after adding one negative of class B, given
   in each modality (another B caption, B image, B sound, B shape, or an indexed B image as --not-like).
2. Filters against exact search: a synthetic collection (per-modality graphs, int8, the default schema) whose
   points carry folders, extensions, times and durations; recall@10 of the filtered graph search against the
   exact filtered search, at several selectivities.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from mcrsearch.benchmark.report import write_section

ROOT = Path(__file__).resolve().parents[1]
NEG_KINDS = ("text", "image", "audio", "3d", "like")
THRESHOLDS = (0.97, 0.99, 0.995, 0.999, 0.9995, 0.9999)


def negatives(home: Path, pairs: int, k: int = 20) -> dict:
    """Class shares in the top k, before and after one negative of class B, per negative modality."""
    from mcrsearch.api import Client
    from mcrsearch.config import load_settings
    from mcrsearch.media import load_text
    from mcrsearch.miniworld.demo import DEMO_COLLECTION, run_demo, stage_world

    settings = load_settings(home=home, device="cpu")
    if not (home / "index" / DEMO_COLLECTION).exists():
        run_demo(settings)
    world = stage_world(settings)
    test = world.select("test")
    cls_of = {str(it.path): it.class_name for it in test}
    by = {(it.class_name, it.modality.value if hasattr(it.modality, "value") else str(it.modality)): []
          for it in test}
    for it in test:
        by[(it.class_name, it.modality.value if hasattr(it.modality, "value") else str(it.modality))].append(it)
    classes = world.classes
    rows: dict[str, list[tuple[float, float, float, float]]] = {kind: [] for kind in NEG_KINDS}
    with Client(settings=replace(settings, collection=DEMO_COLLECTION, space="miniworld")) as client:
        for i in range(min(pairs, len(classes))):
            a, b = classes[i], classes[(i + 1) % len(classes)]
            pos = {"audio": str(by[(a, "audio")][0].path), "text": load_text(by[(b, "text")][0].path)}
            before = client.query(**pos, target="image", k=k)
            def share(hits, c):
                return float(np.mean([cls_of.get(h.path) == c for h in hits])) if hits else 0.0
            negs = {"text": {"not_text": load_text(by[(b, "text")][1].path)},
                    "image": {"not_image": str(by[(b, "image")][0].path)},
                    "audio": {"not_audio": str(by[(b, "audio")][1].path)},
                    "3d": {"not_points": str(by[(b, "3d")][0].path)},
                    "like": {"not_like": str(by[(b, "image")][1].path)}}
            for kind, neg in negs.items():
                after = client.query(**pos, **neg, target="image", k=k)
                rows[kind].append((share(before, b), share(after, b), share(before, a), share(after, a)))
    return {"rows": {kind: np.mean(v, axis=0).tolist() for kind, v in rows.items()}, "pairs": len(rows["text"]),
            "world": world.key(), "classes": len(classes), "k": k}


def _convert(src: Path, folder: Path) -> Path | None:
    """The same content in another format: .wav -> .mp3, .png -> .jpg, a mesh .obj <-> .glb, .ply -> .obj,
    a point cloud .npy -> .ply, a caption .txt -> the same text with another line ending and a trailing space."""
    suffix = src.suffix.lower()
    if suffix == ".wav":
        import soundfile as sf

        data, rate = sf.read(src)
        dst = folder / (src.stem + ".mp3")
        sf.write(dst, data, rate, format="MP3")
    elif suffix == ".png":
        from PIL import Image

        dst = folder / (src.stem + ".jpg")
        Image.open(src).convert("RGB").save(dst, quality=92)
    elif suffix in (".obj", ".glb", ".ply"):
        import trimesh

        loaded = trimesh.load(src, force="mesh") if suffix != ".ply" else trimesh.load(src)
        ext = {".obj": ".glb", ".glb": ".obj", ".ply": ".obj" if hasattr(loaded, "faces") else ".xyz"}[suffix]
        dst = folder / (src.stem + ext)
        if ext == ".xyz":
            np.savetxt(dst, np.asarray(loaded.vertices), fmt="%.6f")
        else:
            loaded.export(dst)
    elif suffix == ".npy":
        import trimesh

        dst = folder / (src.stem + ".ply")
        trimesh.PointCloud(np.load(src)).export(dst)
    elif suffix == ".txt":
        dst = folder / (src.stem + ".txt")
        dst.write_text(src.read_text().rstrip("\n") + " \r\n")
    else:
        return None
    return dst


def duplicates(home: Path, per_modality: int, thresholds: tuple[float, ...]) -> dict:
    """Copies of held-out items in other formats, indexed beside the originals in a collection of their own:
    per threshold, the share of copies grouped with their original, and the groups that join two different
    originals (false groups)."""
    from mcrsearch.api import Client
    from mcrsearch.config import load_settings
    from mcrsearch.miniworld.demo import stage_world

    settings = load_settings(home=home, device="cpu")
    world = stage_world(settings)
    copies = home / "dup-copies"
    copies.mkdir(exist_ok=True)
    twin: dict[str, str] = {}                       # copy path -> original path
    by_mod: dict[str, list] = {}
    for it in world.select("test"):
        by_mod.setdefault(str(getattr(it.modality, "value", it.modality)), []).append(it)
    for mod, items in by_mod.items():
        for it in items[:per_modality]:
            sub = copies / mod
            sub.mkdir(exist_ok=True)
            dst = _convert(Path(it.path), sub)
            if dst is not None:
                twin[str(dst)] = str(it.path)
    rows: dict[str, dict[float, dict]] = {}
    with Client(settings=replace(settings, collection="dup-bench", space="miniworld")) as client:
        client.index(world.root / "test")
        report = client.index(copies)
        content = {str(r.payload["path"]): r.payload.get("hash") for r in client._handle.scroll(fields=["path", "hash"])}
        for mod in sorted(by_mod):
            mine = [c for c in twin if f"/{mod}/" in c]
            for threshold in thresholds:
                groups = client.duplicates(modality=mod, threshold=threshold)
                found, false_groups = 0, 0
                for g in groups:
                    paths = [i["path"] for i in g.items]
                    # a group is false when it joins items of different original content (copies count as
                    # their original; distinct originals with the same bytes are true duplicates)
                    if len({content.get(twin.get(p, p)) for p in paths}) > 1:
                        false_groups += 1
                    found += sum(1 for p in paths if p in twin and twin[p] in paths)
                rows.setdefault(mod, {})[threshold] = {"found": found / max(len(mine), 1), "copies": len(mine),
                                                       "false_groups": false_groups, "groups": len(groups)}
    return {"rows": rows, "copies": len(twin), "failed": len(report.failed),
            "originals": len(world.select("test"))}


def watch_latency(home: Path, singles: int, burst: int, quiet_s: float = 0.5) -> dict:
    """Seconds from a file's arrival in a watched folder to its being searchable, one file at a time and for a
    burst (with how many index runs the burst took)."""
    from mcrsearch.api import Client
    from mcrsearch.config import load_settings
    from mcrsearch.miniworld.demo import stage_world
    from mcrsearch.store import point_id
    from mcrsearch_indexer.watch import Watcher

    settings = load_settings(home=home, device="cpu")
    world = stage_world(settings)
    items = world.select("test")
    folder = home / "watch-bench"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    shutil.copy(items[0].path, folder / Path(items[0].path).name)

    def arrive(src: Path, dst: Path) -> None:            # written beside, then renamed in: a whole file arrives
        tmp = dst.with_name("." + dst.name)
        shutil.copy(src, tmp)
        os.replace(tmp, dst)

    def wait(client, ids: list[str], start: float, limit: float = 120.0) -> float:
        while time.perf_counter() - start < limit:
            if len(client.retrieve(ids)) == len(ids):
                return time.perf_counter() - start
            time.sleep(0.01)
        return float("nan")

    with Client(settings=replace(settings, collection="watch-bench", space="miniworld")) as client:
        client.index(folder)
        batches = []
        watcher = Watcher([folder], lambda f: client.index(f), quiet_s=quiet_s, on_batch=batches.append).start()
        time.sleep(1.0)
        lat = []
        for it in items[1:1 + singles]:
            dst = folder / ("s_" + Path(it.path).name)
            start = time.perf_counter()
            arrive(Path(it.path), dst)
            lat.append(wait(client, [point_id(str(dst))], start))
        before = len(batches)
        sub = folder / "burst"
        sub.mkdir()
        chosen = items[1 + singles:1 + singles + burst]
        start = time.perf_counter()
        for it in chosen:
            arrive(Path(it.path), sub / Path(it.path).name)
        burst_s = wait(client, [point_id(str(sub / Path(it.path).name)) for it in chosen], start)
        time.sleep(quiet_s * 4)
        runs = len(batches) - before
        watcher.stop()
    return {"median_s": float(np.median(lat)), "max_s": float(np.max(lat)), "singles": len(lat),
            "burst": len(chosen), "burst_s": burst_s, "burst_batches": runs, "quiet_s": quiet_s}


def filters(n: int, dim: int, queries: int, k: int = 10) -> dict:
    """Recall@k of filtered graph search against exact filtered search, per filter."""
    from mcrsearch.filters import parse_filters
    from mcrsearch.store import EdgeBackend, PointData, Store, path_fields, point_id

    rng = np.random.default_rng(0)
    mods = ["image", "audio", "text", "3d"]
    base = time.time() - 365 * 86400
    cases = {"no filter": {}, "under a folder": {"under": "/m/a"}, "under a sub-folder": {"under": "/m/a/b0"},
             "under a sub-sub-folder": {"under": "/m/a/b0/c0"}, "type wav": {"types": ["wav"]},
             "modified in the last 30 days": {"modified_after": time.time() - 30 * 86400},
             "duration 2-4 s": {"min_duration": 2, "max_duration": 4},
             "folder + type + duration": {"under": "/m/a/b0", "types": ["wav"], "min_duration": 2,
                                          "max_duration": 8}}
    payloads = []
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(EdgeBackend(Path(tmp) / "c", create=True), "bench")
        store.ensure_space("s", "fp", dim, mods)
        vecs = rng.standard_normal((n, dim)).astype(np.float32)
        # folder a|z, sub-folder b0-b4, sub-sub-folder c0-c9, extension, age in days, duration: independent
        attrs = np.stack([rng.integers(0, hi, n) for hi in (2, 5, 10, 3, 365, 10)], axis=1)
        for start in range(0, n, 2000):
            points = []
            for i in range(start, min(n, start + 2000)):
                a, b, c, ext, age, dur = (int(x) for x in attrs[i])
                path = f"/m/{'az'[a]}/b{b}/c{c}/{i}.{('wav', 'png', 'obj')[ext]}"
                payload = {"path": path, "modality": mods[i % 4], **path_fields(path),
                           "mtime_ns": int((base + age * 86400) * 1e9), "duration": float(dur)}
                points.append(PointData(point_id(path), {"s": vecs[i]}, payload))
                payloads.append(payload)
            store.upsert("s", "fp", points)
        t = time.perf_counter()
        store.optimize()
        build_s = time.perf_counter() - t
        qs = rng.standard_normal((queries, dim)).astype(np.float32)
        for name, where in cases.items():
            f = parse_filters(where)
            recalls, ms = [], []
            for i, q in enumerate(qs):
                target = [mods[i % 4]]
                t = time.perf_counter()
                got = store.search("s", q, k, target, filters=f)
                ms.append((time.perf_counter() - t) * 1e3)
                exact = store.search("s", q, k, target, filters=f, exact=True)
                if exact:
                    recalls.append(len({r.id for r in got} & {r.id for r in exact}) / len(exact))
            share = float(np.mean([f.matches(pl) for pl in payloads]))
            out[name] = {"recall": float(np.mean(recalls)) if recalls else float("nan"),
                         "p50_ms": float(np.median(ms)), "share": share}
        store.close()
    return {"cases": out, "n": n, "dim": dim, "queries": queries, "build_s": build_s, "k": k}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, default=None, help="MCRSEARCH_HOME with (or to get) the mini-world demo")
    ap.add_argument("--pairs", type=int, default=16)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--dup-per-modality", type=int, default=32)
    ap.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    ap.add_argument("--filters-only", action="store_true",
                    help="Measure filtered recall alone (no mini-world) into its own section, search-filters.")
    args = ap.parse_args(argv)
    cmd = " ".join(sys.argv[1:] if argv is None else argv)
    if args.filters_only:
        flt = filters(args.n, args.dim, args.queries)
        lines = ["## Filtered search recall", "",
                 f"Generated by `python benchmarks/search_features.py {cmd}` on "
                 f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} ({platform.machine()}, {os.cpu_count()} "
                 f"cores, load average {os.getloadavg()[0]:.1f} at the end; CPU only)."] + _filter_lines(flt)
        write_section(args.out, "search-filters", "\n".join(lines))
        print("\n".join(lines))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp)
        neg = negatives(home, args.pairs)
        dup = duplicates(home, args.dup_per_modality, THRESHOLDS)
        wat = watch_latency(home, 10, 50)
    flt = filters(args.n, args.dim, args.queries) if args.n > 0 else None      # --n 0: no filter measurement
    lines = ["## Negatives and filters", "",
             f"Generated by `python benchmarks/search_features.py {cmd}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
             f"({platform.machine()}, {os.cpu_count()} cores shared with other work, load average "
             f"{os.getloadavg()[0]:.1f} at the end; CPU only).", "",
             f"**A negative removes the class it names.** Mini-world `{neg['world']}` ({neg['classes']} classes), "
             f"held-out split indexed by `mcrsearch demo`. For {neg['pairs']} class pairs (A, B): positives = A's "
             f"sound + B's caption, target image; share of each class in the top {neg['k']} before and after one "
             "negative of class B given in the modality of the row (a held-out item other than the positives; "
             "`like` = an indexed B image by --not-like, which is also left out of the results).", "",
             "| negative | B share before | B share after | A share before | A share after |", "|---|---|---|---|---|"]
    for kind, (bb, ba, ab, aa) in neg["rows"].items():
        lines.append(f"| --not-{'3d' if kind == '3d' else kind} | {bb:.3f} | {ba:.3f} | {ab:.3f} | {aa:.3f} |")
    from mcrsearch.duplicates import DEFAULT_COSINE

    lines += ["", f"**Duplicates across formats.** {dup['copies']} held-out items converted to another format "
              "(.wav -> .mp3, .png -> .jpg, mesh .obj <-> .glb, .ply -> .obj/.xyz, .npy -> .ply, captions with "
              f"another line ending), indexed beside the {dup['originals']} originals of the held-out split in a "
              "collection of their own; `Client.duplicates(modality=m, threshold=t)`. Found: share of copies "
              "grouped with their original; false groups: groups joining items of different original content. "
              "The mini encoders pull distinct items of one class very close together (nearest distinct "
              "neighbours reach cosine 0.99+), so this is a hard case; the defaults (`mcrsearch.duplicates."
              f"DEFAULT_COSINE`, now {DEFAULT_COSINE}) are the lowest thresholds with no false group here.", "",
              "| modality | cosine threshold | copies found | groups | false groups |", "|---|---|---|---|---|"]
    for mod, by_t in dup["rows"].items():
        for t, r in by_t.items():
            lines.append(f"| {mod} | {t:g} | {r['found']:.3f} of {r['copies']} | {r['groups']} | {r['false_groups']} |")
    lines += ["", f"**Watch latency.** `Watcher` (watchfiles events, bursts applied after {wat['quiet_s']} s of quiet) "
              "on a folder of the mini-world collection; held-out files arrive by rename; latency is from the "
              "arrival to the file's point being in the collection (searchable). "
              f"One file at a time ({wat['singles']} files): median {wat['median_s']:.2f} s, max {wat['max_s']:.2f} s. "
              f"A burst of {wat['burst']} files: all searchable after {wat['burst_s']:.2f} s, in "
              f"{wat['burst_batches']} index run(s)."]
    if flt is None:
        lines += ["", "Filtered recall was not measured in this run (`--n 0`)."]
    else:
        lines += _filter_lines(flt)
    write_section(args.out, "search-features", "\n".join(lines))
    print("\n".join(lines))
    return 0


def _filter_lines(flt: dict) -> list[str]:
    lines = []
    lines += ["", f"**Filters keep the graphs' recall.** Synthetic collection of {flt['n']:,} x {flt['dim']} vectors "
              "(four modalities, each its own graph, int8 with rescoring: the default schema; built in "
              f"{flt['build_s']:.0f} s), payload indexes on folders, extension, mtime and duration. "
              f"Recall@{flt['k']} of the filtered graph search against the exact filtered search, "
              f"{flt['queries']} random queries, one target modality each; latency is the graph search's median.",
              "", "| filter | share of points passing | recall@10 | p50 ms |", "|---|---|---|---|"]
    for name, r in flt["cases"].items():
        lines.append(f"| {name} | {r['share']:.3f} | {r['recall']:.4f} | {r['p50_ms']:.2f} |")
    lines += ["", "Exactness at small k against brute force (every filter, both backends) is a test: "
              "`tests/test_search_arith.py::test_filters_are_exact_against_brute_force`."]
    return lines


if __name__ == "__main__":
    sys.exit(main())
