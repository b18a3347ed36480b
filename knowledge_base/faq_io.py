"""FAQ import and export as CSV or XLSX: one module for the admin page and the CLI.

An import is read, then checked row by row into a preview; nothing is written
unless every row is valid, and then all rows are written in one transaction.
Columns (English or Chinese headers): id, category, question, similar questions,
answer, enabled, and optionally valid from, valid until, community.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.models import Community
from knowledge_base.repository import Faq, FaqRepository

COLUMNS = ("id", "category", "question", "similar_questions", "answer", "enabled",
           "valid_from", "valid_until", "community")
HEADERS = {"id": "编号", "category": "分类", "question": "标准问题",
           "similar_questions": "相似问题", "answer": "答案", "enabled": "启用",
           "valid_from": "生效时间", "valid_until": "失效时间", "community": "小区"}
_ALIASES = {alias.lower(): name for name, alias in HEADERS.items()} | {
    name: name for name in COLUMNS} | {"similar questions": "similar_questions",
                                       "valid from": "valid_from", "valid until": "valid_until"}
REQUIRED = ("question", "answer")
ID_PATTERN = re.compile(r"^[a-z0-9_\-]{1,64}$")
_SPLIT = re.compile(r"[\n|｜；;]+")
_TRUE = {"1", "true", "yes", "y", "是", "启用", "开", "on"}
_FALSE = {"0", "false", "no", "n", "否", "停用", "关", "off"}
MAX_ROWS = 5000
MAX_ANSWER_CHARS = 2000
MAX_QUESTION_CHARS = 200


class ImportFormatError(ValueError):
    """The file as a whole cannot be read (not CSV/XLSX, no header, missing columns)."""


@dataclass
class RowCheck:
    """One data row of the file: what it would do, or why it cannot."""

    line: int
    values: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    action: str = ""  # create | update | override | unchanged

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Preview:
    """The whole import checked: write only when `ok`."""

    rows: list[RowCheck]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(row.ok for row in self.rows)

    @property
    def errors(self) -> list[RowCheck]:
        return [row for row in self.rows if not row.ok]

    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "override": 0, "unchanged": 0,
                  "error": len(self.errors)}
        for row in self.rows:
            if row.ok:
                counts[row.action] += 1
        return counts


# -- reading -------------------------------------------------------------------------------
def read_table(filename: str, data: bytes) -> list[list[str]]:
    """The file's cells as text rows, header first."""
    if filename.lower().endswith(".xlsx"):
        return _read_xlsx(data)
    if filename.lower().endswith(".csv"):
        return _read_csv(data)
    raise ImportFormatError("只支持 .xlsx 或 .csv 文件")


def _read_csv(data: bytes) -> list[list[str]]:
    # Excel in Chinese Windows saves CSV as GBK; everything else is UTF-8 (maybe with BOM).
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFormatError("CSV 文件编码无法识别，请另存为 UTF-8")
    try:
        return [list(row) for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise ImportFormatError(f"CSV 格式有误：{exc}") from None


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises zipfile, KeyError and its own errors alike
        raise ImportFormatError("不是有效的 Excel（.xlsx）文件") from None
    sheet = book.worksheets[0]
    rows = [["" if cell is None else _cell_text(cell) for cell in row]
            for row in sheet.iter_rows(values_only=True)]
    book.close()
    return rows


def _cell_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def header_map(header: Sequence[str]) -> dict[str, int]:
    """Column name → position; unknown headers are ignored, required ones must be there."""
    found: dict[str, int] = {}
    for position, title in enumerate(header):
        name = _ALIASES.get(str(title).strip().lower())
        if name and name not in found:
            found[name] = position
    missing = [HEADERS[name] for name in REQUIRED if name not in found]
    if missing:
        raise ImportFormatError(f"缺少列：{'、'.join(missing)}")
    return found


# -- checking ------------------------------------------------------------------------------
def check(rows: list[list[str]], repository: FaqRepository,
          communities: dict[str, int], default_community: int | None = None) -> Preview:
    """Check every data row against the file and the knowledge base; write nothing."""
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ImportFormatError("文件为空或缺少表头")
    columns = header_map(rows[0])
    body = [(i, r) for i, r in enumerate(rows[1:], start=2) if any(c.strip() for c in r)]
    if len(body) > MAX_ROWS:
        raise ImportFormatError(f"一次最多导入 {MAX_ROWS} 行")
    existing = {faq.id: faq for faq in repository.list()}
    seen_ids: dict[str, int] = {}
    seen_questions: dict[str, int] = {}
    checks = []
    for line, raw in body:
        cells = {name: (raw[pos].strip() if pos < len(raw) else "")
                 for name, pos in columns.items()}
        row = _check_row(line, cells, communities, default_community)
        faq_id = row.values.get("id", "")
        if faq_id in seen_ids:
            row.errors.append(f"编号 {faq_id} 与第 {seen_ids[faq_id]} 行重复")
        seen_ids.setdefault(faq_id, line)
        question = row.values.get("question", "")
        if question and question in seen_questions:
            row.errors.append(f"标准问题与第 {seen_questions[question]} 行重复")
        seen_questions.setdefault(question, line)
        current = existing.get(faq_id)
        if current is not None and current.community_id is not None \
                and current.community_id != row.values["community_id"]:
            row.errors.append(f"编号 {faq_id} 是另一个小区专有的问题")
        if row.ok:
            row.action = _action(current, row.values)
        checks.append(row)
    return Preview(checks)


def _check_row(line: int, cells: dict[str, str], communities: dict[str, int],
               default_community: int | None) -> RowCheck:
    errors: list[str] = []
    question, answer = cells.get("question", ""), cells.get("answer", "")
    if not question:
        errors.append("标准问题不能为空")
    elif len(question) > MAX_QUESTION_CHARS:
        errors.append(f"标准问题超过 {MAX_QUESTION_CHARS} 字")
    if not answer:
        errors.append("答案不能为空")
    elif len(answer) > MAX_ANSWER_CHARS:
        errors.append(f"答案超过 {MAX_ANSWER_CHARS} 字")
    faq_id = cells.get("id", "").lower() or _generated_id(question)
    if not ID_PATTERN.match(faq_id):
        errors.append("编号只能包含小写字母、数字、下划线和短横线")
    enabled = _flag(cells.get("enabled", ""), errors)
    valid_from = _time(cells.get("valid_from", ""), "生效时间", errors)
    valid_until = _time(cells.get("valid_until", ""), "失效时间", errors)
    if valid_from and valid_until and valid_until <= valid_from:
        errors.append("失效时间必须晚于生效时间")
    community_id = default_community
    code = cells.get("community", "")
    if code:
        community_id = communities.get(code)
        if community_id is None:
            errors.append(f"小区编码 {code} 不存在")
    values = {"id": faq_id, "category": cells.get("category", "") or "general",
              "question": question, "answer": answer,
              "similar_questions": [q.strip() for q in _SPLIT.split(
                  cells.get("similar_questions", "")) if q.strip()],
              "enabled": enabled, "valid_from": valid_from, "valid_until": valid_until,
              "community_id": community_id}
    return RowCheck(line, values, errors)


def _generated_id(question: str) -> str:
    return "faq_" + hashlib.sha1(question.encode("utf-8")).hexdigest()[:8] if question else ""


def _flag(value: str, errors: list[str]) -> bool:
    lowered = value.strip().lower()
    if not lowered or lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    errors.append(f"启用一列只能填 1/0 或 是/否，而不是“{value}”")
    return True


def _time(value: str, label: str, errors: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("/", "-"))
    except ValueError:
        errors.append(f"{label}格式应为 2026-01-31 或 2026-01-31 08:00")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _action(current: Faq | None, values: dict[str, Any]) -> str:
    if current is None:
        return "create"
    if current.community_id is None and values["community_id"] is not None:
        return "override"  # a company topic imported for one community: its own answer
    same = (current.question == values["question"] and current.answer == values["answer"]
            and current.category == values["category"]
            and current.similar_questions == values["similar_questions"]
            and current.enabled == values["enabled"]
            and current.community_id == values["community_id"]
            and current.valid_from == values["valid_from"]
            and current.valid_until == values["valid_until"])
    return "unchanged" if same else "update"


# -- writing -------------------------------------------------------------------------------
def apply(preview: Preview, repository: FaqRepository, updated_by: str,
          sessions: sessionmaker[Session] | None = None) -> int:
    """Write a clean preview (all rows or none); returns how many entries changed.

    As `wuye faq import --community` does (knowledge_base.transfer), a company topic
    imported for one community becomes that community's override, not a new owner."""
    if not preview.ok:
        raise ImportFormatError("导入文件有错误，未写入任何内容")
    changes = []
    overrides = [row for row in preview.rows if row.action == "override"]
    if overrides and sessions is not None:
        from knowledge_base.overrides import CommunityKnowledge

        knowledge = CommunityKnowledge(sessions)
        for row in overrides:
            values = row.values
            knowledge.save_override(values["id"], values["community_id"], values["answer"],
                                    question=values["question"],
                                    similar_questions=values["similar_questions"],
                                    enabled=values["enabled"], updated_by=updated_by)
    for row in preview.rows:
        if row.action in ("unchanged", "override"):
            continue
        current = repository.get(row.values["id"])
        keywords = current.keywords if current is not None else []
        changes.append({**row.values, "keywords": keywords})
    if changes:
        repository.save_many(changes, updated_by=updated_by, action="import")
    return len(changes) + len(overrides)


def community_codes(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        return {code: cid for code, cid in session.execute(select(Community.code, Community.id))}


def import_file(sessions: sessionmaker[Session], filename: str, data: bytes,
                default_community: int | None = None) -> Preview:
    """Read and check a file (the preview); call `apply` to write it."""
    return check(read_table(filename, data), FaqRepository(sessions),
                 community_codes(sessions), default_community)


# -- exporting -----------------------------------------------------------------------------
def export_rows(entries: Iterable[Faq], codes: dict[int, str]) -> list[list[str]]:
    """Header (Chinese titles) and one row per entry, similar questions one per line."""
    rows = [[HEADERS[name] for name in COLUMNS]]
    for faq in entries:
        rows.append([faq.id, faq.category, faq.question, "\n".join(faq.similar_questions),
                     faq.answer, "1" if faq.enabled else "0", _stamp(faq.valid_from),
                     _stamp(faq.valid_until), codes.get(faq.community_id or 0, "")])
    return rows


def _stamp(value: datetime | None) -> str:
    return value.isoformat(sep=" ", timespec="minutes") if value else ""


def export_bytes(rows: list[list[str]], kind: str) -> bytes:
    """CSV (UTF-8 with BOM, so Excel opens it in Chinese) or XLSX."""
    if kind == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return buffer.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "FAQ"
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_file(sessions: sessionmaker[Session], kind: str,
                community_id: int | None = None) -> bytes:
    entries = FaqRepository(sessions).list()
    if community_id is not None:
        entries = [f for f in entries if f.community_id in (None, community_id)]
    codes = {cid: code for code, cid in community_codes(sessions).items()}
    return export_bytes(export_rows(entries, codes), kind)


def write_export(path: Path, sessions: sessionmaker[Session],
                 community_id: int | None = None) -> int:
    """The CLI's export: the kind follows the file's suffix; returns the entry count."""
    kind = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
    data = export_file(sessions, kind, community_id)
    path.write_bytes(data)
    return len(read_table(path.name, data)) - 1
