"""Log output that never carries a resident's phone number or home in clear.

Masking happens on the final formatted line, tracebacks included, so even a
database error that echoes its SQL parameters is safe to write.
"""

from __future__ import annotations

import logging
import re

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?(\d{7,8})(?!\d)")
_ROOM = re.compile(
    r"(?:[0-9一二三四五六七八九十]+|[A-Za-z])\s*(?:栋|幢|号楼|座|号)\s*"
    r"(?:[0-9一二三四五六七八九十]+\s*单元)?\s*\d{2,4}\s*室?"
    r"|(?<![\d.:])\d{1,3}-\d{1,2}-\d{3,4}(?![\d.:])"
)


def mask(text: str) -> str:
    """138****8000 for phones, ***** for homes."""
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _ROOM.sub("[房号]", text)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)[-2:]}", text)


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


def configure_logging(level: int = logging.INFO) -> None:
    """Root logging for every `wuye` command, masked."""
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("rasa_sdk").setLevel(logging.WARNING)  # chatty about unset slots
