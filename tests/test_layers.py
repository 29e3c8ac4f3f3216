"""Each layer imports only the layers below it (docs/architecture.md): the flow language
nothing of Parley, the engine no chat, channel or web code and no Flask or SQL, the chat
layer no channel or web code, the channels no web code. Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "dsl": {"engine", "chat", "channels", "web", "flowtest", "server", "serving", "cli"},
    "engine": {"chat", "channels", "web", "flowtest", "server", "flask", "sqlalchemy"},
    "chat": {"channels", "web", "flowtest", "server", "flask"},
    "channels": {"web", "flowtest", "server", "flask"},
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.partition(".")[0])
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_of_the_layers_above_it(layer: str) -> None:
    modules = sorted((ROOT / layer).rglob("*.py"))
    assert modules
    wrong = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[layer]) for path in modules
    }
    assert {module: names for module, names in wrong.items() if names} == {}
