"""The desk's scheduled work, one function the worker loop calls: SLA watch, residents'
photos fetched into our storage, conversations queued for quality review."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from core.db import utcnow
from core.schedule import Every

log = logging.getLogger(__name__)


def run_once(services: Any, now: datetime | None = None) -> dict[str, Any]:
    """One pass of every desk job; each job's failure is logged and does not stop the rest."""
    from desk import media, quality, sla

    now = now or utcnow()
    report: dict[str, Any] = {}
    jobs = {
        "sla": lambda: sla.watch_for(services).run(now),
        "photos": lambda: media.sync_resident_photos(services.sessions, services.config,
                                                     services.wechat_api),
        "quality": lambda: quality.collect(services.sessions, services.config, now),
    }
    for name, job in jobs.items():
        try:
            report[name] = job()
        except Exception:  # one job's bug or a brief outage must not stop the others
            log.exception("desk job %s failed", name)
            report[name] = None
    return report


class DeskJobs:
    """The worker loop calls `tick` on every poll; the jobs run every `desk.job_seconds`."""

    def __init__(self, services: Any) -> None:
        self.services = services
        self.every = Every(services.config.desk.job_seconds)

    def tick(self) -> dict[str, Any] | None:
        return run_once(self.services) if self.every.due() else None
