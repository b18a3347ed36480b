"""Safe retraining: before/after scores on held-out sets and corrected messages; a model
that scores lower is not deployed unless forced; every process picks up a deployed one."""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from core.config import Config
from core.db import transaction
from core.models.knowledge_loop import UnansweredItem
from knowledge_base.repository import FaqRepository
from knowledge_loop.retrain import Retrainer, live_examples
from nlu.dataset import training_examples
from nlu.live import LiveUnderstander
from nlu.model import NluModel, load, newest_artifact, train
from tests.admin.conftest import Staff
from wuye.understanding import thresholds

HOLDOUT = "tests/nlu/data/holdout_b.jsonl"


def weak_model() -> NluModel:
    """Twelve examples per label: every class kept, most of what it knew lost."""
    kept: dict[tuple[str, str | None], list[Any]] = defaultdict(list)
    for example in training_examples():
        bucket = kept[(example.intent, example.faq_id)]
        if len(bucket) < 12:
            bucket.append(example)
    return train([e for bucket in kept.values() for e in bucket])


@pytest.fixture()
def private(services: Any, tmp_path: Path) -> tuple[Config, LiveUnderstander]:
    """A model directory of its own (a deployment must not touch the shared one)."""
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(services.understander.model_path, models)
    config = dataclasses.replace(
        services.config,
        nlu=dataclasses.replace(services.config.nlu, model_dir=str(models)),
        knowledge=dataclasses.replace(services.config.knowledge, holdout_files=HOLDOUT))
    live = LiveUnderstander(models, FaqRepository(services.sessions), thresholds(config.nlu))
    return config, live


def copy_of_current(model_dir: Path) -> NluModel:
    """A "retrained" model that is the served one under a new version: scores the same."""
    model = load(newest_artifact(model_dir))  # type: ignore[arg-type]
    model.version = time.strftime("%Y%m%dT%H%M%S999999Z", time.gmtime())
    return model


def test_a_lower_scoring_model_is_not_deployed_unless_forced(
    services: Any, private: tuple[Config, LiveUnderstander]
) -> None:
    config, live = private
    served = live.model_path
    retrainer = Retrainer(services.sessions, config, thresholds(config.nlu), live,
                          trainer=weak_model)
    job_id = retrainer.start("boss", background=False)
    job = retrainer.job(job_id)
    assert job.status == "rejected" and job.progress == 100
    report = job.report
    assert report["score_after"] < report["score_before"]
    assert report["before"]["holdout_b"]["accuracy"] > report["after"]["holdout_b"]["accuracy"]
    assert newest_artifact(live.model_path.parent) == served and live.model_path == served

    assert retrainer.deploy(job_id, "boss")  # an admin forces it
    assert live.model_path != served and retrainer.job(job_id).status == "deployed"
    assert not retrainer.deploy(job_id, "boss")


def test_a_model_that_scores_no_lower_is_deployed_and_every_process_reloads(
    services: Any, private: tuple[Config, LiveUnderstander]
) -> None:
    config, live = private
    other_process = LiveUnderstander(live.model_path.parent, FaqRepository(services.sessions),
                                     thresholds(config.nlu))
    faq = FaqRepository(services.sessions).get("fee_payment")
    with transaction(services.sessions) as session:  # a corrected message from the log
        session.add(UnansweredItem(text="交物业费的渠道有哪些", reason="no_entry",
                                   status="resolved", resolution=faq.id))
    retrainer = Retrainer(services.sessions, config, thresholds(config.nlu), live,
                          trainer=lambda: copy_of_current(live.model_path.parent))
    job = retrainer.job(retrainer.start("boss", background=False))
    assert job.status == "deployed", job.report
    assert set(job.report["after"]) == {"holdout_b", "corrections"}
    assert job.report["score_after"] == job.report["score_before"]
    deployed = live.model_path.parent / job.report["deployed"]
    assert live.model_path == deployed
    assert other_process.reload_if_newer() and other_process.model_path == deployed


def test_retraining_from_the_admin_page_runs_in_the_background(
    admin_staff: Staff, services: Any, private: tuple[Config, LiveUnderstander]
) -> None:
    config, live = private
    services.retrainer = Retrainer(services.sessions, config, thresholds(config.nlu), live,
                                   trainer=weak_model)
    assert admin_staff.form("/admin/training", {}).status_code == 302
    job_id = services.retrainer.jobs()[0].id
    busy = admin_staff.form("/admin/training", {})
    assert busy.status_code == 302
    services.retrainer.wait()
    status = admin_staff.get(f"/admin/api/training/{job_id}").json
    assert status["status"] == "rejected" and status["progress"] == 100
    page = admin_staff.get("/admin/training").text
    assert "未上线" in page and "强制上线" in page
    admin_staff.form(f"/admin/training/{job_id}/deploy", {})
    assert admin_staff.get(f"/admin/api/training/{job_id}").json["status"] == "deployed"


def test_retraining_learns_the_live_entries(services: Any) -> None:
    FaqRepository(services.sessions).save(
        id="laundry", question="小区有洗衣房吗", answer="您好，在3栋负一层。",
        similar_questions=["洗衣房在哪", "哪里可以洗衣服"])
    learnt = {(e.text, e.faq_id) for e in live_examples(services.sessions)}
    assert {("小区有洗衣房吗", "laundry"), ("哪里可以洗衣服", "laundry")} <= learnt
    assert len(learnt) == len(live_examples(services.sessions))  # each text once
