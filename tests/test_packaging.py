"""Packaging: every package folder is declared, and a wheel built from the repo installs into a fresh venv
with collision-free import names (`mcrsearch`, `mcrsearch_indexer`, `mcrsearch_trainer`) and imports everything."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _declared() -> tuple[list[str], dict[str, str]]:
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return setup["packages"], setup.get("package-dir", {})


def test_every_package_folder_is_declared():
    packages, dirs = _declared()
    folders = {name: folder for name, folder in dirs.items()}
    found = set()
    for top in ("mcrsearch", "indexer", "trainer"):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT).parts
            name = next((n for n, f in folders.items() if f == rel[0]), rel[0])
            found.add(".".join((name, *rel[1:])))
    assert found == set(packages)
    assert not {"indexer", "trainer"} & {p.split(".")[0] for p in packages}, "no generic top-level names"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    return next(out.glob("mcrsearch-*.whl"))


@pytest.fixture(scope="module")
def fresh_venv(wheel, tmp_path_factory) -> Path:
    """A new venv holding only the wheel; the dependencies come from this environment's site-packages,
    added by a .pth file after the venv's own (so the wheel's modules, not the source tree, are imported)."""
    root = tmp_path_factory.mktemp("venv")
    venv.create(root, with_pip=True)
    python = root / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def test_wheel_holds_the_page_and_no_generic_top_level_names(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert tops == {"mcrsearch", "mcrsearch_indexer", "mcrsearch_trainer"}
    assert {"mcrsearch/server/static/index.html", "mcrsearch/server/static/vendor/viewer-three.js"} <= set(names)


def test_wheel_in_a_fresh_venv_imports_everything(fresh_venv, tmp_path):
    code = ("import importlib, pkgutil\n"
            "for top in ('mcrsearch', 'mcrsearch_indexer', 'mcrsearch_trainer'):\n"
            "    pkg = importlib.import_module(top)\n"
            "    assert 'site-packages' in pkg.__file__, pkg.__file__\n"
            "    for m in pkgutil.walk_packages(pkg.__path__, top + '.'):\n"
            "        importlib.import_module(m.name)\n"
            "print('ok')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(fresh_venv), "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_runs_the_small_demo(fresh_venv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(fresh_venv), "-m", "mcrsearch.cli", "--home", str(tmp_path / "home"), "--device", "cpu",
                           "demo", "--scale", "small", "--json"], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"audio->3d"' in done.stdout
