"""An encoder tower run by ONNX Runtime in fp32: exported once per weights, cached on disk.

Why: on a CPU without bf16 matrix units, ONNX Runtime ran CLIP ViT-B/32's image tower 1.9-2.4x faster than
torch fp32 in the same run, with vectors at cosine 1.0 to torch's (benchmarks/precision.py). Its activations are not
quantised, so a row's output does not depend on its batch-mates (tests/test_precision.py), unlike dynamic int8.
The exported graph is cached under `<cache_dir>/onnx/`, keyed by the encoder's fingerprint and the torch and
onnxruntime versions, so the export (tens of seconds at full size) runs once per machine and weights.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

OPSET = 17


def available() -> bool:
    """Whether ONNX Runtime (and the exporter's `onnx`) can be imported here."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def cached_path(folder: Path, name: str, fingerprint: str) -> Path:
    """Where the tower `name` of the encoder with this fingerprint is kept for these library versions."""
    import onnxruntime
    import torch

    versions = f"torch{torch.__version__.split('+')[0]}-ort{onnxruntime.__version__}"
    return Path(folder) / f"{name}-{fingerprint[:16]}-{versions}.onnx"


def export(module: Any, examples: tuple[Any, ...], path: Path) -> Path:
    """Export `module` (float inputs `input0`, `input1`, ..., batch axis dynamic) to `path` unless it is there;
    written atomically."""
    if path.is_file():
        return path
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".part", dir=path.parent)
    os.close(fd)
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)   # the fused attention kernel has no ONNX operator
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")         # the TorchScript exporter's notices about traced shapes
            names = [f"input{i}" for i in range(len(examples))]
            torch.onnx.export(module.eval(), tuple(examples), tmp, dynamo=False, input_names=names,
                              output_names=["output"], opset_version=OPSET,
                              dynamic_axes={**{n: {0: "batch"} for n in names}, "output": {0: "batch"}})
        os.replace(tmp, path)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


class OnnxTower:
    """A CPU ONNX Runtime session over one exported tower: float32 arrays in, one float32 array out."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        import torch

        self.path = Path(path)
        self.threads = threads or torch.get_num_threads()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])

    def __call__(self, *arrays: np.ndarray) -> np.ndarray:
        feed = {f"input{i}": np.ascontiguousarray(a, dtype=np.float32) for i, a in enumerate(arrays)}
        out = self.session.run(None, feed)[0]
        return np.asarray(out, dtype=np.float32)

    def __deepcopy__(self, memo: dict) -> "OnnxTower":
        return OnnxTower(self.path, self.threads)      # a session cannot be copied; a new one reads the same file
