"""Play WeChat's server: build, sign and encrypt pushes exactly as WeChat sends them.

Used by the simulator page and the tests, so both take the real path into
`/wechat` over HTTP. Also decodes the passive reply the webhook answers with.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
from wechatpy.crypto import WeChatCrypto

_msg_ids = itertools.count(int(time.time() * 1000) * 1000)


def sign(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    """WeChat's SHA1 signature over the sorted parts."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, *extra])).encode()).hexdigest()


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_xml(fields: dict[str, Any]) -> str:
    """Serialize a flat push the way WeChat does: text in CDATA, numbers bare."""
    parts = []
    for key, value in fields.items():
        body = str(value) if isinstance(value, (int, float)) else _cdata(str(value))
        parts.append(f"<{key}>{body}</{key}>")
    return "<xml>" + "".join(parts) + "</xml>"


def parse_reply(body: str) -> list[dict[str, Any]]:
    """Turn a passive reply XML into [{"type": "text"|"news", "text", "articles"}]."""
    if not body or body == "success":
        return []
    root = ET.fromstring(body)
    kind = root.findtext("MsgType") or ""
    if kind == "text":
        return [{"type": "text", "text": root.findtext("Content") or "", "articles": []}]
    if kind == "news":
        articles = [
            {
                "title": item.findtext("Title") or "",
                "description": item.findtext("Description") or "",
                "url": item.findtext("Url") or "",
                "picurl": item.findtext("PicUrl") or "",
            }
            for item in root.iter("item")
        ]
        text = articles[0]["title"] if articles else ""
        return [{"type": "news", "text": text, "articles": articles}]
    return [{"type": kind, "text": "", "articles": []}]


@dataclass
class PushResult:
    status_code: int
    body: str
    replies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def text(self) -> str:
        """All reply texts joined: what the resident sees."""
        return "\n".join(r["text"] for r in self.replies)


class WechatPusher:
    """Sends pushes to a webhook URL as WeChat's servers would."""

    def __init__(
        self,
        base_url: str,
        token: str,
        appid: str,
        aes_key: str = "",
        account: str = "gh_wuye_demo",
        session: requests.Session | Any | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/wechat"
        self.token = token
        self.appid = appid
        self.account = account
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None
        self.http = session or requests.Session()

    def fields(self, openid: str, msg_type: str, **extra: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "ToUserName": self.account,
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": msg_type,
        }
        base.update(extra)
        return base

    def query(self, timestamp: str | None = None, nonce: str | None = None) -> dict[str, str]:
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or secrets.token_hex(5)
        return {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp,
                "nonce": nonce}

    def push_xml(self, xml: str, params: dict[str, str] | None = None,
                 openid: str | None = None) -> PushResult:
        """POST one push (encrypted when safe mode is configured); decode the reply."""
        query = dict(params or self.query())
        body = xml
        if self.crypto is not None:
            encrypted = self.crypto.encrypt_message(xml, query["nonce"], query["timestamp"])
            root = ET.fromstring(encrypted)
            query["encrypt_type"] = "aes"
            query["msg_signature"] = root.findtext("MsgSignature") or ""
            body = build_xml({"ToUserName": self.account, "Encrypt": root.findtext("Encrypt")})
        if openid:
            query["openid"] = openid
        response = self.http.post(
            self.url + "?" + urlencode(query), data=body.encode("utf-8"),
            headers={"Content-Type": "text/xml"},
        )
        text = response.text if hasattr(response, "text") else response.get_data(as_text=True)
        return PushResult(response.status_code, text, self._decode(response.status_code, text))

    def _decode(self, status: int, body: str) -> list[dict[str, Any]]:
        if status != 200 or not body or body == "success":
            return []
        if self.crypto is not None and "<Encrypt>" in body:
            root = ET.fromstring(body)
            body = self.crypto.decrypt_message(
                body, root.findtext("MsgSignature"), root.findtext("TimeStamp"),
                root.findtext("Nonce"),
            )
        return parse_reply(body)

    def send(self, openid: str, msg_type: str, **extra: Any) -> PushResult:
        return self.push_xml(build_xml(self.fields(openid, msg_type, **extra)), openid=openid)

    def text(self, openid: str, content: str, msg_id: int | None = None) -> PushResult:
        return self.send(openid, "text", Content=content, MsgId=msg_id or next(_msg_ids))

    def voice(self, openid: str, recognition: str, msg_id: int | None = None) -> PushResult:
        return self.send(openid, "voice", MediaId="media_voice", Format="amr",
                         Recognition=recognition, MsgId=msg_id or next(_msg_ids))

    def image(self, openid: str, pic_url: str, media_id: str = "media_image",
              msg_id: int | None = None) -> PushResult:
        return self.send(openid, "image", PicUrl=pic_url, MediaId=media_id,
                         MsgId=msg_id or next(_msg_ids))

    def location(self, openid: str, x: float, y: float, label: str,
                 msg_id: int | None = None) -> PushResult:
        return self.send(openid, "location", Location_X=x, Location_Y=y, Scale=15,
                         Label=label, MsgId=msg_id or next(_msg_ids))

    def event(self, openid: str, event: str, event_key: str = "") -> PushResult:
        extra: dict[str, Any] = {"Event": event}
        if event_key:
            extra["EventKey"] = event_key
        return self.send(openid, "event", **extra)
