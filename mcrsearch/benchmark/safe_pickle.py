"""Read pickled numpy data (ULIP's ModelNet40 `.dat`, OpenShape's dict `.npy`) without running code.

A full `pickle.load` can execute anything named in the file. This unpickler rebuilds numpy arrays,
numpy scalars/dtypes and plain containers, and refuses every other global with a clear error.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any, BinaryIO

_ALLOWED: frozenset[tuple[str, str]] = frozenset({
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),            # how protocol-2 pickles spell bytes
    ("builtins", "bytearray"),
    ("collections", "OrderedDict"),
})


class RefusedPickle(ValueError):
    """The pickle names something other than arrays and plain containers."""


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise RefusedPickle(f"refused to load '{module}.{name}' from a pickle (only numpy arrays and plain containers are read)")


def load_restricted(source: str | Path | BinaryIO | bytes) -> Any:
    """Unpickle arrays and plain containers only; anything else raises RefusedPickle."""
    if isinstance(source, (bytes, bytearray)):
        return _RestrictedUnpickler(io.BytesIO(source), encoding="latin1").load()
    if isinstance(source, (str, Path)):
        with open(source, "rb") as fh:
            return _RestrictedUnpickler(fh, encoding="latin1").load()
    return _RestrictedUnpickler(source, encoding="latin1").load()
