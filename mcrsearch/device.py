"""Device choice (CUDA, then Apple MPS, then CPU) and batch sizes that fit it."""

from __future__ import annotations

from mcrsearch.errors import ConfigError


def pick_device(requested: str = "auto"):
    """The torch device to run encoders on; `requested` may force one ('cpu', 'cuda:1', 'mps')."""
    import torch

    req = (requested or "auto").lower()
    if req == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(req)
    except RuntimeError as exc:
        raise ConfigError(f"Unknown device '{requested}'; use auto, cpu, cuda, cuda:N or mps.") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"Device '{requested}' was asked for but no CUDA GPU is available.")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("Device 'mps' was asked for but Apple MPS is not available.")
    return device


def default_batch_size(device, modality: str, requested: int = 0) -> int:
    """A batch size that keeps a full-size encoder within a typical device's memory."""
    if requested and requested > 0:
        return requested
    on_gpu = getattr(device, "type", str(device)) in {"cuda", "mps"}
    table = {"image": (128, 16), "text": (256, 64), "audio": (32, 4), "3d": (64, 8)}
    gpu, cpu = table.get(str(getattr(modality, "value", modality)), (32, 8))
    return gpu if on_gpu else cpu
