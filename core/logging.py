"""Log output that never carries a resident's phone number, home or a signed URL in clear.

Masking happens on the final formatted line, tracebacks included, so even a
database error that echoes its SQL parameters is safe to write. The engine is
also built with `hide_parameters` (core/db.py); the `[parameters: …]` strip here
is the second line of defence. Optionally every line is one JSON object carrying
the request id (log.json).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time

# Full-width digits and signs, the ideographic space: residents type them, and the
# patterns below should not need a second alphabet.
_WIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                        "＋": "+", "－": "-", "．": ".", "＃": "#", "\u3000": " "})

_SEP = r"[\s.\-]?"
_MOBILE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)?\s?86[\s\-]?)?"  # +86 / 0086 / 86 country code
    rf"(1[3-9]\d){_SEP}(\d{{4}}){_SEP}(\d{{4}})(?!\d)"
)
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?(\d{7,8})(?!\d)")

_NUM = r"[0-9零〇一二三四五六七八九十百两]"
_BUILDING = rf"(?:{_NUM}+|[A-Za-z])\s*(?:栋|幢|号楼|座|号|#)"
_UNIT = rf"{_NUM}+\s*单元"
_ROOM_NO = rf"{_NUM}{{2,5}}"
_ROOM = re.compile(
    rf"{_BUILDING}\s*(?:{_UNIT})?\s*{_ROOM_NO}\s*室?"  # 3栋2单元502, 三栋二单元五零二, 7#7906
    rf"|{_BUILDING}\s*{_UNIT}"  # 3栋2单元 (room left out)
    rf"|{_UNIT}\s*{_ROOM_NO}\s*室?"  # 2单元7908
    r"|(?<![\d.:\-])\d{1,3}-\d{1,2}-\d{3,4}(?![\d.:\-])"  # 3-2-502
    rf"|{_ROOM_NO}\s*室"  # 502室
)
# SQLAlchemy error text: "[parameters: ('o_x', '<xml>…')]" — never the values.
_SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
# psycopg's "DETAIL:  Key (openid, msg_id)=(o_x, 42) already exists."
_SQL_DETAIL = re.compile(r"(Key \([^)]*\)=)\([^\n]*?\)(?= already exists| is not present)")
# A WeChat push URL carries its signature in the query: log the path only.
_SIGNED_QUERY = re.compile(r"\?[^\s\"']*(?:signature|nonce|echostr|timestamp)=[^\s\"']*")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def mask(text: str) -> str:
    """138****8000 for phones, [房号] for homes, no SQL parameters, no signed queries."""
    text = text.translate(_WIDTH)
    text = _SIGNED_QUERY.sub("?[query hidden]", text)
    text = _SQL_PARAMETERS.sub("[parameters hidden]", text)
    text = _SQL_DETAIL.sub(r"\1(hidden)", text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _ROOM.sub("[房号]", text)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)[-2:]}", text)


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line (for log collectors), masked like the text format."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "request_id": request_id.get(),
            "message": mask(record.getMessage()),
        }
        if record.exc_info:
            entry["exc"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def make_formatter(json_lines: bool = False) -> logging.Formatter:
    if json_lines:
        return JsonFormatter()
    return MaskingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")


def configure_logging(level: int | str = logging.INFO, json_lines: bool = False) -> None:
    """Root logging for every `wuye` command, masked."""
    handler = logging.StreamHandler()
    handler.setFormatter(make_formatter(json_lines))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if isinstance(level, str) else level)
    logging.getLogger("rasa_sdk").setLevel(logging.WARNING)  # chatty about unset slots
