"""Career Cluster rules (`cluster_rules.yaml`): the project's own, explainable assignment of
OEWS detailed occupations to Career Clusters and Sub-Clusters, by SOC major / minor / broad group
(or "*") and title keywords. `load_cluster_rules` validates the file strictly; `assign` is the
reference implementation of the matching that the file's `description` documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.policy.cluster_rule_sections import (
    check_names,
    evidence_exclusions,
    sub_cluster_industries,
)
from pipelines.policy.rules_file import load_rules_document
from pipelines.sources.soc import soc_level

DEFAULT_PATH = Path(__file__).with_name("cluster_rules.yaml")
ALL_GROUPS = "*"
LEVEL_RANK = {ALL_GROUPS: 0, "major": 1, "minor": 2, "broad": 3}
OCCUPATION_COLUMNS = (
    "soc_code",
    "occupation_name",
    "major_code",
    "minor_code",
    "broad_code",
    "is_broad_as_detailed",
)
ASSIGN_SCHEMA: dict[str, pl.DataType] = {
    "soc_code": pl.String(),
    "cluster": pl.String(),
    "sub_cluster": pl.String(),
    "weight": pl.Float64(),
    "rule_group": pl.String(),
    "rule_index": pl.Int32(),
    "rule_reason": pl.String(),
    "sub_cluster_method": pl.String(),
    "needs_industry_evidence": pl.Boolean(),
    "is_rule_primary": pl.Boolean(),
}
# The framework's names (framework.md §3 web spelling, §6 sub-clusters), only for tests of this
# module when no framework loader is at hand; the pipeline passes names from pipelines.framework.
_FRAMEWORK_TEXT = """
Advanced Manufacturing: Engineering; Industrial Machinery; Production & Automation; Robotics;
  Safety & Quality Assurance
Agriculture: Agribusiness; Agricultural Technology & Automation; Animal Systems;
  Food Science & Processing; Plant Systems; Water Systems
Arts, Entertainment & Design: Design & Digital Arts; Fashion & Interiors; Fine Arts;
  Lighting & Sound Technology; Media Production & Broadcasting; Performing Arts
Construction: Architecture & Civil Engineering; Construction Planning & Development;
  Equipment Operation & Maintenance; Skilled Trades
Digital Technology: Data Science & AI; IT Support & Services; Network Systems & Cybersecurity;
  Software Solutions; Web & Cloud; Unmanned Vehicle Technology
Education: Early Childhood Development; Education Administration & Leadership;
  Learner Support & Community Engagement; Teaching, Training, & Facilitation
Energy & Natural Resources: Clean & Alternative Energy; Conservation & Land Management;
  Ecological Research & Development; Environmental Protection; Resource Extraction; Utilities
Financial Services: Accounting; Banking & Credit; Financial Strategy & Investments; Insurance;
  Real Estate
Healthcare & Human Services: Behavioral & Mental Health; Biotechnology Research & Development;
  Community & Social Services; Health Data & Administration; Personal Care Services;
  Physical Health
Hospitality, Events & Tourism: Accommodations; Conferences & Events; Culinary & Food Services;
  Travel & Leisure
Management & Entrepreneurship: Business Information Management;
  Entrepreneurship & Small Business; Leadership & Operations; Project Management; Regulation
Marketing & Sales: Market Research, Analytics, & Ethics; Marketing & Advertising;
  Retail & Customer Experience; Strategic Sales
Public Service & Safety: Emergency Response; Judicial Systems; Local, State, & Federal Services;
  Military & National Security; Public Safety
Supply Chain & Transportation: Air & Space Transportation; Ground & Rail Transportation;
  Maintenance & Repair; Marine Transportation; Planning & Logistics; Purchasing & Warehousing
"""
FRAMEWORK_SUB_CLUSTERS: dict[str, tuple[str, ...]] = {
    name: tuple(s.strip() for s in subs.split(";"))
    for name, subs in (
        line.split(": ", 1) for line in re.sub(r"\n\s+", " ", _FRAMEWORK_TEXT).strip().splitlines()
    )
}
_TOP_KEYS = {
    "version",
    "description",
    "rules",
    "sub_cluster_keywords",
    "default_sub_clusters",
    "industry_evidence_exclusions",
    "sub_cluster_industries",
}
_REQUIRED_KEYS = {"group", "cluster", "weight", "reason"}
_RULE_KEYS = _REQUIRED_KEYS | {"title_keywords", "sub_cluster", "by_industry"}
_ENTRY_KEYS = {"keywords", "sub_cluster"}
_GROUP_RE = re.compile(r"\d{2}-\d{4}")
_EXCEPT_RE = re.compile(r",?\s+except\b.*$")


@dataclass(frozen=True)
class ClusterRule:
    """One rule of the file; `index` is its position in `rules`, `level` its group's level."""

    index: int
    group: str
    level: str
    title_keywords: tuple[str, ...]
    cluster: str
    sub_cluster: str | None
    weight: float
    by_industry: bool
    reason: str

    def matches(self, scope: str) -> bool:
        """True if the rule has no keywords or the title scope contains one of them."""
        return not self.title_keywords or any(k in scope for k in self.title_keywords)


@dataclass(frozen=True)
class ClusterRules:
    """The validated rule file: rules, per-cluster keyword entries and default sub-clusters."""

    description: str
    rules: tuple[ClusterRule, ...]
    sub_cluster_keywords: dict[str, tuple[tuple[tuple[str, ...], str], ...]]
    default_sub_clusters: dict[str, str]
    # cluster -> ((NAICS sector, reason), ...): sectors that are not industry evidence for it
    evidence_exclusions: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    # cluster -> ((3-digit subsector or 4-digit group, reason), ...): parts of its sectors that
    # are not industry evidence for it
    evidence_industry_exclusions: dict[str, tuple[tuple[str, str], ...]] = field(
        default_factory=dict
    )
    # cluster -> {NAICS subsector or industry group: sub-cluster}, for industry-only rows
    sub_cluster_industries: dict[str, dict[str, str]] = field(default_factory=dict)


def title_scope(title: str) -> str:
    """The lower-case title up to any ", except ..." clause (what the occupation covers)."""
    return _EXCEPT_RE.sub("", " ".join(title.lower().split()))


def _keywords(value: Any, where: str) -> tuple[str, ...]:
    """Validated keywords: a list of non-empty, lower-case, trimmed strings."""
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"{where}: keywords must be a list of strings")
    bad = [k for k in value if not k or k != k.strip().lower()]
    if bad:
        raise ValueError(f"{where}: keywords must be non-empty, trimmed and lower case: {bad}")
    return tuple(value)


def _rule(i: int, raw: Any, valid: dict[str, set[str]] | None, path: Path) -> ClusterRule:
    """One validated rule; ValueError naming the rule index and group."""
    group = raw.get("group") if isinstance(raw, dict) else None
    where = f"{path}: rule {i} (group {group!r})"
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected a mapping with group, cluster, weight and reason")
    extra = sorted(set(raw) - _RULE_KEYS)
    if extra:
        raise ValueError(f"{where}: unknown key(s) {extra}; allowed: {sorted(_RULE_KEYS)}")
    if _REQUIRED_KEYS - set(raw):
        raise ValueError(f"{where}: missing key(s) {sorted(_REQUIRED_KEYS - set(raw))}")
    if group == ALL_GROUPS:
        level = ALL_GROUPS
    elif isinstance(group, str) and _GROUP_RE.fullmatch(group):
        level = soc_level(group)
        if level == "detailed":
            raise ValueError(f"{where}: rules name SOC groups, not detailed occupations")
    else:
        raise ValueError(f'{where}: group must be "*" or a quoted SOC group such as "15-1200"')
    check_names(raw.get("cluster"), raw.get("sub_cluster"), valid, where)
    weight = raw.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1:
        raise ValueError(f"{where}: weight must be a number from 0 to 1, found {weight!r}")
    by_industry = raw.get("by_industry", False)
    if not isinstance(by_industry, bool):
        raise ValueError(f"{where}: by_industry must be true or false")
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(f"{where}: a non-empty reason is required (say why, for a reviewer)")
    keywords = _keywords(raw.get("title_keywords", []), where)
    sub, text = raw.get("sub_cluster"), " ".join(reason.split())
    cluster, weight = raw["cluster"], float(weight)
    return ClusterRule(i, group, level, keywords, cluster, sub, weight, by_industry, text)


def load_cluster_rules(
    path: Path = DEFAULT_PATH, valid: dict[str, set[str]] | None = None
) -> ClusterRules:
    """Read and strictly validate the rule file.

    `valid` maps each cluster name to its sub-cluster names; when given, every cluster and
    sub-cluster must be one of them. Raises ValueError naming the file and the rule (index and
    group) or entry for unknown keys or names, bad group codes, weights outside 0..1, missing
    reasons, bad keywords, duplicate rules, and clusters without a default sub-cluster.
    """
    path = Path(path)
    doc = load_rules_document(path, "cluster rules", _TOP_KEYS)
    description = doc.get("description")
    if not isinstance(description, str) or not description.strip():
        raise ValueError(f"{path}: a description (authorship, matching, checks) is required")
    raw_rules = doc.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise ValueError(f"{path}: rules must be a non-empty list")
    rules = tuple(_rule(i, raw, valid, path) for i, raw in enumerate(raw_rules))
    seen: dict[tuple[str, str, tuple[str, ...]], int] = {}
    for r in rules:
        key = (r.group, r.cluster, r.title_keywords)
        if key in seen:
            raise ValueError(
                f"{path}: rule {r.index} (group {r.group!r}): same group, cluster and keywords "
                f"as rule {seen[key]}"
            )
        seen[key] = r.index
    keywords: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {}
    raw_keywords = doc.get("sub_cluster_keywords") or {}
    if not isinstance(raw_keywords, dict) or {type(v) for v in raw_keywords.values()} - {list}:
        raise ValueError(f"{path}: sub_cluster_keywords must map clusters to lists of entries")
    for cluster, entries in raw_keywords.items():
        parsed = []
        for j, entry in enumerate(entries):
            where = f"{path}: sub_cluster_keywords[{cluster!r}] entry {j}"
            if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
                raise ValueError(f"{where}: expected exactly keywords and sub_cluster")
            check_names(cluster, entry["sub_cluster"], valid, where)
            parsed.append((_keywords(entry["keywords"], where), entry["sub_cluster"]))
        keywords[cluster] = tuple(parsed)
    defaults = doc.get("default_sub_clusters")
    if not isinstance(defaults, dict):
        raise ValueError(f"{path}: default_sub_clusters must map clusters to a sub-cluster")
    for cluster, sub in defaults.items():
        check_names(cluster, sub, valid, f"{path}: default_sub_clusters[{cluster!r}]")
    for r in rules:
        if r.cluster not in defaults:
            raise ValueError(
                f"{path}: rule {r.index} (group {r.group!r}): cluster {r.cluster!r} has no "
                "default_sub_clusters entry"
            )
    return ClusterRules(
        " ".join(description.split()),
        rules,
        keywords,
        dict(defaults),
        *evidence_exclusions(doc.get("industry_evidence_exclusions"), valid, path),
        sub_cluster_industries(doc.get("sub_cluster_industries"), valid, path),
    )


def _precedence(rule: ClusterRule) -> tuple[int, bool, int]:
    """Sort key: most specific group first, then keyword rules, then file order."""
    return (-LEVEL_RANK[rule.level], not rule.title_keywords, rule.index)


def _sub_cluster(rule: ClusterRule, scope: str, rules: ClusterRules) -> tuple[str, str]:
    """(sub-cluster, method): the rule's, the first matching keyword entry's, or the default."""
    if rule.sub_cluster is not None:
        return rule.sub_cluster, "rule"
    return keyword_sub_cluster(rule.cluster, scope, rules) or (
        rules.default_sub_clusters[rule.cluster],
        "default",
    )


def keyword_sub_cluster(cluster: str, scope: str, rules: ClusterRules) -> tuple[str, str] | None:
    """(sub-cluster, 'title keyword "<hit>"') of the cluster's first keyword entry found in the
    title scope, or None."""
    for words, sub in rules.sub_cluster_keywords.get(cluster, ()):
        hit = next((w for w in words if w in scope), None)
        if hit is not None:
            return sub, f'title keyword "{hit}"'
    return None


def assign(occupations: pl.DataFrame, rules: ClusterRules) -> pl.DataFrame:
    """One row per (soc_code, cluster, sub_cluster) that the rules place an occupation in.

    `occupations` needs the columns in OCCUPATION_COLUMNS (as in stg_oews__occupations).
    Columns: see ASSIGN_SCHEMA. `is_rule_primary` marks, per occupation, the row with the
    highest weight (ties: more specific group, then file order), before industry evidence.
    """
    missing = [c for c in OCCUPATION_COLUMNS if c not in occupations.columns]
    if missing:
        raise ValueError(f"occupations frame lacks column(s) {missing}")
    by_group: dict[str, list[ClusterRule]] = {}
    for rule in rules.rules:
        by_group.setdefault(rule.group, []).append(rule)
    rows: list[tuple[Any, ...]] = []
    for occ in occupations.select(OCCUPATION_COLUMNS).iter_rows(named=True):
        scope = title_scope(occ["occupation_name"] or "")
        groups = {ALL_GROUPS, occ["major_code"], occ["minor_code"], occ["broad_code"]}
        if occ["is_broad_as_detailed"]:
            groups.add(occ["soc_code"])
        applying = [r for g in groups if g for r in by_group.get(g, ()) if r.matches(scope)]
        winners: dict[str, ClusterRule] = {}
        for rule in sorted(applying, key=_precedence):
            winners.setdefault(rule.cluster, rule)
        placed = sorted(
            (r for r in winners.values() if r.weight > 0),
            key=lambda r: (-r.weight, *_precedence(r)),
        )
        for rank, rule in enumerate(placed):
            sub, method = _sub_cluster(rule, scope, rules)
            row = (occ["soc_code"], rule.cluster, sub, rule.weight, rule.group, rule.index)
            rows.append((*row, rule.reason, method, rule.by_industry, rank == 0))
    return pl.DataFrame(rows, schema=ASSIGN_SCHEMA, orient="row")
