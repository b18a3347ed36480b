"""Intent categories on fresh phrasing (tests/nlu/data/intent_categories.jsonl, never trained on).

Everyday questions with property words (卡, 费, 办证, 快递, 猫狗) are out of scope and get no
FAQ answer; wishes and proposals are suggestions; chronic nuisances are complaints;
dangers told without alarm words are emergencies. Tolerant floors: a guard against a
whole category slipping, not a score to tune on.
"""

from __future__ import annotations

from pathlib import Path

from nlu.engine import NluEngine
from nlu.evaluation import read_rows

ROWS = read_rows(Path(__file__).resolve().parent / "data" / "intent_categories.jsonl")


def test_most_fresh_messages_get_their_intent(engine: NluEngine) -> None:
    wrong = [(r.text, r.intent, d.intent) for r in ROWS
             if (d := engine.understand(r.text)).intent != r.intent]
    assert 1 - len(wrong) / len(ROWS) >= 0.85, wrong


def test_every_fresh_emergency_is_caught(engine: NluEngine) -> None:
    missed = [r.text for r in ROWS
              if r.intent == "emergency" and engine.understand(r.text).intent != "emergency"]
    assert not missed


def test_everyday_questions_get_no_faq_answer(engine: NluEngine) -> None:
    rows = [r for r in ROWS if r.intent == "out_of_scope"]
    answered = [(r.text, d.faq_id) for r in rows if (d := engine.understand(r.text)).faq_id]
    assert 1 - len(answered) / len(rows) >= 0.90, answered
