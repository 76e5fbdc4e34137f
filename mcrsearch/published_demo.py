"""The authors' demo, as data: its inputs and the similarity matrices their READMEs print ("Expected output").

Source: the C-MCR and Ex-MCR READMEs (github.com/MCR-PEFT/C-MCR, github.com/MCR-PEFT/Ex-MCR), also copied in
the project's PUBLISHED.md. Each matrix is `softmax(A @ B.T * 10, dim=-1)` of L2-normalised embeddings, rows =
A's items in the order toilet, BBQ, train, printed to 4 decimals; the authors ran transformers' CLIP on CUDA.
This module holds numbers only; `mcrsearch.democheck` reproduces and compares them.
"""

from __future__ import annotations

from dataclasses import dataclass

ITEMS = ("toilet", "BBQ", "train")                 # row and column order of every matrix
TEXTS = ("a toilet", "BBQ", "a train")             # the texts, as the READMEs pass them
SCALE = 10.0                                       # the READMEs' temperature
PRINTED_DECIMALS = 4
ASSET_SUFFIX = {"image": ".jpeg", "audio": ".wav", "3d": ".npy"}   # assets/<item><suffix> in the C-MCR repository


@dataclass(frozen=True)
class PublishedMatrix:
    """One printed matrix: the space it comes from, which modality is A (rows) and B (columns), its values."""

    space: str                       # mcrsearch space name that reproduces the authors' model
    label: str                       # as the README prints it
    a: str                           # modality value of the rows
    b: str                           # modality value of the columns
    values: tuple[tuple[float, float, float], ...]
    source: str


_CMCR = "C-MCR README, Expected output (github.com/MCR-PEFT/C-MCR)"
_EXMCR = "Ex-MCR README, Expected output (github.com/MCR-PEFT/Ex-MCR)"

EXPECTED: tuple[PublishedMatrix, ...] = (
    PublishedMatrix("cmcr-clap-clip", "Vision x Text", "image", "text",
                    ((.9681, .0219, .0100), (.0403, .9398, .0199), (.0045, .0044, .9910)), _CMCR),
    PublishedMatrix("cmcr-clap-clip", "Audio x Text", "audio", "text",
                    ((.9937, .0028, .0035), (.0337, .9434, .0229), (.0813, .0253, .8934)), _CMCR),
    PublishedMatrix("cmcr-clap-clip", "Audio x Vision", "audio", "image",
                    ((.9712, .0079, .0208), (.0628, .8966, .0406), (.0322, .0062, .9616)), _CMCR),
    PublishedMatrix("cmcr-ulip-clip", "Vision x Text", "image", "text",
                    ((.7340, .1593, .1067), (.2001, .5995, .2005), (.1622, .1835, .6542)), _CMCR),
    PublishedMatrix("cmcr-ulip-clip", "3D x Vision", "3d", "image",
                    ((.6783, .1781, .1436), (.1193, .7866, .0941), (.1319, .2170, .6512)), _CMCR),
    PublishedMatrix("cmcr-ulip-clip", "3D x Text", "3d", "text",
                    ((.7448, .1236, .1316), (.2459, .5625, .1916), (.2007, .2648, .5346)), _CMCR),
    PublishedMatrix("exmcr", "Vision x Text", "image", "text",
                    ((.5737, .2242, .2021), (.2454, .4756, .2790), (.2541, .2530, .4929)), _EXMCR),
    PublishedMatrix("exmcr", "Audio x Text", "audio", "text",
                    ((.9115, .0369, .0516), (.1443, .7265, .1292), (.1000, .0960, .8040)), _EXMCR),
    PublishedMatrix("exmcr", "3D x Vision", "3d", "image",
                    ((.8635, .0850, .0515), (.0761, .9125, .0114), (.1239, .0781, .7980)), _EXMCR),
    PublishedMatrix("exmcr", "Audio x Vision", "audio", "image",
                    ((.9060, .0329, .0611), (.0743, .8742, .0515), (.0648, .0227, .9126)), _EXMCR),
    PublishedMatrix("exmcr", "3D x Text", "3d", "text",
                    ((.8052, .0909, .1039), (.2447, .6035, .1518), (.1757, .2094, .6149)), _EXMCR),
    PublishedMatrix("exmcr", "Audio x 3D", "audio", "3d",
                    ((.9860, .0038, .0102), (.0078, .9875, .0048), (.0204, .0021, .9775)), _EXMCR),
)

__all__ = ["ITEMS", "TEXTS", "SCALE", "PRINTED_DECIMALS", "ASSET_SUFFIX", "PublishedMatrix", "EXPECTED"]
