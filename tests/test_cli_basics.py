import subprocess
import sys
from pathlib import Path

import pytest

from mcrsearch.cli import main
from mcrsearch.config import load_settings
from mcrsearch.modality import _BY_EXTENSION, Modality, detect_modality


def test_help_does_not_import_torch():
    code = "import sys; from mcrsearch.cli import app; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_help_exits_zero(capsys):
    assert main(["--help"]) == 0
    assert "index" in capsys.readouterr().out


def test_unknown_command_is_usage_error():
    assert main(["no-such-command"]) == 2


def test_modality_detection():
    assert detect_modality("a/b.JPG") is Modality.IMAGE
    assert detect_modality("x.wav") is Modality.AUDIO
    assert detect_modality("x.glb") is Modality.POINTS
    assert detect_modality("x.txt") is Modality.TEXT
    assert detect_modality("x.docx") is None
    assert Modality.parse("3d") is Modality.POINTS


@pytest.mark.parametrize("name", ["a/b.png", "x/..png", ".png", "dir/.hidden.jpg", "trailing.", "a.tar.gz",
                                  "a.b.wav", "dir.d/noext", "UP.OBJ", "é.txt"])
def test_modality_detection_takes_the_suffix_as_pathlib_does(name):
    assert detect_modality(name) is _BY_EXTENSION.get(Path(name).suffix.lower())
    assert detect_modality(Path(name)) is detect_modality(name)


def test_settings_layering(tmp_path, monkeypatch):
    (tmp_path / "config.toml").write_text('device = "cpu"\ncollection = "fromfile"\nbatch_size = 7\n')
    monkeypatch.setenv("MCRSEARCH_HOME", str(tmp_path))
    monkeypatch.setenv("MCRSEARCH_COLLECTION", "fromenv")
    s = load_settings(batch_size=9)
    assert s.device == "cpu" and s.collection == "fromenv" and s.batch_size == 9
    assert s.weights_dir == tmp_path / "weights"
