"""Our own held-out messages meet the same floors as the sample; none is trained on.

dev.jsonl was written by the NLU's authors; holdout_a..e.jsonl by separate sessions
from the spec alone, blind to the training data. a, c, d and e were then used to find
what the NLU missed (so they are regression guards); b was never looked at line by
line, so `wuye nlu eval tests/nlu/data/holdout_b.jsonl` is the honest estimate. e (older
residents and busy parents typing by voice) is the hardest: its share of unanswerable
lines not answered is below the floor (0.82; a known gap, marked as such below).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.engine import NluEngine
from nlu.evaluation import evaluate, read_rows
from tests.nlu.test_sample_floors import FLOORS

DATA = Path(__file__).resolve().parent / "data"
DEV = DATA / "dev.jsonl"
HELD_OUT = [DEV, *(DATA / f"holdout_{name}.jsonl" for name in "abcde")]
# Floors a set does not meet yet: (set, metric) -> the figure measured when it was added.
KNOWN_GAPS = {("holdout_e.jsonl", "unanswerable_not_answered"): 0.82}
UNCOVERED = DATA / "uncovered.txt"


@pytest.fixture(scope="module")
def headlines(engine: NluEngine) -> dict[str, dict[str, float]]:
    return {path.name: evaluate(engine.understand, read_rows(path)).headline()
            for path in HELD_OUT}


@pytest.mark.parametrize("metric", sorted(FLOORS))
@pytest.mark.parametrize("name", [path.name for path in HELD_OUT])
def test_held_out_floor_is_met(
    headlines: dict[str, dict[str, float]], name: str, metric: str
) -> None:
    value = headlines[name][metric]
    measured = KNOWN_GAPS.get((name, metric))
    if measured is not None and value < FLOORS[metric]:
        # Not met yet: hold the ground gained (a drop fails) until the floor is reached.
        assert value >= measured - 0.005, f"{name}: {metric} = {value:.3f}, was {measured}"
        pytest.xfail(f"{name}: {metric} = {value:.3f}, below the floor {FLOORS[metric]}")
    assert value >= FLOORS[metric], f"{name}: {metric} = {value:.3f}"


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
    assert not [row.text for path in HELD_OUT for row in read_rows(path) if row.text in trained]
    assert not [q for q in UNCOVERED.read_text(encoding="utf-8").split("\n") if q in trained]
