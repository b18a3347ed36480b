"""Passive reply XML that is valid whatever the text holds, and splitting of long text."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

# XML 1.0 forbids most C0 controls; WeChat drops the whole reply if one slips in.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_TEXT_BYTES = 2048


@dataclass(frozen=True)
class Reply:
    """One message to the resident: text, or a news card with articles."""

    kind: str = "text"  # text | news
    text: str = ""
    articles: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "articles": self.articles}


def clean_text(text: str) -> str:
    return _INVALID_XML.sub("", text)


def cdata(text: str) -> str:
    """Wrap in CDATA; a literal `]]>` is split across two sections."""
    return "<![CDATA[" + clean_text(text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Split at line or character boundaries so every part fits WeChat's byte limit."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        if len((current + line).encode("utf-8")) <= limit:
            current += line
            continue
        if current:
            parts.append(current)
            current = ""
        while len(line.encode("utf-8")) > limit:
            cut = _fit(line, limit)
            parts.append(line[:cut])
            line = line[cut:]
        current = line
    if current or not parts:
        parts.append(current)
    return [p.rstrip("\n") for p in parts]


def _fit(text: str, limit: int) -> int:
    size = 0
    for index, char in enumerate(text):
        size += len(char.encode("utf-8"))
        if size > limit:
            return index
    return len(text)


def expand(replies: list[Reply]) -> list[Reply]:
    """Long texts become several replies, each within the byte limit."""
    out: list[Reply] = []
    for reply in replies:
        if reply.kind == "text":
            out.extend(Reply("text", part) for part in split_text(reply.text))
        else:
            out.append(reply)
    return out


def passive_xml(reply: Reply, openid: str, account: str, now: int | None = None) -> str:
    """The XML answered directly to a push; a news reply carries exactly one article."""
    head = (
        f"<xml><ToUserName>{cdata(openid)}</ToUserName>"
        f"<FromUserName>{cdata(account)}</FromUserName>"
        f"<CreateTime>{now or int(time.time())}</CreateTime>"
    )
    if reply.kind == "news" and reply.articles:
        article = reply.articles[0]
        item = (
            f"<item><Title>{cdata(article.get('title', ''))}</Title>"
            f"<Description>{cdata(article.get('description', ''))}</Description>"
            f"<PicUrl>{cdata(article.get('picurl', ''))}</PicUrl>"
            f"<Url>{cdata(article.get('url', ''))}</Url></item>"
        )
        return head + "<MsgType><![CDATA[news]]></MsgType><ArticleCount>1</ArticleCount>" \
            f"<Articles>{item}</Articles></xml>"
    return head + f"<MsgType><![CDATA[text]]></MsgType><Content>{cdata(reply.text)}</Content></xml>"


def custom_payload(reply: Reply, openid: str) -> dict[str, Any]:
    """The customer-service API body for a reply delivered later."""
    if reply.kind == "news" and reply.articles:
        return {"touser": openid, "msgtype": "news", "news": {"articles": reply.articles[:1]}}
    return {"touser": openid, "msgtype": "text", "text": {"content": clean_text(reply.text)}}
