"""`mcrsearch serve`: the JSON API, the web page and the helpers that draw results (thumbnails, 3D geometry)."""
