"""Admin pages of the knowledge loop: hit test, unanswered queue, retraining and the
welcome card (FAQ entries: admin/faq.py; notices and the menu: admin/outreach.py)."""

from __future__ import annotations

from typing import Any

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
from sqlalchemy import select

from admin import auth, kb_audit
from communities.directory import Communities
from core.models import Message
from knowledge_base.repository import FaqRepository
from knowledge_loop.hit_test import hit_test as run_hit_test
from knowledge_loop.retrain import RetrainBusyError
from knowledge_loop.unanswered import UnansweredQueue
from knowledge_loop.welcome import WelcomeCards

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


def _communities() -> list[Any]:
    return Communities(_services().sessions).list()


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
    kb_audit.record("queue.add_similar", faq_id, f"{len(ids)} items")
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
    kb_audit.record("queue.dismiss", "", f"{count} items")
    flash(f"已忽略 {count} 条", "ok")
    return redirect(url_for("knowledge.unanswered"))


@bp.get("/replies/<int:message_id>")
def reply_page(message_id: int) -> Any:
    """From the console: an agent's reply, to save as an entry's answer or a new entry."""
    with _services().sessions() as session:
        message = session.get(Message, message_id)
        asked = None
        if message is not None:
            asked = session.scalars(select(Message).where(
                Message.openid == message.openid, Message.direction == "in",
                Message.id < message.id, Message.msg_type.in_(("text", "voice")))
                .order_by(Message.id.desc()).limit(1)).first()
    if message is None or message.sender != "agent":
        flash("找不到这条客服回复", "error")
        return redirect(url_for("knowledge.unanswered"))
    return render_template("admin_reply_answer.html", message=message,
                           question=asked.text if asked else "", faqs=_faqs().list())


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
    kb_audit.record("faq.answer_from_reply", faq_id, f"message {message_id}")
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
    kb_audit.record("retrain.start", str(job_id), "forced" if force else "")
    flash("训练已开始，可在本页查看进度", "ok")
    return redirect(url_for("knowledge.training"))


@bp.post("/training/<int:job_id>/deploy")
def force_deploy(job_id: int) -> Response:
    if _services().retrainer.deploy(job_id, _user()):
        kb_audit.record("retrain.force_deploy", str(job_id))
        flash("已强制上线该模型", "ok")
    else:
        flash("只有未上线的候选模型可以强制上线", "error")
    return redirect(url_for("knowledge.training"))


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
        kb_audit.record("welcome.save", ",".join(saved))
        flash(f"已保存 {len(saved)} 个问题", "ok")
        return redirect(url_for("knowledge.welcome"))
    return render_template("admin_welcome.html", pinned=cards.pinned(), offered=cards.faq_ids(),
                           faqs=_faqs().list(enabled_only=True))
