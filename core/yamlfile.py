"""Reading our YAML data files (texts, phrases, forms, menu, lexicon, intents…).

With libyaml's C parser where PyYAML was built with it (the wheels are): the same
safe loading as `yaml.safe_load`, about ten times faster, so neither start-up nor a
worker's first push spends its time parsing YAML in pure Python.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path) -> Any:
    """The document in the UTF-8 file `path`, as `yaml.safe_load` reads it."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)
