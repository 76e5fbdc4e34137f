"""The page's script: its pure helpers pass their `node --test` unit tests, and it holds no copy of the
server's vocabularies (extensions, k's bound, job states come from /api/constants)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mcrsearch.modality import AUDIO_EXTENSIONS, IMAGE_EXTENSIONS, MESH_EXTENSIONS, POINT_EXTENSIONS
from mcrsearch.server.jobs import ACTIVE, FINISHED
from mcrsearch.server.routers.search import DEFAULT_K, MAX_K

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "mcrsearch" / "server" / "static"


def test_pure_helpers_pass_their_node_unit_tests():
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is missing in CI (.ci/run installs Debian's nodejs)")
        pytest.skip("node is not installed (apt-get install nodejs)")
    done = subprocess.run([node, "--test", "tests/js/"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert re.search(r"^# pass [1-9]", done.stdout, re.M) and re.search(r"^# fail 0$", done.stdout, re.M)


def test_the_page_script_copies_no_server_vocabulary():
    scripts = {p.name: p.read_text() for p in STATIC.glob("*.js")}
    assert "api.js" in scripts and "app.js" in scripts
    for name, text in scripts.items():
        found = sorted(set(re.findall(r"[\"']\.(?:wav|m4a|jpg|png|obj|ply|npy|txt)[\"']", text)))
        assert not found, f"{name} spells extensions itself: {found}"
        assert not re.search(r"\b200\b", text), f"{name} spells the largest k itself"
        assert not re.search(r"[\"']cancelled[\"']", text), f"{name} spells the job states itself"
    calls = [n for n, text in scripts.items() if n != "api.js" and re.search(r"\bfetch\(|/api/", text)]
    assert not calls, f"only api.js talks to the server: {calls}"


def test_constants_endpoint_serves_the_python_constants(tmp_path):
    from mcrsearch.api import Client
    from mcrsearch.config import load_settings
    from mcrsearch.server.app import create_app

    client = Client(settings=load_settings(home=tmp_path / "home", device="cpu", space="tiny"))
    try:
        app = create_app(client)
        http = TestClient(app, headers={"Authorization": f"Bearer {app.state.token}"})
        answer = http.get("/api/constants").json()
    finally:
        client.close()
    assert set(answer["extensions"]["audio"]) == AUDIO_EXTENSIONS
    assert {".m4a", ".aac", ".opus", ".wma", ".aif", ".aiff"} <= set(answer["extensions"]["audio"])
    assert set(answer["extensions"]["image"]) == IMAGE_EXTENSIONS
    assert set(answer["extensions"]["points"]) == MESH_EXTENSIONS | POINT_EXTENSIONS
    assert (answer["max_k"], answer["default_k"]) == (MAX_K, DEFAULT_K)
    assert answer["job_states"] == {"active": list(ACTIVE), "finished": list(FINISHED)}
    assert "3d" in answer["modalities"]
