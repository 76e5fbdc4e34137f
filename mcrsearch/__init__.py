"""mcrsearch: any-to-any search over images, text, audio and 3D through connected contrastive spaces.

The public API is imported lazily so that `import mcrsearch` stays cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"

from mcrsearch.modality import Modality

# name -> module holding it; resolved on first attribute access (PEP 562) so start-up stays light.
_LAZY = {"Client": "mcrsearch.api", "Hit": "mcrsearch.search", "Item": "mcrsearch.search",
         "MediaBytes": "mcrsearch.search", "load_settings": "mcrsearch.config", "Settings": "mcrsearch.config",
         "create_space": "mcrsearch.space"}

__all__ = ["Modality", "__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mcrsearch' has no attribute {name!r}")
