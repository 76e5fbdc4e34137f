"""Indexing: scan a folder, decode in parallel, embed in batches, keep the collection in step with disk.

`index_path(path, settings, space=None, progress=None) -> IndexReport` is the one entry point; users
call it through `mcrsearch.Client.index`.
"""

from __future__ import annotations

from mcrsearch_indexer.pipeline import index_path
from mcrsearch_indexer.report import Failure, IndexProgress, IndexReport
from mcrsearch_indexer.scan import ScannedFile, scan

__all__ = ["index_path", "IndexReport", "IndexProgress", "Failure", "ScannedFile", "scan"]
