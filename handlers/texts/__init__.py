"""Chinese user-facing texts, kept in data files and looked up by name.

Each area owns one YAML file listed in TEXT_FILES; names must be unique. The
property name, phones and hours come from the community the turn is served for
(communities.context), else from the defaults given at construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from communities import context
from core.yamlfile import load_yaml

TEXT_DIR = Path(__file__).resolve().parent
TEXT_FILES = ("base.yaml", "tickets.yaml", "handoff.yaml", "community.yaml", "knowledge.yaml")


class Texts:
    """Named templates with the community's facts (property name, phones) filled in."""

    def __init__(self, table: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
        self.table = table
        self.defaults = dict(defaults)

    def raw(self, name: str) -> Any:
        return self.table[name]

    def __call__(self, name: str, **values: Any) -> str:
        template = self.table[name]
        community = context.current()
        facts = community.text_values() if community is not None else {}
        return str(template).format(**{**self.defaults, **facts, **values})


@cache
def load_table() -> dict[str, Any]:
    table: dict[str, Any] = {}
    for filename in TEXT_FILES:
        data = load_yaml(TEXT_DIR / filename) or {}
        duplicate = set(table) & set(data)
        if duplicate:
            raise ValueError(f"text {sorted(duplicate)[0]!r} defined twice ({filename})")
        table.update(data)
    return table
