"""FAQ administration pages: create with bulk similar questions, search, history and
rollback (seen by the bot), import with a preview, export, bulk switches."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

from tests.admin.conftest import Staff

QUESTION = "物业费怎么交"


def _entry_form(faq: Any, **changes: str) -> dict[str, str]:
    form = {"question": faq.question, "answer": faq.answer, "category": faq.category,
            "similar_questions": "\n".join(faq.similar_questions), "keywords": "",
            "enabled": "1" if faq.enabled else "0"}
    return {**form, **changes}


def test_rollback_restores_the_old_answer_in_the_bot(admin_staff: Staff, services: Any,
                                                     pusher: Any) -> None:
    faq_id = services.understander.understand(QUESTION).faq_id
    original = services.faqs.get(faq_id)
    assert pusher.text("o_rb", QUESTION).text == original.answer
    changed = "您好，物业费现在只能到物业服务中心现场缴纳。请问还有什么可以帮您？"
    admin_staff.form(f"/admin/faq/{faq_id}", _entry_form(original, answer=changed))
    assert pusher.text("o_rb", QUESTION).text == changed
    page = admin_staff.get(f"/admin/faq/{faq_id}").text
    assert f"v{original.version + 1}" in page and "<del>" in page and "<ins>" in page
    response = admin_staff.form(f"/admin/faq/{faq_id}/rollback/{original.version}", {})
    assert response.status_code == 302
    assert pusher.text("o_rb", QUESTION).text == original.answer
    assert services.faqs.get(faq_id).version == original.version + 2


def test_create_with_bulk_similar_questions_then_search(admin_staff: Staff, services: Any) -> None:
    admin_staff.form("/admin/faq/new", {
        "id": "laundry", "category": "设施", "question": "小区有洗衣房吗",
        "similar_questions": "洗衣房在哪\r\n\r\n哪里可以洗衣服\n  自助洗衣房  ",
        "answer": "您好，自助洗衣房在3栋负一层，24小时开放。请问还有什么可以帮您？",
        "enabled": "1", "valid_until": "2031-01-01"})
    entry = services.faqs.get("laundry")
    assert entry.similar_questions == ["洗衣房在哪", "哪里可以洗衣服", "自助洗衣房"]
    assert entry.valid_until.year == 2031
    assert services.understander.understand("洗衣房在哪").faq_id == "laundry"
    listing = admin_staff.get("/admin/faq?q=洗衣").text
    assert "laundry" in listing and "fee_payment" not in listing
    assert "laundry" not in admin_staff.get("/admin/faq?enabled=0").text
    bad = admin_staff.form("/admin/faq/new", {"id": "x y", "question": "q", "answer": "a"})
    assert bad.status_code == 302 and services.faqs.get("x y") is None
    assert "编号只能包含" in admin_staff.get("/admin/faq/new").text


def test_bulk_disable_and_enable(admin_staff: Staff, services: Any) -> None:
    ids = [f.id for f in services.faqs.list()[:3]]
    admin_staff.client.post("/admin/faq/bulk", data={"ids": ids, "enabled": "0",
                                                     "csrf_token": admin_staff.csrf})
    assert all(not services.faqs.get(i).enabled for i in ids)
    assert services.understander.understand(services.faqs.get(ids[0]).question).faq_id \
        not in ids
    admin_staff.client.post("/admin/faq/bulk", data={"ids": ids, "enabled": "1",
                                                     "csrf_token": admin_staff.csrf})
    assert all(services.faqs.get(i).enabled for i in ids)


def _upload(staff: Staff, name: str, data: bytes) -> Any:
    return staff.client.post("/admin/faq/import", data={
        "csrf_token": staff.csrf, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data")


def test_import_with_bad_rows_is_refused_and_reported(admin_staff: Staff, services: Any) -> None:
    before = services.faqs.stamp()
    data = ("编号,分类,标准问题,相似问题,答案,启用\n"
            "laundry,设施,洗衣房在哪,,您好，在3栋。,1\n"
            "pool,设施,,,,1\n").encode()
    page = _upload(admin_staff, "faq.csv", data).text
    assert "import-refused" in page and "标准问题不能为空" in page and "答案不能为空" in page
    assert "confirm-import" not in page
    assert services.faqs.stamp() == before and services.faqs.get("laundry") is None


def test_import_preview_then_confirm(admin_staff: Staff, services: Any) -> None:
    data = ("编号,分类,标准问题,相似问题,答案,启用\n"
            "laundry,设施,洗衣房在哪,\"洗衣房位置\n哪里洗衣服\",您好，在3栋负一层。,1\n").encode()
    page = _upload(admin_staff, "faq.csv", data).text
    assert "新增 1" in page and services.faqs.get("laundry") is None
    token = page.split("/admin/faq/import/")[1].split('"')[0]
    admin_staff.form(f"/admin/faq/import/{token}", {})
    assert services.faqs.get("laundry").similar_questions == ["洗衣房位置", "哪里洗衣服"]
    again = admin_staff.form(f"/admin/faq/import/{token}", {})  # a token is used once
    assert again.status_code == 302 and services.faqs.get("laundry").version == 1


def test_export_xlsx_has_every_entry(admin_staff: Staff, services: Any) -> None:
    response = admin_staff.get("/admin/faq/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    ids = {row[0].value for row in sheet.iter_rows(min_row=2)}
    assert ids == {f.id for f in services.faqs.list()}
    assert admin_staff.get("/admin/faq/export.csv").data.startswith("\ufeff编号".encode())


def test_every_knowledge_page_renders_for_an_admin(admin_staff: Staff) -> None:
    for path in ("/admin/faq", "/admin/faq/new", "/admin/faq/fee_payment", "/admin/faq/import",
                 "/admin/hit-test", "/admin/unanswered", "/admin/training", "/admin/notices",
                 "/admin/menu", "/admin/welcome", "/admin/faq?q=不存在的词&enabled=1"):
        response = admin_staff.get(path)
        assert response.status_code == 200, path
        assert "请先登录" not in response.text
