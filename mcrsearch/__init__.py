"""mcrsearch: any-to-any search over images, text, audio and 3D through connected contrastive spaces.

The public API is imported lazily so that `import mcrsearch` stays cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"

from mcrsearch.modality import Modality  # noqa: E402  (light)

__all__ = ["Modality", "__version__"]
