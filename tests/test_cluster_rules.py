"""The project's Career Cluster rules (pipelines/policy/cluster_rules.yaml): strict validation,
the matching semantics, and coverage of the 830 OEWS detailed occupations of a warehouse built
offline by the real pipeline."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
import yaml

from pipelines.policy.cluster_rules import DEFAULT_PATH as DEFAULT_RULES_PATH
from pipelines.policy.cluster_rules import (
    FRAMEWORK_SUB_CLUSTERS,
    ClusterRules,
    assign,
    load_cluster_rules,
    title_scope,
)
from tests.support.pipeline import (
    read,
    shared_embedded_build,
)

UNMANNED = "Unmanned Vehicle Technology"
DT, ME, MS = "Digital Technology", "Management & Entrepreneurship", "Marketing & Sales"


def framework_valid() -> dict[str, set[str]]:
    """Cluster -> sub-cluster names: the framework loader's if it loads, else the module's copy."""
    try:
        from pipelines.framework.definition import load_framework

        framework = load_framework()
        return {c.name: {s.name for s in c.sub_clusters} for c in framework.clusters}
    except Exception:  # the loader is optional for these tests
        return {cluster: set(subs) for cluster, subs in FRAMEWORK_SUB_CLUSTERS.items()}


VALID = framework_valid()


@pytest.fixture(scope="module")
def rules() -> ClusterRules:
    return load_cluster_rules(valid=VALID)


@pytest.fixture(scope="module")
def occupations() -> pl.DataFrame:
    """The OEWS detailed occupations of a warehouse built offline by the real pipeline."""
    settings = shared_embedded_build()
    frame = read(
        settings.warehouse,
        "SELECT soc_code, occupation_name, major_code, minor_code, broad_code, "
        "is_broad_as_detailed FROM stg_oews__occupations WHERE is_detailed ORDER BY soc_code",
    )
    assert frame.height == 830
    return frame


@pytest.fixture(scope="module")
def assigned(occupations: pl.DataFrame, rules: ClusterRules) -> pl.DataFrame:
    return assign(occupations, rules)


# ---- the file ------------------------------------------------------------------------------
def test_framework_copy_matches_the_framework_definition() -> None:
    assert {c: set(s) for c, s in FRAMEWORK_SUB_CLUSTERS.items()} == VALID
    assert len(VALID) == 14 and sum(map(len, VALID.values())) == 72


def test_rules_file_is_compact_explained_and_complete(rules: ClusterRules) -> None:
    assert 50 <= len(rules.rules) <= 250
    assert all(len(r.reason) >= 20 for r in rules.rules)
    assert "not copied" in rules.description and "830" in rules.description
    assert set(rules.default_sub_clusters) == set(VALID)
    named = {r.sub_cluster for r in rules.rules} | set(rules.default_sub_clusters.values())
    named |= {sub for entries in rules.sub_cluster_keywords.values() for _, sub in entries}
    assert UNMANNED not in named


MINIMAL = {
    "version": 1,
    "description": "test rules",
    "default_sub_clusters": {DT: "IT Support & Services", MS: "Strategic Sales"},
    "rules": [
        {"group": "41-0000", "cluster": MS, "weight": 0.9, "reason": "sales"},
        {"group": "15-1200", "cluster": DT, "weight": 1.0, "reason": "computers"},
    ],
}


def write_rules(tmp_path: Path, **changes: object) -> Path:
    """MINIMAL with the second rule's keys replaced (None deletes a key); returns the path."""
    doc = yaml.safe_load(yaml.safe_dump(MINIMAL))
    for key, value in changes.items():
        if value is None:
            doc["rules"][1].pop(key)
        else:
            doc["rules"][1][key] = value
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_minimal_file_loads(tmp_path: Path) -> None:
    rules = load_cluster_rules(write_rules(tmp_path), valid=VALID)
    assert [r.group for r in rules.rules] == ["41-0000", "15-1200"]
    assert rules.rules[1].weight == 1.0 and not rules.rules[1].by_industry


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cluster": "Information Technology"}, "unknown cluster"),
        ({"sub_cluster": "Cloud Computing"}, "not a sub-cluster of Digital Technology"),
        ({"group": "15-1252"}, "not detailed occupations"),
        ({"group": "15-12"}, "group must be"),
        ({"group": 151200}, "group must be"),
        ({"weight": 1.5}, "weight must be a number from 0 to 1"),
        ({"weight": -0.1}, "weight must be a number from 0 to 1"),
        ({"weight": True}, "weight must be a number from 0 to 1"),
        ({"reason": None}, "missing key"),
        ({"reason": "  "}, "non-empty reason"),
        ({"priority": 2}, "unknown key"),
        ({"title_keywords": ["Software"]}, "lower case"),
        ({"title_keywords": "software"}, "list of strings"),
        ({"by_industry": "yes"}, "by_industry must be true or false"),
        ({"group": "41-0000", "cluster": MS}, "same group, cluster and keywords as rule 0"),
    ],
)
def test_bad_rule_is_named(tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=r"rule 1 \(group ") as caught:
        load_cluster_rules(write_rules(tmp_path, **changes), valid=VALID)
    assert message in str(caught.value)


def test_bad_file_level_entries_are_rejected(tmp_path: Path) -> None:
    path = write_rules(tmp_path, cluster="Construction")
    with pytest.raises(ValueError, match=r"rule 1 .*no default_sub_clusters entry"):
        load_cluster_rules(path, valid=VALID)
    doc = dict(MINIMAL, extra=1)
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown top key"):
        load_cluster_rules(path)
    doc = dict(MINIMAL, sub_cluster_keywords={DT: [{"keywords": ["web"], "sub_cluster": "Web"}]})
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ValueError, match=r"sub_cluster_keywords\['Digital Technology'\] entry 0"):
        load_cluster_rules(path, valid=VALID)


HHS, EDU = "Healthcare & Human Services", "Education"
EXCLUSION = {"cluster": EDU, "sectors": ["92"], "reason": "schools are in 61"}
ALIGNED = {HHS: [{"naics": ["813"], "sub_cluster": "Community & Social Services"}]}


@pytest.mark.parametrize(
    ("section", "value", "message"),
    [
        ("industry_evidence_exclusions", {"cluster": EDU}, "must be a list"),
        ("industry_evidence_exclusions", [dict(EXCLUSION, cluster="Teaching")], "unknown cluster"),
        ("industry_evidence_exclusions", [dict(EXCLUSION, sectors=[92])], "quoted NAICS sectors"),
        ("industry_evidence_exclusions", [dict(EXCLUSION, sectors=["9"])], "quoted NAICS sectors"),
        ("industry_evidence_exclusions", [dict(EXCLUSION, reason=" ")], "non-empty reason"),
        (
            "industry_evidence_exclusions",
            [{"cluster": EDU, "sectors": ["92"]}],
            "expected cluster, reason and one of sectors or industries",
        ),
        (
            "industry_evidence_exclusions",
            [dict(EXCLUSION, industries=["611"])],
            "expected cluster, reason and one of sectors or industries",
        ),
        (
            "industry_evidence_exclusions",
            [{"cluster": EDU, "naics": ["611"], "reason": "x"}],
            "unknown key(s) ['naics']",
        ),
        (
            "industry_evidence_exclusions",
            [dict(EXCLUSION, sector=["92"])],
            "unknown key(s) ['sector']",
        ),
        ("industry_evidence_exclusions", [EXCLUSION, EXCLUSION], "NAICS 92 is excluded twice"),
        (
            "industry_evidence_exclusions",
            [{"cluster": HHS, "industries": ["81"], "reason": "x"}],
            "quoted NAICS 3-digit subsectors or 4-digit industry groups",
        ),
        (
            "industry_evidence_exclusions",
            [{"cluster": HHS, "industries": ["811", "8113"], "reason": "x"}],
            "NAICS 8113 is excluded twice for the cluster (as 811)",
        ),
        (  # the other order, and across entries: a group would be taken out twice
            "industry_evidence_exclusions",
            [
                {"cluster": HHS, "industries": ["8113"], "reason": "x"},
                {"cluster": HHS, "industries": ["811"], "reason": "y"},
            ],
            "NAICS 811 is excluded twice for the cluster (as 8113)",
        ),
        (
            "sub_cluster_industries",
            {HHS: [{"naics": ["81311"], "sub_cluster": "Physical Health"}]},
            "quoted NAICS 3-digit subsectors or 4-digit industry groups",
        ),
        (
            "sub_cluster_industries",
            {HHS: [{"naics": ["813", "8131"], "sub_cluster": "Physical Health"}]},
            "industry group 8131 lies in subsector 813, which is aligned as a whole",
        ),
        ("sub_cluster_industries", {"Health": []}, "unknown cluster 'Health'"),
        ("sub_cluster_industries", {HHS: None}, "expected a list of entries"),
        (
            "sub_cluster_industries",
            {HHS: [{"naics": ["813"], "sub_cluster": None}]},
            "sub_cluster must name a sub-cluster",
        ),
        ("sub_cluster_industries", [], "must map clusters to lists"),
        ("industry_evidence_exclusions", {}, "must be a list"),
        (
            "sub_cluster_industries",
            {HHS: [{"naics": ["813"], "sub_cluster": "Social"}]},
            "not a sub-cluster of Healthcare",
        ),
        (
            "sub_cluster_industries",
            {HHS: ALIGNED[HHS] + [{"naics": ["813"], "sub_cluster": "Physical Health"}]},
            "NAICS 813 is already aligned with 'Community & Social Services'",
        ),
        ("sub_cluster_industries", {HHS: {"naics": ["813"]}}, "expected a list of entries"),
    ],
)
def test_bad_industry_policy_is_named(
    tmp_path: Path, section: str, value: object, message: str
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(dict(MINIMAL, **{section: value})), encoding="utf-8")
    with pytest.raises(ValueError, match=section) as caught:
        load_cluster_rules(path, valid=VALID)
    assert message in str(caught.value) and str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("section", "value", "message"),
    [
        (
            "industry_evidence_exclusions",
            [dict(EXCLUSION, sectors=["62"])],
            "sector 62 is not one of Education's NAICS sectors (61, 92)",
        ),
        (
            "industry_evidence_exclusions",
            [dict(EXCLUSION, sectors=["61", "92"])],
            "every sector of Education is excluded",
        ),
        (
            "sub_cluster_industries",
            {HHS: [{"naics": ["611"], "sub_cluster": "Physical Health"}]},
            "NAICS 611 is not in Healthcare & Human Services's NAICS sectors (62, 81)",
        ),
        (
            "industry_evidence_exclusions",
            [{"cluster": HHS, "industries": ["611"], "reason": "x"}],
            "NAICS 611 is not in Healthcare & Human Services's NAICS sectors (62, 81)",
        ),
        (
            "industry_evidence_exclusions",
            [EXCLUSION, {"cluster": EDU, "industries": ["921"], "reason": "x"}],
            "NAICS 921 lies in sector 92, which industry_evidence_exclusions excludes",
        ),
        (
            "industry_evidence_exclusions",  # the shipped file aligns 8132 with a sub-cluster
            [{"cluster": HHS, "industries": ["813"], "reason": "x"}],
            "NAICS 813 is not evidence, yet sub_cluster_industries aligns NAICS 8131",
        ),
        (
            "sub_cluster_industries",
            {EDU: [{"naics": ["921"], "sub_cluster": "Regulation"}]},
            "not a sub-cluster of Education",
        ),
    ],
)
def test_industry_policy_is_checked_against_the_framework(
    tmp_path: Path, section: str, value: object, message: str
) -> None:
    """What only the framework's sectors can tell: the raw_framework asset's policy tables."""
    from pipelines.framework.definition import load_framework
    from pipelines.policy.cluster_tables import framework_names, framework_resolver, policy_frames

    framework = load_framework()
    doc = yaml.safe_load(Path(DEFAULT_RULES_PATH).read_text(encoding="utf-8"))
    doc[section] = value
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        rules = load_cluster_rules(path, valid=framework_names(framework))
        policy_frames(framework, rules, framework_resolver(framework), str(path))
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_shipped_industry_policy_tables() -> None:
    from pipelines.framework.definition import load_framework
    from pipelines.policy.cluster_tables import framework_names, framework_resolver, policy_frames

    framework = load_framework()
    rules = load_cluster_rules(valid=framework_names(framework))
    frames = policy_frames(framework, rules, framework_resolver(framework), "rules")
    aligned = frames["raw_policy__sub_cluster_industries"]
    assert aligned.filter(pl.col("naics_code") == "8132").rows() == [
        ("healthcare-human-services", "8132", "healthcare-human-services/community-social-services")
    ]
    assert aligned["sub_cluster_code"].null_count() == 0
    assert frames["raw_policy__cluster_default_sub_clusters"].height == 14
    assert frames["raw_policy__evidence_sector_exclusions"].rows()[0][:2] == ("education", "92")
    assert [r[:2] for r in frames["raw_policy__evidence_industry_exclusions"].rows()] == [
        ("healthcare-human-services", "811"),
        ("healthcare-human-services", "8139"),
        *(("public-service-safety", g) for g in ["5611", "5612", "5613", "5614", "5615", "5617"]),
        ("public-service-safety", "5619"),
    ]


# ---- the matching ----------------------------------------------------------------------------
def test_title_scope_drops_except_clauses() -> None:
    title = "Secretaries and Administrative Assistants, Except Legal, Medical, and Executive"
    assert title_scope(title) == "secretaries and administrative assistants"
    assert title_scope("Mining and Geological Engineers, Including Mining Safety Engineers") == (
        "mining and geological engineers, including mining safety engineers"
    )


SOFTWARE = "Software Solutions"


def test_matching_semantics(tmp_path: Path) -> None:
    doc = {
        "version": 1,
        "description": "semantics",
        "default_sub_clusters": {DT: "IT Support & Services", ME: "Leadership & Operations"},
        "sub_cluster_keywords": {DT: [{"keywords": ["software"], "sub_cluster": SOFTWARE}]},
        "rules": [
            {"group": "*", "cluster": ME, "weight": 0.3, "reason": "everyone is managed"},
            {"group": "15-0000", "cluster": DT, "weight": 0.5, "reason": "major"},
            {"group": "15-1200", "cluster": DT, "weight": 0.9, "reason": "minor"},
            {"group": "15-1200", "title_keywords": ["support"], "cluster": DT,
             "sub_cluster": "IT Support & Services", "weight": 0.8, "reason": "keyword"},
            {"group": "15-1250", "title_keywords": ["quality"], "cluster": DT, "weight": 0,
             "reason": "exception"},
            {"group": "13-1020", "cluster": DT, "weight": 1.0, "reason": "broad as detailed"},
        ],
    }  # fmt: skip
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    computer = ("15-0000", "15-1200")
    occ = pl.DataFrame(
        [
            ("15-1252", "Software Developers", *computer, "15-1250", False),
            ("15-1232", "Computer User Support Specialists", *computer, "15-1230", False),
            ("15-1253", "Software Quality Assurance Analysts", *computer, "15-1250", False),
            ("13-1020", "Buyers and Purchasing Agents", "13-0000", "13-1000", None, True),
        ],
        schema=["soc_code", "occupation_name", "major_code", "minor_code", "broad_code",
                "is_broad_as_detailed"],
        orient="row",
    )  # fmt: skip
    out = assign(occ, load_cluster_rules(path, valid=VALID))
    rows = {(r["soc_code"], r["cluster"]): r for r in out.iter_rows(named=True)}
    developer = rows["15-1252", DT]
    assert (developer["rule_group"], developer["weight"]) == ("15-1200", 0.9)
    assert developer["sub_cluster"] == SOFTWARE
    assert developer["sub_cluster_method"] == 'title keyword "software"'
    assert developer["is_rule_primary"]
    support = rows["15-1232", DT]
    assert (support["weight"], support["sub_cluster_method"]) == (0.8, "rule")
    assert ("15-1253", DT) not in rows and rows["15-1253", ME]["is_rule_primary"]
    assert rows["15-1253", ME]["sub_cluster_method"] == "default"
    assert rows["13-1020", DT]["rule_group"] == "13-1020"
    assert out.filter(pl.col("is_rule_primary")).height == 4


# ---- coverage of the 830 OEWS occupations ---------------------------------------------------
def test_every_occupation_gets_a_valid_cluster(
    occupations: pl.DataFrame, assigned: pl.DataFrame
) -> None:
    assert set(assigned["soc_code"]) == set(occupations["soc_code"])
    assert assigned.select("soc_code", "cluster").is_unique().all()
    pairs = set(zip(assigned["cluster"], assigned["sub_cluster"], strict=True))
    assert all(sub in VALID[cluster] for cluster, sub in pairs)
    assert UNMANNED not in pairs
    primaries = assigned.group_by("soc_code").agg(pl.col("is_rule_primary").sum())
    assert (primaries["is_rule_primary"] == 1).all()
    assert (assigned["weight"] > 0).all()


def test_every_rule_applies_somewhere(rules: ClusterRules, occupations: pl.DataFrame) -> None:
    unused = []
    for rule in rules.rules:  # alone, and with weight 1 so that exceptions count too
        probe = ClusterRules("", (replace(rule, weight=1.0),), {}, rules.default_sub_clusters)
        if assign(occupations, probe).is_empty():
            unused.append((rule.index, rule.group, rule.cluster))
    assert not unused, f"rules that match no occupation: {unused}"


WELL_KNOWN = [
    ("15-1252", DT, "Software Solutions"),
    ("29-1141", "Healthcare & Human Services", "Physical Health"),
    ("47-2111", "Construction", "Skilled Trades"),
    ("13-2011", "Financial Services", "Accounting"),
    ("53-3032", "Supply Chain & Transportation", "Ground & Rail Transportation"),
    ("25-2021", "Education", "Teaching, Training, & Facilitation"),
    ("33-3051", "Public Service & Safety", "Public Safety"),
    ("35-2014", "Hospitality, Events & Tourism", "Culinary & Food Services"),
    ("51-4041", "Advanced Manufacturing", "Production & Automation"),
    ("11-2021", MS, "Marketing & Advertising"),
]


@pytest.mark.parametrize(("soc", "cluster", "sub_cluster"), WELL_KNOWN)
def test_well_known_occupations(assigned: pl.DataFrame, soc: str, cluster: str, sub_cluster: str):
    primary = assigned.filter(pl.col("soc_code") == soc, pl.col("is_rule_primary"))
    assert primary.select("cluster", "sub_cluster").row(0) == (cluster, sub_cluster)


def test_multi_cluster_and_industry_cases(assigned: pl.DataFrame) -> None:
    def clusters(soc: str) -> set[str]:
        return set(assigned.filter(pl.col("soc_code") == soc)["cluster"])

    assert clusters("11-2021") == {MS, ME}
    assert clusters("41-2031") == {MS} and DT in clusters("11-3021")
    for soc in ("43-6014", "11-1021"):
        rows = assigned.filter(pl.col("soc_code") == soc)
        assert rows["cluster"].to_list() == [ME] and rows["needs_industry_evidence"].all()
    assert clusters("29-1131") == {"Agriculture"}  # veterinarians: animal health only
    assert "Energy & Natural Resources" in clusters("47-2231")  # solar installers


def test_coverage_per_cluster_and_sub_cluster(assigned: pl.DataFrame) -> None:
    by_cluster = (
        assigned.group_by("cluster")
        .agg(occupations=pl.len(), primary=pl.col("is_rule_primary").sum())
        .sort("cluster")
    )
    by_sub = assigned.group_by("cluster", "sub_cluster").agg(occupations=pl.len())
    counts = {(r["cluster"], r["sub_cluster"]): r["occupations"] for r in by_sub.to_dicts()}
    print("\nOccupations per cluster (all memberships / as rule-primary cluster):")
    for row in by_cluster.iter_rows(named=True):
        print(f"  {row['cluster']:<32}{row['occupations']:>5}{row['primary']:>5}")
    print("Occupations per sub-cluster:")
    for cluster in sorted(VALID):
        for sub in sorted(VALID[cluster]):
            print(f"  {cluster[:30]:<32}{sub:<42}{counts.get((cluster, sub), 0):>4}")
    methods = assigned["sub_cluster_method"].str.replace(r":.*", "").value_counts(sort=True)
    print("Sub-cluster method:", dict(methods.iter_rows()))
    empty = sorted((c, s) for c, subs in VALID.items() for s in subs if (c, s) not in counts)
    print("Sub-clusters with no occupation:", empty)
    assert empty == [(DT, UNMANNED)]
    assert set(by_cluster["cluster"]) == set(VALID)
