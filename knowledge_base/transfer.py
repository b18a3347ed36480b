"""FAQ import and export as CSV or XLSX: company entries, or one community's own answers.

Columns: id, category, question, similar questions, answer, enabled (Chinese
headers are accepted too). Similar questions share one cell, one per line (or
separated by |). An import is checked whole first: with any bad row nothing is
written, and every bad row is reported by its line.

With a community, a row whose id is a company topic becomes that community's
override (its answer wins there); any other id is a topic of that community only.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction, utcnow
from core.models import FaqEntry, FaqOverride
from knowledge_base.repository import record_version

COLUMNS = ("id", "category", "question", "similar_questions", "answer", "enabled")
HEADERS = {
    "id": "id", "编号": "id", "category": "category", "分类": "category",
    "question": "question", "标准问题": "question", "问题": "question",
    "similar_questions": "similar_questions", "similar questions": "similar_questions",
    "相似问题": "similar_questions", "answer": "answer", "答案": "answer",
    "enabled": "enabled", "启用": "enabled", "是否启用": "enabled",
}
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SPLIT = re.compile(r"\s*(?:\r?\n|\|)\s*")
_YES = {"", "1", "true", "yes", "y", "是", "启用", "on"}
_NO = {"0", "false", "no", "n", "否", "停用", "禁用", "off"}
MAX_CATEGORY_CHARS = 32


class FaqImportError(ValueError):
    """The file cannot be imported; `errors` names every bad row (nothing was written)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors[:5]) + (" …" if len(errors) > 5 else ""))
        self.errors = errors


@dataclass
class FaqRow:
    line: int
    id: str
    category: str
    question: str
    similar_questions: list[str]
    answer: str
    enabled: bool


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    overridden: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[str]]:
        return {"created": self.created, "updated": self.updated, "overridden": self.overridden}


# -- reading files ------------------------------------------------------------------------
def read_table(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV or XLSX file as {column: text}, headers mapped to COLUMNS."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            raw = list(csv.reader(handle))
    elif suffix == ".xlsx":
        raw = _xlsx_rows(path)
    else:
        raise FaqImportError([f"{path.name}: only .csv and .xlsx files are supported"])
    if not raw:
        raise FaqImportError([f"{path.name}: the file is empty"])
    header = [HEADERS.get(str(h).strip().lower(), str(h).strip()) for h in raw[0]]
    missing = [c for c in ("id", "answer") if c not in header]
    if missing:
        raise FaqImportError([f"line 1: missing column(s) {', '.join(missing)}"])
    return [{header[i]: str(value if value is not None else "").strip()
             for i, value in enumerate(row) if i < len(header)} for row in raw[1:]]


def _xlsx_rows(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise FaqImportError([f"{path.name}: not a readable XLSX file ({exc})"]) from None
    try:
        sheet = book.worksheets[0]
        return [["" if v is None else str(v) for v in row]
                for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def parse_rows(rows: Iterable[dict[str, str]], needs_question: set[str]) -> list[FaqRow]:
    """Check every row; raise FaqImportError listing all problems, or return them parsed.
    `needs_question`: ids that will be created (a new entry needs its question)."""
    parsed: list[FaqRow] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        if not any(row.values()):
            continue  # blank line
        problems = []
        faq_id = row.get("id", "")
        if not _ID.match(faq_id):
            problems.append("id must be 1-64 letters, digits, '_', '-' or '.'")
        elif faq_id in seen:
            problems.append(f"id {faq_id} already on line {seen[faq_id]}")
        if not row.get("answer"):
            problems.append("answer is empty")
        if faq_id in needs_question and not row.get("question"):
            problems.append("question is empty (needed for a new entry)")
        if len(row.get("category", "")) > MAX_CATEGORY_CHARS:
            problems.append(f"category longer than {MAX_CATEGORY_CHARS} characters")
        flag = row.get("enabled", "").lower()
        if flag not in _YES | _NO:
            problems.append(f"enabled must be 1/0 (yes/no), got {row.get('enabled')!r}")
        if problems:
            errors.append(f"line {line}: " + "; ".join(problems))
            continue
        seen[faq_id] = line
        parsed.append(FaqRow(line, faq_id, row.get("category", ""), row.get("question", ""),
                             [q for q in _SPLIT.split(row.get("similar_questions", "")) if q],
                             row["answer"], flag not in _NO))
    if errors:
        raise FaqImportError(errors)
    return parsed


# -- import ---------------------------------------------------------------------------------
def import_faq(sessions: sessionmaker[Session], path: Path, community_id: int | None = None,
               updated_by: str = "import") -> ImportResult:
    """Import a file into the company entries, or into one community's answers."""
    rows = read_table(path)
    with sessions() as session:
        owners = dict(session.execute(select(FaqEntry.id, FaqEntry.community_id)).all())
    ids = {row.get("id", "") for row in rows}
    errors = [f"id {i}: belongs to another community" for i in sorted(ids)
              if i in owners and owners[i] is not None and owners[i] != community_id]
    if community_id is None:
        errors += [f"id {i}: a community's own topic; import it with its --community"
                   for i in sorted(ids) if i in owners and owners[i] is not None]
    parsed = parse_rows(rows, {i for i in ids if i not in owners})
    if errors:
        raise FaqImportError(sorted(set(errors)))
    result = ImportResult()
    with transaction(sessions) as session:
        for row in parsed:
            if community_id is not None and owners.get(row.id, -1) is None:
                _write_override(session, row, community_id, updated_by)
                result.overridden.append(row.id)
            else:
                created = _write_entry(session, row, community_id, updated_by)
                (result.created if created else result.updated).append(row.id)
    from knowledge_base.repository import note_bulk_write

    note_bulk_write()
    return result


def _write_entry(session: Session, row: FaqRow, community_id: int | None,
                 updated_by: str) -> bool:
    entry = session.get(FaqEntry, row.id)
    created = entry is None
    if entry is None:
        entry = FaqEntry(id=row.id, version=0, keywords=[], community_id=community_id)
        session.add(entry)
    entry.category = row.category or entry.category or "general"
    entry.question = row.question or entry.question
    entry.similar_questions = row.similar_questions
    entry.answer, entry.enabled = row.answer, row.enabled
    entry.version = (entry.version or 0) + 1
    entry.updated_at, entry.updated_by = utcnow(), updated_by
    session.flush()
    record_version(session, entry, "import")  # the history page and rollback see imports
    return created


def _write_override(session: Session, row: FaqRow, community_id: int, updated_by: str) -> None:
    override = session.get(FaqOverride, (row.id, community_id))
    if override is None:
        override = FaqOverride(faq_id=row.id, community_id=community_id, version=0)
        session.add(override)
    override.question, override.similar_questions = row.question, row.similar_questions
    override.answer, override.enabled = row.answer, row.enabled
    override.version = (override.version or 0) + 1
    override.updated_at, override.updated_by = utcnow(), updated_by


# -- export ---------------------------------------------------------------------------------
def export_rows(sessions: sessionmaker[Session],
                community_id: int | None = None) -> list[list[str]]:
    """The header and one row per entry: company entries, or the community's own rows."""
    table = [list(COLUMNS)]
    with sessions() as session:
        entries = session.scalars(select(FaqEntry).where(
            FaqEntry.community_id.is_(None) if community_id is None
            else FaqEntry.community_id == community_id).order_by(FaqEntry.id)).all()
        table += [[e.id, e.category, e.question, "\n".join(e.similar_questions or []),
                   e.answer, "1" if e.enabled else "0"] for e in entries]
        if community_id is not None:
            overrides = session.scalars(select(FaqOverride).where(
                FaqOverride.community_id == community_id).order_by(FaqOverride.faq_id)).all()
            categories = dict(session.execute(select(FaqEntry.id, FaqEntry.category)).all())
            table += [[o.faq_id, categories.get(o.faq_id, ""), o.question,
                       "\n".join(o.similar_questions or []), o.answer,
                       "1" if o.enabled else "0"] for o in overrides]
    return table


def export_faq(sessions: sessionmaker[Session], path: Path,
               community_id: int | None = None) -> int:
    """Write the export to a .csv or .xlsx file; returns the number of entries."""
    table = export_rows(sessions, community_id)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(table)
    elif suffix == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "FAQ"
        for row in table:
            sheet.append(row)
        book.save(path)
    else:
        raise FaqImportError([f"{path.name}: only .csv and .xlsx files are supported"])
    return len(table) - 1
