"""ARCHITECTURE.md's import rules, checked on the source: data flows one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"mykey", "cardio", "terminal", "sync", "ui", "server_stub"}

#: package -> the modules of ours it may import (prefix match on the dotted name)
ALLOWED: dict[str, tuple[str, ...]] = {
    "cardio": ("cardio",),
    "terminal": ("terminal", "cardio", "sync.protocol"),
    "sync": ("sync",),
    "ui": ("ui", "terminal", "sync", "cardio.monitor", "cardio.secrets"),
    "server_stub": ("server_stub", "sync.protocol", "cardio.auth"),
}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_architecture_allows(package: str) -> None:
    offences = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in _imports(path):
            if name.split(".")[0] not in OURS:
                continue
            if not any(name == ok or name.startswith(ok + ".") for ok in ALLOWED[package]):
                offences.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offences == []
