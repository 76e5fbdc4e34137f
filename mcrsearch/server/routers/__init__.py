"""The API's routes, one router per resource; `mcrsearch.server.app.create_app` includes them all."""
