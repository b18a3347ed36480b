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
        ("电话+86 138 1111 0008", "1111", "138****0008"),
        ("+8613811110008", "1111", "138****0008"),
        ("打8613811110008找我", "1111", "138****0008"),
        ("0086-13811110008", "1111", "138****0008"),
        ("手机１３８１１１１０００８", "1111", "138****0008"),
        ("手机１３８－１１１１－０００８", "1111", "138****0008"),
        ("138.1111.0008", "1111", "138****0008"),
        ("138-1111-0008", "1111", "138****0008"),
        ("号码是 138 1111 0008 。", "1111", "138****0008"),
        ("我住三栋二单元五零二", "五零二", "[房号]"),
        ("7#7906漏水", "7906", "[房号]"),
        ("７＃７９０６漏水", "7906", "[房号]"),
        ("2单元7908的", "7908", "[房号]"),
        ("3-2-502", "502", "[房号]"),
        ("3栋2单元502", "502", "[房号]"),
        ("十二幢一单元1101室", "1101", "[房号]"),
        ("就在502室门口", "502", "[房号]"),
    ],
    ids=["mobile", "spaced-mobile", "room", "dashed-room", "tower", "building", "landline",
         "plus86-spaced", "plus86", "86", "0086", "full-width", "full-width-dashed", "dotted",
         "dashed", "spaced", "chinese-numerals", "hash", "full-width-hash", "unit-only",
         "three-part", "building-unit", "chinese-building", "room-suffix"],
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
        raise ValueError("lookup failed for 13900139000 at 3栋2单元502")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "boom", None,
                                   exc_info=sys.exc_info())
    line = formatter.format(record)
    assert "13900139000" not in line and "3栋2单元502" not in line
    assert "139****9000" in line and "Traceback" in line


def test_sql_parameters_never_reach_the_log() -> None:
    text = ("(psycopg.errors.StringDataRightTruncation) value too long\n"
            "[SQL: INSERT INTO messages (openid, text) VALUES (%(openid)s, %(text)s)]\n"
            "[parameters: {'openid': 'o_x', 'text': '<xml><Content>我家门锁坏了</Content></xml>'}]")
    masked = mask(text)
    assert "我家门锁坏了" not in masked and "<xml>" not in masked
    assert "[parameters hidden]" in masked and "INSERT INTO messages" in masked


def test_a_real_database_error_carries_no_parameters(sqlite_url: str) -> None:
    """The engine itself hides parameters (the formatter's strip is the second defence)."""
    from sqlalchemy import text as sql

    from core.db import make_engine

    engine = make_engine(sqlite_url)
    with pytest.raises(Exception) as caught, engine.begin() as conn:
        conn.execute(sql("INSERT INTO no_such_table VALUES (:v)"), {"v": "13800138000 3栋502"})
    engine.dispose()
    assert "13800138000" not in str(caught.value) and "3栋502" not in str(caught.value)


def test_signed_webhook_urls_are_not_logged() -> None:
    line = ('127.0.0.1 "POST /wechat?signature=0f3a&timestamp=1765000000&nonce=77&openid=o_x '
            'HTTP/1.1" 200')
    masked = mask(line)
    assert "signature=" not in masked and "0f3a" not in masked and "/wechat" in masked


def test_json_lines_carry_the_request_id_and_are_masked() -> None:
    import json

    from core.logging import JsonFormatter, request_id

    token = request_id.set("req-42")
    try:
        record = logging.LogRecord("t", logging.INFO, __file__, 1, "bind %s", ("13800138000",),
                                   None)
        entry = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert entry["request_id"] == "req-42" and entry["message"] == "bind 138****8000"
