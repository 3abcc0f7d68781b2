"""The cluster rule file's industry sections, validated: `industry_evidence_exclusions` (NAICS
sectors, or subsectors and industry groups within a cluster's sectors, that do not count as the
cluster's industry evidence) and `sub_cluster_industries` (the project's alignment of subsectors
and industry groups with sub-clusters); and the cluster / sub-cluster name check the whole file
shares. Checks that need the framework's sectors run where the framework is loaded
(`pipelines.policy.cluster_tables.policy_frames`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_EXCLUSION_KEYS = {"cluster", "reason"}  # and one of sectors / industries
_INDUSTRY_KEYS = {"naics", "sub_cluster"}
_SECTOR_RE = re.compile(r"\d{2}(-\d{2})?")
_INDUSTRY_RE = re.compile(r"\d{3,4}")


def check_names(cluster: Any, sub: Any, valid: dict[str, set[str]] | None, where: str) -> None:
    """ValueError unless `cluster` (and `sub`, if not None) are names known to `valid`."""
    if not isinstance(cluster, str) or not cluster:
        raise ValueError(f"{where}: cluster must be a non-empty string")
    if sub is not None and (not isinstance(sub, str) or not sub):
        raise ValueError(f"{where}: sub_cluster must be a non-empty string or null")
    if valid is None:
        return
    if cluster not in valid:
        raise ValueError(f"{where}: unknown cluster {cluster!r}; known: {sorted(valid)}")
    if sub is not None and sub not in valid[cluster]:
        raise ValueError(
            f"{where}: {sub!r} is not a sub-cluster of {cluster}; known: {sorted(valid[cluster])}"
        )


def _codes(value: Any, pattern: re.Pattern[str], where: str, what: str) -> list[str]:
    """A non-empty list of quoted NAICS codes matching `pattern`; ValueError otherwise."""
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(c, str) and pattern.fullmatch(c) for c in value)
    ):
        raise ValueError(f"{where} must be a list of quoted NAICS {what}, found {value!r}")
    return value


Exclusions = dict[str, tuple[tuple[str, str], ...]]


def evidence_exclusions(
    raw: Any, valid: dict[str, set[str]] | None, path: Path
) -> tuple[Exclusions, Exclusions]:
    """industry_evidence_exclusions, validated: (cluster -> ((sector, reason), ...), cluster ->
    ((subsector or industry group, reason), ...)). Each entry names sectors or industries."""
    raw = [] if raw is None else raw
    if not isinstance(raw, list):
        raise ValueError(f"{path}: industry_evidence_exclusions must be a list of entries")
    out: tuple[dict[str, list[tuple[str, str]]], ...] = ({}, {})
    for j, entry in enumerate(raw):
        where = f"{path}: industry_evidence_exclusions entry {j}"
        kinds = set(entry) - _EXCLUSION_KEYS if isinstance(entry, dict) else set()
        unknown = sorted(kinds - {"sectors", "industries"})
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {unknown}; name sectors or industries")
        if not isinstance(entry, dict) or not set(entry) >= _EXCLUSION_KEYS or len(kinds) != 1:
            raise ValueError(f"{where}: expected cluster, reason and one of sectors or industries")
        kind = kinds.pop()
        check_names(entry["cluster"], None, valid, where)
        codes = (
            _codes(entry[kind], _SECTOR_RE, f"{where}: sectors", 'sectors such as "92" or "31-33"')
            if kind == "sectors"
            else _codes(
                entry[kind],
                _INDUSTRY_RE,
                f"{where}: industries",
                '3-digit subsectors or 4-digit industry groups such as "811" or "8139"',
            )
        )
        reason = entry["reason"]
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"{where}: a non-empty reason is required (say why, for a reviewer)")
        listed = out[kind == "industries"].setdefault(entry["cluster"], [])
        for code in codes:  # a code, or one containing it or contained in it, excluded before
            taken = [c for c, _ in listed if c.startswith(code) or code.startswith(c)]
            if taken:
                raise ValueError(
                    f"{where}: NAICS {code} is excluded twice for the cluster (as {taken[0]})"
                )
            listed.append((code, " ".join(reason.split())))
    sectors, industries = (
        {cluster: tuple(items) for cluster, items in kind.items()} for kind in out
    )
    return sectors, industries


def sub_cluster_industries(
    raw: Any, valid: dict[str, set[str]] | None, path: Path
) -> dict[str, dict[str, str]]:
    """sub_cluster_industries: cluster -> {3-digit NAICS subsector or 4-digit industry group:
    sub-cluster}, validated."""
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: sub_cluster_industries must map clusters to lists of entries")
    out: dict[str, dict[str, str]] = {}
    for cluster, entries in raw.items():
        where = f"{path}: sub_cluster_industries[{cluster!r}]"
        check_names(cluster, None, valid, where)
        if not isinstance(entries, list):
            raise ValueError(f"{where}: expected a list of entries (naics and sub_cluster)")
        by_code = out.setdefault(cluster, {})
        for j, entry in enumerate(entries):
            at = f"{where} entry {j}"
            if not isinstance(entry, dict) or set(entry) != _INDUSTRY_KEYS:
                raise ValueError(f"{at}: expected exactly naics and sub_cluster")
            if entry["sub_cluster"] is None:
                raise ValueError(f"{at}: sub_cluster must name a sub-cluster of {cluster}")
            check_names(cluster, entry["sub_cluster"], valid, at)
            codes = _codes(
                entry["naics"],
                _INDUSTRY_RE,
                f"{at}: naics",
                '3-digit subsectors or 4-digit industry groups such as "624" or "8131"',
            )
            for code in codes:
                if code in by_code:
                    raise ValueError(
                        f"{at}: NAICS {code} is already aligned with {by_code[code]!r}"
                    )
                by_code[code] = entry["sub_cluster"]
        for code in by_code:
            if len(code) == 4 and code[:3] in by_code:
                raise ValueError(
                    f"{where}: industry group {code} lies in subsector {code[:3]}, which is "
                    "aligned as a whole: list one or the other"
                )
    return out
