"""One strict state-dict check for every checkpoint we load (encoders, released heads, trained heads)."""

from __future__ import annotations

from typing import Any, Mapping

from mcrsearch.errors import WeightsInvalidError


def check_state_fits(module: Any, state: Mapping[str, Any], source: Any, what: str) -> None:
    """Refuse, in one sentence, a state dict that would not load strictly: missing, unexpected or misshapen tensors."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if tuple(expected[k].shape) != tuple(state[k].shape))
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if wrong:
            k = wrong[0]
            parts.append(f"{len(wrong)} of the wrong shape (e.g. {k}: {tuple(state[k].shape)} "
                         f"instead of {tuple(expected[k].shape)})")
        raise WeightsInvalidError(f"{source} does not fit the {what}: {', '.join(parts)} tensors.")
