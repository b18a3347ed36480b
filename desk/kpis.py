"""Every KPI of DOMAIN.md over a period, by day/week/month and by agent, department,
type and community: the numbers behind the KPI page, its exports, the monthly report
and `wuye kpi --json`."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from desk.kpi_data import Rows, load

CONSULT_INTENTS = ("faq", "bill_query", "ticket_status")
SATISFIED_MIN = 4
REPEAT_WINDOW = timedelta(days=30)
SURVEY_FLOOR = 0.70  # DOMAIN.md: below this response rate the satisfaction is lowered
# name -> (Chinese label, target text); the order is the report's.
KPI_NAMES: dict[str, tuple[str, str]] = {
    "consult_reply_rate": ("咨询回复率", "100%"),
    "timely_reply_rate": ("回复及时率", "100%"),
    "complaint_handling_rate": ("投诉处理率", "100%"),
    "callback_rate_complaint": ("投诉回访率", "100%"),
    "callback_rate_repair": ("维修回访率", "≥ 80%"),
    "repeat_complaint_rate": ("重复投诉率", "≤ 1%"),
    "satisfaction_rate": ("满意率", "≥ 90%"),
    "satisfaction_adjusted": ("满意率（按回复率修正）", "≥ 90%"),
    "survey_response_rate": ("满意度征询回复率", "≥ 70%"),
    "human_answer_rate": ("人工应答率", "≥ 85%"),
    "self_service_rate": ("机器人自助解决率", "—"),
    "first_response_minutes": ("人工首次响应（分钟）", "—"),
    "ticket_first_response_minutes": ("工单首次响应（分钟）", "—"),
    "resolution_hours": ("工单解决时长（小时）", "—"),
    "sla_breaches": ("超时工单数", "0"),
}
PERCENT_KPIS = {k for k in KPI_NAMES if k.endswith("rate") or k.startswith("callback_rate")
                or k == "satisfaction_adjusted"}


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _avg(values: list[float], scale: float) -> float | None:
    return round(mean(values) / scale, 1) if values else None


def metrics(rows: Rows, config: Config) -> dict[str, Any]:
    """Every KPI's value (None: nothing to count) for one slice of rows."""
    consults = [m for m in rows.inbound if m.intent in CONSULT_INTENTS]
    deadline = config.desk.reply_deadline_minutes * 60
    complaints = [t for t in rows.tickets if t.get("type") == "complaint"]
    repeats = _repeat_complaints(complaints, rows.earlier_complaints)
    scores = [r["score"] for r in rows.ratings if r["score"] is not None]
    scores += [t["rating"] for t in rows.closed if t["rating"] is not None]
    scores += [5 if c["satisfied"] else 1 for c in rows.callbacks
               if c["satisfied"] is not None and c["ticket_id"] is None]
    asked = len(rows.ratings) + len([t for t in rows.closed if t["type"] == "repair"])
    answered = len([r for r in rows.ratings if r["score"] is not None]) + len(
        [t for t in rows.closed if t["type"] == "repair" and t["rating"] is not None])
    satisfaction = _rate(sum(1 for s in scores if s >= SATISFIED_MIN), len(scores))
    response = _rate(answered, asked)
    asked_human = rows.handovers
    return {
        "consult_reply_rate": _rate(sum(1 for m in consults if m.replied_after is not None),
                                    len(consults)),
        "timely_reply_rate": _rate(sum(1 for m in rows.inbound if m.replied_after is not None
                                       and m.replied_after <= deadline), len(rows.inbound)),
        "complaint_handling_rate": _rate(sum(1 for t in complaints if t["state"] in (
            "resolved", "closed")), len(complaints)),
        "callback_rate_complaint": _callback_rate(rows, "complaint"),
        "callback_rate_repair": _callback_rate(rows, "repair"),
        "repeat_complaint_rate": _rate(repeats, len(complaints) - repeats)
        if complaints else None,
        "satisfaction_rate": satisfaction,
        "survey_response_rate": response,
        "satisfaction_adjusted": adjusted(satisfaction, response),
        "human_answer_rate": _rate(sum(1 for h in asked_human if h["first_response"]
                                       is not None), len(asked_human)),
        "self_service_rate": _rate(sum(1 for c in rows.conversations if not c[2]),
                                   len(rows.conversations)),
        "first_response_minutes": _avg([h["first_response"] for h in asked_human
                                        if h["first_response"] is not None], 60),
        "ticket_first_response_minutes": _avg([t["first_response"] for t in rows.tickets
                                               if t["first_response"] is not None], 60),
        "resolution_hours": _avg([t["resolution"] for t in rows.tickets
                                  if t["resolution"] is not None], 3600),
        "sla_breaches": len(rows.breaches),
        "counts": {"consultations": len(consults), "messages": len(rows.inbound),
                   "complaints": len(complaints), "repeat_complaints": repeats,
                   "ratings": len(scores), "handovers": len(asked_human),
                   "handovers_answered": sum(1 for h in asked_human
                                             if h["first_response"] is not None),
                   "conversations": len(rows.conversations), "tickets": len(rows.tickets),
                   "closed": len(rows.closed)},
    }


def adjusted(satisfaction: float | None, response: float | None) -> float | None:
    """DOMAIN.md: every 5 points of response rate below 70% lowers satisfaction by 1 point."""
    if satisfaction is None or response is None or response >= SURVEY_FLOOR:
        return satisfaction
    steps = int(round((SURVEY_FLOOR - response) * 100, 6) // 5)
    return round(max(satisfaction - steps / 100, 0.0), 6)


def _callback_rate(rows: Rows, ticket_type: str) -> float | None:
    closed = [t for t in rows.closed if t["type"] == ticket_type]
    called = {c["ticket_id"] for c in rows.callbacks
              if c["status"] == "done" and c["reached"] and c["ticket_id"] is not None}
    return _rate(sum(1 for t in closed if t["id"] in called), len(closed))


def _repeat_complaints(complaints: list[dict[str, Any]],
                       earlier: list[dict[str, Any]]) -> int:
    """A complaint about the same thing (category) by the same resident or home within
    30 days of an earlier one."""
    seen = sorted(earlier + complaints, key=lambda t: t["at"])
    count = 0
    for ticket in complaints:
        who = {ticket["openid"], ticket["room_key"]} - {None, ""}
        if any((o["at"], o["id"]) < (ticket["at"], ticket["id"])
               and o["at"] >= ticket["at"] - REPEAT_WINDOW
               and o["category"] == ticket["category"]
               and who & ({o["openid"], o["room_key"]} - {None, ""}) for o in seen):
            count += 1
    return count


# -- breakdowns ------------------------------------------------------------------------------
def by_agent(rows: Rows, names: dict[int, str]) -> list[dict[str, Any]]:
    agents: dict[int, dict[str, Any]] = defaultdict(lambda: {"handovers": 0, "firsts": [],
                                                             "scores": [], "quality": []})
    for h in rows.handovers:
        if h["agent_id"]:
            agent = agents[h["agent_id"]]
            agent["handovers"] += 1
            if h["first_response"] is not None:
                agent["firsts"].append(h["first_response"])
    for r in rows.ratings:
        if r["agent_id"] and r["score"] is not None:
            agents[r["agent_id"]]["scores"].append(r["score"])
    for q in rows.reviews:
        if q["agent_id"] and q["score"] is not None:
            agents[q["agent_id"]]["quality"].append(q["score"])
    return [{"agent": names.get(agent_id, str(agent_id)), "handovers": a["handovers"],
             "answered": len(a["firsts"]), "first_response_minutes": _avg(a["firsts"], 60),
             "satisfaction_rate": _rate(sum(1 for s in a["scores"] if s >= SATISFIED_MIN),
                                        len(a["scores"])),
             "quality_score": _avg(a["quality"], 1)} for agent_id, a in sorted(agents.items())]


def by_field(rows: Rows, key: str) -> list[dict[str, Any]]:
    """Tickets by department, type or priority: volume, speed, breaches."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in rows.tickets:
        groups[str(t[key])].append(t)
    breaches = Counter(str(b[key]) for b in rows.breaches if key in b)
    closed = Counter(str(t[key]) for t in rows.closed)
    return [{key: name, "tickets": len(items), "closed": closed[name],
             "first_response_minutes": _avg([t["first_response"] for t in items
                                             if t["first_response"] is not None], 60),
             "resolution_hours": _avg([t["resolution"] for t in items
                                       if t["resolution"] is not None], 3600),
             "sla_breaches": breaches[name]} for name, items in sorted(groups.items())]


def by_type_and_priority(rows: Rows) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for t in rows.tickets:
        groups[(t["type"], t["priority"])].append(t)
    return [{"type": kind, "priority": priority, "tickets": len(items),
             "first_response_minutes": _avg([t["first_response"] for t in items
                                             if t["first_response"] is not None], 60),
             "resolution_hours": _avg([t["resolution"] for t in items
                                       if t["resolution"] is not None], 3600)}
            for (kind, priority), items in sorted(groups.items())]


def breaches_table(rows: Rows) -> list[dict[str, Any]]:
    counts = Counter((b["department"], b["priority"]) for b in rows.breaches)
    return [{"department": d, "priority": p, "breaches": n} for (d, p), n in sorted(counts.items())]


def top_issues(rows: Rows, limit: int = 10) -> list[dict[str, Any]]:
    counts = Counter((t["type"], t["category"]) for t in rows.tickets)
    return [{"type": k, "category": c, "tickets": n} for (k, c), n in counts.most_common(limit)]


# -- periods -----------------------------------------------------------------------------------
def buckets(start: date, end: date, grain: str) -> Iterator[tuple[str, date, date]]:
    """(label, first day, day after) for each day, ISO week or month in [start, end]."""
    day = start
    while day <= end:
        if grain == "month":
            nxt = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
            label = f"{day:%Y-%m}"
        elif grain == "week":
            nxt = day + timedelta(days=7 - day.weekday())
            label = f"{day.isocalendar().year}-W{day.isocalendar().week:02d}"
        else:
            nxt, label = day + timedelta(days=1), day.isoformat()
        yield label, day, min(nxt, end + timedelta(days=1))
        day = nxt


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    zone: ZoneInfo

    def bounds(self, first: date, after: date) -> tuple[datetime, datetime]:
        return (datetime.combine(first, time(), self.zone),
                datetime.combine(after, time(), self.zone))


def report(sessions: sessionmaker[Session], config: Config, start: date, end: date,
           grain: str = "day", names: dict[int, str] | None = None,
           communities: dict[int, str] | None = None,
           scope: frozenset[int] | None = None) -> dict[str, Any]:
    """The whole KPI report for [start, end] in the property's time zone; `scope` limits
    it to some communities (a scoped supervisor)."""
    period = Period(start, end, ZoneInfo(config.service.timezone))
    lower, upper = period.bounds(start, end + timedelta(days=1))
    rows = load(sessions, lower, upper)
    if scope is not None:
        rows = rows.among(scope)
    series = []
    for label, first, after in buckets(start, end, grain):
        a, b = period.bounds(first, after)
        series.append({"period": label} | metrics(rows.within(a, b), config))
    by_community = [{"community": name} | metrics(rows.only(cid), config)
                    for cid, name in (communities or {}).items()]
    return {"from": start.isoformat(), "to": end.isoformat(), "grain": grain,
            "totals": metrics(rows, config), "series": series,
            "by_agent": by_agent(rows, names or {}),
            "by_department": by_field(rows, "department"), "by_type": by_field(rows, "type"),
            "by_type_priority": by_type_and_priority(rows),
            "by_community": by_community, "sla_breaches": breaches_table(rows),
            "top_issues": top_issues(rows)}
