"""Any-to-any queries against an indexed collection: a sound finds 3D objects, text + image fused, more-like-this.

    python examples/query_across_modalities.py --audio dog.wav --target 3d
    python examples/query_across_modalities.py --text "a wooden chair" --image chair.jpg --target any
    python examples/query_across_modalities.py --like ~/media/photos/cat.jpg --target audio
"""

from __future__ import annotations

import argparse

import mcrsearch

parser = argparse.ArgumentParser()
parser.add_argument("--audio")
parser.add_argument("--image")
parser.add_argument("--text")
parser.add_argument("--points", help="a mesh or point-cloud file")
parser.add_argument("--like", help="an already indexed file")
parser.add_argument("--target", default="any", help="image, audio, text, 3d or any")
parser.add_argument("-k", type=int, default=5)
args = parser.parse_args()

with mcrsearch.Client() as client:
    hits = client.query(audio=args.audio, image=args.image, text=args.text, points=args.points,
                        like=args.like, target=args.target, k=args.k,
                        weights={"text": 1.0, "image": 1.0})
    for rank, hit in enumerate(hits, 1):
        # score: calibrated (comparable across modalities); cosine: the raw similarity
        print(f"{rank:2d}. {hit.score:6.2f}  {hit.cosine:.3f}  {hit.modality:5s}  {hit.path}  {hit.details}")
