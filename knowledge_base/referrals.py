"""Referrals: what is not the property company's business, and where to go instead.

Kept as knowledge-base entries of category `referral` (knowledge_base/data/referrals.yaml),
so staff edit them like any FAQ entry; the NLU matches them by keyword (nlu/referral.py).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.yamlfile import load_yaml
from knowledge_base.demo import _FOLD_SPACE
from knowledge_base.repository import FaqRepository

REFERRAL = "referral"
REFERRALS_FILE = Path(__file__).resolve().parent / "data" / "referrals.yaml"


@cache
def referral_entries() -> tuple[dict[str, Any], ...]:
    """The shipped referral entries as plain dicts (the same shape as demo entries)."""
    data = load_yaml(REFERRALS_FILE)
    return tuple(
        {
            "id": item["id"],
            "category": REFERRAL,
            "question": item["question"],
            "similar_questions": list(item.get("similar_questions", [])),
            "keywords": [str(k) for k in item.get("keywords", [])],
            "answer": _FOLD_SPACE.sub("", item["answer"].strip()),
        }
        for item in data["referral"]
    )


def load_referrals_if_missing(sessions: sessionmaker[Session]) -> int:
    """Add the shipped referral entries the knowledge base lacks (edits are kept).

    Safe when several processes start at once: an entry another one just added is kept.
    """
    repository = FaqRepository(sessions)
    added = 0
    for entry in referral_entries():
        if repository.get(entry["id"]) is None:
            try:
                repository.save(**entry, updated_by="demo")
            except IntegrityError:
                continue  # added by another process meanwhile
            added += 1
    return added
