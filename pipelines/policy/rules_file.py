"""The common envelope of the project's authored rule files (version 1 YAML documents)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# libyaml's parser (bundled with PyYAML's wheels) reads the rule files about ten times faster
# than the pure-Python one; same safe constructor, same results.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_rules_document(path: Path, what: str, top_keys: set[str]) -> dict[str, Any]:
    """Read a rule file and check its envelope: a mapping, only `top_keys`, version 1.

    Raises ValueError naming the file; the caller validates the content."""
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the {what}: {exc}") from exc
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected a mapping with the keys {sorted(top_keys)}")
    unknown = sorted(set(doc) - top_keys)
    if unknown:
        raise ValueError(f"{path}: unknown top key(s) {unknown}; allowed: {sorted(top_keys)}")
    if doc.get("version") != 1:
        raise ValueError(f"{path}: version must be 1, found {doc.get('version')!r}")
    return doc
