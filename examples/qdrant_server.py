"""Use a Qdrant server or cluster instead of the embedded engine: same API, URL + API key.

    docker run -p 6333:6333 qdrant/qdrant           # or a Qdrant Cloud cluster
    python examples/qdrant_server.py http://localhost:6333 ~/media --api-key KEY --shards 2 --replicas 1
"""

from __future__ import annotations

import argparse

import mcrsearch

parser = argparse.ArgumentParser()
parser.add_argument("url")
parser.add_argument("folder")
parser.add_argument("--api-key", default=None)
parser.add_argument("--collection", default="media")
parser.add_argument("--space", default=None)
parser.add_argument("--shards", type=int, default=None, help="shard_number for a new collection")
parser.add_argument("--replicas", type=int, default=None, help="replication_factor for a new collection")
args = parser.parse_args()

settings = mcrsearch.load_settings(qdrant_url=args.url, qdrant_api_key=args.api_key, collection=args.collection,
                                   shard_number=args.shards, replication_factor=args.replicas)
with mcrsearch.Client(settings=settings) as client:
    print(client.index(args.folder, space=args.space).to_dict())
    print(client.info())
    first = next(iter(client.scroll(limit=1)), None)
    if first is not None:
        for hit in client.query(like=first.id, target="any", k=5):
            print(f"{hit.score:6.2f}  {hit.modality:5s}  {hit.path}")
