"""`mcrsearch serve` as a process, and the CLI finding it: discovery (the CLI uses a running server, falls
back when its record is stale), the server owning the store, its writes outliving it. That each operation
answers as the direct path does is tests/test_congruence.py's job, in process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import corpus as H
from mcrsearch.cli import main
from mcrsearch.config import load_settings

TESTS = Path(__file__).parent


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture()
def served(tmp_path, capsys):
    home = tmp_path / "home"
    H.write_corpus(tmp_path / "corpus", per_class=2)
    query = H.write_item(tmp_path / "q", "audio", 1, 40)
    assert _run(capsys, "--home", str(home), "index", str(tmp_path / "corpus"), "--space", "tiny", "--json")[0] == 0
    direct = _run(capsys, "--home", str(home), "query", "--audio", str(query), "--target", "3d", "-k", "3", "--json")
    env = {**os.environ, "MCRSEARCH_HOME": str(home), "PYTHONPATH": os.pathsep.join([str(TESTS), os.getcwd()])}
    code = ("import sys; from helpers.corpus import register_tiny; register_tiny(); from mcrsearch.cli import main; "
            "sys.exit(main(['serve', '--port', '0']))")      # the server picks a free port and records it
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    settings = load_settings(home=home)
    from mcrsearch.server.discovery import discovery_file, find_server

    deadline = time.time() + 180          # a loaded 2-core machine starts Python and torch slowly
    while find_server(settings) is None:
        assert proc.poll() is None, proc.stdout.read().decode()
        assert time.time() < deadline, "the server did not come up"
        time.sleep(0.2)
    yield tmp_path, home, query, direct, proc, discovery_file(settings)
    if proc.poll() is None:
        proc.terminate()
        proc.wait(10)


def test_cli_talks_to_a_running_server_and_falls_back_when_it_dies(served, capsys, tmp_path):
    root, home, query, direct, proc, record = served
    assert direct[0] == 0
    via_server = _run(capsys, "--home", str(home), "query", "--audio", str(query), "--target", "3d", "-k", "3",
                      "--json")
    assert via_server[0] == 0 and json.loads(via_server[1]) == json.loads(direct[1])

    # the server owns the store: the direct path is refused with one sentence, not a traceback
    code, _, err = _run(capsys, "--home", str(home), "query", "--text", "red", "--no-server", "--json")
    assert code == 5 and "in use by another mcrsearch process" in err

    # indexing goes through the server's job queue (found by discovery)
    H.write_corpus(root / "more", per_class=1)
    code, out, _ = _run(capsys, "--home", str(home), "index", str(root / "more"), "--json")
    assert code == 0 and json.loads(out) == {"indexed": 12, "unchanged": 0, "removed": 0, "failed": []}
    assert json.loads(_run(capsys, "--home", str(home), "info", "--json")[1])["total"] == 36

    served_after = _run(capsys, "--home", str(home), "query", "--audio", str(query), "--target", "3d", "-k", "3",
                        "--json")

    # a killed server leaves a stale record: ignored (and removed); the direct path answers again, from the
    # same collection (the server's writes are durable)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert record.exists()
    again = _run(capsys, "--home", str(home), "query", "--audio", str(query), "--target", "3d", "-k", "3", "--json")
    assert again[0] == 0 and json.loads(again[1]) == json.loads(served_after[1])
    assert not record.exists()


def test_second_server_is_refused_and_a_stopped_server_leaves_no_record(served, capsys):
    _, home, _, _, proc, record = served
    code, _, err = _run(capsys, "--home", str(home), "serve", "--port", "0")
    assert code == 2 and "already served at" in err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        code, _, err = _run(capsys, "--home", str(home), "serve", "--collection", "other", "--port",
                            str(taken.getsockname()[1]))
    assert code == 2 and "Address already in use" in err
    assert proc.poll() is None and record.exists()
    proc.terminate()                      # SIGTERM: a graceful stop removes its record
    proc.wait(30)
    assert not record.exists()


def test_listening_socket_answers_without_delayed_ack_stalls():
    from mcrsearch.commands.serve_cmd import bind_socket

    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        sock.close()
