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

import json
import os
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, cast
from urllib.parse import urlparse

from mcrsearch.atomic import atomic_path, copy_atomic
from mcrsearch.checkpoint import (
    cached_sha256,
    git_blob_sha1,
    is_safetensors,
    missing_weights,
    read_checkpoint,
    read_state_dict,
    unwrap_state_dict,
    write_sha256_sidecar,
)
from mcrsearch.errors import McrError, OfflineError, WeightsInvalidError, WeightsMissingError
from mcrsearch.topology import CONNECTIONS, head_file

if TYPE_CHECKING:
    from mcrsearch.config import Settings

ProgressFactory = Callable[[str, "int | None"], Callable[[int], None]]


@dataclass(frozen=True)
class ArtifactFile:
    """One file of an artifact: every address it is published at (tried in order) and what is known of it."""

    name: str                         # file name under the artifact's folder
    sources: tuple[str, ...] | str | None   # download addresses, current first (None or (): none known)
    size: int | None = None           # bytes, where known
    sha256: str | None = None         # where known
    git_blob: str | None = None       # git blob SHA-1 where the file is a blob in a public git repository

    def __post_init__(self) -> None:
        sources = self.sources
        if sources is None:
            sources = ()
        elif isinstance(sources, str):
            sources = (sources,)
        object.__setattr__(self, "sources", tuple(sources))

    @property
    def url(self) -> str | None:
        """The first (current) address, or None."""
        return self.sources[0] if self.sources else None

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every download address (`sources`, made a tuple at construction)."""
        return cast("tuple[str, ...]", self.sources)


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

    @property
    def head(self) -> str:
        """A projector head's `heads.HEAD_KINDS` key."""
        if self.head_kind is None:
            raise McrError(f"'{self.name}' is not a projector head.")
        return self.head_kind

    def path(self, weights_dir: Path) -> Path:
        """The file (single-file artifacts) or folder (multi-file artifacts) that `resolve` returns."""
        return weights_dir / self.folder if self.folder else weights_dir / self.files[0].name

    def file_paths(self, weights_dir: Path) -> list[Path]:
        base = weights_dir / self.folder if self.folder else weights_dir
        return [base / f.name for f in self.files]


_GH_CHECKPOINTS = {"cmcr": "https://github.com/MCR-PEFT/C-MCR/raw/main/checkpoints/",
                   "exmcr": "https://github.com/MCR-PEFT/Ex-MCR/raw/main/checkpoints/"}


def _demo_asset(name: str, blob: str, size: int) -> ArtifactFile:
    """One of the authors' demo files: C-MCR's assets/ first, Ex-MCR's identical copy second."""
    return ArtifactFile(name, tuple(f"https://github.com/MCR-PEFT/{repo}/raw/main/assets/{name}"
                                    for repo in ("C-MCR", "Ex-MCR")), size=size, git_blob=blob)


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
        (ArtifactFile("pointbert_ULIP-2.pt", (
            "https://huggingface.co/datasets/SFXX/ulip/resolve/main/pretrained_models/ckpt_zero-sho_classification/"
            "pointbert_ULIP-2.pt",
            "https://storage.googleapis.com/sfr-ulip-code-release-research/pretrained_models/"
            "ckpt_zero-sho_classification/pointbert_ULIP-2.pt")),),
        "ULIP-2 PointBERT, the early SLIP-based 512-d release the C-MCR/Ex-MCR heads expect",
        "https://github.com/salesforce/ULIP (README: released 06/09/2023; all ULIP-series models moved to "
        "https://huggingface.co/datasets/SFXX/ulip on 05/23/2025)",
        notes="Sources in order: the Hugging Face dataset SFXX/ulip, where the ULIP README (05/23/2025) says every "
              "ULIP-series model was re-uploaded from the Google Cloud bucket; the README links only the dataset's "
              "root, so the path inside it is the bucket's own path (not confirmed from here); then the retired "
              "bucket itself, which users report refusing since May 2025. If neither answers, look in the dataset's "
              "file list (ULIP-2/pretrained_models/ holds later releases, e.g. "
              "ULIP-2-PointBERT-8k-xyz-pc-slip_vit_b-objaverse-pretrained.pt, whose identity with this file is "
              "unverified) and run 'mcrsearch weights import FILE': a strict load refuses the 1280-d CVPR'24 model. "
              "Size and sha256 not recorded (no pointer file of it was readable from here)."),
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
    Artifact(
        "cmcr-demo-assets", "demo",
        tuple(_demo_asset(name, blob, size) for name, blob, size in (
            ("toilet.jpeg", "24a9a5dc80d9db89eaba6f21593d8b5ef9455822", 241_139),
            ("BBQ.jpeg", "6f65f8e4136805451969fb4783a29b816308d77a", 211_920),
            ("train.jpeg", "47b3a81631addeee2172714bd2c1df0d7e9c4aeb", 96_160),
            ("toilet.wav", "724291cde741631f949969270ad5d1b078750ee7", 640_078),
            ("BBQ.wav", "f97828ec52a3ebe2a955d10bda92afc4ecdd1a95", 640_078),
            ("train.wav", "17b79ad2b1da7307b8eddbc0cc7cba7c74e54f50", 640_078),
            ("toilet.npy", "01e74632575f28c9ebde0a0ac26021a35052551b", 291_631),
            ("BBQ.npy", "85182ff812154e006b3619db38548c17575dac20", 265_624),
            ("train.npy", "0c31d72d95456bd1d5b8510cf35c4aa3685a26e0", 302_145))),
        "The authors' demo items (toilet, BBQ, train as image, audio, point cloud) for `mcrsearch weights check`",
        "https://github.com/MCR-PEFT/C-MCR (assets/; the same blobs sit in Ex-MCR's assets/)",
        folder="demo-assets",
        notes="Git blob ids and sizes read from both repositories' trees; the .npy files are pickled dicts "
              "(OpenShape format), read without full pickle."),
]}

HEAD_ARTIFACTS = {name: a for name, a in ARTIFACTS.items() if a.kind == "head"}   # as shipped


def artifact(name: str) -> Artifact:
    if name not in ARTIFACTS:
        raise McrError(f"Unknown artifact '{name}'; known: {', '.join(ARTIFACTS)}.")
    return ARTIFACTS[name]


# --------------------------------------------------------------------------- resolve

def _human_size(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def missing_artifacts(names: "list[str] | tuple[str, ...]", settings: "Settings") -> list[str]:
    """The names (in order, once each) whose files are not all on disk."""
    seen: list[str] = []
    for name in names:
        art = artifact(name)
        if name not in seen and not all(p.is_file() for p in art.file_paths(settings.weights_dir)):
            seen.append(name)
    return seen


def missing_message(missing: "list[str]", settings: "Settings") -> str:
    """One sentence naming every missing artifact, their total size where known, the one command that fetches
    them all, and the addresses for a download by hand."""
    known = [f.size for n in missing for f in artifact(n).files]
    size = _human_size(sum(s for s in known if s)) if known and all(known) else (
        f"at least {_human_size(sum(s for s in known if s))}" if any(known) else "size not recorded")
    files = ", ".join(f"{n} ({', '.join(f.name for f in artifact(n).files)})" for n in missing)
    by_hand = "; ".join(f"{f.name}: {' or '.join(f.sources) if f.sources else 'no public address'}"
                        for n in missing for f in artifact(n).files)
    return (f"{len(missing)} weights artifact{'s are' if len(missing) > 1 else ' is'} missing from "
            f"{settings.weights_dir} ({size}): {files}; run `mcrsearch weights fetch {' '.join(missing)}` when online, "
            f"or download by hand ({by_hand}) and run `mcrsearch weights import FILE` for each.")


def resolve_all(names: "list[str] | tuple[str, ...]", settings: "Settings") -> dict[str, Path]:
    """Paths of several artifacts; when any are missing, ONE error names them all (not the first only).

    Released heads are also checked to be the released files (`check_released_head`).
    """
    missing = missing_artifacts(names, settings)
    if missing:
        raise WeightsMissingError(missing_message(missing, settings))
    return {name: resolve(name, settings) for name in names}


def resolve(name: str, settings: "Settings") -> Path:
    """The on-disk path of an artifact (file, or folder for multi-file artifacts); one clear error if absent.

    A released head must also be the released file: a different file under its name is refused.
    """
    art = artifact(name)
    for path in art.file_paths(settings.weights_dir):
        if not path.is_file():
            raise missing_weights(name, path)
    target = art.path(settings.weights_dir)
    if art.kind == "head":
        check_released_head(name, target)
    return target


# --------------------------------------------------------------------------- heads

OWN_HEADS = "own-heads"     # weights_dir/own-heads/<name>.pt (+ .json): heads a user trained, never released names
_OWN_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


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


def head_artifacts() -> dict[str, Artifact]:
    """The released heads in the catalog (read at call time, so a patched catalog is seen)."""
    return {name: a for name, a in ARTIFACTS.items() if a.kind == "head"}


def released_heads_matching(path: Path, kind: str) -> list[str]:
    """Released head names of this layout whose git blob id equals the file's (usually one, or none)."""
    blob = git_blob_sha1(path)
    return [n for n, a in head_artifacts().items() if a.head_kind == kind and a.files[0].git_blob == blob]


def check_released_head(name: str, path: Path) -> None:
    """Refuse a file filed under a released head's name that is not that released file (by git blob id)."""
    spec = artifact(name).files[0]
    if spec.git_blob and git_blob_sha1(path) != spec.git_blob:
        raise WeightsInvalidError(
            f"{path} is not the released {name} file (its git blob id differs from {spec.git_blob[:12]}), so "
            f"mcrsearch will not use it as {name}: run `mcrsearch weights fetch {name}`, or import heads you "
            f"trained under a name of your own with `mcrsearch weights import FILE --name MY-HEADS`.")


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
        raise McrError(f"'{name}' is not a projector head; heads are {', '.join(head_artifacts())}.")
    return load_head_file(resolve(name, settings), art.head, art.files[0].name)


def own_heads(settings: "Settings") -> dict[str, dict[str, Any]]:
    """Heads a user imported under a name of their own: name -> {"kind", "file", "imported_from"}."""
    folder = settings.weights_dir / OWN_HEADS
    found = {}
    for meta in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            info = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (folder / f"{meta.stem}.pt").is_file() and isinstance(info, dict):
            found[meta.stem] = {**info, "file": str(folder / f"{meta.stem}.pt")}
    return found


def load_own_head(name: str, settings: "Settings"):
    """A head imported under a user's own name, loaded strictly in eval mode (for a space of the user's own)."""
    info = own_heads(settings).get(name)
    if info is None:
        raise WeightsMissingError(f"No heads named '{name}' were imported; run `mcrsearch weights import FILE "
                                  f"--name {name}`.")
    return load_head_file(Path(info["file"]), info["kind"], name)


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
    """Recognise a checkpoint by keys and shapes, verify it loads into its module, file it; return its name.

    A projector head is filed under a released name only when it IS that released file (git blob id); which
    Ex-MCR head it is (exmcr-clap or exmcr-ulip, one layout) is told by its hash. Heads a user trained are
    imported with `name` set to a name of their own (not a catalog name) and kept apart, in `own-heads/`.

    Args:
        path: the file (or a tokenizer folder / its vocab.json).
        settings: where the weights live.
        name: the catalog name it must be, or a new name for the user's own heads.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise WeightsInvalidError(f"{path} does not exist.")
    if path.is_dir() or path.name in ("vocab.json", "merges.txt"):
        if name is not None:
            artifact(name)
        found = _import_tokenizer(path, settings)
        _check_name(found, name, path)
        return found
    if name is not None and name not in ARTIFACTS:
        return _import_own_head(path, settings, name)
    found, state = identify(path)
    if found == "exmcr" or (found in ARTIFACTS and ARTIFACTS[found].kind == "head"):
        from mcrsearch.heads import load_head_state

        load_head_state(build_head(found if found == "exmcr" else ARTIFACTS[found].head), state, path.name)
        found = _released_head_name(path, found, name)      # layout first (the clearer refusal), then identity
    _check_name(found, name, path)
    art = ARTIFACTS[found]
    dst = art.path(settings.weights_dir)
    state = _verify(found, state, path.name)
    if found == "clip-vit-b-32-openai" and not is_safetensors(path):
        from safetensors.torch import save_file  # store one canonical, code-free format

        with atomic_path(dst) as tmp:
            save_file({k: v.contiguous() for k, v in state.items()}, str(tmp))
    else:
        copy_atomic(path, dst)
    write_sha256_sidecar(dst)
    return found


def _released_head_name(path: Path, kind: str, name: str | None) -> str:
    """The released head a file is, by git blob id; refuses any other file under a released name."""
    matches = released_heads_matching(path, kind)
    layout = [n for n, a in head_artifacts().items() if a.head_kind == kind]
    if name is not None and name in ARTIFACTS and name not in layout:
        raise WeightsInvalidError(f"{path.name} has the layout of {' / '.join(layout)} heads, not of {name}.")
    if name is not None:
        if name in matches:
            return name
        raise WeightsInvalidError(
            f"{path.name} is not the released {name} file (its git blob id is not the one published), so mcrsearch "
            f"refuses it under that name: import heads you trained with `--name MY-HEADS` (a name of your own).")
    if not matches:
        raise WeightsInvalidError(
            f"{path.name} has the layout of {' / '.join(layout)} heads but is not a released file (its git blob id "
            f"matches none published), so mcrsearch will not use it as one: import heads you trained with "
            f"`--name MY-HEADS` (a name of your own).")
    by_file = [n for n in matches if ARTIFACTS[n].files[0].name == path.name]
    return (by_file or matches)[0]


def _import_own_head(path: Path, settings: "Settings", name: str) -> str:
    """File a user's own trained heads under their own name, apart from the released ones."""
    if not _OWN_NAME.match(name):
        raise WeightsInvalidError(f"'{name}' is not a usable name for your heads (use lower-case letters, digits, "
                                  f"'-', '_' or '.', up to 63 characters).")
    state = unwrap_state_dict(read_checkpoint(path))
    kind = identify_head(state)
    if kind in (None, "partial"):
        raise WeightsInvalidError(f"{path.name} is not a projector head in a released layout, and only heads can be "
                                  f"imported under a name of your own ('{name}' is not a catalog artifact).")
    from mcrsearch.heads import load_head_state

    load_head_state(build_head(kind), state, path.name)
    folder = settings.weights_dir / OWN_HEADS
    copy_atomic(path, folder / f"{name}.pt")
    from mcrsearch.atomic import write_json_atomic

    write_json_atomic(folder / f"{name}.json", {"kind": kind, "imported_from": str(path)})
    return name


def _verify(found: str, state: dict[str, Any], source: str) -> dict[str, Any]:
    """Check a recognised state dict loads into its module; returns the state to store (CLIP: float32)."""
    art = ARTIFACTS[found]
    if art.kind == "head":
        from mcrsearch.heads import load_head_state

        load_head_state(build_head(art.head), state, source)
    elif found == "ulip2-pointbert":
        from mcrsearch.encoders.ulip import verify_checkpoint_state as verify_ulip

        verify_ulip(state, source)
    elif found == "clip-vit-b-32-openai":
        from mcrsearch.encoders.openclip import verify_checkpoint_state as verify_clip

        state = verify_clip(state, source)
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
                load_head_file(art.path(settings.weights_dir), art.head)
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
            "expected_size": sum(f.size or 0 for f in art.files) if all(f.size for f in art.files) else None,
            "sha256": checks[0] if len(checks) == 1 else ", ".join(checks),
            "url": [f.url for f in art.files] if len(art.files) > 1 else art.files[0].url,
            "sources": [src for f in art.files for src in f.addresses],
            "source": art.source,
            "notes": art.notes or None,
            "reason": "; ".join(reasons) or None,
            "partial": _partial_bytes(art, settings) or None,
            "rejected": _rejected_reasons(art, settings) or None,
        })
    for name, info in own_heads(settings).items():
        rows.append({"name": name, "kind": "own head", "description": f"your own {info.get('kind')} heads",
                     "file": info["file"], "files": [Path(info["file"]).name], "state": "present",
                     "size": Path(info["file"]).stat().st_size, "expected_size": None, "sha256": "-",
                     "url": None, "sources": [], "source": info.get("imported_from"), "notes": None, "reason": None,
                     "partial": None, "rejected": None})
    return rows


def _partial_bytes(art: Artifact, settings: "Settings") -> int:
    """Bytes already downloaded towards missing files (`.part`), which the next fetch resumes."""
    from mcrsearch.download import part_path

    return sum(part_path(p).stat().st_size for p in art.file_paths(settings.weights_dir) if part_path(p).is_file())


def _rejected_reasons(art: Artifact, settings: "Settings") -> list[str]:
    """Why downloads of this artifact were kept aside (`.rejected` and its reason file)."""
    from mcrsearch.download import rejected_path

    out = []
    for path in art.file_paths(settings.weights_dir):
        aside = rejected_path(path)
        if aside.is_file():
            note = aside.with_name(aside.name + ".txt")
            reason = note.read_text(encoding="utf-8").splitlines()[0] if note.is_file() else "no reason recorded"
            out.append(f"{aside}: {reason}")
    return out


# --------------------------------------------------------------------------- fetch

def is_offline() -> bool:
    """Offline when the user says so (HF_HUB_OFFLINE / MCRSEARCH_OFFLINE), without touching the network."""
    return any(os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}
               for var in ("MCRSEARCH_OFFLINE", "HF_HUB_OFFLINE"))


def _check_reachable(url: str, timeout: float) -> None:


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


def fetch(name: str, settings: "Settings", progress: "ProgressFactory | None" = None, timeout: float = 5.0) -> Path:
    """Download an artifact, trying each known source in turn; verify it, recognise it like an import, file it.

    An interrupted download resumes from its `.part` file; a file that arrives whole but fails a check is kept
    aside as `.rejected` with its reason (never deleted) and the next source is tried.

    Args:
        name: the artifact's catalog name.
        settings: where the weights live.
        progress: `progress(file name, total bytes or None)` returns a callback taking the bytes just read
            (the CLI draws a bar with it).
        timeout: seconds to wait for a host.

    Returns:
        The artifact's path (file, or folder for multi-file artifacts).

    Raises:
        OfflineError / WeightsMissingError / WeightsInvalidError: one sentence naming every source tried and
        what each answered.
    """
    art = artifact(name)
    if is_offline():
        raise OfflineError(f"Cannot fetch {name}: mcrsearch is offline (HF_HUB_OFFLINE/MCRSEARCH_OFFLINE is set); "
                           f"unset it when a network is there, or run 'mcrsearch weights import FILE'.")
    if any(not f.sources for f in art.files):
        raise OfflineError(f"No public download address is known for {name}; run 'mcrsearch weights import FILE'.")
    for path, spec in zip(art.file_paths(settings.weights_dir), art.files):
        _fetch_file(name, art, spec, path, timeout, progress)
    target = art.path(settings.weights_dir)
    if art.kind == "tokenizer":
        _read_tokenizer_files(target)
    if target.is_file():
        write_sha256_sidecar(target)
    return target


def _fetch_file(name: str, art: Artifact, spec: ArtifactFile, path: Path, timeout: float,
                progress: "ProgressFactory | None") -> None:
    """Try each source of one file until one gives the right file; one sentence naming all when none does."""
    from mcrsearch.download import Expected, download, set_aside

    failures: list[tuple[str, McrError]] = []
    for url in spec.addresses:
        try:
            _check_reachable(url, timeout)
            download(url, path, Expected(spec.size, spec.sha256, spec.git_blob), max(timeout, 30.0), progress)
            if art.kind not in ("tokenizer", "demo"):      # checkpoints: recognised like an import
                _recognise_download(name, art, path, url, set_aside)
            return
        except McrError as exc:
            failures.append((url, exc))
    answers = "; ".join(f"{url}: {_short(exc)}" for url, exc in failures)
    kind = type(failures[-1][1]) if all(type(e) is type(failures[-1][1]) for _, e in failures) else OfflineError
    raise kind(f"Could not fetch {spec.name} for {name} from any of its {len(failures)} known source"
               f"{'s' if len(failures) > 1 else ''} ({answers}); download it by hand and run "
               f"`mcrsearch weights import FILE`.")


def _recognise_download(name: str, art: Artifact, path: Path, url: str, set_aside: Callable) -> None:
    """A downloaded checkpoint must be recognised as what it was fetched as; otherwise it is kept aside."""
    try:
        found, state = identify(path)
        if found == "exmcr" or art.kind == "head":
            check_released_head(name, path)
            found = name
        if found != name:
            raise WeightsInvalidError(f"The download of {path.name} is a {found} checkpoint, not {name}.")
        _verify(found, state, path.name)
    except McrError as exc:
        aside = set_aside(path, path, str(exc), url)
        raise WeightsInvalidError(f"{_short(exc)} (kept aside as {aside.name})") from exc


def _short(exc: BaseException) -> str:
    """An error sentence without its final full stop, to sit inside another sentence."""
    return str(exc).strip().rstrip(".")


__all__ = ["Artifact", "ArtifactFile", "ARTIFACTS", "HEAD_ARTIFACTS", "artifact", "resolve", "resolve_all",
           "missing_artifacts", "missing_message", "check_released_head", "head_artifacts", "own_heads",
           "load_own_head", "status", "fetch",
           "import_file", "identify", "load_released_head", "is_offline"]
