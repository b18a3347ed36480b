"""One push from WeChat, parsed through wechatpy into what the dialogue engine needs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import xmltodict

_DECLARATIONS = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)
# Types the engine reads; any other type (file, miniprogrampage, types WeChat adds later)
# is accepted too and answered politely (issue 12: never a 400 toward WeChat).
MESSAGE_TYPES = {"text", "image", "voice", "video", "shortvideo", "location", "link", "event",
                 "file", "miniprogrampage"}
_TYPE_NAME = re.compile(r"^[a-z_]{1,32}$")


class InboundError(ValueError):
    """The push is not a WeChat message we can accept (broken or hostile XML)."""


@dataclass(frozen=True)
class Inbound:
    openid: str
    account: str
    msg_type: str
    create_time: int
    msg_id: str | None
    text: str = ""
    event: str = ""
    event_key: str = ""
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        """MsgIds collide across users, so the sender is part of the key.

        Events carry no MsgId: sender + CreateTime + Event, plus the EventKey so two
        different menu buttons tapped within one second stay two events.
        """
        if self.msg_id and self.msg_id != "0":
            return f"msg:{self.openid}:{self.msg_id}"
        return f"evt:{self.openid}:{self.create_time}:{self.event}:{self.event_key}"[:160]

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"


def reject_declarations(xml: bytes) -> None:
    """DOCTYPE and entity declarations never appear in WeChat pushes; refuse them."""
    if _DECLARATIONS.search(xml):
        raise InboundError("XML declarations (DOCTYPE/ENTITY) are not accepted")


def parse_inbound(xml: bytes) -> Inbound:
    reject_declarations(xml)
    try:
        root = xmltodict.parse(xml.decode("utf-8"))  # what wechatpy's parse_message reads
        data: dict[str, Any] = dict(root["xml"])
    except Exception as exc:  # xmltodict/expat raise several unrelated types
        raise InboundError(f"malformed XML: {type(exc).__name__}") from None
    openid = data.get("FromUserName")
    msg_type = str(data.get("MsgType") or "").strip().lower()
    if not openid or not isinstance(openid, str):
        raise InboundError("missing FromUserName")
    if not _TYPE_NAME.match(msg_type):
        msg_type = "unknown"
    for key, value in data.items():
        if not isinstance(value, (str, type(None))):
            raise InboundError(f"unexpected nested element {key}")
    try:
        create_time = int(data.get("CreateTime") or 0)
    except ValueError:
        raise InboundError("CreateTime is not a number") from None
    return Inbound(
        openid=openid,
        account=str(data.get("ToUserName") or ""),
        msg_type=msg_type,
        create_time=create_time,
        msg_id=data.get("MsgId"),
        text=_text_of(msg_type, data),
        event=str(data.get("Event") or "").lower(),
        event_key=str(data.get("EventKey") or ""),
        fields=data,
    )


def _text_of(msg_type: str, data: dict[str, Any]) -> str:
    if msg_type == "text":
        return str(data.get("Content") or "")
    if msg_type == "voice":
        return str(data.get("Recognition") or "")
    if msg_type == "link":
        return str(data.get("Title") or "")
    if msg_type == "location":
        return str(data.get("Label") or "")
    return ""
