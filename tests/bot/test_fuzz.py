"""Fuzzing the webhook with hypothesis: whatever a signed sender pushes, while Redis and the
database are up, the answer is 200 or a 4xx — never a 5xx, never a traceback — and a push
is either stored whole and settled, or not stored at all."""

from __future__ import annotations

import itertools
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.push import build_xml
from core.models import Message

_ids = itertools.count(1)

# Any text except lone surrogates (which no UTF-8 body can carry).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)
KNOWN = st.sampled_from(["text", "image", "voice", "video", "location", "link", "event",
                         "file", "miniprogrampage", "TEXT", ""])

FIELDS = st.fixed_dictionaries(
    {
        "ToUserName": st.one_of(st.just("gh_wuye_demo"), TEXT),
        "FromUserName": st.one_of(st.just("o_fuzz"), TEXT),
        "CreateTime": st.one_of(st.integers(-(10**12), 10**20), TEXT),
        "MsgType": st.one_of(KNOWN, TEXT),
    },
    optional={
        "Content": TEXT,
        "MsgId": st.one_of(st.integers(0, 10**30), TEXT),
        "Event": st.one_of(st.sampled_from(["subscribe", "unsubscribe", "CLICK", "VIEW"]),
                           TEXT),
        "EventKey": TEXT,
        "Recognition": TEXT,
        "PicUrl": TEXT,
        "Label": TEXT,
    },
)


def _body(fields: dict[str, Any], mutation: int, junk: bytes) -> bytes:
    unique = dict(fields)
    if unique.get("FromUserName") == "o_fuzz":
        unique["FromUserName"] = f"o_fuzz_{next(_ids)}"  # so a duplicate push is rare
    xml = build_xml(unique).encode("utf-8")
    if mutation == 1:
        return xml[: len(junk) % max(len(xml), 1)]  # truncated
    if mutation == 2:
        return xml.replace(b"</xml>", junk + b"</xml>")  # junk bytes inside
    if mutation == 3:
        return junk  # not XML at all
    return xml


def _counts(services: Any) -> tuple[int, int]:
    with services.sessions() as session:
        total = session.scalar(select(func.count()).select_from(Message))
        unsettled = session.scalar(select(func.count()).select_from(Message).where(
            Message.direction == "in", Message.status.in_(("received", "processing"))))
    return int(total or 0), int(unsettled or 0)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(fields=FIELDS, mutation=st.sampled_from([0, 0, 0, 1, 2, 3]), junk=st.binary(max_size=40))
def test_any_signed_push_is_200_or_4xx_and_never_half_stored(
    pusher: Any, services: Any, caplog: pytest.LogCaptureFixture, fields: dict[str, Any],
    mutation: int, junk: bytes,
) -> None:
    caplog.clear()
    before, _ = _counts(services)
    body = _body(fields, mutation, junk)
    response = pusher.http.post("/wechat", query_string=pusher.query(), data=body)
    assert response.status_code == 200 or 400 <= response.status_code < 500, response.text
    after, unsettled = _counts(services)
    if response.status_code != 200:
        assert after == before  # refused: nothing stored
    assert unsettled == 0  # stored and settled in the same request, or not at all
    tracebacks = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not tracebacks, tracebacks[0].getMessage()
