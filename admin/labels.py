"""Chinese labels for codes staff see (states, types, intents, events, send errors)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from core.yamlfile import load_yaml
from handlers.tickets.rules import LifeCycle

LABELS_FILE = Path(__file__).resolve().parent / "data" / "labels.yaml"


@cache
def table() -> dict[str, Any]:
    return dict(load_yaml(LABELS_FILE))


@cache
def _life() -> LifeCycle:
    return LifeCycle.load()


def state(code: str | None) -> str:
    return _life().state_name(code) if code else ""


def ticket_type(code: str | None) -> str:
    types = _life().data["types"]
    return str(types[code]["name"]) if code in types else (code or "")


def label(group: str, code: Any) -> str:
    return str(table()[group].get(str(code), code if code is not None else ""))


def send_error(error: str | None) -> str | None:
    """'45015 response out of time limit…' → what the agent can do about it."""
    if not error:
        return None
    code = error.split(" ", 1)[0]
    errors = table()["send_errors"]
    return str(errors.get(code, errors["default"]))


def for_js() -> dict[str, Any]:
    """Everything the console script needs to show codes in Chinese."""
    return {"states": dict(_life().data["states"]), "intents": table()["intents"],
            "types": {k: v["name"] for k, v in _life().data["types"].items()},
            "priorities": table()["priorities"]}


def register(app: Any) -> None:
    """Template filters: {{ t.state | state_name }} and friends."""
    app.jinja_env.filters["state_name"] = state
    app.jinja_env.filters["type_name"] = ticket_type
    app.jinja_env.filters["priority_name"] = lambda code: label("priorities", code)
    app.jinja_env.filters["event_name"] = lambda code: label("events", code)
    app.jinja_env.filters["role_name"] = lambda code: label("roles", code)
