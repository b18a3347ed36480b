"""What changed between two saved states of an FAQ entry, field by field."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

# Field → label admins read on the history page.
LABELS = {"question": "标准问题", "similar_questions": "相似问题", "answer": "答案",
          "category": "分类", "keywords": "关键词", "enabled": "启用",
          "valid_from": "生效时间", "valid_until": "失效时间", "community_id": "小区"}


@dataclass(frozen=True)
class FieldChange:
    """One changed field: its old and new text and the character-level edit between."""

    field: str
    label: str
    old: str
    new: str
    # ("equal"|"delete"|"insert", text) pieces, for <del>/<ins> rendering
    pieces: list[tuple[str, str]]


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else str(value)


def pieces(old: str, new: str) -> list[tuple[str, str]]:
    """Character diff: Chinese text has no spaces, so words are no unit to diff by."""
    out: list[tuple[str, str]] = []
    for op, a1, a2, b1, b2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("equal", old[a1:a2]))
            continue
        if a2 > a1:
            out.append(("delete", old[a1:a2]))
        if b2 > b1:
            out.append(("insert", new[b1:b2]))
    return out


def diff(old: dict[str, Any] | None, new: dict[str, Any]) -> list[FieldChange]:
    """Changed fields from `old` to `new` (every filled field when `old` is None)."""
    changes = []
    for name, label in LABELS.items():
        before = _text((old or {}).get(name))
        after = _text(new.get(name))
        if before != after:
            changes.append(FieldChange(name, label, before, after, pieces(before, after)))
    return changes
