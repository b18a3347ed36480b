"""The floors the issue sets, on the labelled sample (never trained on), ahead of the baseline."""

from __future__ import annotations

import json

import pytest

from nlu.baseline import Baseline
from nlu.engine import NluEngine
from nlu.evaluation import evaluate, read_rows
from tests.nlu.conftest import SAMPLE

FLOORS = {
    "accuracy": 0.95,
    "faq_top1": 0.90,
    "emergency_recall": 1.00,
    "unanswerable_not_answered": 0.90,
}


@pytest.fixture(scope="module")
def reports(engine: NluEngine, baseline: Baseline) -> tuple[dict[str, float], dict[str, float]]:
    if not SAMPLE.is_file():
        pytest.skip(f"labelled sample not found at {SAMPLE} (shared/ is not beside the repo)")
    rows = read_rows(SAMPLE)
    ours = evaluate(engine.understand, rows).headline()
    return ours, evaluate(baseline.understand, rows).headline()


@pytest.mark.parametrize("metric", sorted(FLOORS))
def test_floor_is_met(reports: tuple[dict[str, float], dict[str, float]], metric: str) -> None:
    ours, _ = reports
    assert ours[metric] >= FLOORS[metric], f"{metric} = {ours[metric]:.3f}"


@pytest.mark.parametrize("metric", sorted(FLOORS))
def test_ahead_of_baseline(reports: tuple[dict[str, float], dict[str, float]], metric: str) -> None:
    ours, base = reports
    # A perfect score cannot be beaten; matching it is the most one can do.
    assert ours[metric] > base[metric] or ours[metric] == base[metric] == 1.0, (
        f"{metric}: ours {ours[metric]:.3f} vs baseline {base[metric]:.3f}"
    )


def test_every_annotated_entity_of_the_sample_is_found() -> None:
    if not SAMPLE.is_file():
        pytest.skip(f"labelled sample not found at {SAMPLE}")
    from nlu.entities import extract

    missing = []
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        found = {(e.type, e.value) for e in extract(row["text"])}
        missing += [(kind, value) for kind, value in row["entities"].items()
                    if (kind, value) not in found]
    assert not missing
