"""Logs never carry a resident's phone or home in clear."""

from __future__ import annotations

import logging
import sys

import pytest

from core.logging import MaskingFormatter, mask


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        ("联系电话13800138000", "13800138000", "138****8000"),
        ("手机 138 0013 8000 找我", "0013", "138****8000"),
        ("住3栋2单元502", "502", "[房号]"),
        ("房号12-3-1101", "1101", "[房号]"),
        ("B座1203的业主", "1203", "[房号]"),
        ("5号楼1802 漏水", "1802", "[房号]"),
        ("座机0571-88886666", "88886666", "0571-****66"),
    ],
    ids=["mobile", "spaced-mobile", "room", "dashed-room", "tower", "building", "landline"],
)
def test_mask_hides_phones_and_homes(text: str, hidden: str, kept: str) -> None:
    masked = mask(text)
    assert hidden not in masked and kept in masked


def test_mask_leaves_times_and_ids_alone() -> None:
    text = "2026-11-23 05:16:53 outbox item 12 sent (attempt 3) BX20261123-0001"
    assert mask(text) == text


def test_formatter_masks_tracebacks_too() -> None:
    formatter = MaskingFormatter("%(message)s")
    try:
        raise ValueError("INSERT failed [parameters: ('13900139000', '3栋2单元502')]")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "boom", None,
                                   exc_info=sys.exc_info())
    line = formatter.format(record)
    assert "13900139000" not in line and "3栋2单元502" not in line
    assert "139****9000" in line
