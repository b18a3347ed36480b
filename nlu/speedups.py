"""The NLU's compiled inner loops (nlu/_speedups.c), or None where they were not built.

Built by `pip install` when a C compiler is present. Every caller keeps its pure-Python
version as the fallback and as the reference the tests compare the compiled one with.
Setting NLU_PURE_PYTHON=1 serves the pure-Python versions (for comparisons).
"""

from __future__ import annotations

import os
from types import ModuleType


def _load() -> ModuleType | None:
    if os.environ.get("NLU_PURE_PYTHON") == "1":
        return None
    try:
        from nlu import _speedups
    except ImportError:
        return None
    return _speedups


compiled: ModuleType | None = _load()
