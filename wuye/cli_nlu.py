"""`wuye nlu train|predict|eval|export-training`: the NLU from the command line.

Every command migrates the database and loads the demo knowledge base first, as
`wuye serve` does, so each works on a fresh checkout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from core.config import Config, load_config
from core.db import make_engine, make_session_factory, upgrade
from knowledge_base.demo import load_demo_if_empty
from knowledge_base.referrals import load_referrals_if_missing
from knowledge_base.repository import FaqRepository


def add_commands(subparsers: Any) -> None:
    """Attach the `nlu` command group to the `wuye` parser."""
    nlu = subparsers.add_parser("nlu", help="train, try and evaluate the language understanding")
    sub = nlu.add_subparsers(dest="nlu_command", required=True)
    sub.add_parser("train", help="train a new model artifact").set_defaults(func=_train)
    sub.add_parser("predict", help="stdin lines → one JSON decision per line").set_defaults(
        func=_predict
    )
    evaluate = sub.add_parser("eval", help="score a labelled JSONL file against the baseline")
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument("--errors", action="store_true", help="also list every mistake")
    evaluate.set_defaults(func=_eval)
    export = sub.add_parser("export-training", help="write the training set as JSONL")
    export.add_argument("--output", "-o", type=Path, help="file to write (default: stdout)")
    export.set_defaults(func=_export)


def _prepared() -> tuple[Config, Any]:
    """Config, migrated database and demo KB: what `wuye serve` has before it understands."""
    config = load_config()
    upgrade(config.database_url)
    sessions = make_session_factory(make_engine(config.database_url))
    load_demo_if_empty(sessions)
    load_referrals_if_missing(sessions)
    return config, sessions


def _understander() -> Any:
    from wuye.understanding import build_understander

    config, sessions = _prepared()
    return build_understander(config, sessions)


def _train(_args: argparse.Namespace) -> int:
    from nlu.model import load
    from nlu.training import train_and_save

    config, sessions = _prepared()
    entries = FaqRepository(sessions).list(enabled_only=True)
    path = train_and_save(config.path(config.nlu.model_dir), entries)
    print(f"model written: {path} {json.dumps(load(path).meta)}")
    return 0


def _predict(_args: argparse.Namespace) -> int:
    understander = _understander()
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        decision = understander.understand(text)
        record = {
            "text": decision.text,
            "intent": decision.intent,
            "confidence": decision.confidence,
            "faq_id": decision.faq_id,
            "faq_score": decision.faq_score,
            "unsure": decision.is_unsure(),
            "also_complaint": decision.also_complaint,
            "related_faq": decision.related_faq,
            "referral": decision.referral,
            "entities": [
                {"type": e.type, "value": e.value, "start": e.start, "end": e.end,
                 "normalized": e.normalized}
                for e in decision.entities
            ],
        }
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return 0


def _eval(args: argparse.Namespace) -> int:
    from nlu.baseline import Baseline
    from nlu.dataset import training_examples
    from nlu.evaluation import evaluate, format_report, read_rows

    if not args.file.is_file():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 1
    rows = read_rows(args.file)
    baseline = Baseline(training_examples())
    understander = _understander()  # built last, so its first FAQ freshness check is not timed
    for warm in (understander, baseline):
        warm.understand("你好")
    ours = evaluate(understander.understand, rows)
    print(format_report(ours, evaluate(baseline.understand, rows), len(rows)))
    if args.errors:
        print("\nmistakes (gold → predicted):")
        for row, decision in ours.errors:
            print(f"  {row.intent}/{row.faq_id} → {decision.intent}/{decision.faq_id} "
                  f"({decision.confidence:.2f}, faq {decision.faq_score:.2f})  {row.text}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from nlu.dataset import training_examples

    _prepared()
    lines = [
        json.dumps({"text": e.text, "intent": e.intent, "faq_id": e.faq_id}, ensure_ascii=False)
        for e in training_examples()
    ]
    text = "\n".join(lines) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"{len(lines)} examples written to {args.output}")
    else:
        sys.stdout.write(text)
    return 0
