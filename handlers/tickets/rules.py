"""The admin-readable rule files: classification, priority, SLA deadlines and the life cycle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from core.yamlfile import load_yaml

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
PRIORITY_ORDER = ("P1", "P2", "P3")


class TransitionError(ValueError):
    """A life-cycle move the state table does not allow; the message says why, in Chinese."""


@dataclass(frozen=True)
class Classification:
    department: str
    category: str
    priority: str
    why: str = ""


def _matches(rule: dict[str, Any], text: str, ticket_type: str) -> bool:
    if rule.get("types") and ticket_type not in rule["types"]:
        return False
    if not any(word in text for word in rule.get("any", [])):
        return False
    if any(word in text for word in rule.get("unless", [])):
        return False
    return not rule.get("with") or any(word in text for word in rule["with"])


@dataclass(frozen=True)
class DispatchRules:
    """Department by content, priority by danger, deadlines from the SLA table."""

    data: dict[str, Any]

    @classmethod
    def load(cls, path: Path | None = None) -> DispatchRules:
        return cls(_read(path or DATA_DIR / "dispatch_rules.yaml"))

    def classify(self, ticket_type: str, text: str) -> Classification:
        default = self.data["defaults"][ticket_type]
        department, category = default["department"], default["category"]
        for rule in self.data["department_rules"]:
            if _matches(rule, text, ticket_type):
                department, category = rule["department"], rule["category"]
                break
        priority, why = default["priority"], ""
        for rule in self.data["priority_rules"]:
            if _matches(rule, text, ticket_type):
                if PRIORITY_ORDER.index(rule["priority"]) <= PRIORITY_ORDER.index(priority):
                    priority, why = rule["priority"], rule["why"]
                break
        if ticket_type in ("suggestion", "service_request"):
            priority, why = default["priority"], ""
        return Classification(department, category, priority, why)

    def not_emergency(self, text: str) -> str | None:
        """Why a message that reads like an emergency is not one (nobody in danger), or None."""
        for rule in self.data.get("not_emergency", []):
            if _matches(rule, text, "emergency"):
                return str(rule.get("why") or "not_emergency")
        return None

    def sla_key(self, ticket_type: str, priority: str) -> str:
        return "complaint" if ticket_type == "complaint" and priority == "P3" else priority

    def deadlines(self, ticket_type: str, priority: str,
                  start: datetime) -> tuple[datetime, datetime | None]:
        """(first response due, done due); complaints have no fixed done deadline."""
        row = self.data["sla"][self.sla_key(ticket_type, priority)]
        response = start + timedelta(minutes=row["response_minutes"])
        hours = row.get("resolve_hours")
        return response, (start + timedelta(hours=hours) if hours else None)

    def response_minutes(self, ticket_type: str, priority: str) -> int:
        return int(self.data["sla"][self.sla_key(ticket_type, priority)]["response_minutes"])

    @property
    def departments(self) -> list[str]:
        return list(self.data["departments"])


@dataclass(frozen=True)
class LifeCycle:
    """The state table: which moves and events each state allows."""

    data: dict[str, Any]

    @classmethod
    def load(cls, path: Path | None = None) -> LifeCycle:
        return cls(_read(path or DATA_DIR / "ticket_states.yaml"))

    def state_name(self, state: str) -> str:
        return str(self.data["states"].get(state, state))

    def type_name(self, ticket_type: str) -> str:
        return str(self.data["types"][ticket_type]["name"])

    def prefix(self, ticket_type: str) -> str:
        return str(self.data["types"][ticket_type]["prefix"])

    @property
    def open_states(self) -> list[str]:
        return list(self.data["open_states"])

    def check_move(self, current: str, target: str) -> None:
        if target not in self.data["states"]:
            raise TransitionError(f"未知状态：{target}")
        allowed = self.data["transitions"].get(current, [])
        if target not in allowed:
            names = "、".join(self.state_name(s) for s in allowed) or "无"
            raise TransitionError(
                f"工单当前为“{self.state_name(current)}”，不能改为“{self.state_name(target)}”"
                f"（允许：{names}）")

    def check_event(self, current: str, event: str) -> None:
        if current not in self.data["events"].get(event, []):
            raise TransitionError(f"工单当前为“{self.state_name(current)}”，不能执行“{event}”")


def raise_priority(priority: str) -> str:
    """One level more urgent, never beyond P1."""
    return PRIORITY_ORDER[max(0, PRIORITY_ORDER.index(priority) - 1)]


@cache
def _read_cached(path: str, mtime: float) -> dict[str, Any]:
    return dict(load_yaml(Path(path)))


def _read(path: Path) -> dict[str, Any]:
    return _read_cached(str(path), path.stat().st_mtime)
