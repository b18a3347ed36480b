"""Two communities loaded as in demo mode: 翠湖花园 (first) and 蓝湾雅苑, with residents."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from communities.directory import CommunityInfo
from core.config import Config

# A Wednesday 17:50: 翠湖花园 is open (until 18:00), 蓝湾雅苑 has closed (17:30).
WEDNESDAY_1750 = "2026-11-18T17:50:00+08:00"
CUIHU = "demo_cuihu_502"      # bound to 翠湖花园 3栋2单元502
LANWAN = "demo_lanwan_301"    # bound to 蓝湾雅苑 2栋1单元301
TWO_HOMES = "demo_two_homes"  # homes in both (翠湖花园 first)


@pytest.fixture()
def app_config(app_config: Config) -> Config:
    return dataclasses.replace(
        app_config, handoff=dataclasses.replace(app_config.handoff, clock=WEDNESDAY_1750))


@pytest.fixture()
def two(services: Any) -> dict[str, CommunityInfo]:
    """Both demo communities, their households, bills, overrides and bound residents."""
    from wuye.demo import bind_demo_personas, load_demo_communities

    load_demo_communities(services.sessions, services.config)
    bind_demo_personas(services.sessions)
    return {c.code: c for c in services.communities.list()}


# The console's signed-in staff fixtures, shared with tests/admin.
from tests.admin.conftest import console_app, make_staff  # noqa: E402,F401
