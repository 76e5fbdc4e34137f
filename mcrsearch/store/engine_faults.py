"""The embedded engine's own faults (plain `Exception`, pyo3's PanicException, OSError) turned into the
backend's one-sentence errors, for plain calls and for scrolls consumed later."""

from __future__ import annotations

import functools
import inspect
from typing import Any

from mcrsearch.errors import StoreError


def is_engine_fault(exc: BaseException) -> bool:
    """The engine raises plain `Exception` (and pyo3's PanicException, a BaseException) for its own faults."""
    return type(exc) is Exception or type(exc).__name__ == "PanicException" or isinstance(exc, OSError)


def engine_detail(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    for prefix in ("Service runtime error:", "Service internal error:"):
        text = text.replace(prefix, "").strip()
    return text if len(text) <= 200 else text[:197] + "..."


def _reraise(backend: Any, exc: BaseException) -> None:
    """Raise `exc` again, or the one-sentence error for it when it is an engine fault."""
    if isinstance(exc, (StoreError, KeyboardInterrupt, SystemExit, GeneratorExit)) or not is_engine_fault(exc):
        raise exc
    raise backend.fault(exc) from exc


def engine_call(method):
    """Turn engine faults inside a backend call (or while its scroll is consumed) into one-sentence errors."""
    if inspect.isgeneratorfunction(method):
        @functools.wraps(method)
        def generator(self, *args, **kwargs):
            try:
                yield from method(self, *args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - _reraise re-raises every one, translated or not
                _reraise(self, exc)
        return generator

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - _reraise re-raises every one, translated or not
            _reraise(self, exc)
    return call
