"""One push from WeChat, parsed through wechatpy into what the dialogue engine needs."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from wechatpy import parse_message

_DECLARATIONS = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)
MESSAGE_TYPES = {"text", "image", "voice", "video", "shortvideo", "location", "link", "event"}
# What the message table can hold (see core/models/chat.py): longer is not a WeChat push.
MAX_LENGTHS = {"FromUserName": 64, "ToUserName": 64, "MsgId": 64, "MsgType": 32,
               "Event": 26, "CreateTime": 20}
DEDUPE_KEY_CHARS = 160


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
        key = f"evt:{self.openid}:{self.create_time}:{self.event}:{self.event_key}"
        if len(key) <= DEDUPE_KEY_CHARS:
            return key
        digest = hashlib.sha256(self.event_key.encode("utf-8")).hexdigest()[:32]
        return f"evt:{self.openid}:{self.create_time}:{self.event}:#{digest}"

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"


def reject_declarations(xml: bytes) -> None:
    """DOCTYPE and entity declarations never appear in WeChat pushes; refuse them."""
    if _DECLARATIONS.search(xml):
        raise InboundError("XML declarations (DOCTYPE/ENTITY) are not accepted")


def parse_inbound(xml: bytes) -> Inbound:
    """Parse and check a push; anything the message table could not store is an InboundError.

    Types we do not know (file, miniprogrampage, …) are accepted: they are stored and
    answered politely. Checked here, before any database work, so a hostile or broken
    push is a 400 and never a database error.
    """
    reject_declarations(xml)
    if b"\x00" in xml:
        raise InboundError("NUL bytes are not accepted")  # e.g. UTF-16 sent without a BOM
    try:
        message = parse_message(xml.decode("utf-8"))
        data: dict[str, Any] = dict(message._data)
    except Exception as exc:  # xmltodict/expat raise several unrelated types
        raise InboundError(f"malformed XML: {type(exc).__name__}") from None
    for key, value in data.items():
        if not isinstance(value, (str, type(None))):
            raise InboundError(f"unexpected nested element {key}")
    openid = data.get("FromUserName")
    msg_type = str(data.get("MsgType") or "").strip().lower()
    if not openid or not msg_type:
        raise InboundError("missing FromUserName or MsgType")
    for key, limit in MAX_LENGTHS.items():
        if len(data.get(key) or "") > limit:
            raise InboundError(f"{key} longer than {limit} characters")
    try:
        create_time = int(data.get("CreateTime") or 0)
    except ValueError:
        raise InboundError("CreateTime is not a number") from None
    event = str(data.get("Event") or "").lower()
    if len(msg_type) > MAX_LENGTHS["MsgType"] or len(event) > MAX_LENGTHS["Event"]:
        raise InboundError("MsgType or Event too long")  # lower() can lengthen some letters
    return Inbound(
        openid=openid,
        account=str(data.get("ToUserName") or ""),
        msg_type=msg_type,
        create_time=create_time,
        msg_id=data.get("MsgId"),
        text=_text_of(msg_type, data),
        event=event,
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
