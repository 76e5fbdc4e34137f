"""Test helpers (no tests here): the tiny space and its corpus, media fixtures, dataset layouts, fuzzing."""
