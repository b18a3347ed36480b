"""Asking for a person (转人工) and rating the person afterwards (满意度).

The resident is always told what happens next and by when: within working
hours a person comes in minutes; outside them the request stays queued and the
text names the time agents are back. Working hours and holidays are the
community's the turn is served for (communities.context), else config.service and
config.handoff's; a frozen clock (tests, demos) comes from config.handoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from communities import context
from communities.directory import CommunityInfo
from core.config import Config
from core.db import utcnow
from handlers.base import BaseAction, route_args
from handlers.outcomes import CancelHandover, HandOver
from handlers.queue import HandoverQueue

WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class ServiceHours:
    """The service center's opening hours, in its own time zone."""

    config: Config
    community: CommunityInfo | None = None

    def __post_init__(self) -> None:
        if self.community is None:  # the community this turn is served for, if known
            object.__setattr__(self, "community", context.current())

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.config.service.timezone)

    def now(self) -> datetime:
        frozen = self.config.handoff.clock
        if frozen:
            return datetime.fromisoformat(frozen).astimezone(self.zone)
        return utcnow().astimezone(self.zone)

    def holidays(self) -> set[date]:
        listed = self.community.holidays if self.community else self.config.handoff.holidays
        days = (d.strip() for d in listed.split(","))
        return {date.fromisoformat(d) for d in days if d}

    def hours_on(self, day: date) -> tuple[time, time]:
        service = self.community or self.config.service
        weekend = day.weekday() >= 5 or day in self.holidays()
        spec = service.weekend_hours if weekend else service.weekday_hours
        start, end = (time.fromisoformat(part.strip()) for part in spec.split("-"))
        return start, end

    def is_open(self, at: datetime | None = None) -> bool:
        at = (at or self.now()).astimezone(self.zone)
        start, end = self.hours_on(at.date())
        return start <= at.time() < end

    def next_opening(self, at: datetime | None = None) -> datetime:
        """The next moment agents are at work (at itself if open now)."""
        at = (at or self.now()).astimezone(self.zone)
        for offset in range(0, 15):
            day = at.date() + timedelta(days=offset)
            start, end = self.hours_on(day)
            opening = datetime.combine(day, start, self.zone)
            closing = datetime.combine(day, end, self.zone)
            if at < closing:
                return max(opening, at)
        raise ValueError("no opening hours configured in the next two weeks")

    def describe(self, moment: datetime, now: datetime | None = None) -> str:
        """今天9:00 / 明天（周六）9:00 / 11月25日（周一）9:00."""
        now = (now or self.now()).astimezone(self.zone)
        moment = moment.astimezone(self.zone)
        clock = f"{moment.hour}:{moment.minute:02d}"
        weekday = f"周{WEEKDAYS[moment.weekday()]}"
        days = (moment.date() - now.date()).days
        if days == 0:
            return f"今天{clock}"
        if days == 1:
            return f"明天（{weekday}）{clock}"
        return f"{moment.month}月{moment.day}日（{weekday}）{clock}"


def waiting_text(action: BaseAction, openid: str) -> str:
    """Where the resident stands: place and wait from the agents online; out of hours the
    opening time and that the message is kept."""
    deps = action.deps
    hours = ServiceHours(deps.config)
    now = hours.now()
    if not hours.is_open(now):
        return deps.texts("handoff_off_hours", back=hours.describe(hours.next_opening(now), now))
    place = HandoverQueue(deps.sessions, deps.config.handoff.minutes_per_resident).place(openid)
    if place.agents_online:
        return deps.texts("handoff_queued", position=place.position,
                          agents=place.agents_online, minutes=place.minutes)
    return deps.texts("handoff_queued_busy", position=place.position)


class HumanAction(BaseAction):
    """转人工: say a person is coming, where the resident stands, and that the bot still helps."""

    action_name = "action_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[Any]:
        reason = str(route_args(tracker).get("reason") or "human")
        prefixes = self.deps.texts.raw("handoff_prefixes")
        text = prefixes.get(reason, prefixes["human"]) + waiting_text(self, tracker.sender_id)
        if tracker.active_loop:
            text += self.deps.texts("handoff_form_kept")
        dispatcher.utter_message(text=text)
        return [HandOver(reason)]


class WaitingStatusAction(BaseAction):
    """Asked for a person again while waiting (人呢, 还要多久): where the resident stands."""

    action_name = "action_waiting_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[Any]:
        dispatcher.utter_message(text=self.deps.texts("waiting_prefix")
                                 + waiting_text(self, tracker.sender_id))
        return []


class CancelHandoverAction(BaseAction):
    """取消人工 / 不用了 while waiting: leave the queue; the bot goes on helping."""

    action_name = "action_cancel_handover"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[Any]:
        self.say(dispatcher, "handoff_cancelled")
        return [CancelHandover()]
