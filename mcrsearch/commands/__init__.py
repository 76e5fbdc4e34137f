"""CLI commands, one light module each: only typer/rich at import time, heavy work imported inside."""
