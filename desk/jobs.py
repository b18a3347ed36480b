"""The desk's scheduled work, one function the worker loop calls: SLA watch, residents'
photos fetched into our storage, conversations queued for quality review."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from core.db import utcnow

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


def run_forever(services: Any, stop: threading.Event) -> None:
    """The loop `wuye worker` runs beside the outbox sender."""
    interval = services.config.desk.job_seconds
    log.info("desk jobs started (every %ss)", interval)
    while not stop.is_set():
        run_once(services)
        stop.wait(interval)


def start_background(services: Any) -> threading.Thread:
    thread = threading.Thread(target=run_forever, args=(services, services.stopping),
                              name="desk-jobs", daemon=True)
    thread.start()
    return thread
