"""Our own held-out messages (tests/nlu/data/dev.jsonl, never trained on) meet the same floors."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.engine import NluEngine
from nlu.evaluation import evaluate, read_rows
from tests.nlu.test_sample_floors import FLOORS

DEV = Path(__file__).resolve().parent / "data" / "dev.jsonl"


@pytest.fixture(scope="module")
def headline(engine: NluEngine) -> dict[str, float]:
    return evaluate(engine.understand, read_rows(DEV)).headline()


@pytest.mark.parametrize("metric", sorted(FLOORS))
def test_dev_floor_is_met(headline: dict[str, float], metric: str) -> None:
    assert headline[metric] >= FLOORS[metric], f"{metric} = {headline[metric]:.3f}"


def test_dev_set_is_not_in_the_training_data() -> None:
    from nlu.dataset import training_examples

    trained = {e.text for e in training_examples()}
    assert not [row.text for row in read_rows(DEV) if row.text in trained]
