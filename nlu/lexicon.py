"""The domain lexicon (typos, dialect words, user dictionary) read from nlu/data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from core.yamlfile import load_yaml

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Lexicon:
    typos: dict[str, str]
    dialect: dict[str, str]
    words: tuple[str, ...]
    synonyms: dict[str, str] | None = None

    def rewrites(self) -> dict[str, str]:
        """Every rewrite normalization applies: synonyms, dialect, then typos win a clash."""
        return {**(self.synonyms or {}), **self.dialect, **self.typos}


@cache
def lexicon() -> Lexicon:
    """Read lexicon.yaml once per process."""
    data = load_yaml(DATA_DIR / "lexicon.yaml")
    return Lexicon(
        typos=dict(data.get("typos") or {}),
        dialect=dict(data.get("dialect") or {}),
        words=tuple(data.get("words") or ()),
        synonyms=dict(data.get("synonyms") or {}),
    )
