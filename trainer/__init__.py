"""Open implementation of C-MCR and Ex-MCR training on cached, frozen MCR embeddings.

`mcrsearch` never imports this package; only `mcrsearch train` (lazily) and the demo do.
"""
