"""Every data file reads the same through `load_yaml` (libyaml's parser) as with PyYAML's."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.yamlfile import load_yaml

ROOT = Path(__file__).resolve().parents[2]
DATA_FILES = sorted(
    path for package in ("admin", "bot", "core", "desk", "handlers", "knowledge_base",
                         "knowledge_loop", "nlu", "notices", "communities", "wuye")
    for path in (ROOT / package).rglob("*.yaml")
)


def test_there_are_data_files() -> None:
    assert len(DATA_FILES) > 10


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_same_document_as_safe_load(path: Path) -> None:
    assert load_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8"))


def test_unsafe_tags_are_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil.yaml"
    evil.write_text("!!python/object/apply:os.system ['true']\n", encoding="utf-8")
    with pytest.raises(yaml.YAMLError):
        load_yaml(evil)
