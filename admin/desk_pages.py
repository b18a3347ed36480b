"""Service-desk pages in the console: callbacks (回访), quality review (质检), the KPIs
and the monthly report, and department membership (admins)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from admin import auth, labels
from admin.users import UserStore
from communities.staff import Scope, StaffScopes
from core.db import utcnow
from desk import callbacks, charts, export, kpis
from desk import quality as quality_review
from desk.kpis import KPI_NAMES, PERCENT_KPIS
from desk.staff import Staff, StaffError

bp = Blueprint("desk_pages", __name__, template_folder="templates")

GRAINS = ("day", "week", "month")
MAX_KPI_DAYS = 400
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHARTED = ("satisfaction_rate", "human_answer_rate", "consult_reply_rate",
           "complaint_handling_rate", "sla_breaches")


@bp.before_request
def _guard() -> Any:
    return auth.guard()


def _services() -> Any:
    return auth.services()


def _scope() -> Scope:
    return StaffScopes(_services().sessions).of(auth.current_user().id)


def _admin_only() -> None:
    if not auth.current_user().is_admin:
        abort(403)


# -- callbacks (回访) -----------------------------------------------------------------
@bp.get("/console/callbacks", endpoint="callbacks")
def callback_list() -> str:
    rows = callbacks.open_list(_services().sessions, _scope())
    return render_template("callbacks.html", rows=rows,
                           sources=labels.table()["callback_sources"])


@bp.post("/console/callbacks/<int:callback_id>")
def record_callback(callback_id: int) -> Response:
    from handlers.tickets.rules import TransitionError

    form = request.form
    reached = form.get("reached") == "1"
    satisfied = {"1": True, "0": False}.get(form.get("satisfied", ""))
    if reached and satisfied is None:
        flash("已联系上业主，请选择是否满意", "error")
        return redirect(url_for("desk_pages.callbacks"))
    user = auth.current_user()
    services = _services()
    try:
        outcome = callbacks.record(services.sessions, callback_id, user.id, reached, satisfied,
                                   form.get("note", ""), communities=_scope())
    except callbacks.CallbackError as exc:
        flash(str(exc), "error")
        return redirect(url_for("desk_pages.callbacks"))
    if outcome.reopen:
        try:
            services.deps.tickets.transition(outcome.reopen, "reopened", f"agent:{user.username}",
                                             "回访不满意，重新处理")
            flash(f"已记录；业主不满意，工单 {outcome.reopen} 已重新处理", "ok")
        except TransitionError as exc:
            flash(f"已记录，但工单未能重新打开：{exc}", "error")
    else:
        flash("回访结果已记录", "ok")
    return redirect(url_for("desk_pages.callbacks"))


# -- departments (admins) ---------------------------------------------------------------
@bp.get("/console/departments")
def departments() -> str:
    _admin_only()
    services = _services()
    staff = Staff(services.sessions)
    return render_template("departments.html", departments=staff.departments(),
                           members=staff.members(), users=UserStore(services.sessions).list())


@bp.post("/console/departments")
def set_member() -> Response:
    _admin_only()
    form = request.form
    try:
        user_id = int(form.get("user_id", ""))
        Staff(_services().sessions).assign(user_id, form.get("department", ""),
                                           form.get("is_head") == "1")
        flash("已保存", "ok")
    except (ValueError, StaffError) as exc:
        flash(str(exc) if isinstance(exc, StaffError) else "请选择用户", "error")
    return redirect(url_for("desk_pages.departments"))


# -- quality review (质检) ----------------------------------------------------------------
@bp.get("/console/quality")
def quality() -> str:
    _admin_only()
    services = _services()
    quality_review.collect(services.sessions, services.config)
    return render_template("quality.html",
                           rows=quality_review.pending(services.sessions, _scope()),
                           names=UserStore(services.sessions).names(),
                           reasons=labels.table()["quality_reasons"])


@bp.get("/console/quality/<int:review_id>")
def quality_review_page(review_id: int) -> str:
    _admin_only()
    try:
        item = quality_review.detail(_services().sessions, review_id)
    except quality_review.QualityError:
        abort(404)
    return render_template("quality_review.html", r=item,
                           names=UserStore(_services().sessions).names(),
                           reasons=labels.table()["quality_reasons"])


@bp.post("/console/quality/<int:review_id>")
def save_review(review_id: int) -> Response:
    _admin_only()
    form = request.form
    try:
        score = int(form.get("score", ""))
        quality_review.review(_services().sessions, review_id, auth.current_user().id, score,
                              form.get("feedback", ""), _services().handover.publish)
        flash("质检结果已保存，客服专员将看到反馈", "ok")
    except ValueError as exc:
        flash(str(exc) if isinstance(exc, quality_review.QualityError) else "请填写评分", "error")
        return redirect(url_for("desk_pages.quality_review_page", review_id=review_id))
    return redirect(url_for("desk_pages.quality"))


@bp.get("/console/quality/mine")
def my_quality() -> str:
    rows = quality_review.for_agent(_services().sessions, auth.current_user().id)
    return render_template("quality_mine.html", rows=rows,
                           reasons=labels.table()["quality_reasons"])


# -- KPIs and the monthly report ------------------------------------------------------------
def _kpi_report(start: date, end: date, grain: str) -> dict[str, Any]:
    from communities.directory import Communities

    services = _services()
    scope = _scope()
    communities = {c.id: c.name for c in Communities(services.sessions).list()
                   if scope is None or c.id in scope}
    return kpis.report(services.sessions, services.config, start, end, grain,
                       UserStore(services.sessions).names(), communities, scope)


def _period() -> tuple[date, date, str]:
    today = utcnow().astimezone(ZoneInfo(_services().config.service.timezone)).date()
    try:
        end = date.fromisoformat(request.args.get("to") or today.isoformat())
        start = date.fromisoformat(request.args.get("from") or
                                   (end - timedelta(days=29)).isoformat())
    except ValueError:
        start, end = today - timedelta(days=29), today
    if start > end or (end - start).days > MAX_KPI_DAYS:
        start = end - timedelta(days=29)
    grain = request.args.get("grain") if request.args.get("grain") in GRAINS else "day"
    return start, end, grain


@bp.get("/console/kpi")
def kpi() -> str:
    _admin_only()
    start, end, grain = _period()
    data = _kpi_report(start, end, grain)
    labels_ = [s["period"] for s in data["series"]]
    charts_ = [charts.bars(KPI_NAMES[key][0], labels_, [s[key] for s in data["series"]],
                           key in PERCENT_KPIS) for key in CHARTED]
    return render_template("kpi.html", r=data, names=KPI_NAMES, percent=PERCENT_KPIS,
                           charts=charts_, grain=grain)


@bp.get("/console/kpi.<fmt>")
def kpi_export(fmt: str) -> Response:
    _admin_only()
    start, end, grain = _period()
    data = _kpi_report(start, end, grain)
    name = f"kpi-{start}-{end}"
    if fmt == "csv":
        return Response(export.to_csv(data), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename={name}.csv"})
    if fmt == "xlsx":
        return Response(export.to_xlsx(data), mimetype=XLSX,
                        headers={"Content-Disposition": f"attachment; filename={name}.xlsx"})
    abort(404)


@bp.get("/console/report")
def monthly_report() -> str:
    """服务质量分析报告: one month, by community, type and department; prints on A4."""
    _admin_only()
    today = utcnow().astimezone(ZoneInfo(_services().config.service.timezone)).date()
    try:
        first = date.fromisoformat((request.args.get("month") or f"{today:%Y-%m}") + "-01")
    except ValueError:
        first = today.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    data = _kpi_report(first, last, "week")
    weeks = [s["period"] for s in data["series"]]
    chart = charts.bars("满意率（按周）", weeks,
                        [s["satisfaction_rate"] for s in data["series"]], True)
    return render_template("report.html", r=data, names=KPI_NAMES, percent=PERCENT_KPIS,
                           month=f"{first.year}年{first.month}月", chart=chart)
