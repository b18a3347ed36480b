"""Asking for a person (转人工) and rating the person afterwards (满意度).

The resident is always told what happens next and by when: within working
hours a person comes in minutes; outside them the request stays queued and the
text names the time agents are back. Working hours and holidays are the
community's the turn is served for (communities.context), else config.service and
config.handoff's; a frozen clock (tests, demos) comes from config.handoff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from communities import context
from communities.directory import CommunityInfo
from core.config import Config
from core.db import transaction, utcnow
from core.models.console import ConversationRating
from desk import callbacks
from handlers.base import BaseAction

WEEKDAYS = "一二三四五六日"
# Words first, longest first: "不满意" contains "满意".
RATING_WORDS = (("非常不满意", 1), ("很不满意", 1), ("不满意", 1), ("不太满意", 2),
                ("一般", 3), ("还行", 3), ("比较满意", 4), ("非常满意", 5), ("很满意", 5),
                ("满意", 5))
_RATING_DIGIT = re.compile(r"^\s*([1-5])\s*(?:分|星)?\s*[。.!！]?\s*$")
_FULLWIDTH = str.maketrans("１２３４５", "12345")
MAX_RATING_CHARS = 30
SATISFIED_MIN_SCORE = 4


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


def parse_rating(text: str) -> int | None:
    """1-5 from a digit or 满意/一般/不满意; None when the text is not a rating."""
    text = text.strip().translate(_FULLWIDTH)
    match = _RATING_DIGIT.match(text)
    if match:
        return int(match.group(1))
    if len(text) > MAX_RATING_CHARS:
        return None
    for word, score in RATING_WORDS:
        if text.startswith(word) or text.startswith("我觉得" + word):
            return score
    return None


class HumanAction(BaseAction):
    """转人工: say a person is coming and when, then ask the engine to queue the conversation."""

    action_name = "action_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        reason = str(tracker.get_slot("handover_reason") or "human")
        prefixes = self.deps.texts.raw("handoff_prefixes")
        prefix = prefixes.get(reason, prefixes["human"])
        hours = ServiceHours(self.deps.config)
        now = hours.now()
        if hours.is_open(now):
            text = self.deps.texts("handoff_queued")
        else:
            back = hours.describe(hours.next_opening(now), now)
            text = self.deps.texts("handoff_off_hours", back=back)
        dispatcher.utter_message(text=prefix + text)
        # A form in progress stops: the person takes the request from here.
        return [ActiveLoop(None), SlotSet("requested_slot", None),
                SlotSet("handover_reason", None), SlotSet("handover", reason),
                SlotSet("fallback_count", 0)]


class RatingAction(BaseAction):
    """The resident's answer to the satisfaction question, stored on the rating row."""

    action_name = "action_rating"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        rating_id = tracker.get_slot("rating_id")
        text = str((tracker.latest_message or {}).get("text") or "")
        score = parse_rating(text)
        events: list[dict[str, Any]] = [SlotSet("rating_id", None)]
        if score is None or rating_id is None:
            return events
        with transaction(self.deps.sessions) as session:
            row = session.get(ConversationRating, int(rating_id))
            if row is not None and row.score is None:
                row.score = score
                row.answer = text[:200]
                row.rated_at = utcnow()
        if score >= SATISFIED_MIN_SCORE:
            self.say(dispatcher, "rating_thanks")
        else:
            self.say(dispatcher, "rating_thanks_unhappy")
            events.append(SlotSet("flag_for_agent", True))
            # The reply promises a supervisor will follow up: it goes on the callback list.
            callbacks.add(self.deps.sessions, f"rating:{rating_id}", "rating",
                          tracker.sender_id, f"人工服务评价{score}分（{text[:30]}），需回访",
                          self.deps.config.desk, community_id=context.current_id())
        return events
