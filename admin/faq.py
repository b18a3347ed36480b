"""FAQ administration: create and edit with similar questions and validity dates, search,
history with diffs and rollback, CSV/XLSX import with a preview, export, bulk switches."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from admin import auth, kb_audit
from communities.directory import Communities
from knowledge_base import faq_io
from knowledge_base.history import diff
from knowledge_base.repository import FaqRepository
from knowledge_loop.feedback import FeedbackStore

bp = Blueprint("kb", __name__, url_prefix="/admin", template_folder="templates")

IMPORT_TTL_SECONDS = 1800
MAX_IMPORT_BYTES = 5 * 1024 * 1024
_TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d")


@bp.before_request
def _guard() -> Any:
    return auth.guard(role="admin")


def _faqs() -> FaqRepository:
    return FaqRepository(auth.services().sessions)


def _user() -> str:
    return auth.current_user().username


def lines(value: str) -> list[str]:
    """Textarea → one item per non-empty line (the bulk similar-questions field)."""
    return [line.strip() for line in value.replace("\r", "").split("\n") if line.strip()]


def _time(value: str) -> datetime | None:
    value = value.strip()
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _communities() -> list[Any]:
    return Communities(auth.services().sessions).list()


# -- list, search, bulk ---------------------------------------------------------------------
@bp.get("/faq")
def faqs() -> str:
    args = request.args
    enabled = {"1": True, "0": False}.get(args.get("enabled", ""))
    community = args.get("community", "")
    found = _faqs().search(args.get("q", ""), args.get("category", ""), enabled,
                           int(community) if community.isdigit() else None)
    names = {c.id: c.name for c in _communities()}
    return render_template("admin_faq.html", faqs=found, args=args,
                           categories=_faqs().categories(), communities=_communities(),
                           community_names=names)


@bp.post("/faq/bulk")
def bulk() -> Response:
    ids = request.form.getlist("ids")
    enabled = request.form.get("enabled") == "1"
    changed = _faqs().set_many_enabled(ids, enabled, updated_by=_user())
    kb_audit.record("faq.bulk_enabled", ",".join(ids)[:120], f"enabled={enabled}")
    flash(f"已{'启用' if enabled else '停用'} {changed} 条", "ok")
    return redirect(url_for("kb.faqs"))


# -- one entry ------------------------------------------------------------------------------
@bp.get("/faq/<faq_id>")
def edit_faq(faq_id: str) -> str:
    faq = _faqs().get(faq_id)
    prefill = {key: request.args.get(key, "") for key in ("question", "similar", "answer")}
    history = _faqs().history(faq_id) if faq else []
    changes = [(rev, diff(history[i + 1].snapshot if i + 1 < len(history) else None,
                          rev.snapshot)) for i, rev in enumerate(history)]
    feedback = FeedbackStore(auth.services().sessions).summary(faq_id) if faq else None
    return render_template("admin_faq_edit.html", faq=faq, faq_id=faq_id, prefill=prefill,
                           history=changes, feedback=feedback, communities=_communities(),
                           group=request.args.get("group", ""))


@bp.post("/faq/<faq_id>")
def save_faq(faq_id: str) -> Response:
    form = request.form
    new_id = form.get("id", faq_id).strip().lower() if faq_id == "new" else faq_id
    question, answer = form.get("question", "").strip(), form.get("answer", "").strip()
    valid_from, valid_until = _time(form.get("valid_from", "")), _time(form.get("valid_until", ""))
    error = _form_error(new_id, question, answer, form, valid_from, valid_until)
    if error:
        flash(error, "error")
        return redirect(url_for("kb.edit_faq", faq_id=faq_id))
    community = form.get("community_id", "")
    _faqs().save(id=new_id, question=question, answer=answer,
                 category=form.get("category", "general").strip() or "general",
                 similar_questions=lines(form.get("similar_questions", "")),
                 keywords=lines(form.get("keywords", "")),
                 enabled=form.get("enabled") == "1", updated_by=_user(),
                 community_id=int(community) if community.isdigit() else None,
                 valid_from=valid_from, valid_until=valid_until)
    kb_audit.record("faq.save", new_id)
    group = form.get("group", "")
    if group:  # created from an unanswered group: the group is resolved by this entry
        from knowledge_loop.unanswered import UnansweredQueue

        UnansweredQueue(auth.services().sessions).resolve_ids(_ids(group), new_id, _user())
    flash(f"已保存 {new_id}", "ok")
    return redirect(url_for("kb.edit_faq", faq_id=new_id))


def _ids(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip().isdigit()]


def _form_error(faq_id: str, question: str, answer: str, form: Any,
                valid_from: datetime | None, valid_until: datetime | None) -> str:
    if not faq_id or faq_id == "new" or not faq_io.ID_PATTERN.match(faq_id):
        return "编号只能包含小写字母、数字、下划线和短横线"
    if not question or not answer:
        return "标准问题和答案都不能为空"
    if len(answer) > faq_io.MAX_ANSWER_CHARS:
        return f"答案不能超过 {faq_io.MAX_ANSWER_CHARS} 字"
    for key, parsed in (("valid_from", valid_from), ("valid_until", valid_until)):
        if form.get(key, "").strip() and parsed is None:
            return "日期格式应为 2026-01-31 或 2026-01-31 08:00"
    if valid_from and valid_until and valid_until <= valid_from:
        return "失效时间必须晚于生效时间"
    return ""


@bp.post("/faq/<faq_id>/enabled")
def toggle_faq(faq_id: str) -> Response:
    enabled = request.form.get("enabled") == "1"
    _faqs().set_enabled(faq_id, enabled, updated_by=_user())
    kb_audit.record("faq.enabled", faq_id, f"enabled={enabled}")
    flash("已更新", "ok")
    return redirect(request.referrer or url_for("kb.faqs"))


@bp.post("/faq/<faq_id>/rollback/<int:version>")
def rollback(faq_id: str, version: int) -> Response:
    saved = _faqs().rollback(faq_id, version, updated_by=_user())
    if saved is None:
        flash("找不到该版本", "error")
    else:
        kb_audit.record("faq.rollback", faq_id, f"to v{version} as v{saved.version}")
        flash(f"已回滚到 v{version}（保存为 v{saved.version}）", "ok")
    return redirect(url_for("kb.edit_faq", faq_id=faq_id))


# -- import and export ----------------------------------------------------------------------
@bp.get("/faq/export.<kind>")
def export(kind: str) -> Response:
    if kind not in ("csv", "xlsx"):
        return Response("只支持 csv 或 xlsx", status=404)
    community = request.args.get("community", "")
    data = faq_io.export_file(auth.services().sessions, kind,
                              int(community) if community.isdigit() else None)
    mime = "text/csv; charset=utf-8" if kind == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(data, mimetype=mime, headers={
        "Content-Disposition": f"attachment; filename=faq.{kind}"})


@bp.route("/faq/import", methods=["GET", "POST"])
def import_faq() -> Any:
    if request.method == "GET":
        return render_template("admin_faq_import.html", preview=None, communities=_communities())
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("请选择要导入的文件", "error")
        return redirect(url_for("kb.import_faq"))
    data = upload.read(MAX_IMPORT_BYTES + 1)
    community = request.form.get("community_id", "")
    community_id = int(community) if community.isdigit() else None
    if len(data) > MAX_IMPORT_BYTES:
        flash("文件不能超过 5 MB", "error")
        return redirect(url_for("kb.import_faq"))
    try:
        preview = faq_io.import_file(auth.services().sessions, upload.filename, data, community_id)
    except faq_io.ImportFormatError as exc:
        flash(str(exc), "error")
        return redirect(url_for("kb.import_faq"))
    token = ""
    if preview.ok:  # kept aside until the admin confirms; nothing is written yet
        token = secrets.token_urlsafe(16)
        _stash(token, upload.filename, data, community_id)
    return render_template("admin_faq_import.html", preview=preview, token=token,
                           filename=upload.filename, communities=_communities())


@bp.post("/faq/import/<token>")
def confirm_import(token: str) -> Response:
    stashed = _unstash(token)
    if stashed is None:
        flash("预览已过期，请重新上传", "error")
        return redirect(url_for("kb.import_faq"))
    filename, data, community_id = stashed
    preview = faq_io.import_file(auth.services().sessions, filename, data, community_id)
    if not preview.ok:  # the knowledge base changed since the preview
        flash("导入文件有错误，未写入任何内容，请重新预览", "error")
        return redirect(url_for("kb.import_faq"))
    changed = faq_io.apply(preview, _faqs(), _user(), auth.services().sessions)
    kb_audit.record("faq.import", filename, f"{changed} entries")
    flash(f"已导入 {changed} 条（未变化的 {preview.counts()['unchanged']} 条已跳过）", "ok")
    return redirect(url_for("kb.faqs"))


def _stash_key(token: str) -> str:
    return f"wuye:faq-import:{auth.current_user().id}:{token}"


def _stash(token: str, filename: str, data: bytes, community_id: int | None) -> None:
    redis = auth.services().redis
    key = _stash_key(token)
    redis.hset(key, mapping={"filename": filename, "data": data.hex(),
                             "community": "" if community_id is None else str(community_id)})
    redis.expire(key, IMPORT_TTL_SECONDS)


def _unstash(token: str) -> tuple[str, bytes, int | None] | None:
    redis = auth.services().redis
    key = _stash_key(token)
    found = redis.hgetall(key)
    redis.delete(key)
    if not found:
        return None
    community = found.get("community", "")
    return (found["filename"], bytes.fromhex(found["data"]),
            int(community) if community.isdigit() else None)
