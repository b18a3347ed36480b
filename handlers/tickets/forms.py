"""The intake forms, read from handlers/data/forms.yaml: slots, order and conditions."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from core.yamlfile import load_yaml
from handlers.tickets.rules import DATA_DIR

# Slots a form fills besides its questions; all are cleared when a form starts or ends.
DERIVED_SLOTS = ("requested_slot", "form_id", "photos", "location_kind", "subject",
                 "household_id", "form_abort", "form_retries", "home_room", "summary_shown",
                 "switch_to", "replay", "after_form", "also_complaint")


@dataclass(frozen=True)
class FormSpec:
    name: str
    submit: str
    slots: tuple[str, ...]
    summary: tuple[str, ...] = ()
    ticket_type: str | None = None
    optional: tuple[str, ...] = ()
    only_if: dict[str, dict[str, Any]] | None = None
    confirm: bool = True
    intent: str | None = None
    describe: str | None = None
    requests: tuple[str, ...] = ()

    def required(self, values: dict[str, Any]) -> list[str]:
        """The questions that apply (visit time only for home repairs; unknown yet = applies)."""
        conditions = self.only_if or {}
        return [slot for slot in self.slots
                if all(values.get(k) in (None, v) for k, v in conditions.get(slot, {}).items())]

    def missing(self, values: dict[str, Any]) -> str | None:
        return next((s for s in self.required(values) if values.get(s) is None), None)

    @property
    def all_slots(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.slots, *self.summary, *DERIVED_SLOTS)))


@cache
def _data() -> dict[str, Any]:
    return dict(load_yaml(DATA_DIR / "forms.yaml"))


def form_specs() -> dict[str, FormSpec]:
    specs = {}
    for name, raw in _data()["forms"].items():
        specs[name] = FormSpec(
            name=name, submit=raw["submit"], slots=tuple(raw["slots"]),
            summary=tuple(raw.get("summary", ())), ticket_type=raw.get("ticket_type"),
            optional=tuple(raw.get("optional", ())), only_if=raw.get("only_if"),
            confirm=raw.get("confirm", True), intent=raw.get("intent"),
            describe=raw.get("describe"), requests=tuple(raw.get("requests", ())),
        )
    return specs


def words(kind: str) -> list[str]:
    """A word list from forms.yaml (yes, no, cancel, home, common, filler, ...)."""
    return [str(w) for w in _data()["words"][kind]]


def word_table(kind: str) -> dict[str, Any]:
    """A table of word lists from forms.yaml (correction_targets)."""
    return dict(_data()["words"][kind])


def services() -> dict[str, list[str]]:
    return {name: [str(w) for w in synonyms] for name, synonyms in _data()["services"].items()}


def every_form_slot() -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for spec in form_specs().values() for s in spec.all_slots))
