"""Index a folder of images, audio, text and 3D files into the embedded collection, then show what it holds.

    python examples/index_folder.py ~/media --space exmcr
Re-running it only embeds new or changed files; deleted files leave the collection.
"""

from __future__ import annotations

import argparse

import mcrsearch

parser = argparse.ArgumentParser()
parser.add_argument("folder")
parser.add_argument("--space", default=None, help="space name (default: settings, 'auto')")
parser.add_argument("--collection", default=None)
args = parser.parse_args()

settings = mcrsearch.load_settings(collection=args.collection)
with mcrsearch.Client(settings=settings) as client:
    report = client.index(args.folder, space=args.space)
    print(report.to_dict())
    info = client.info()
    print(f"{info['collection']}: {info['total']} items {info['counts']}, {info['storage_bytes'] / 2**20:.1f} MB")
