"""The demo knowledge base of 翠湖花园, loaded into an empty database on first start."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.yamlfile import load_yaml
from knowledge_base.repository import FaqRepository

DEMO_FILE = Path(__file__).resolve().parent / "data" / "demo_faq.yaml"
# YAML folding turns line breaks into spaces; Chinese text wants none between characters.
_FOLD_SPACE = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")


@cache
def demo_entries() -> tuple[dict[str, Any], ...]:
    """The demo entries as plain dicts, read once from the data file."""
    data = load_yaml(DEMO_FILE)
    entries = []
    for item in data["faq"]:
        entries.append(
            {
                "id": item["id"],
                "category": item.get("category", "general"),
                "question": item["question"],
                "similar_questions": list(item.get("similar_questions", [])),
                "keywords": list(item.get("keywords", [])),
                "answer": _FOLD_SPACE.sub("", item["answer"].strip()),
            }
        )
    return tuple(entries)


def load_demo_if_empty(sessions: sessionmaker[Session]) -> int:
    """Fill an empty knowledge base with the demo entries; return how many were added."""
    repository = FaqRepository(sessions)
    if repository.count() > 0:
        return 0
    for entry in demo_entries():
        repository.save(**entry, updated_by="demo")
    return len(demo_entries())
