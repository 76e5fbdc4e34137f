"""The layering rules of DESIGN.md, checked by import-linter (contracts in pyproject.toml), and the
plug-ins (entry points) that let the engine build what sits above it without importing it."""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import pytest

from mcrsearch import plugins

ROOT = Path(__file__).resolve().parents[1]
if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_import_contracts_hold(monkeypatch):
    # import-linter is in the `test` extra: its absence is a broken install, never a skipped check
    from importlinter import cli

    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    assert cli.lint_imports(config_filename=os.fspath(ROOT / "pyproject.toml")) == 0, \
        "an import breaks a layering contract; run `lint-imports` for the chain"


@pytest.mark.parametrize("group", plugins.GROUPS)
def test_every_declared_plugin_loads_from_outside_the_engine_code_that_finds_it(group):
    declared = PYPROJECT["project"]["entry-points"][group]
    assert declared and plugins.targets(group).items() >= declared.items(), "installed metadata is stale"
    for name, target in declared.items():
        assert callable(plugins.load(target)), f"{group} {name}: {target} is not callable"
    # the package reaches a plug-in only by name: no module outside the plug-in's own package names its module
    for target in declared.values():
        plugin = target.partition(":")[0]
        home = plugin.rsplit(".", 1)[0] if plugin.count(".") > 1 else plugin
        for path in (ROOT / "mcrsearch").rglob("*.py"):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            if module == home or module.startswith(home + "."):
                continue
            strings = [n.value for n in ast.walk(ast.parse(path.read_text()))
                       if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            assert not any(plugin in s for s in strings), \
                f"{module} names the plug-in module {plugin}; declare it as an entry point instead"


def test_source_tree_declaration_is_what_a_stale_editable_install_falls_back_to():
    for group in plugins.GROUPS:
        assert plugins._own_declared(group) == PYPROJECT["project"]["entry-points"][group]
