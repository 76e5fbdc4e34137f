"""`mcrsearch benchmark NAME --root DIR`: the papers' protocols (and the mini-world) on a dataset you have."""

from __future__ import annotations

import shlex
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

import typer

from mcrsearch.commands.common import console, print_json, settings
from mcrsearch.commands.progress import Bars
from mcrsearch.errors import ConfigError

# Spaces a benchmark runs when neither --space nor a configured space names one.
DEFAULT_SPACES: dict[str, list[str]] = {
    "coco": ["clip", "exmcr"], "coco-karpathy": ["clip", "exmcr"], "coco-val2017": ["clip", "exmcr"],
    "audiocaps": ["cmcr-clap-clip", "exmcr"], "clotho": ["cmcr-clap-clip", "exmcr"],
    "modelnet40": ["cmcr-ulip-clip", "exmcr"], "objaverse-lvis": ["cmcr-ulip-clip", "exmcr"],
    "eshot": ["exmcr"], "msrvtt": ["cmcr-clap-clip", "exmcr"],
}


def benchmark(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="coco, coco-karpathy, coco-val2017, audiocaps, clotho, objaverse-lvis, "
                                         "modelnet40, eshot, msrvtt, miniworld or miniworld-video."),
    root: Optional[Path] = typer.Option(None, "--root", help="Dataset folder (for miniworld: the world folder)."),
    space: Optional[List[str]] = typer.Option(None, "--space", help="Space to evaluate; repeat for several."),
    json_out: bool = typer.Option(False, "--json", help="Print the results as JSON on stdout."),
    markdown: Optional[Path] = typer.Option(None, "--markdown",
                                            help="Write this benchmark's section into a Markdown file "
                                                 "(e.g. docs/BENCHMARKS.md), between its markers."),
    index: bool = typer.Option(True, "--index/--no-index", help="Also evaluate through a real index and the query layer."),
    index_mode: str = typer.Option("like", "--index-mode", help="like (query layer) or store (raw store search)."),
    templates: Optional[Path] = typer.Option(None, "--templates", help="Prompt templates (JSON list, ULIP templates.json, or one per line)."),
    split: Optional[str] = typer.Option(None, "--split", help="Dataset split (default: the papers' test split); "
                                                              "a split the dataset does not have is refused."),
    problems_file: Optional[Path] = typer.Option(None, "--problems",
                                                 help="Write every missing file, bad row and undecodable file "
                                                      "to this file (tab-separated path and reason)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N items per modality (smoke runs)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Items per encoder batch."),
    prediction: Optional[str] = typer.Option(None, "--prediction",
                                             help="Localisation only: top-half (published protocol, default) or "
                                                  "half-max (default for miniworld-scenes)."),
    dense_method: str = typer.Option("", "--dense-method", help="Localisation only: the image encoder's dense "
                                                                "method (default: its first)."),
) -> None:
    """Score spaces on a dataset: R@k both ways, mAP, zero-shot accuracy; exact and through the index.

    Localisation sets (vggss, flickr-soundnet, ex-vggss, ex-flickrnet, music-solo, miniworld-scenes) report cIoU
    and AUC, and for the extended sets counterfactual AP and max-F1, beside a centre prior and a uniform map."""

    from mcrsearch.benchmark.readers.sources import LOC_READERS

    if name in LOC_READERS:
        from mcrsearch.commands.localise_bench import run_localisation_benchmark

        if root is None and name == "miniworld-scenes":
            root = _current_world(settings(ctx))
        command = "mcrsearch " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if "benchmark" in sys.argv else ""
        run_localisation_benchmark(ctx, name, root, space, json_out, markdown, problems_file, limit, prediction,
                                   dense_method, command)
        return

    from mcrsearch.benchmark.readers import available_readers, read_dataset
    from mcrsearch.benchmark.report import markdown_section, rich_table, source_lines, write_markdown
    from mcrsearch.benchmark.runner import RunOptions, make_decoder, run_benchmark

    cfg = settings(ctx)
    if name == "miniworld-video":
        _miniworld_video(cfg, root, space, json_out, markdown)
        return
    if name not in available_readers():
        known = sorted([*available_readers(), *LOC_READERS])
        raise ConfigError(f"Unknown benchmark '{name}'; available: {', '.join(known)}.")
    if root is None:
        if name != "miniworld":
            raise ConfigError(f"Give the dataset folder with --root for benchmark '{name}'.")
        root = _current_world(cfg)
    template_list = None
    if templates is not None:
        from mcrsearch.benchmark.templates import load_templates

        template_list = load_templates(templates)
    dataset = read_dataset(name, root, split=split, templates=template_list)
    if not dataset.items:
        first = dataset.problems[0] if dataset.problems else None
        detail = f" ({first.path}: {first.reason})" if first else ""
        if problems_file is not None and dataset.problems:
            from mcrsearch.benchmark.report import write_problems

            listed = write_problems(problems_file, [{"path": p.path, "reason": p.reason} for p in dataset.problems])
            detail += f"; all {len(dataset.problems)} problems are listed in {listed}"
        raise ConfigError(f"No usable items for benchmark '{name}' under {root}{detail}.")
    read = "; ".join(source_lines({"sources": dataset.sources}))
    console.print(f"Benchmark {name}" + (f", split {dataset.split}" if dataset.split else "")
                  + (f"; read {read}" if read else ""), highlight=False)

    spaces, skipped = _spaces(name, space, cfg)
    for note in skipped:
        console.print(f"[yellow]{note}[/]")
    index_factory = _index_factory(cfg, index_mode) if index else None
    options = RunOptions(batch_size=batch_size or cfg.batch_size or 32, limit=limit)
    with Bars() as bars:
        decoder = make_decoder(int(cfg.max_file_mb * 1024 * 1024))
        result = run_benchmark(dataset, spaces, options, index_factory=index_factory, decoder=decoder,
                               progress_factory=bars.counter)
    data = result.as_dict()
    data["notes"].extend(skipped)
    if index and index_factory is None:
        data["notes"].append("index path skipped: the store or query layer is unavailable here")
    _report_problems(data, problems_file)
    if markdown is not None:
        command = "mcrsearch " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if "benchmark" in sys.argv else ""
        path = write_markdown(markdown, name, markdown_section(data, command))
        console.print(f"Wrote the '{name}' section of {path}.")
    if json_out:
        print_json(data)
    else:
        console.print(rich_table(data))


def _report_problems(data: dict, problems_file: Optional[Path]) -> None:
    """Print the notes, how many problems there were, the first few, and where every one of them is."""
    from mcrsearch.benchmark.report import problem_lines, write_problems

    for note in data.get("notes", []):
        console.print(f"note: {note}", highlight=False)
    problems = data["problem_list"]
    where = "all are in the --json output (problem_list) or, with --problems FILE, in a file"
    if problems_file is not None:
        where = f"all are listed in {write_problems(problems_file, problems)}"
    if not problems:
        return
    console.print(f"[yellow]{len(problems)} missing or unreadable files or rows[/]; {where}. First:", highlight=False)
    for line in problem_lines(problems):
        console.print(f"  {line}", highlight=False, soft_wrap=True)


def _miniworld_video(cfg, root: Optional[Path], requested: Optional[List[str]], json_out: bool,
                     markdown: Optional[Path]) -> None:
    """Mini-world video: clips of the world's objects written next to the world, indexed and graded in the
    Ex-MCR space and its paired oracle (mcrsearch.miniworld.video_bench)."""

    from mcrsearch.benchmark.report import write_markdown
    from mcrsearch.miniworld import video_bench
    from mcrsearch.miniworld.space import LABELS, NAME, ORACLE_NAME
    from mcrsearch.miniworld.videos import write_clips
    from mcrsearch.miniworld.world import World

    world = World.load(root or _current_world(cfg))
    folder = world.root / "videos"
    clips = write_clips(world, folder)
    results = []
    with tempfile.TemporaryDirectory(prefix="mcrsearch-video-") as scratch:
        for name in requested or [NAME, ORACLE_NAME]:
            results.append(video_bench.measure_space(cfg, name, world, clips, folder, Path(scratch),
                                                     log=lambda line: console.print(line, highlight=False)))
    chance = video_bench.chance(world, clips)
    if json_out:
        print_json({"world": world.key(), "clips": len(clips), "spaces": results, "chance": chance})
    if markdown is not None:
        command = "mcrsearch " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else \
            "mcrsearch benchmark miniworld-video --markdown docs/BENCHMARKS.md"
        body = video_bench.markdown(results, chance, command, LABELS, clips, world.key())
        console.print(f"Wrote {write_markdown(markdown, 'miniworld-video', body)}")


def _current_world(cfg) -> Path:
    """The world the last `mcrsearch demo` trained on (recorded in the mini-world cache)."""
    from mcrsearch.miniworld.record import read_current

    current = read_current(cfg) or {}
    if not current.get("world_root"):
        raise ConfigError("No mini-world found; run 'mcrsearch demo' first or give --root.")
    return Path(current["world_root"])


def _spaces(name: str, requested: Optional[List[str]], cfg) -> tuple[list, list[str]]:
    """Build the spaces to evaluate, and notes on skipped ones. Missing weights raise the builder's
    WeightsMissingError as is; a mini-world space whose heads were not trained yet is skipped with a
    note (unless no space is left), so the table shows every space that exists."""
    from mcrsearch.space import available_spaces, create_space

    names = list(requested or [])
    if not names and cfg.space not in ("", "auto"):
        names = [cfg.space]
    if not names and name == "miniworld":
        names = [s for s in available_spaces() if s.startswith("miniworld")]
    if not names:
        names = DEFAULT_SPACES.get(name, ["exmcr"])
    from mcrsearch.miniworld.space import HeadsMissingError

    spaces, notes, first_error = [], [], None
    for n in names:
        try:
            spaces.append(create_space(n, cfg))
        except HeadsMissingError as exc:
            if not n.startswith("miniworld"):
                raise
            first_error = first_error or exc
            notes.append(f"space '{n}' skipped: {exc}")
    if not spaces and first_error is not None:
        raise first_error
    return spaces, notes


def _index_factory(cfg, mode: str):
    from mcrsearch.benchmark.store_path import StoreIndexPath, index_path_available

    if mode not in {"like", "store"}:
        from mcrsearch.errors import ConfigError

        raise ConfigError(f"Unknown --index-mode '{mode}'; use like or store.")
    reason = index_path_available()
    if reason:
        console.print(f"[yellow]{reason}; reporting the exact path only.[/]")
        return None
    return lambda space: StoreIndexPath(space, cfg, mode=mode)
