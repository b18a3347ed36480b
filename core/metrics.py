"""Prometheus counters every part of the system records into; `/metrics` exposes them.

Under gunicorn each worker is its own process: `enable_multiprocess(dir)` (called
by `wuye serve` / `wuye worker` before anything imports prometheus_client) makes
every process write its samples to files in one directory, and `render()` sums
them. Without it (tests, demo) the process's own registry is used.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

PUSHES = Counter("wuye_pushes_total", "WeChat pushes to /wechat by outcome "
                 "(replied, success, deferred, duplicate, rejected, error, unavailable)",
                 ["outcome"])
REQUEST_SECONDS = Histogram("wuye_request_seconds", "HTTP request latency by route group",
                            ["route"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2, 4, 8))
NLU_DECISIONS = Counter("wuye_nlu_decisions_total", "NLU decisions by intent", ["intent"])
HANDOVERS = Counter("wuye_handovers_total", "Conversations queued for a person, by reason",
                    ["reason"])
OUTBOX_SENDS = Counter("wuye_outbox_sends_total", "Outbox send attempts by outcome "
                       "(sent, retry, failed, ambiguous)", ["outcome"])
# Every metric has labels, so its samples are created on first use: after
# enable_multiprocess has chosen the storage (see there).
OUTBOX_DUPLICATES_AVOIDED = Counter("wuye_outbox_duplicates_avoided_total",
                                    "Sends not repeated because WeChat may already have them "
                                    "(ambiguous items flagged for an agent instead)", ["how"])
SWEEPER_RECOVERIES = Counter("wuye_sweeper_recoveries_total",
                             "Stranded inbound pushes the sweeper picked up (recovered) or "
                             "left for a person (given_up)", ["outcome"])
SLA_BREACHES = Counter("wuye_sla_breaches_total", "Tickets or handovers past their SLA",
                       ["kind"])


def enable_multiprocess(directory: Path) -> None:
    """Point prometheus_client at a shared directory; drop files of dead processes.

    prometheus_client picks its value storage from the environment at import; it is
    picked again here, before any labelled sample exists (the CLI calls this first).
    """
    from prometheus_client import values

    directory.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    values.ValueClass = values.get_value_class()
    for path in directory.glob("*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_dead(pid: int) -> None:
    """A gunicorn worker exited: its live gauges no longer count."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


class _Gauges:
    """Values read at scrape time (outbox depth), from a callable the app provides."""

    def __init__(self, read: Callable[[], dict[str, float]]) -> None:
        self.read = read

    def collect(self) -> Iterable[Metric]:
        try:
            values = self.read()
        except Exception:  # a scrape must not fail because the database is down
            values = {}
        for name, value in values.items():
            family = GaugeMetricFamily(name, name.replace("_", " "))
            family.add_metric([], value)
            yield family


def render(read_gauges: Callable[[], dict[str, float]] | None = None) -> bytes:
    """The text exposition of every process's samples, plus scrape-time gauges."""
    registry = CollectorRegistry()
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry, path=directory)
        body = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        body = generate_latest(REGISTRY)
    if read_gauges is not None:
        extra = CollectorRegistry()
        extra.register(_Gauges(read_gauges))  # type: ignore[arg-type]
        body += generate_latest(extra)
    return body
