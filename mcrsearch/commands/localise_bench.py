"""`mcrsearch benchmark vggss|flickr-soundnet|ex-vggss|ex-flickrnet|music-solo|miniworld-scenes`: localisation benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from mcrsearch.commands.common import console, print_json, settings

DEFAULT_SPACES: dict[str, list[str]] = {
    "miniworld-scenes": ["miniworld", "miniworld-cmcr-clap-clip"],
}
REAL_SPACES = ["cmcr-clap-clip", "exmcr"]


def run_localisation_benchmark(ctx: typer.Context, name: str, root: Optional[Path], space: Optional[List[str]],
                               json_out: bool, markdown: Optional[Path], problems_file: Optional[Path],
                               limit: Optional[int], prediction: Optional[str], dense_method: str,
                               command: str) -> None:
    from mcrsearch.benchmark.localise import LocOptions, run_localisation
    from mcrsearch.benchmark.readers.sources import read_loc_dataset
    from mcrsearch.benchmark.report import write_markdown
    from mcrsearch.errors import ConfigError
    from mcrsearch.media import Limits, decode
    from mcrsearch.space import create_space

    cfg = settings(ctx)
    if root is None:
        raise ConfigError(f"Give the dataset folder with --root for benchmark '{name}'.")
    rule = prediction or ("half-max" if name == "miniworld-scenes" else "top-half")
    from mcrsearch.benchmark.localisation import PREDICTIONS

    if rule not in PREDICTIONS:
        raise ConfigError(f"Unknown --prediction '{rule}'; use {' or '.join(PREDICTIONS)}.")
    dataset = read_loc_dataset(name, root)
    if not dataset.samples:
        first = dataset.problems[0] if dataset.problems else None
        detail = f" ({first['path']}: {first['reason']})" if first else ""
        raise ConfigError(f"No usable samples for benchmark '{name}' under {root}{detail}.")
    console.print(f"Benchmark {name}: {len(dataset.samples)} samples; read "
                  + "; ".join(f"{s['role']}: {s['path']}" for s in dataset.sources), highlight=False)
    names = list(space or []) or ([cfg.space] if cfg.space not in ("", "auto") else DEFAULT_SPACES.get(name, REAL_SPACES))
    spaces = [create_space(n, cfg) for n in names]
    limits = Limits.from_settings(cfg)
    max_bytes = int(cfg.max_file_mb * 2**20)

    def load(path, modality):
        return decode(str(path), modality, max_bytes=max_bytes, limits=limits)[1]

    data = run_localisation(dataset, spaces, LocOptions(rule=rule, dense_method=dense_method, limit=limit), load)
    data["root"] = str(root)
    if problems_file is not None and data["problem_list"]:
        from mcrsearch.benchmark.report import write_problems

        console.print(f"{len(data['problem_list'])} problems listed in "
                      f"{write_problems(problems_file, data['problem_list'])}.", highlight=False)
    elif data["problem_list"]:
        console.print(f"[yellow]{len(data['problem_list'])} missing or unreadable files or rows[/]; first: "
                      f"{data['problem_list'][0]['path']}: {data['problem_list'][0]['reason']}", highlight=False)
    if markdown is not None:
        from mcrsearch.benchmark.localise_report import markdown_section

        path = write_markdown(markdown, name, markdown_section(data, command))
        console.print(f"Wrote the '{name}' section of {path}.")
    if json_out:
        print_json(data)
    else:
        from mcrsearch.benchmark.localise_report import rich_table

        console.print(rich_table(data))
