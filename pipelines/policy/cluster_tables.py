"""The cluster rule file checked against the framework: people's names for clusters and
sub-clusters resolved to the framework's codes, and the file's cluster-level policy (default
sub-clusters, what is not industry evidence, subsector alignments) as tables, each NAICS code
checked against the sectors Advance CTE aligns with the cluster."""

from collections.abc import Callable
from typing import Any

import polars as pl

from pipelines.checks import Check, sql_check
from pipelines.framework.definition import Framework
from pipelines.policy.cluster_rules import ClusterRules
from pipelines.sources.naics import naics_sector

Resolver = Callable[[str, str], tuple[str, str | None] | None]
# The tables `policy_frames` builds, with their descriptions for the UI.
POLICY_TABLES = {
    "raw_policy__cluster_default_sub_clusters": "The sub-cluster an occupation gets when a rule "
    "or industry evidence places it in a cluster but nothing else names a sub-cluster.",
    "raw_policy__evidence_sector_exclusions": "NAICS sectors of a cluster that do not count as "
    "its industry evidence, each with the reason (pipelines/policy/cluster_rules.yaml).",
    "raw_policy__evidence_industry_exclusions": "NAICS subsectors and industry groups within a "
    "cluster's sectors (naics_sector: which) that do not count as its industry evidence, each "
    "with the reason.",
    "raw_policy__sub_cluster_industries": "The project's 3-digit NAICS subsector -> sub-cluster "
    "alignments, for occupations that industry evidence alone places in a cluster.",
}


def framework_resolver(framework: Framework) -> Resolver:
    """(cluster name, sub-cluster name) as written by people -> framework codes, or None."""
    codes = framework.sub_clusters_frame()
    by_names = {
        (row["cluster_code"], row["sub_cluster_name"]): row["sub_cluster_code"]
        for row in codes.iter_rows(named=True)
    }

    def resolve(cluster_name: str, sub_cluster_name: str) -> tuple[str, str | None] | None:
        cluster = framework.match_cluster(cluster_name)
        if cluster is None:
            return None
        if not sub_cluster_name:
            return cluster.slug, None
        match = framework.match_sub_cluster(sub_cluster_name, cluster)
        if match is None:
            return None
        return cluster.slug, by_names[(cluster.slug, match[1].name)]

    return resolve


def framework_names(framework: Framework) -> dict[str, set[str]]:
    return {c.name: {s.name for s in c.sub_clusters} for c in framework.clusters}


def _cluster(framework: Framework, name: str, where: str) -> Any:
    """The framework cluster of that exact name; ValueError naming `where` otherwise."""
    try:
        return framework.cluster(name)
    except KeyError:
        known = ", ".join(c.name for c in framework.clusters)
        raise ValueError(f"{where}: unknown cluster {name!r}; known: {known}") from None


def _check_industry(c: Any, code: str, rules: ClusterRules, where: str) -> str:
    """The sector of NAICS `code`; ValueError naming `where` unless it is a sector of framework
    cluster `c` that counts as its industry evidence."""
    sector = naics_sector(code)
    if sector not in c.naics_sectors:
        raise ValueError(
            f"{where}: NAICS {code} is not in {c.name}'s NAICS sectors "
            f"({', '.join(c.naics_sectors)})"
        )
    if sector in {s for s, _ in rules.evidence_exclusions.get(c.name, ())}:
        raise ValueError(
            f"{where}: NAICS {code} lies in sector {sector}, which "
            "industry_evidence_exclusions excludes"
        )
    return sector


def policy_frames(
    framework: Framework, rules: ClusterRules, resolve: Resolver, path: str
) -> dict[str, pl.DataFrame]:
    """The rule file's cluster-level policy as tables (default sub-clusters, sectors and
    industries that are not industry evidence, subsector alignments), each checked against the
    framework's NAICS sectors: a ValueError names the file and entry that lists a sector the
    cluster lacks."""
    defaults, exclusions, parts, industries = [], [], [], []
    for cluster, sub in rules.default_sub_clusters.items():
        code, sub_code = resolve(cluster, sub) or (None, None)
        defaults.append({"cluster_code": code, "sub_cluster_code": sub_code})
    for cluster, entries in rules.evidence_exclusions.items():
        c = _cluster(framework, cluster, f"{path}: industry_evidence_exclusions")
        for sector, reason in entries:
            if sector not in c.naics_sectors:
                raise ValueError(
                    f"{path}: industry_evidence_exclusions: sector {sector} is not one of "
                    f"{cluster}'s NAICS sectors ({', '.join(c.naics_sectors)})"
                )
            exclusions.append({"cluster_code": c.slug, "naics_sector": sector, "reason": reason})
        if len(entries) == len(c.naics_sectors):
            raise ValueError(
                f"{path}: industry_evidence_exclusions: every sector of {cluster} is excluded, "
                "so nothing could count as its industry evidence"
            )
    for cluster, entries in rules.evidence_industry_exclusions.items():
        c = _cluster(framework, cluster, f"{path}: industry_evidence_exclusions")
        aligned = rules.sub_cluster_industries.get(cluster, {})
        for code, reason in entries:
            sector = _check_industry(
                c, code, rules, f"{path}: industry_evidence_exclusions ({cluster})"
            )
            both = [a for a in aligned if a.startswith(code) or code.startswith(a)]
            if both:
                raise ValueError(
                    f"{path}: industry_evidence_exclusions ({cluster}): NAICS {code} is not "
                    f"evidence, yet sub_cluster_industries aligns NAICS {both[0]} with a "
                    "sub-cluster: drop one of them"
                )
            parts.append(
                {
                    "cluster_code": c.slug,
                    "naics_code": code,
                    "naics_sector": sector,
                    "reason": reason,
                }
            )
    for cluster, by_code in rules.sub_cluster_industries.items():
        c = _cluster(framework, cluster, f"{path}: sub_cluster_industries")
        for code, sub in by_code.items():
            _check_industry(c, code, rules, f"{path}: sub_cluster_industries[{cluster!r}]")
            sub_code = (resolve(cluster, sub) or (None, None))[1]
            industries.append(
                {"cluster_code": c.slug, "naics_code": code, "sub_cluster_code": sub_code}
            )
    text = dict.fromkeys(("cluster_code", "sub_cluster_code"), pl.String)
    return {
        "raw_policy__cluster_default_sub_clusters": pl.DataFrame(defaults, schema=text),
        "raw_policy__evidence_sector_exclusions": pl.DataFrame(
            exclusions, schema=dict.fromkeys(("cluster_code", "naics_sector", "reason"), pl.String)
        ),
        "raw_policy__evidence_industry_exclusions": pl.DataFrame(
            parts,
            schema=dict.fromkeys(
                ("cluster_code", "naics_code", "naics_sector", "reason"), pl.String
            ),
        ),
        "raw_policy__sub_cluster_industries": pl.DataFrame(
            industries,
            schema=dict.fromkeys(("cluster_code", "naics_code", "sub_cluster_code"), pl.String),
        ),
    }


def _naics_check(table: str, what: str) -> Check:
    return sql_check(
        table,
        "naics_codes_exist",
        f"Every NAICS code the rule file lists as {what} is a NAICS 2022 code (a mistyped "
        "code would silently count for nothing).",
        f"""
        SELECT p.cluster_code, p.naics_code
        FROM {table} p
        WHERE NOT EXISTS (SELECT 1 FROM stg_naics__codes n WHERE n.naics_code = p.naics_code)
        """,
        deps=["stg_naics__codes"],
        remedy="correct the code in pipelines/policy/cluster_rules.yaml",
    )


# The rule file's NAICS codes, checked against the NAICS 2022 list.
POLICY_CHECKS = [
    _naics_check("raw_policy__evidence_industry_exclusions", "not industry evidence"),
    _naics_check("raw_policy__sub_cluster_industries", "aligned with a sub-cluster"),
]
