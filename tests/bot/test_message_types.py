"""Every message type WeChat may push is accepted (200) with a polite reply, never a 400."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.models import Message

OPENID = "o_types"


@pytest.mark.parametrize(("msg_type", "fields", "expected"), [
    ("file", {"Title": "装修申请表.docx", "Description": "", "FileKey": "k1",
              "FileMd5": "d41d8cd98f00b204e9800998ecf8427e", "FileTotalLen": "1024"}, "文件已收到"),
    ("miniprogrampage", {"Title": "物业缴费", "AppId": "wx123", "PagePath": "pages/pay",
                         "ThumbUrl": "http://127.0.0.1/t.jpg", "ThumbMediaId": "m1"},
     "小程序"),
    ("nonsense", {"Whatever": "x"}, "暂时无法处理这类消息"),
], ids=["file", "miniprogrampage", "unknown"])
def test_any_type_is_answered_politely(pusher: Any, services: Any, msg_type: str,
                                       fields: dict[str, Any], expected: str) -> None:
    result = pusher.send(OPENID, msg_type, MsgId=4242, **fields)
    assert result.status_code == 200
    assert expected in result.text and result.text.startswith("您好")
    with services.sessions() as session:
        stored = session.scalars(select(Message).where(Message.direction == "in")).one()
    assert stored.needs_agent and stored.status == "processed"


def test_you_can_ask_what_the_bot_does(pusher: Any) -> None:
    for question in ("你能做什么", "你是谁？", "你都会些什么"):
        reply = pusher.text(OPENID, question)
        assert "报修" in reply.text and "小翠" in reply.text, question
