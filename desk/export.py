"""The KPI report as CSV and as an XLSX workbook (one sheet per table)."""

from __future__ import annotations

import csv
import io
from typing import Any

from desk.kpis import KPI_NAMES, PERCENT_KPIS


def _cell(key: str, value: Any) -> Any:
    if value is None:
        return ""
    if key in PERCENT_KPIS and isinstance(value, float):
        return round(value * 100, 1)
    return value


def summary_rows(report: dict[str, Any]) -> list[list[Any]]:
    header = ["周期"] + [f"{label}{'(%)' if key in PERCENT_KPIS else ''}"
                        for key, (label, _) in KPI_NAMES.items()]
    rows = [header]
    for item in report["series"] + [{"period": "合计"} | report["totals"]]:
        rows.append([item["period"]] + [_cell(k, item.get(k)) for k in KPI_NAMES])
    return rows


def table_rows(items: list[dict[str, Any]]) -> list[list[Any]]:
    if not items:
        return [["（无数据）"]]
    keys = [k for k in items[0] if k != "counts"]
    return [keys] + [[_cell(k, item.get(k)) for k in keys] for item in items]


SHEETS = (("指标", None), ("按客服", "by_agent"), ("按部门", "by_department"),
          ("按类型", "by_type"), ("按类型和优先级", "by_type_priority"),
          ("按小区", "by_community"), ("超时", "sla_breaches"), ("主要问题", "top_issues"))


def to_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for title, key in SHEETS:
        writer.writerow([f"# {title}"])
        writer.writerows(summary_rows(report) if key is None else table_rows(report[key]))
        writer.writerow([])
    return "\ufeff" + out.getvalue()  # BOM: Excel opens Chinese CSV correctly


def to_xlsx(report: dict[str, Any]) -> bytes:
    from openpyxl import Workbook  # ~0.1 s to import: only an export pays for it, not start-up

    book = Workbook()
    book.remove(book.active)
    for title, key in SHEETS:
        sheet = book.create_sheet(title)
        for row in summary_rows(report) if key is None else table_rows(report[key]):
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
