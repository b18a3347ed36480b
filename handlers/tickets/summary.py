"""What a form reads back: the summary before submitting and the question still open."""

from __future__ import annotations

from typing import Any

from handlers.texts import Texts
from handlers.tickets.forms import FormSpec
from handlers.tickets.rooms import mask_phone, mask_phones, parse_room


def summary_value(slot: str, value: Any) -> str:
    """How a slot reads back to the resident: phones masked (in free text too), photos
    counted, yes/no in words."""
    if slot == "phone":
        return mask_phone(str(value)) if value else ""
    if slot == "photos":
        return f"{len(value)}张" if value else ""
    if slot == "callback":
        return "需要" if value else "不需要" if value is not None else ""
    if slot == "room" and value:
        room = parse_room(str(value))
        return room.display if room else str(value)
    return mask_phones(str(value)) if value else ""


def render_summary(texts: Texts, spec: FormSpec, slots: dict[str, Any]) -> str:
    lines = []
    for slot in spec.summary:
        value = summary_value(slot, slots.get(slot))
        if value:
            lines.append(texts("summary_line", label=texts(f"label_{slot}"), value=value))
    return "\n".join(lines)


def question_again(texts: Texts, spec: FormSpec, slots: dict[str, Any],
                   requested: str | None) -> list[str]:
    """The open question once more: the summary to confirm, or the slot's question."""
    if requested == "confirm":
        return [render_summary(texts, spec, slots), texts("summary_outro")]
    return [texts(f"ask_{spec.name}_{requested}")] if requested else []
