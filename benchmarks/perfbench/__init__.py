"""The pieces of `benchmarks/perf.py` (the entry point), one job each.

spaces and corpus: what is embedded and the files it reads; indexing, breakdown, reindex, query and ann: the
parts, each measuring and returning rows; results: docs/perf.json, where rows of every run accumulate;
context: the machine and settings stored with them; render: the perf section of docs/BENCHMARKS.md from the
stored results alone.
"""
