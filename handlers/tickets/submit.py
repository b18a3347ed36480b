"""Submit actions: turn a confirmed form into a ticket and tell the resident what happens next."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from handlers.base import BaseAction
from handlers.deps import HandlerDeps
from handlers.tickets import switch
from handlers.tickets.loop import clear_form
from handlers.tickets.rooms import parse_room
from handlers.tickets.service import NewTicket
from handlers.tickets.views import TicketView, duration_text, local_time

Slots = dict[str, Any]


def _repair(slots: Slots) -> tuple[str, str, Slots]:
    problem, location = slots.get("problem") or "", slots.get("location") or ""
    fields = {k: slots.get(k) for k in ("problem", "location", "location_kind", "visit_time",
                                        "also_complaint")}
    return f"{location}：{problem}" if location else problem, f"{problem} {location}", fields


def _complaint(slots: Slots) -> tuple[str, str, Slots]:
    details = slots.get("details") or ""
    fields = {k: slots.get(k) for k in ("subject", "details", "callback")}
    return f"{slots.get('subject') or '投诉'}：{details}", details, fields


def _suggestion(slots: Slots) -> tuple[str, str, Slots]:
    content = slots.get("content") or ""
    return content, content, {"content": content}


def _service(slots: Slots) -> tuple[str, str, Slots]:
    service, when = slots.get("service") or "", slots.get("when") or ""
    return f"{service}（{when}）", service, {"service": service, "when": when}


class SubmitTicketAction(BaseAction):
    """Creates the ticket once per form (the form id is the dedupe key), then clears the form."""

    BUILDERS = {"repair": _repair, "complaint": _complaint, "suggestion": _suggestion,
                "service_request": _service}

    def __init__(self, deps: HandlerDeps, name: str, form: str, ticket_type: str) -> None:
        super().__init__(deps)
        self.action_name = name
        self.form = form
        self.ticket_type = ticket_type

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        slots = dict(tracker.slots)
        summary, text, fields = self.BUILDERS[self.ticket_type](slots)
        form_id = slots.get("form_id")
        new = NewTicket(
            type=self.ticket_type, openid=tracker.sender_id, text=text, summary=summary,
            room=parse_room(str(slots.get("room") or "")), phone=str(slots.get("phone") or ""),
            fields=fields, photos=list(slots.get("photos") or []),
            wants_callback=bool(slots.get("callback") or slots.get("also_complaint")),
            dedupe_key=f"{self.form}:{form_id}" if form_id else None,
        )
        view = self.deps.tickets.create(new)
        text = created_text(self.deps, view)
        parked = slots.get("parked_forms") or []
        if parked:  # a form kept for later is not forgotten
            name = self.deps.texts(f"form_name_{parked[-1]['loop']}")
            text += "\n" + self.deps.texts("parked_reminder", current=name)
        later = switch.after_submit(slots)
        if later:
            text += "\n" + self.deps.texts("switch_now_next")
        dispatcher.utter_message(text=text)
        return clear_form() + later


def created_text(deps: HandlerDeps, view: TicketView) -> str:
    service = deps.tickets
    minutes = service.rules.response_minutes(view.type, view.priority)
    key = "ticket_created_complaint" if view.type == "complaint" else "ticket_created"
    return deps.texts(
        key, type_name=service.life.type_name(view.type), number=view.number,
        department=view.department, response=duration_text(minutes),
        done=local_time(view.resolve_due, deps.config.service.timezone),
    )
