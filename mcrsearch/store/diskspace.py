"""Free-space guards for the embedded engine, whose sparse memory-mapped files turn a full disk into SIGBUS.

The engine memory-maps sparse, pre-sized files (32 MB vector chunks, WAL segments) and fills them in
later, some whole at the next open: a write that lands on a page the full disk cannot back kills the
process with SIGBUS, which no handler can turn into an error. So before opening and before every write
the free space must cover the files' unallocated ("sparse") part, plus the reserve (Settings'
min_free_disk_mb) and a bound on what the write adds; otherwise the run stops with DiskFullError while
every file is still whole.
"""

from __future__ import annotations

import os
from pathlib import Path

# Opening, which may write to the WAL, needs at least this beyond the sparse part:
OPEN_MIN_FREE = 4 * 2**20
# Upper bound on the disk one point's write touches besides its vectors (WAL record, payload page,
# trackers), and the factor for vectors written to the WAL, the vector storage and the quantized copy.
POINT_WRITE_BYTES = 4096
WRITE_COPIES = 3


def free_bytes(path: Path) -> int | None:
    """Free bytes (for unprivileged writers) on the filesystem holding `path` or its nearest existing parent."""
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        st = os.statvfs(probe)
    except (OSError, AttributeError):      # no statvfs (Windows): no check
        return None
    return st.f_bavail * st.f_frsize


def sparse_bytes(path: Path) -> int:
    """Bytes the segment files of the index at `path` may still claim from the disk: apparent size minus
    allocated blocks. (WAL files are left out: the engine fills them in as it writes, which the per-write
    bound covers; segment files are the ones it can fill in whole, e.g. at the next open.)"""
    total = 0
    for root, _, files in os.walk(Path(path) / "segments"):
        for name in files:
            try:
                st = os.stat(os.path.join(root, name))
            except OSError:
                continue
            blocks = getattr(st, "st_blocks", None)
            if blocks is not None:
                total += max(0, st.st_size - blocks * 512)
    return total


def mb(n: float) -> str:
    return f"{n / 2**20:.1f} MB"
