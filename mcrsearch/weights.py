"""The model artifacts mcrsearch needs: where each comes from, where it lives, how it is checked and loaded.

Files live under `Settings.weights_dir` (`$MCRSEARCH_HOME/weights`) with canonical names. `resolve` finds them,
`fetch` downloads them when a network is there (and fails at once, in one sentence, when not), `import_file`
recognises a checkpoint a user already has by its keys and shapes, checks that it loads into the right module,
and files it. Every file is read through `mcrsearch.checkpoint` (safetensors, TorchScript tensors, or weights-only
torch files; full pickle is refused, never run). Model-specific checks live beside each model in `encoders/`.

Hashes: only values actually read from the source are recorded. The four head files sit as plain git blobs in
the authors' GitHub repositories, so their git blob ids (SHA-1 over "blob <size>\\0" + bytes) verify a download
exactly; `ulip_clip.pt` was also hashed with sha256. Everything else is None (unknown), never invented.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from mcrsearch.atomic import atomic_path, copy_atomic
from mcrsearch.checkpoint import (cached_sha256, git_blob_sha1, is_safetensors, missing_weights,
                                  read_checkpoint, read_state_dict, unwrap_state_dict, write_sha256_sidecar)
from mcrsearch.errors import McrError, OfflineError, WeightsInvalidError, WeightsMissingError
from mcrsearch.topology import CONNECTIONS, head_file

if TYPE_CHECKING:
    from mcrsearch.config import Settings

ProgressFactory = Callable[[str, "int | None"], Callable[[int], None]]


@dataclass(frozen=True)
class ArtifactFile:
    name: str                         # file name under the artifact's folder
    url: str | None                   # public download address (None: no public address known)
    size: int | None = None           # bytes, where known
    sha256: str | None = None         # where known
    git_blob: str | None = None       # git blob SHA-1 where the file is a blob in a public git repository


@dataclass(frozen=True)
class Artifact:
    name: str
    kind: str                         # encoder | tokenizer | head
    files: tuple[ArtifactFile, ...]
    description: str
    source: str                       # the page that names this file (paper README, model card)
    folder: str | None = None         # multi-file artifacts live in weights_dir/<folder>/
    notes: str = ""
    head_kind: str | None = None      # for heads: the heads.HEAD_KINDS key

    def path(self, weights_dir: Path) -> Path:
        """The file (single-file artifacts) or folder (multi-file artifacts) that `resolve` returns."""
        return weights_dir / self.folder if self.folder else weights_dir / self.files[0].name

    def file_paths(self, weights_dir: Path) -> list[Path]:
        base = weights_dir / self.folder if self.folder else weights_dir
        return [base / f.name for f in self.files]


_GH_CHECKPOINTS = {"cmcr": "https://github.com/MCR-PEFT/C-MCR/raw/main/checkpoints/",
                   "exmcr": "https://github.com/MCR-PEFT/Ex-MCR/raw/main/checkpoints/"}


def _released(method: str, leaf: str, **known: Any) -> ArtifactFile:
    """A released head file: its name is the topology's, its address the authors' repository."""
    name = head_file(method, leaf)
    return ArtifactFile(name, _GH_CHECKPOINTS[method] + name, **known)


ARTIFACTS: dict[str, Artifact] = {a.name: a for a in [
    Artifact(
        "clip-vit-b-32-openai", "encoder",
        (ArtifactFile("open_clip_vit_b_32_openai.safetensors",
                      "https://huggingface.co/timm/vit_base_patch32_clip_224.openai/resolve/main/open_clip_model.safetensors"),),
        "CLIP ViT-B/32, OpenAI weights, open_clip layout (use with the ViT-B-32-quickgelu config)",
        "https://huggingface.co/openai/clip-vit-base-patch32 (C-MCR/Ex-MCR README); open_clip tag 'openai'",
        notes="HF hub file open_clip_model.safetensors, about 605 MB (exact size and sha256 not recorded). "
              "OpenAI's own TorchScript ViT-B-32.pt (sha256 40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af, "
              "from its URL) is another copy of the same weights."),
    Artifact(
        "clap-630k-fusion-best", "encoder",
        (ArtifactFile("630k-fusion-best.pt", "https://huggingface.co/lukewys/laion_clap/resolve/main/630k-fusion-best.pt"),),
        "LAION-CLAP HTSAT-tiny + RoBERTa, fusion, trained on LAION-Audio-630K",
        "https://huggingface.co/lukewys/laion_clap (named in the C-MCR and Ex-MCR READMEs)",
        notes="The papers' code calls it laion_clap_fullset_fusion.pt. Size and sha256 not recorded."),
    Artifact(
        "roberta-base-tokenizer", "tokenizer",
        (ArtifactFile("vocab.json", "https://huggingface.co/FacebookAI/roberta-base/resolve/main/vocab.json"),
         ArtifactFile("merges.txt", "https://huggingface.co/FacebookAI/roberta-base/resolve/main/merges.txt")),
        "roberta-base BPE tokenizer files used by CLAP's text tower (50265 tokens)",
        "https://huggingface.co/FacebookAI/roberta-base", folder="roberta-base-tokenizer",
        notes="No installed package ships them; a GPT-2 vocabulary is not a substitute."),
    Artifact(
        "ulip2-pointbert", "encoder",
        (ArtifactFile("pointbert_ULIP-2.pt",
                      "https://storage.googleapis.com/sfr-ulip-code-release-research/pretrained_models/"
                      "ckpt_zero-sho_classification/pointbert_ULIP-2.pt"),),
        "ULIP-2 PointBERT, the early SLIP-based 512-d release the C-MCR/Ex-MCR heads expect",
        "https://github.com/salesforce/ULIP (README, 06/09/2023 release; linked from the C-MCR/Ex-MCR READMEs)",
        notes="The README links storage.cloud.google.com, which may ask for a Google sign-in; if the direct "
              "bucket address refuses, download it in a browser and run 'mcrsearch weights import'. "
              "Size and sha256 not recorded. The later 10k-colored ULIP-2 checkpoint is a different model."),
    Artifact(
        "cmcr-clap-clip", "head",
        (_released("cmcr", "clap", git_blob="61099f73eabf34a1f8da2ab11ffdd87db95b20b3"),),
        "C-MCR CLAP-CLIP projector heads (Head_A CLAP side, Head_B CLIP side)",
        "https://github.com/MCR-PEFT/C-MCR (checkpoints/)", head_kind="cmcr-clap-clip"),
    Artifact(
        "cmcr-ulip-clip", "head",
        (_released("cmcr", "ulip", size=2_122_395,
                   sha256="f82569f2cb0bfd57762ea8f51bdc6dc1846a3f5fe2e03e343ddc32fff35ec3fa",
                   git_blob="350a714d9eef411985e353ba0306b885196f2610"),),
        "C-MCR ULIP-CLIP projector heads (Head_A CLIP side, Head_B ULIP side)",
        "https://github.com/MCR-PEFT/C-MCR (checkpoints/)", head_kind="cmcr-ulip-clip"),
    Artifact(
        "exmcr-clap", "head",
        (_released("exmcr", "clap", git_blob="f85c9a202324d9374c71b032fd9f42a9c818cf87"),),
        "Ex-MCR head bringing CLAP (audio, text) into CLIP space",
        "https://github.com/MCR-PEFT/Ex-MCR (checkpoints/)", head_kind="exmcr"),
    Artifact(
        "exmcr-ulip", "head",
        (_released("exmcr", "ulip", git_blob="50b8eff07c85a0cd1084de54537282deffe04567"),),
        "Ex-MCR head bringing ULIP-2 (3D, image) into CLIP space",
        "https://github.com/MCR-PEFT/Ex-MCR (checkpoints/)", head_kind="exmcr"),
]}

HEAD_ARTIFACTS = {name: a for name, a in ARTIFACTS.items() if a.kind == "head"}


def artifact(name: str) -> Artifact:
    if name not in ARTIFACTS:
        raise McrError(f"Unknown artifact '{name}'; known: {', '.join(ARTIFACTS)}.")
    return ARTIFACTS[name]


# --------------------------------------------------------------------------- resolve

def resolve(name: str, settings: "Settings") -> Path:
    """The on-disk path of an artifact (file, or folder for multi-file artifacts); one clear error if absent."""
    art = artifact(name)
    for path in art.file_paths(settings.weights_dir):
        if not path.is_file():
            raise missing_weights(name, path)
    return art.path(settings.weights_dir)


# --------------------------------------------------------------------------- heads

def build_head(kind: str):
    """A fresh head module of a released kind (all dims 512)."""
    from mcrsearch import heads

    return heads.HEAD_KINDS[kind]()


def identify_head(state: Mapping[str, Any]) -> str | None:
    """Which released head layout a state dict has, by its key families (shapes are checked on load)."""
    keys = set(state)
    if any(k.startswith("Head_A.net1.") for k in keys) and any(k.startswith("Head_B.net1.") for k in keys):
        return "cmcr-clap-clip"
    if any(k.startswith("Head_A.net.") for k in keys) and any(k.startswith("Head_B.net.") for k in keys):
        return "cmcr-ulip-clip"
    if any(k.startswith("Head1.") for k in keys) and any(k.startswith("Head2.") for k in keys):
        return "exmcr"
    if any(k.startswith(("Head_A.", "Head_B.", "Head1.", "Head2.")) for k in keys):
        return "partial"
    return None


def load_head_file(path: Path, kind: str, source: str | None = None):
    from mcrsearch.heads import load_head_state

    state = read_state_dict(path, "projector head")
    return load_head_state(build_head(kind), state, source or path.name)


def load_released_head(name: str, settings: "Settings"):
    """A released head (artifact name or head kind alias) loaded strictly, in eval mode, on the CPU."""
    # Aliases: a released file's stem (e.g. "ex_clap") names its artifact.
    aliases = {Path(conn.head_files[m]).stem: conn.artifacts[m] for conn in CONNECTIONS.values() for m in conn.artifacts}
    name = aliases.get(name, name)
    art = artifact(name)
    if art.kind != "head":
        raise McrError(f"'{name}' is not a projector head; heads are {', '.join(HEAD_ARTIFACTS)}.")
    return load_head_file(resolve(name, settings), art.head_kind, art.files[0].name)


# --------------------------------------------------------------------------- recognising files

_CLIP_ANCHORS = {"visual.conv1.weight": (768, 3, 32, 32), "visual.proj": (768, 512), "text_projection": (512, 512),
                 "token_embedding.weight": (49408, 512), "positional_embedding": (77, 512)}


def _identify_encoder(state: Mapping[str, Any], source: str) -> str | None:
    """Recognise the encoder checkpoints by keys and a few anchor shapes; refuse near-misses clearly."""
    keys = set(state)
    if any(k.startswith("point_encoder.") for k in keys) or "pc_projection" in keys:
        return "ulip2-pointbert"
    if any(k.startswith("audio_branch.") for k in keys) and any(k.startswith("text_branch.") for k in keys):
        if not any("fusion_model" in k or "mel_conv2d" in k for k in keys):
            raise WeightsInvalidError(f"{source} is a CLAP checkpoint without feature fusion; the released heads "
                                      f"need 630k-fusion-best.pt.")
        patch = state.get("audio_branch.patch_embed.proj.weight")
        if patch is not None and tuple(patch.shape)[0] != 96:
            raise WeightsInvalidError(f"{source} is a CLAP checkpoint with a {tuple(patch.shape)[0]}-wide HTSAT "
                                      f"(not HTSAT-tiny); the released heads need 630k-fusion-best.pt.")
        return "clap-630k-fusion-best"
    if "visual.conv1.weight" in keys and "token_embedding.weight" in keys:
        for key, shape in _CLIP_ANCHORS.items():
            if key not in state or tuple(state[key].shape) != shape:
                got = tuple(state[key].shape) if key in state else "absent"
                raise WeightsInvalidError(f"{source} is a CLIP checkpoint but not ViT-B/32 ({key} is {got}, "
                                          f"expected {shape}).")
        return "clip-vit-b-32-openai"
    if any(k.startswith("vision_model.") for k in keys) and any(k.startswith("text_model.") for k in keys):
        raise WeightsInvalidError(f"{source} is a Hugging Face CLIPModel checkpoint; mcrsearch needs the open_clip "
                                  f"layout (open_clip_model.safetensors from timm/vit_base_patch32_clip_224.openai).")
    return None


def _read_tokenizer_files(folder: Path) -> None:
    """Check vocab.json / merges.txt are the roberta-base BPE files (not GPT-2's, not a stub)."""
    vocab_path, merges_path = folder / "vocab.json", folder / "merges.txt"
    try:
        vocab = json.loads(vocab_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WeightsInvalidError(f"{vocab_path} is not a readable JSON vocabulary.") from exc
    if not isinstance(vocab, dict) or len(vocab) != 50265 or vocab.get("<s>") != 0 or vocab.get("<pad>") != 1 \
            or vocab.get("</s>") != 2 or vocab.get("<unk>") != 3:
        raise WeightsInvalidError(f"{vocab_path} is not the roberta-base vocabulary (expected 50265 entries with "
                                  f"<s>=0, <pad>=1, </s>=2, <unk>=3).")
    try:
        with merges_path.open(encoding="utf-8") as fh:
            first = fh.readline()
            count = 1 + sum(1 for _ in fh)
    except OSError as exc:
        raise WeightsInvalidError(f"{merges_path} is not readable.") from exc
    if count < 40000 or " " not in (first if not first.startswith("#") else "x y"):
        raise WeightsInvalidError(f"{merges_path} is not a BPE merges file of roberta-base size.")


def identify(path: str | Path) -> tuple[str, Any]:
    """(artifact name or 'exmcr', loaded state) for a file a user offers; refuses anything else clearly."""
    path = Path(path)
    source = path.name
    state = unwrap_state_dict(read_checkpoint(path))
    if not state:
        raise WeightsInvalidError(f"{source} holds no state dict of tensors, so it is no model mcrsearch knows.")
    kind = identify_head(state)
    if kind == "partial":
        raise WeightsInvalidError(f"{source} has projector-head keys but not the full layout of any released head.")
    if kind == "cmcr-clap-clip" or kind == "cmcr-ulip-clip":
        return kind, state
    if kind == "exmcr":
        return "exmcr", state
    name = _identify_encoder(state, source)
    if name is None:
        raise WeightsInvalidError(f"{source} is not a checkpoint mcrsearch knows (no released head, ULIP-2, CLAP or "
                                  f"CLIP layout found).")
    return name, state


# --------------------------------------------------------------------------- import

def _import_tokenizer(path: Path, settings: "Settings") -> str:
    folder = path if path.is_dir() else path.parent
    _read_tokenizer_files(folder)
    art = ARTIFACTS["roberta-base-tokenizer"]
    for src, dst in zip([folder / f.name for f in art.files], art.file_paths(settings.weights_dir)):
        if src.resolve() != dst.resolve():
            copy_atomic(src, dst)
    return art.name


def import_file(path: str | Path, settings: "Settings", name: str | None = None) -> str:
    """Recognise a checkpoint by keys and shapes, verify it loads into its module, file it; return its name."""
    path = Path(path).expanduser()
    if name is not None:
        artifact(name)
    if not path.exists():
        raise WeightsInvalidError(f"{path} does not exist.")
    if path.is_dir() or path.name in ("vocab.json", "merges.txt"):
        found = _import_tokenizer(path, settings)
        _check_name(found, name, path)
        return found
    found, state = identify(path)
    if found == "exmcr":
        by_file = {a.files[0].name: n for n, a in HEAD_ARTIFACTS.items() if a.head_kind == "exmcr"}
        if name in ("exmcr-clap", "exmcr-ulip"):
            found = name
        elif name is not None:
            raise WeightsInvalidError(f"{path.name} is an Ex-MCR head (exmcr-clap or exmcr-ulip), not {name}.")
        elif path.name in by_file:
            found = by_file[path.name]
        else:
            raise WeightsInvalidError(f"{path.name} is an Ex-MCR head, and exmcr-clap and exmcr-ulip share one layout: "
                                      f"pass --name exmcr-clap or --name exmcr-ulip.")
    _check_name(found, name, path)
    art = ARTIFACTS[found]
    dst = art.path(settings.weights_dir)
    state = _verify(found, state, path.name)
    if found == "clip-vit-b-32-openai" and not is_safetensors(path):
        from safetensors.torch import save_file     # store one canonical, code-free format

        with atomic_path(dst) as tmp:
            save_file({k: v.contiguous() for k, v in state.items()}, str(tmp))
    else:
        copy_atomic(path, dst)
    write_sha256_sidecar(dst)
    return found


def _verify(found: str, state: dict[str, Any], source: str) -> dict[str, Any]:
    """Check a recognised state dict loads into its module; returns the state to store (CLIP: float32)."""
    art = ARTIFACTS[found]
    if art.kind == "head":
        from mcrsearch.heads import load_head_state

        load_head_state(build_head(art.head_kind), state, source)
    elif found == "ulip2-pointbert":
        from mcrsearch.encoders.ulip import verify_checkpoint_state

        verify_checkpoint_state(state, source)
    elif found == "clip-vit-b-32-openai":
        from mcrsearch.encoders.openclip import verify_checkpoint_state

        state = verify_checkpoint_state(state, source)
    # CLAP: keys and anchor shapes were checked by _identify_encoder; the encoder loads it strictly when built.
    return state


def _check_name(found: str, name: str | None, path: Path) -> None:
    if name is not None and name != found:
        raise WeightsInvalidError(f"{path.name} is a {found} checkpoint, not {name}.")


# --------------------------------------------------------------------------- hashing and status

def _file_state(path: Path, spec: ArtifactFile) -> tuple[str, str, str | None]:
    """(state, hash check, reason) of one file against what is known about it."""
    if not path.is_file():
        return "missing", "-", None
    size = path.stat().st_size
    if spec.size is not None and size != spec.size:
        return "invalid", "-", f"size {size} bytes, expected {spec.size}"
    check = "unknown"
    if spec.sha256:
        digest = cached_sha256(path, compute_below=64 << 20)
        if digest is None:
            check = "not checked"
        elif digest != spec.sha256:
            return "invalid", "mismatch", "sha256 differs from the released file"
        else:
            check = "ok"
    elif spec.git_blob and size < (64 << 20):
        if git_blob_sha1(path) != spec.git_blob:
            return "invalid", "mismatch", "git blob hash differs from the released file"
        check = "ok (git blob)"
    return "present", check, None


def status(settings: "Settings") -> list[dict[str, Any]]:
    """One row per artifact: name, kind, file, state (present / missing / invalid), size, hash check."""
    rows = []
    for art in ARTIFACTS.values():
        states, checks, reasons, size = [], [], [], 0
        for path, spec in zip(art.file_paths(settings.weights_dir), art.files):
            state, check, reason = _file_state(path, spec)
            states.append(state)
            checks.append(check)
            if reason:
                reasons.append(f"{path.name}: {reason}")
            if path.is_file():
                size += path.stat().st_size
        if "invalid" in states:
            state = "invalid"
        elif "missing" in states:
            state = "missing"
        else:
            state = "present"
        if state == "present" and art.kind == "head":
            try:
                load_head_file(art.path(settings.weights_dir), art.head_kind)
            except McrError as exc:
                state, reasons = "invalid", [str(exc)]
        if state == "present" and art.kind == "tokenizer":
            try:
                _read_tokenizer_files(art.path(settings.weights_dir))
            except McrError as exc:
                state, reasons = "invalid", [str(exc)]
        rows.append({
            "name": art.name, "kind": art.kind, "description": art.description,
            "file": str(art.path(settings.weights_dir)), "files": [f.name for f in art.files],
            "state": state, "size": size if state != "missing" else None,
            "expected_size": sum(f.size for f in art.files) if all(f.size for f in art.files) else None,
            "sha256": checks[0] if len(checks) == 1 else ", ".join(checks),
            "url": [f.url for f in art.files] if len(art.files) > 1 else art.files[0].url,
            "reason": "; ".join(reasons) or None,
        })
    return rows


# --------------------------------------------------------------------------- fetch

def is_offline() -> bool:
    """Offline when the user says so (HF_HUB_OFFLINE / MCRSEARCH_OFFLINE), without touching the network."""
    return any(os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}
               for var in ("MCRSEARCH_OFFLINE", "HF_HUB_OFFLINE"))


def _check_reachable(url: str, timeout: float) -> None:
    import socket
    from urllib.parse import urlparse

    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import TimeoutError as FutureTimeout

    parsed = urlparse(url)
    host = parsed.hostname or ""
    port = parsed.port or (80 if parsed.scheme == "http" else 443)
    pool = ThreadPoolExecutor(max_workers=1)     # getaddrinfo ignores socket timeouts: bound it here
    try:
        pool.submit(socket.getaddrinfo, host, port).result(timeout=timeout)
        socket.create_connection((host, port), timeout=timeout).close()
    except FutureTimeout as exc:
        raise OfflineError(f"Cannot resolve {host} within {timeout:.0f} s; fetch needs a network: copy the file "
                           f"here by other means and run 'mcrsearch weights import FILE'.") from exc
    except OSError as exc:
        raise OfflineError(f"Cannot reach {host} ({exc.__class__.__name__}); fetch needs a network: copy the "
                           f"file here by other means and run 'mcrsearch weights import FILE'.") from exc
    finally:
        pool.shutdown(wait=False)


def _download(spec: ArtifactFile, dst: Path, timeout: float, progress: "ProgressFactory | None") -> None:
    import urllib.error
    import urllib.request

    sha, blob = hashlib.sha256(), None
    request = urllib.request.Request(spec.url, headers={"User-Agent": "mcrsearch"})
    with atomic_path(dst) as tmp:               # any refusal below leaves no partial file behind
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp, tmp.open("wb") as out:
                total = int(resp.headers.get("Content-Length") or 0) or spec.size
                if spec.git_blob and total:
                    blob = hashlib.sha1(f"blob {total}\0".encode())
                advance = progress(dst.name, total or None) if progress else None
                for chunk in iter(lambda: resp.read(1 << 20), b""):
                    out.write(chunk)
                    sha.update(chunk)
                    if blob is not None:
                        blob.update(chunk)
                    if advance is not None:
                        advance(len(chunk))
        except urllib.error.HTTPError as exc:
            raise WeightsMissingError(f"The server answered HTTP {exc.code} ({exc.reason}) for {spec.url}; fetch the "
                                      f"file by other means and run 'mcrsearch weights import FILE'.") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise OfflineError(f"Downloading {spec.url} failed ({reason}); fetch it by other means and run "
                               f"'mcrsearch weights import FILE'.") from exc
        size = tmp.stat().st_size
        problem = None
        if spec.size is not None and size != spec.size:
            problem = f"{size} bytes instead of {spec.size}"
        elif spec.sha256 and sha.hexdigest() != spec.sha256:
            problem = "its sha256 differs from the released file"
        elif blob is not None and size == total and blob.hexdigest() != spec.git_blob:
            problem = "its git blob hash differs from the released file"
        if problem:
            raise WeightsInvalidError(f"The download of {dst.name} is not the released file: {problem}.")


def fetch(name: str, settings: "Settings", progress: "ProgressFactory | None" = None, timeout: float = 5.0) -> Path:
    """Download an artifact (verified where hashes are known, then recognised like an import).

    Args:
        name: the artifact's catalog name.
        settings: where the weights live.
        progress: `progress(file name, total bytes or None)` returns a callback taking the bytes just read
            (the CLI draws a bar with it).
        timeout: seconds to wait for the host.

    Returns:
        The artifact's path (file, or folder for multi-file artifacts).
    """
    art = artifact(name)
    if is_offline():
        raise OfflineError(f"Cannot fetch {name}: mcrsearch is offline (HF_HUB_OFFLINE/MCRSEARCH_OFFLINE is set); "
                           f"unset it when a network is there, or run 'mcrsearch weights import FILE'.")
    if any(f.url is None for f in art.files):
        raise OfflineError(f"No public download address is known for {name}; run 'mcrsearch weights import FILE'.")
    _check_reachable(art.files[0].url, timeout)
    for path, spec in zip(art.file_paths(settings.weights_dir), art.files):
        _download(spec, path, timeout=max(timeout, 30.0), progress=progress)
    target = art.path(settings.weights_dir)
    if art.kind == "tokenizer":
        _read_tokenizer_files(target)
    else:
        try:
            found, state = identify(target)
            if found == "exmcr" and art.head_kind == "exmcr":
                found = name
            if found != name:
                raise WeightsInvalidError(f"The download of {target.name} is a {found} checkpoint, not {name}.")
            _verify(found, state, target.name)
        except McrError:
            target.unlink(missing_ok=True)
            raise
        write_sha256_sidecar(target)
    return target


__all__ = ["Artifact", "ArtifactFile", "ARTIFACTS", "HEAD_ARTIFACTS", "artifact", "resolve", "status", "fetch",
           "import_file", "identify", "load_released_head", "is_offline"]
