"""Classification, priority and SLA come from the rule files, as DOMAIN.md describes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers.tickets.rules import DispatchRules, LifeCycle, TransitionError, raise_priority

RULES = DispatchRules.load()
LIFE = LifeCycle.load()


@pytest.mark.parametrize(("ticket_type", "text", "department", "priority"), [
    ("repair", "卫生间下水道堵了", "工程部", "P3"),
    ("repair", "5栋楼道的灯不亮了", "工程部", "P3"),
    ("repair", "家里停水了", "工程部", "P2"),
    ("repair", "电梯坏了一直不动", "工程部", "P2"),
    ("repair", "单元门门禁坏了打不开", "工程部", "P2"),
    ("emergency", "电梯困人了快来人", "工程部", "P1"),
    ("emergency", "楼道里好大的煤气味", "工程部", "P1"),
    ("emergency", "楼下着火了好多烟", "安保部", "P1"),
    ("complaint", "楼上每天半夜还在装修吵死了", "安保部", "P3"),
    ("complaint", "保安态度太差了", "客服部", "P3"),
    ("complaint", "车位总被别人占了", "安保部", "P3"),
    ("complaint", "楼道垃圾好几天没人清理", "环境部", "P3"),
    ("complaint", "物业费多收了我一个月", "财务部", "P3"),
    ("suggestion", "建议小区多装几个快递柜", "客服部", "P3"),
    ("service_request", "货梯预约", "工程部", "P3"),
    ("service_request", "家政保洁", "环境部", "P3"),
], ids=lambda v: v if isinstance(v, str) and len(v) > 3 else None)
def test_department_and_priority_follow_the_rules(ticket_type: str, text: str,
                                                   department: str, priority: str) -> None:
    found = RULES.classify(ticket_type, text)
    assert (found.department, found.priority) == (department, priority)


@pytest.mark.parametrize(("ticket_type", "priority", "response", "done"), [
    ("repair", "P1", timedelta(minutes=15), timedelta(hours=4)),
    ("repair", "P2", timedelta(hours=2), timedelta(hours=24)),
    ("service_request", "P3", timedelta(hours=24), timedelta(hours=72)),
    ("complaint", "P3", timedelta(hours=48), None),
])
def test_deadlines_come_from_the_sla_table(ticket_type: str, priority: str,
                                            response: timedelta, done: timedelta | None) -> None:
    start = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    response_due, resolve_due = RULES.deadlines(ticket_type, priority, start)
    assert response_due - start == response
    assert (resolve_due - start if resolve_due else None) == done


def test_life_cycle_refuses_moves_not_in_the_table() -> None:
    LIFE.check_move("dispatched", "accepted")
    with pytest.raises(TransitionError, match="不能改为"):
        LIFE.check_move("new", "resolved")
    with pytest.raises(TransitionError):
        LIFE.check_move("cancelled", "dispatched")
    with pytest.raises(TransitionError, match="未知状态"):
        LIFE.check_move("new", "done")


def test_raising_priority_stops_at_p1() -> None:
    assert [raise_priority(p) for p in ("P3", "P2", "P1")] == ["P2", "P1", "P1"]
