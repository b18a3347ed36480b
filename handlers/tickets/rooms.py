"""Homes written many ways (3-2-502, 3栋2单元502, B座1203) reduced to one key; phones masked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_CN = {"零": "0", "〇": "0", "一": "1", "二": "2", "两": "2", "三": "3", "四": "4",
       "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
_FULLWIDTH = str.maketrans("０１２３４５６７８９－", "0123456789-")
_DASHED = re.compile(r"(?<![\d])(\d{1,3})\s*[-－—_/]\s*(\d{1,2})\s*[-－—_/]\s*(\d{3,4})(?!\d)")
_WRITTEN = re.compile(
    r"([0-9]{1,3}|[A-Za-z])\s*(?:栋|幢|号楼|座|楼|号)\s*"
    r"(?:([0-9]{1,2})\s*单元\s*)?(?:的)?\s*([0-9]{3,4})\s*(?:室|号|房)?"
)
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
# as written, with spaces or dashes between groups (138 0013 8000), to find it in free text
_PHONE_WRITTEN = re.compile(r"(?<!\d)(?:1[3-9]\d(?:[ -]?\d){8}|0\d{2,3}[ -]?\d{7,8})(?!\d)")


@dataclass(frozen=True)
class Room:
    """A home inside the community; `key` is what rooms are matched on."""

    building: str
    unit: str
    room: str
    # Set on a bound home (its binding's community); the same key may exist in two.
    community_id: int | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return f"{self.building}-{self.unit}-{self.room}"

    @property
    def display(self) -> str:
        suffix = "座" if self.building.isalpha() else "栋"
        unit = f"{self.unit}单元" if self.unit else ""
        return f"{self.building}{suffix}{unit}{self.room}"

    @classmethod
    def from_normalized(cls, data: Any) -> Room | None:
        """Build from the NLU entity's normalized dict; None when it is incomplete."""
        if not isinstance(data, dict) or not data.get("building") or not data.get("room"):
            return None
        return cls(_clean(data["building"]), _clean(data.get("unit") or ""),
                   _clean(data["room"]))


def _clean(value: Any) -> str:
    text = str(value).strip().upper()
    return text.lstrip("0") or text if text.isdigit() else text


def _digits(text: str) -> str:
    text = text.translate(_FULLWIDTH)
    return "".join(_CN.get(ch, ch) for ch in text)


def parse_room(text: str) -> Room | None:
    """Find a home in free text or a roster cell: 3-2-502, 3栋2单元502室, B座1203."""
    text = _digits(text)
    match = _DASHED.search(text)
    if match:
        return Room(_clean(match.group(1)), _clean(match.group(2)), _clean(match.group(3)))
    match = _WRITTEN.search(text)
    if match:
        return Room(_clean(match.group(1)), _clean(match.group(2) or ""), _clean(match.group(3)))
    return None


def room_spans(text: str) -> list[tuple[int, int]]:
    """Where homes are written in the text, so they can be cut out of a description."""
    text = _digits(text)
    return [m.span() for pattern in (_DASHED, _WRITTEN) for m in pattern.finditer(text)]


def parse_phone(text: str) -> str | None:
    match = _PHONE.search(_digits(text).replace(" ", ""))
    return match.group(1).replace("-", "") if match else None


def phone_spans(text: str) -> list[tuple[int, int]]:
    """Where phone numbers are written, so free text never keeps or shows one."""
    return [m.span() for m in _PHONE_WRITTEN.finditer(_digits(text))]


def mask_phones(text: str) -> str:
    """Free text with every phone number in it masked (卫生间漏水 138****8000)."""
    for start, end in sorted(phone_spans(text), reverse=True):
        text = text[:start] + mask_phone(_digits(text[start:end])) + text[end:]
    return text


def mask_phone(phone: str) -> str:
    """138****8000: enough for the resident to recognise, useless to anyone else."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"
