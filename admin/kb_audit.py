"""The one place knowledge-loop admin changes are recorded (FAQ, queue, notices, menu,
retraining): each action calls `record` once, so pointing it at the audit log table
is a change here only."""

from __future__ import annotations

import logging

log = logging.getLogger("wuye.audit")


def record(actor: str, action: str, target: str = "", detail: str = "") -> None:
    """Who did what to which object."""
    log.info("admin %s: %s %s %s", actor, action, target, detail[:200])
