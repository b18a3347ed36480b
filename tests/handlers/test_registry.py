"""The one intent → action table covers the whole taxonomy, and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers.registry import INTENT_ACTIONS

TAXONOMY = Path(__file__).resolve().parents[3] / "shared" / "spec" / "intents.yaml"


def test_every_intent_of_the_taxonomy_has_an_action(services: Any) -> None:
    if not TAXONOMY.exists():
        pytest.skip(f"the shared taxonomy is not beside this checkout: {TAXONOMY}")
    intents = list(yaml.safe_load(TAXONOMY.read_text(encoding="utf-8"))["intents"])
    assert set(INTENT_ACTIONS) == set(intents)
    for intent in intents:
        assert services.registry.for_intent(intent).name() == INTENT_ACTIONS[intent]
