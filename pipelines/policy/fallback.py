"""The built-in skill-tier fallback (`skill_fallback.yaml`): authored rules keyed by SOC groups.

Used only when neither BLS Employment Projections nor O*NET Job Zones are available. Each rule
gives a SOC 2018 major (`XX-0000`), minor or broad group a tier (low / middle / high) and a
reason; an occupation takes the rule of the most specific group that contains it (broad >
minor > major), else the file's default. A few rules name one detailed occupation
(`XX-XXXX`): an exception, for an occupation its group's rule misplaces (e.g. heavy truck
drivers, whose CDL course is a postsecondary award, among drivers who need a regular license),
which takes precedence over every group. `fallback_tiers` is the reference implementation of
that matching (the pipeline may do the same join in SQL).

`load_fallback_rules` returns one row per rule plus, first, the default as a row with
`group_code` null and `group_level` "default", so the frame alone carries the whole rule set.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.policy.rules_file import load_rules_document
from pipelines.sources.soc import soc_level, soc_parents

DEFAULT_PATH = Path(__file__).with_name("skill_fallback.yaml")
TIERS = ("low", "middle", "high")
GROUP_LEVELS = ("major", "minor", "broad")
# A rule may also name one detailed occupation: an exception to its groups' rules.
RULE_LEVELS = (*GROUP_LEVELS, "detailed")
DEFAULT_LEVEL = "default"
RULES_SCHEMA: dict[str, pl.DataType] = {
    "group_code": pl.String(),
    "group_level": pl.String(),
    "tier": pl.String(),
    "reason": pl.String(),
}
TIERS_SCHEMA: dict[str, pl.DataType] = {
    "soc_code": pl.String(),
    "skill_tier": pl.String(),
    "fallback_group": pl.String(),
    "reason": pl.String(),
}
_SOC_CODE_RE = re.compile(r"\d{2}-\d{4}")
_RULE_KEYS = {"group", "tier", "reason"}
_TOP_KEYS = {"version", "description", "default", "rules"}


def _check_tier_reason(entry: dict[str, Any], where: str) -> tuple[str, str]:
    """The (tier, reason) of a rule or of the default; ValueError naming `where` if invalid."""
    tier, reason = entry.get("tier"), entry.get("reason")
    if tier not in TIERS:
        raise ValueError(f"{where}: tier {tier!r} is not one of {', '.join(TIERS)}")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(f"{where}: a non-empty reason is required (say why, for a reviewer)")
    return tier, " ".join(reason.split())


def load_fallback_rules(path: Path = DEFAULT_PATH) -> pl.DataFrame:
    """Read and strictly validate the fallback rules (see the module docstring for the frame).

    Raises ValueError, naming the file and the rule (index and group), for: a tier other than
    low / middle / high; a group that is not a SOC code; a group listed twice; a missing or
    empty reason; unknown keys.
    """
    path = Path(path)
    doc = load_rules_document(path, "skill fallback rules", _TOP_KEYS)
    default, rules = doc.get("default"), doc.get("rules")
    if not isinstance(default, dict) or set(default) != {"tier", "reason"}:
        raise ValueError(f"{path}: default must be a mapping with exactly tier and reason")
    if not isinstance(rules, list) or not rules:
        raise ValueError(f"{path}: rules must be a non-empty list")

    tier, reason = _check_tier_reason(default, f"{path}: default")
    rows: list[dict[str, str | None]] = [
        {"group_code": None, "group_level": DEFAULT_LEVEL, "tier": tier, "reason": reason}
    ]
    seen: dict[str, int] = {}
    for i, rule in enumerate(rules):
        group = rule.get("group") if isinstance(rule, dict) else None
        where = f"{path}: rule {i} (group {group!r})"
        if not isinstance(rule, dict):
            raise ValueError(f"{where}: expected a mapping with group, tier and reason")
        extra = sorted(set(rule) - _RULE_KEYS)
        if extra:
            raise ValueError(f"{where}: unknown key(s) {extra}; allowed: group, tier, reason")
        if not isinstance(group, str) or not _SOC_CODE_RE.fullmatch(group):
            raise ValueError(f'{where}: group must be a quoted SOC code such as "29-1000"')
        level = soc_level(group)
        if group in seen:
            raise ValueError(f"{where}: group {group} is already used by rule {seen[group]}")
        seen[group] = i
        tier, reason = _check_tier_reason(rule, where)
        rows.append({"group_code": group, "group_level": level, "tier": tier, "reason": reason})
    return pl.DataFrame(rows, schema=RULES_SCHEMA)


def _groups_of(code: str) -> list[str]:
    """The rule keys that can match a hyphenated SOC code, most specific first: the code itself
    (a detailed occupation's exception, or a broad group OEWS publishes as an occupation), then
    its broad, minor and major groups."""
    major, minor, broad = soc_parents(code)
    return [code, *(g for g in (broad, minor, major) if g is not None and g != code)]


def fallback_tiers(codes: list[str], rules: pl.DataFrame) -> pl.DataFrame:
    """One row per code (input order): `soc_code`, `skill_tier`, `fallback_group` (the
    matching group, null when the default applied) and a readable `reason`.

    `rules` is the frame from `load_fallback_rules`; codes are hyphenated SOC codes.
    """
    missing = [c for c in RULES_SCHEMA if c not in rules.columns]
    if missing:
        raise ValueError(f"rules frame lacks column(s) {missing}; use load_fallback_rules")
    defaults = rules.filter(pl.col("group_level") == DEFAULT_LEVEL)
    if defaults.height != 1:
        raise ValueError(f"rules frame must hold exactly one default row, found {defaults.height}")
    default_tier, default_reason = defaults.row(0)[2:4]
    by_group = {
        row["group_code"]: row
        for row in rules.filter(pl.col("group_level") != DEFAULT_LEVEL).iter_rows(named=True)
    }
    out: list[dict[str, str | None]] = []
    for code in codes:
        if not isinstance(code, str) or not _SOC_CODE_RE.fullmatch(code):
            raise ValueError(f"{code!r} is not a hyphenated SOC code such as '15-1252'")
        rule = next((by_group[g] for g in _groups_of(code) if g in by_group), None)
        if rule is None:
            tier, group = default_tier, None
            reason = f"built-in default (no rule for the SOC groups of {code}): {tier}. "
            reason += default_reason
        else:
            tier, group = rule["tier"], rule["group_code"]
            what = "occupation" if rule["group_level"] == "detailed" else "group"
            reason = f"built-in rule for SOC {rule['group_level']} {what} {group}: {tier}. "
            reason += rule["reason"]
        out.append(
            {"soc_code": code, "skill_tier": tier, "fallback_group": group, "reason": reason}
        )
    return pl.DataFrame(out, schema=TIERS_SCHEMA)
