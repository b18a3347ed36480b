"""The knowledge loop's admin changes (FAQ, queue, retraining, notices, menu, welcome
card) written to the audit log (admin/audit.py), each with its actor and address."""

from __future__ import annotations

from flask import request

from admin import audit, auth


def record(action: str, target: str = "", detail: str = "") -> None:
    """Who (the signed-in admin) did what to which object, and from where."""
    audit.record(auth.services().sessions, auth.current_user(), action, target, detail,
                 request.remote_addr or "")
