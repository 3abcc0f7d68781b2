"""The project's alignment of OEWS codes that are not SOC 2018 detailed codes.

OEWS publishes 5 aggregates of SOC detailed codes and 7 SOC broad groups as if they were
detailed occupations; pipelines/oews_soc_alignment.yaml lists the SOC 2018 codes inside each,
so sources keyed by SOC (O*NET, the crosswalk) can be rolled up to them. This module is the
one reader of that file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl
import yaml

from pipelines.policy.rules_file import SAFE_LOADER

ALIGNMENT_FILE = Path(__file__).resolve().parents[1] / "oews_soc_alignment.yaml"
KINDS = ("oews_aggregates", "broad_as_detailed")


def alignment_frame(path: Path = ALIGNMENT_FILE) -> pl.DataFrame:
    """One row per (OEWS code, SOC 2018 component) from the project's alignment file."""
    data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    rows = [
        {"oews_soc_code": str(code), "soc_code": str(part), "alignment_kind": kind.rstrip("s")}
        for kind in KINDS
        for code, parts in (data.get(kind) or {}).items()
        for part in parts
    ]
    return pl.DataFrame(rows)


def alignment_map(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """OEWS code -> its SOC 2018 components, from (OEWS code, SOC component) pairs in order
    (the file's rows, or raw_oews__soc_alignment's)."""
    alignment: dict[str, list[str]] = {}
    for code, part in pairs:
        alignment.setdefault(code, []).append(part)
    return alignment


def load_alignment(path: Path = ALIGNMENT_FILE) -> dict[str, list[str]]:
    """OEWS code -> its SOC 2018 components, in the file's order."""
    return alignment_map(alignment_frame(path).select("oews_soc_code", "soc_code").rows())
