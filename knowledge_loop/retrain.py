"""Safe retraining from the admin page: train aside, score before/after, deploy only if
not worse (or forced by an admin).

A job trains a candidate into `<model_dir>/candidates/`, which no server reads; it
scores the deployed model and the candidate, each with the live entries, on the
held-out sets and on the log's corrected messages (unanswered items an admin
resolved into an entry). The candidate is deployed by writing it into the model
directory as the newest artifact: every process's reloader (`wuye.app`) picks it
up within `nlu.reload_check_seconds`; the job row records the deployed version.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from core.db import transaction, utcnow
from core.models.knowledge_loop import TrainingJob, UnansweredItem
from knowledge_base.repository import FaqRepository
from nlu.engine import NluEngine, Thresholds
from nlu.model import NluModel, load, newest_artifact
from nlu.retrieval import FaqRetriever

if TYPE_CHECKING:  # nlu.evaluation pulls in scikit-learn: only a running job needs it
    from nlu.evaluation import Report, Row

log = logging.getLogger(__name__)

CANDIDATE_DIR = "candidates"
ACTIVE = ("queued", "running")
STALE_AFTER = timedelta(hours=1)
# The figures a deployment decision weighs (each set's mean of these).
SCORED = ("accuracy", "faq_top1", "unanswerable_not_answered", "emergency_recall")


class RetrainBusyError(RuntimeError):
    """A job is already queued or running."""


@dataclass(frozen=True)
class EvalSet:
    name: str
    rows: list[Row]


def default_trainer() -> NluModel:
    from nlu.dataset import training_examples
    from nlu.model import train

    return train(training_examples())


def live_examples(sessions: sessionmaker[Session]) -> list[Any]:
    """nlu/data's examples plus the live entries' questions: what admins added (new
    entries, similar questions from the queue) is learnt, not only retrieved."""
    from nlu.dataset import Example, training_examples

    examples = training_examples()
    known = {e.text for e in examples}
    for entry in FaqRepository(sessions).list(enabled_only=True):
        for text in dict.fromkeys([entry.question, *entry.similar_questions]):
            if text not in known:
                examples.append(Example(text, "faq", entry.id))
                known.add(text)
    return examples


def live_trainer(sessions: sessionmaker[Session]) -> Callable[[], NluModel]:
    """The services' trainer: the model learns the knowledge base as it is now."""
    def trainer() -> NluModel:
        from nlu.model import train

        return train(live_examples(sessions))
    return trainer


def score(report: dict[str, dict[str, float | None]]) -> float:
    """One number per model: the mean of the scored figures over every set."""
    values = [v for figures in report.values() for k, v in figures.items()
              if k in SCORED and v is not None]
    return round(sum(values) / len(values), 4) if values else 0.0


class Retrainer:
    """Starts jobs in a background thread, runs them, and decides on deployment."""

    def __init__(self, sessions: sessionmaker[Session], config: Config,
                 thresholds: Thresholds, understander: Any = None,
                 trainer: Callable[[], NluModel] = default_trainer) -> None:
        self.sessions = sessions
        self.config = config
        self.thresholds = thresholds
        self.understander = understander
        self.trainer = trainer
        self.model_dir = config.path(config.nlu.model_dir)
        self._thread: threading.Thread | None = None

    # -- jobs --------------------------------------------------------------------------
    def start(self, by: str, force: bool = False, background: bool = True) -> int:
        """Queue a job and run it (in a thread unless `background` is False)."""
        with transaction(self.sessions) as session:
            # A job whose process died mid-run would block retraining for good.
            for stale in session.scalars(select(TrainingJob).where(
                    TrainingJob.status.in_(ACTIVE),
                    TrainingJob.created_at < utcnow() - STALE_AFTER)):
                stale.status, stale.error = "failed", "训练进程中断"
            busy = session.scalar(select(TrainingJob.id).where(TrainingJob.status.in_(ACTIVE)))
            if busy is not None:
                raise RetrainBusyError(str(busy))
            job = TrainingJob(status="queued", force=force, created_by=by, report={})
            session.add(job)
            session.flush()
            job_id = job.id
        if background:
            self._thread = threading.Thread(target=self.run, args=(job_id,),
                                            name=f"retrain-{job_id}", daemon=True)
            self._thread.start()
        else:
            self.run(job_id)
        return job_id

    def wait(self, timeout: float = 120.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def job(self, job_id: int) -> TrainingJob | None:
        with self.sessions() as session:
            return session.get(TrainingJob, job_id)

    def jobs(self, limit: int = 20) -> list[TrainingJob]:
        with self.sessions() as session:
            return list(session.scalars(select(TrainingJob).order_by(TrainingJob.id.desc())
                                        .limit(limit)))

    def deploy(self, job_id: int, by: str) -> bool:
        """An admin forces a rejected candidate into service."""
        job = self.job(job_id)
        if job is None or job.status != "rejected" or not job.candidate:
            return False
        path = self._deploy(load(Path(job.candidate)))
        self._update(job_id, status="deployed", step=f"管理员 {by} 强制上线",
                     report={**job.report, "deployed": path.name, "forced_by": by})
        return True

    def _update(self, job_id: int, **values: Any) -> None:
        with transaction(self.sessions) as session:
            job = session.get(TrainingJob, job_id)
            if job is not None:
                for key, value in values.items():
                    setattr(job, key, value)

    # -- one run -----------------------------------------------------------------------
    def run(self, job_id: int) -> None:
        try:
            self._run(job_id)
        except Exception as exc:  # the job must end in a state the page can show
            log.exception("retraining job %s failed", job_id)
            self._update(job_id, status="failed", error=f"{type(exc).__name__}: {exc}"[:500],
                         finished_at=utcnow())

    def _run(self, job_id: int) -> None:
        job = self.job(job_id)
        force = bool(job and job.force)
        self._update(job_id, status="running", progress=5, step="读取评估集")
        sets = self.eval_sets()
        current_path = newest_artifact(self.model_dir)
        self._update(job_id, progress=15, step="训练新模型")
        candidate = self.trainer()
        path = candidate.save(self.model_dir / CANDIDATE_DIR)
        self._update(job_id, progress=55, step="评估当前模型", candidate=str(path))
        before = self.evaluate(load(current_path), sets) if current_path else {}
        self._update(job_id, progress=75, step="评估新模型")
        after = self.evaluate(candidate, sets)
        report = {"before": before, "after": after, "score_before": score(before),
                  "score_after": score(after), "current": current_path.name if current_path
                  else None, "candidate": path.name, "sets": {s.name: len(s.rows) for s in sets}}
        better = report["score_after"] >= report["score_before"] - \
            self.config.knowledge.deploy_tolerance
        if better or force:
            deployed = self._deploy(candidate)
            report["deployed"] = deployed.name
            self._update(job_id, status="deployed", progress=100, report=report,
                         step="已上线" + ("（强制）" if force and not better else ""),
                         finished_at=utcnow())
        else:
            self._update(job_id, status="rejected", progress=100, report=report,
                         step="新模型得分较低，未上线", finished_at=utcnow())

    def _deploy(self, model: NluModel) -> Path:
        """Write the model as the newest artifact; this process reloads at once."""
        path = model.save(self.model_dir)
        if newest_artifact(self.model_dir) != path:
            # An older training time than the served artifact: rename so it sorts last.
            model.version = utcnow().strftime("%Y%m%dT%H%M%S%fZ")
            path.unlink()
            path = model.save(self.model_dir)
        if self.understander is not None:
            self.understander.reload_if_newer()
        return path

    # -- evaluation --------------------------------------------------------------------
    def eval_sets(self) -> list[EvalSet]:
        from nlu.evaluation import read_rows

        sets = []
        for name in self.config.knowledge.holdout_files.split(","):
            path = self.config.path(name.strip()) if name.strip() else None
            if path is not None and path.is_file():
                sets.append(EvalSet(path.stem, read_rows(path)))
        corrections = self.corrections()
        if corrections:
            sets.append(EvalSet("corrections", corrections))
        return sets

    def corrections(self) -> list[Row]:
        """Logged messages an admin resolved into an entry: what they should have matched."""
        from nlu.evaluation import Row

        known = {faq.id for faq in FaqRepository(self.sessions).list(enabled_only=True)}
        with self.sessions() as session:
            items = session.scalars(select(UnansweredItem).where(
                UnansweredItem.status == "resolved", UnansweredItem.reason != "unhelpful")).all()
        rows = {i.text: Row(i.text, "faq", i.resolution) for i in items if i.resolution in known}
        return list(rows.values())

    def evaluate(self, model: NluModel,
                 sets: list[EvalSet]) -> dict[str, dict[str, float | None]]:
        from nlu.evaluation import evaluate

        retriever = FaqRetriever(FaqRepository(self.sessions).list(enabled_only=True))
        engine = NluEngine(model, retriever, self.thresholds)
        return {s.name: _figures(evaluate(engine.understand, s.rows)) for s in sets}


def _figures(report: Report) -> dict[str, float | None]:
    """Headline figures; a figure with no rows to measure is None (JSON has no NaN)."""
    return {k: None if math.isnan(v) else round(v, 4) for k, v in report.headline().items()}
