"""The one intent → action table covers the whole taxonomy, and nothing else."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers.intents import INTENT_ACTIONS

TAXONOMY = Path(__file__).resolve().parents[3] / "shared" / "spec" / "intents.yaml"


def test_every_intent_of_the_taxonomy_has_an_action(services: Any) -> None:
    if not TAXONOMY.exists():
        pytest.skip(f"the shared taxonomy is not beside this checkout: {TAXONOMY}")
    intents = list(yaml.safe_load(TAXONOMY.read_text(encoding="utf-8"))["intents"])
    assert set(INTENT_ACTIONS) == set(intents)
    for intent in intents:
        assert services.registry.for_intent(intent).name() == INTENT_ACTIONS[intent]


def _imports(path: Path, root: Path) -> set[str]:
    """The handlers.* modules a module imports (at any level)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and \
                node.module.startswith("handlers"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("handlers")}
    return found


def test_handlers_have_no_import_cycle() -> None:
    root = Path(__file__).resolve().parents[2]
    modules = {".".join(p.relative_to(root).with_suffix("").parts): p
               for p in (root / "handlers").rglob("*.py")}
    modules = {name.removesuffix(".__init__"): path for name, path in modules.items()}
    graph = {name: {m for m in _imports(path, root) if m in modules}
             for name, path in modules.items()}
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 1:
            raise AssertionError("import cycle: " + " → ".join([*trail, name]))
        if state.get(name) == 2:
            return
        state[name] = 1
        for target in sorted(graph[name]):
            visit(target, [*trail, name])
        state[name] = 2

    for name in sorted(graph):
        visit(name, [])
