"""`mcrsearch serve`: one long-lived process that owns a collection, keeps its encoders warm and answers
a JSON API and a web page. Everything goes through `mcrsearch.Client`; the CLI finds a running server
through a small file in the home (see discovery) and talks to it instead of opening the store.
"""
