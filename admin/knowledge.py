"""Admin pages of the knowledge loop: hit test, unanswered queue, retraining, notices,
custom menu and the welcome card (FAQ entries themselves: admin/faq.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from admin import auth, kb_audit
from bot.menu_store import INTENTS, MenuError
from communities.directory import Communities
from core.models import Message
from knowledge_base.repository import FaqRepository
from knowledge_loop.hit_test import hit_test as run_hit_test
from knowledge_loop.retrain import RetrainBusyError
from knowledge_loop.unanswered import UnansweredQueue
from knowledge_loop.welcome import WelcomeCards
from notices.service import TARGET_LABELS, Draft, NoticeError

bp = Blueprint("knowledge", __name__, url_prefix="/admin", template_folder="templates")

MAX_HIT_TEXT = 500


@bp.before_request
def _guard() -> Any:
    return auth.guard(role="admin")


def _services() -> Any:
    return auth.services()


def _user() -> str:
    return auth.current_user().username


def _faqs() -> FaqRepository:
    return FaqRepository(_services().sessions)


def _queue() -> UnansweredQueue:
    return UnansweredQueue(_services().sessions, _services().config)


# -- hit test -------------------------------------------------------------------------------
@bp.get("/hit-test")
def hit_test() -> str:
    text = request.args.get("text", "").strip()[:MAX_HIT_TEXT]
    result = None
    if text:
        services = _services()
        result = run_hit_test(services.understander, _faqs(), services.config.nlu,
                              services.retrainer.thresholds, text)
    return render_template("admin_hit_test.html", text=text, result=result)


@bp.get("/api/hit-test")
def hit_test_json() -> Response:
    text = request.args.get("text", "").strip()[:MAX_HIT_TEXT]
    if not text:
        return jsonify(error="bad_text", message="请输入要测试的句子"), 400  # type: ignore[return-value]
    services = _services()
    return jsonify(run_hit_test(services.understander, _faqs(), services.config.nlu,
                                services.retrainer.thresholds, text).to_json())


# -- unanswered queue -----------------------------------------------------------------------
@bp.get("/unanswered")
def unanswered() -> str:
    community = request.args.get("community", "")
    groups = _queue().groups(int(community) if community.isdigit() else None)
    return render_template("admin_unanswered.html", groups=groups, faqs=_faqs().list(),
                           communities=_communities(), community=community)


@bp.get("/unanswered/<int:key>")
def unanswered_group(key: int) -> Any:
    queue = _queue()
    group = queue.group(key)
    if group is None:
        flash("该问题组已处理", "ok")
        return redirect(url_for("knowledge.unanswered"))
    replies = queue.agent_replies(group.items)
    return render_template("admin_unanswered_group.html", group=group, replies=replies,
                           faqs=_faqs().list())


def _group_ids() -> list[int]:
    return [int(x) for x in request.form.get("ids", "").split(",") if x.strip().isdigit()]


@bp.post("/unanswered/add")
def add_to_entry() -> Response:
    faq_id = request.form.get("faq_id", "")
    ids = _group_ids()
    try:
        added = _queue().add_to_entry(ids, faq_id, _user())
    except KeyError:
        flash("请选择一个已有的问题", "error")
        return redirect(url_for("knowledge.unanswered"))
    kb_audit.record(_user(), "queue_add_similar", faq_id, f"{len(ids)} items")
    flash(f"已把 {added} 个问法加入 {faq_id} 的相似问题", "ok")
    return redirect(url_for("knowledge.unanswered"))


@bp.post("/unanswered/new")
def new_from_group() -> Response:
    """Open the entry editor prefilled with the group's wordings."""
    ids = _group_ids()
    items = _queue().items(ids)
    texts = list(dict.fromkeys(i.text for i in items))
    if not texts:
        return redirect(url_for("knowledge.unanswered"))
    return redirect(url_for("kb.edit_faq", faq_id="new", question=texts[0],
                            similar="\n".join(texts[1:]), answer=request.form.get("answer", ""),
                            group=",".join(map(str, ids))))


@bp.post("/unanswered/dismiss")
def dismiss() -> Response:
    count = _queue().resolve_ids(_group_ids(), "ignored", _user())
    kb_audit.record(_user(), "queue_dismiss", "", f"{count} items")
    flash(f"已忽略 {count} 条", "ok")
    return redirect(url_for("knowledge.unanswered"))


@bp.post("/replies/<int:message_id>/answer")
def reply_as_answer(message_id: int) -> Response:
    """An agent's reply in the console becomes an entry's answer."""
    faq_id = request.form.get("faq_id", "")
    with _services().sessions() as session:
        message = session.get(Message, message_id)
    entry = _faqs().get(faq_id)
    if message is None or message.sender != "agent" or entry is None:
        flash("请选择客服回复和要更新的问题", "error")
        return redirect(request.referrer or url_for("knowledge.unanswered"))
    _faqs().save(id=entry.id, question=entry.question, answer=message.text,
                 category=entry.category, similar_questions=entry.similar_questions,
                 keywords=entry.keywords, enabled=entry.enabled, updated_by=_user(),
                 community_id=entry.community_id, valid_from=entry.valid_from,
                 valid_until=entry.valid_until, action="agent_reply")
    ids = _group_ids()
    if ids:
        _queue().resolve_ids(ids, faq_id, _user())
    kb_audit.record(_user(), "faq_answer_from_reply", faq_id, f"message {message_id}")
    flash(f"已把客服回复保存为 {faq_id} 的答案", "ok")
    return redirect(url_for("kb.edit_faq", faq_id=faq_id))


# -- retraining -----------------------------------------------------------------------------
@bp.get("/training")
def training() -> str:
    retrainer = _services().retrainer
    return render_template("admin_training.html", jobs=retrainer.jobs(),
                           model=_services().understander.model_path.name)


@bp.get("/api/training/<int:job_id>")
def training_job(job_id: int) -> Response:
    job = _services().retrainer.job(job_id)
    if job is None:
        return jsonify(error="not_found"), 404  # type: ignore[return-value]
    return jsonify(id=job.id, status=job.status, progress=job.progress, step=job.step,
                   report=job.report, error=job.error)


@bp.post("/training")
def start_training() -> Response:
    force = request.form.get("force") == "1"
    try:
        job_id = _services().retrainer.start(_user(), force=force)
    except RetrainBusyError:
        flash("已有训练任务在进行中", "error")
        return redirect(url_for("knowledge.training"))
    kb_audit.record(_user(), "retrain_start", str(job_id), "forced" if force else "")
    flash("训练已开始，可在本页查看进度", "ok")
    return redirect(url_for("knowledge.training"))


@bp.post("/training/<int:job_id>/deploy")
def force_deploy(job_id: int) -> Response:
    if _services().retrainer.deploy(job_id, _user()):
        kb_audit.record(_user(), "retrain_force_deploy", str(job_id))
        flash("已强制上线该模型", "ok")
    else:
        flash("只有未上线的候选模型可以强制上线", "error")
    return redirect(url_for("knowledge.training"))


# -- notices --------------------------------------------------------------------------------
def _communities() -> list[Any]:
    return Communities(_services().sessions).list()


def _draft(form: Any) -> Draft:
    community = form.get("community_id", "")
    return Draft(title=form.get("title", ""), body=form.get("body", ""),
                 target=form.get("target", "community"),
                 target_value=form.get("target_value", ""),
                 community_id=int(community) if community.isdigit() else None,
                 url=form.get("url", "").strip(), scheduled_at=_local_time(
                     form.get("scheduled_at", ""), _services().config.service.timezone))


def _local_time(value: str, zone: str) -> datetime | None:
    value = value.strip().replace("T", " ")
    if not value:
        return None
    try:
        local = datetime.strptime(value, "%Y-%m-%d %H:%M")
    except ValueError:
        raise NoticeError("发送时间格式应为 2026-01-31 08:00") from None
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


@bp.get("/notices")
def notices() -> str:
    service = _services().notices
    service.sync()
    history = [(n, service.counts(n.id)) for n in service.history()]
    return render_template("admin_notices.html", history=history, communities=_communities(),
                           targets=TARGET_LABELS, preview=None, form={})


@bp.post("/notices")
def compose_notice() -> Any:
    service = _services().notices
    form = request.form
    try:
        draft = _draft(form)
        if form.get("action") == "preview":
            from notices.service import check

            check(draft)
            recipients = service.recipients(draft)
            preview = {"count": len(recipients), "payload": service.payload(draft, "OPENID")}
            history = [(n, service.counts(n.id)) for n in service.history()]
            return render_template("admin_notices.html", history=history, preview=preview,
                                   communities=_communities(), targets=TARGET_LABELS, form=form)
        notice_id = service.create(draft, _user())
    except NoticeError as exc:
        flash(str(exc), "error")
        return redirect(url_for("knowledge.notices"))
    kb_audit.record(_user(), "notice_create", str(notice_id), draft.title)
    if draft.scheduled_at is None or form.get("action") == "send":
        sent = service.send(notice_id)
        flash(f"通知已发送给 {sent} 位业主", "ok")
    else:
        flash("通知已定时，到时间自动发送", "ok")
    return redirect(url_for("knowledge.notices"))


@bp.post("/notices/<int:notice_id>/cancel")
def cancel_notice(notice_id: int) -> Response:
    if _services().notices.cancel(notice_id):
        kb_audit.record(_user(), "notice_cancel", str(notice_id))
        flash("已取消", "ok")
    return redirect(url_for("knowledge.notices"))


# -- custom menu ----------------------------------------------------------------------------
@bp.get("/menu")
def menu() -> str:
    store = _services().menus
    return render_template("admin_menu.html", current=store.latest(), live=store.live(),
                           versions=store.versions(), intents=INTENTS)


def _menu_from_form(form: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """b{i}_name/type/key/url/intent and b{i}_s{j}_…: the editor's grid → menu + keys."""
    buttons: list[dict[str, Any]] = []
    keys: dict[str, dict[str, Any]] = {}
    for i in range(3):
        name = form.get(f"b{i}_name", "").strip()
        if not name:
            continue
        subs = [_button(form, f"b{i}_s{j}", keys) for j in range(5)]
        subs = [s for s in subs if s is not None]
        if subs:
            buttons.append({"name": name, "sub_button": subs})
        else:
            buttons.append(_button(form, f"b{i}", keys) or {"name": name})
    return {"button": buttons}, keys


def _button(form: Any, prefix: str, keys: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    name = form.get(f"{prefix}_name", "").strip()
    if not name:
        return None
    if form.get(f"{prefix}_type") == "view":
        return {"type": "view", "name": name, "url": form.get(f"{prefix}_url", "").strip()}
    intent = form.get(f"{prefix}_intent", "")
    key = form.get(f"{prefix}_key", "").strip() or f"MENU_{intent.upper()}"
    keys[key] = {"intent": intent, "text": name}
    return {"type": "click", "name": name, "key": key}


@bp.post("/menu")
def save_menu() -> Response:
    definition, keys = _menu_from_form(request.form)
    store = _services().menus
    try:
        version = store.save(definition, keys, _user(), request.form.get("note", ""))
        kb_audit.record(_user(), "menu_save", str(version))
        if request.form.get("action") == "push":
            store.push(version)
            kb_audit.record(_user(), "menu_push", str(version))
            flash(f"菜单 v{version} 已发布到微信", "ok")
        else:
            flash(f"已保存菜单 v{version}", "ok")
    except MenuError as exc:
        flash(str(exc), "error")
    return redirect(url_for("knowledge.menu"))


@bp.post("/menu/<int:version>/push")
def push_menu(version: int) -> Response:
    try:
        _services().menus.push(version)
        kb_audit.record(_user(), "menu_push", str(version))
        flash(f"菜单 v{version} 已发布到微信", "ok")
    except MenuError as exc:
        flash(str(exc), "error")
    return redirect(url_for("knowledge.menu"))


# -- welcome card ---------------------------------------------------------------------------
@bp.route("/welcome", methods=["GET", "POST"])
def welcome() -> Any:
    cards = WelcomeCards(_services().sessions, _services().config.knowledge)
    if request.method == "POST":
        if request.form.get("action") == "auto":
            from knowledge_loop.feedback import FeedbackStore

            ids = FeedbackStore(_services().sessions).most_answered(
                _services().config.knowledge.welcome_questions)
        else:
            ids = request.form.getlist("faq_ids")
        saved = cards.pin(ids, _user())
        kb_audit.record(_user(), "welcome_card", ",".join(saved))
        flash(f"已保存 {len(saved)} 个问题", "ok")
        return redirect(url_for("knowledge.welcome"))
    return render_template("admin_welcome.html", pinned=cards.pinned(), offered=cards.faq_ids(),
                           faqs=_faqs().list(enabled_only=True))
