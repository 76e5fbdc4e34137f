"""Benchmarks on the papers' protocols: dataset readers, metrics, exact and index evaluation, reports.

Entry points: `readers.read_dataset(name, root)`, `runner.run_benchmark(dataset, spaces, ...)`,
`report.rich_table / markdown_section / write_markdown`. Heavy libraries load only when embedding.
"""

from mcrsearch.benchmark.readers import READERS, available_readers, read_dataset

__all__ = ["READERS", "available_readers", "read_dataset"]
