"""`wuye nlu …` through argparse, on a fresh database, as a person would run it."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from wuye.cli_nlu import add_commands


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="wuye")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return int(args.func(args))


@pytest.fixture()
def fresh_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, trained_model_dir: Path) -> Path:
    """A config pointing at a database file that does not exist yet."""
    monkeypatch.setenv("WUYE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("WUYE_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh' / 'wuye.db'}")
    monkeypatch.setenv("WUYE_NLU_MODEL_DIR", str(trained_model_dir))
    return tmp_path


def test_predict_writes_one_json_object_per_line(
    fresh_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = "物业费怎么交\n\n3栋2单元502 马桶堵了 电话13800138000\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert _run("nlu", "predict") == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["intent"] for line in lines] == ["faq", "repair"]
    assert set(lines[0]) == {"text", "intent", "confidence", "faq_id", "faq_score", "entities",
                             "unsure", "also_complaint", "related_faq", "referral"}
    assert lines[0]["faq_id"] == "fee_payment"
    room = next(e for e in lines[1]["entities"] if e["type"] == "room")
    assert room["normalized"] == {"building": "3", "unit": "2", "room": "502"}
    assert set(room) == {"type", "value", "start", "end", "normalized"}


def test_eval_prints_every_figure_beside_the_baseline(
    fresh_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labelled = fresh_env / "small.jsonl"
    rows = [
        {"text": "门禁卡丢了咋整", "intent": "faq", "faq_id": "access_card_lost"},
        {"text": "小区能不能停直升机", "intent": "faq", "faq_id": None},
        {"text": "楼道里一股很浓的煤气味", "intent": "emergency", "faq_id": None},
        {"text": "帮我订个外卖", "intent": "out_of_scope", "faq_id": None},
    ]
    labelled.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                        encoding="utf-8")
    assert _run("nlu", "eval", str(labelled), "--errors") == 0
    out = capsys.readouterr().out
    for figure in ("accuracy", "macro_f1", "faq_top1", "faq_top3", "unanswerable_not_answered",
                   "emergency_recall", "emergency_precision", "reaches_ticket_flow",
                   "risk–coverage", "latency p50", "latency p99", "messages/s",
                   "most confused", "baseline"):
        assert figure in out
    assert "emergency" in out.split("intent")[-1]


def test_eval_of_a_missing_file_fails_cleanly(
    fresh_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run("nlu", "eval", str(fresh_env / "nope.jsonl")) == 1
    assert "no such file" in capsys.readouterr().err


def test_export_training_writes_jsonl(fresh_env: Path) -> None:
    target = fresh_env / "train.jsonl"
    assert _run("nlu", "export-training", "-o", str(target)) == 0
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert all(set(r) == {"text", "intent", "faq_id"} for r in rows)
    intents = {r["intent"] for r in rows}
    assert len(intents) == 13
    assert any(r["faq_id"] == "fee_standard" for r in rows)


def test_train_writes_a_new_versioned_artifact(
    monkeypatch: pytest.MonkeyPatch, fresh_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = fresh_env / "models"
    monkeypatch.setenv("WUYE_NLU_MODEL_DIR", str(models))
    assert _run("nlu", "train") == 0
    artifacts = list(models.glob("nlu-*.pkl"))
    assert len(artifacts) == 1
    assert str(artifacts[0]) in capsys.readouterr().out
