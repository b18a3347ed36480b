"""NLU benchmark in one process: model load time, messages/s, p50/p99 latency, peak memory.

Goals: >= 5,000 messages/s, load <= 2 s, <= 300 MB. Runs the served understander
(newest artifact, demo KB in a throwaway SQLite database) over every training and
dev message, one call at a time, as request threads call it.

Shared virtual machines change speed by up to 2x from minute to minute, so every
pass is timed on its own (median and best pass are printed) and a fixed pure-Python
loop is timed before and after: its ns/iteration says how fast the machine was.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import load_config  # noqa: E402
from core.db import make_engine, make_session_factory, upgrade  # noqa: E402
from nlu.dataset import training_examples  # noqa: E402
from nlu.evaluation import read_rows  # noqa: E402
from nlu.training import ensure_model  # noqa: E402

PASSES = 5
REFERENCE_LOOP = 2_000_000


def _messages() -> list[str]:
    texts = [e.text for e in training_examples()]
    texts += [row.text for row in read_rows(ROOT / "tests" / "nlu" / "data" / "dev.jsonl")]
    return texts


def _reference_ns() -> float:
    """A fixed pure-Python loop: how fast this machine runs Python right now."""
    started = time.perf_counter()
    total = 0
    for i in range(REFERENCE_LOOP):
        total += i
    return (time.perf_counter() - started) / REFERENCE_LOOP * 1e9


def main() -> int:
    config = load_config()
    model_dir = config.path(config.nlu.model_dir)
    ensure_model(model_dir)  # training, if needed, is not part of the load time
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        from knowledge_base.demo import load_demo_if_empty

        load_demo_if_empty(sessions)
        started = time.perf_counter()
        from wuye.understanding import build_understander

        understander = build_understander(config, sessions)
        understander.understand("你好")
        load_seconds = time.perf_counter() - started
        messages = _messages()
        reference_before = _reference_ns()
        latencies = np.empty(len(messages) * PASSES)
        pass_rates = []
        began, cpu_began = time.perf_counter(), time.process_time()
        for n in range(PASSES):
            pass_began = time.perf_counter()
            for i, text in enumerate(messages):
                t0 = time.perf_counter()
                understander.understand(text)
                latencies[n * len(messages) + i] = time.perf_counter() - t0
            pass_rates.append(len(messages) / (time.perf_counter() - pass_began))
        elapsed = time.perf_counter() - began
        cpu = time.process_time() - cpu_began
        reference_after = _reference_ns()
        engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"messages            {len(latencies)} ({len(messages)} distinct x {PASSES})")
    print(f"messages/s          {float(np.median(pass_rates)):,.0f}   "
          "(goal >= 5,000; median pass, wall clock)")
    print(f"  best pass         {max(pass_rates):,.0f}")
    print(f"  all passes        {len(latencies) / elapsed:,.0f}")
    print(f"messages/CPU-s      {len(latencies) / cpu:,.0f}   (what one uncontended core would do)")
    print(f"latency p50         {np.percentile(latencies, 50) * 1000:.3f} ms")
    print(f"latency p99         {np.percentile(latencies, 99) * 1000:.3f} ms")
    print(f"model load          {load_seconds:.2f} s   (goal <= 2 s; jieba, artifact, FAQ index)")
    print(f"peak memory         {peak_mb:.0f} MB   (goal <= 300 MB)")
    from nlu.speedups import compiled

    loops = "compiled (nlu/_speedups.c)" if compiled is not None else "pure Python"
    print(f"inner loops         {loops}")
    print(f"machine speed       {reference_before:.0f} / {reference_after:.0f} ns per reference "
          "loop step, before / after (lower is faster)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
