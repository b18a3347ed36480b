"""Our own held-out messages (tests/nlu/data/dev.jsonl, never trained on) meet the same floors."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.engine import NluEngine
from nlu.evaluation import evaluate, read_rows
from tests.nlu.test_sample_floors import FLOORS

DEV = Path(__file__).resolve().parent / "data" / "dev.jsonl"
UNCOVERED = Path(__file__).resolve().parent / "data" / "uncovered.txt"


@pytest.fixture(scope="module")
def headline(engine: NluEngine) -> dict[str, float]:
    return evaluate(engine.understand, read_rows(DEV)).headline()


@pytest.mark.parametrize("metric", sorted(FLOORS))
def test_dev_floor_is_met(headline: dict[str, float], metric: str) -> None:
    assert headline[metric] >= FLOORS[metric], f"{metric} = {headline[metric]:.3f}"


def test_uncovered_property_questions_mostly_get_no_answer(engine: NluEngine) -> None:
    """Questions near a topic but not answered by it (健身房有教练吗): hand over, don't guess.

    A deliberately hard list (same nouns as a topic, another question); 0.73 measured.
    """
    questions = UNCOVERED.read_text(encoding="utf-8").split("\n")
    questions = [q.strip() for q in questions if q.strip()]
    answered = [q for q in questions if engine.understand(q).faq_id is not None]
    assert 1 - len(answered) / len(questions) >= 0.7, answered


def test_held_out_sets_are_not_in_the_training_data() -> None:
    from nlu.dataset import training_examples

    trained = {e.text for e in training_examples()}
    assert not [row.text for row in read_rows(DEV) if row.text in trained]
    assert not [q for q in UNCOVERED.read_text(encoding="utf-8").split("\n") if q in trained]
