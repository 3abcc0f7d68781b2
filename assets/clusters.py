"""Stage 4, clusters: which Career Clusters and Sub-Clusters each occupation belongs to.

Three layers, each row keeping its provenance: Advance CTE's official crosswalk when available,
the project's explainable rules (SOC groups, title keywords and industry evidence; always
computed, the only layer offline), and IAG reviewer decisions applied last.
"""

import functools
from collections.abc import Callable
from pathlib import Path

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    asset,
    multi_asset,
)

from pipelines.assignment import (
    agreement,
    crosswalk_problems,
    detailed_socs,
    layer_summary,
    layered_assignment,
    match_crosswalk,
    method_summary,
    rule_matches,
    title_sub_clusters,
)
from pipelines.assignment_checks import (
    EVERY_CLUSTER_HAS_A_QUALIFYING_OCCUPATION,
    OCCUPATION_CLUSTER,
    QUALIFYING_HAVE_A_CLUSTER,
    SUB_CLUSTERS_AND_ONE_PRIMARY,
)
from pipelines.checks import asset_checks, before_swap, contract_check
from pipelines.framework.definition import load_framework
from pipelines.metadata import build_table, table_metadata
from pipelines.policy.cluster_rules import DEFAULT_PATH as CLUSTER_RULES_PATH
from pipelines.policy.cluster_rules import load_cluster_rules
from pipelines.policy.cluster_tables import (
    POLICY_CHECKS,
    POLICY_TABLES,
    framework_names,
    framework_resolver,
    policy_frames,
)
from pipelines.policy.reviews import load_decisions
from pipelines.releases import RELEASES, partition_release
from pipelines.resources import SourcesResource
from pipelines.review_tables import APPLIED, record_applied_decisions
from pipelines.sources.cache import refused_downloads_set_aside
from pipelines.sources.crosswalk import read_crosswalk
from pipelines.sources.records import (
    record_release_sources,
    record_source,
    record_staged_source,
)
from pipelines.warehouse import (
    WarehouseResource,
    sql_text,
    write_frame,
    write_table,
)
from schemas import enforce_contract

GROUP = "clusters"
POOL = "duckdb"
# An occupation that no rule places (or whose rule defers to industry) joins the cluster whose
# NAICS sectors employ at least this share of it.
MIN_INDUSTRY_SHARE = 0.35


# ---- framework and policy inputs -------------------------------------------------------------
FRAMEWORK_TABLES = {
    "raw_framework__clusters": "The 14 Career Clusters: grouping, cross-cutting flag, O*NET code, "
    "Advance CTE's NAICS sectors, definition (pipelines/framework/framework_2024.yaml).",
    "raw_framework__sub_clusters": "The 72 Sub-Clusters of the framework definition.",
    "raw_framework__cluster_sectors": "Each cluster's NAICS sectors and the OEWS sector codes "
    "they correspond to (OEWS writes 31--34 for NAICS 31-33 and has no sector 92).",
    **POLICY_TABLES,
}


@multi_asset(
    specs=[
        AssetSpec(name, group_name=GROUP, description=desc, kinds={"duckdb"})
        for name, desc in FRAMEWORK_TABLES.items()
    ],
    pool=POOL,
)
def raw_framework(warehouse: WarehouseResource):
    """The project's versioned framework definition, validated on load."""
    framework = load_framework()
    rules = load_cluster_rules(valid=framework_names(framework))
    resolve = framework_resolver(framework)
    frames = {
        "raw_framework__clusters": framework.clusters_frame(),
        "raw_framework__sub_clusters": framework.sub_clusters_frame(),
        "raw_framework__cluster_sectors": framework.cluster_sectors_frame(),
        **policy_frames(framework, rules, resolve, str(CLUSTER_RULES_PATH)),
    }
    with warehouse.get_connection() as con:
        for table, frame in frames.items():
            write_frame(con, table, frame)
            meta = table_metadata(con, table)
            meta["framework_version"] = framework.version
            yield MaterializeResult(asset_key=AssetKey(table), metadata=meta)


@asset(
    group_name=GROUP,
    pool=POOL,
    kinds={"duckdb"},
    deps=["raw_framework__sub_clusters", "stg_oews__occupations", "raw_oews__soc_alignment"],
)
def raw_crosswalk__rows(
    context: AssetExecutionContext, warehouse: WarehouseResource, sources: SourcesResource
) -> MaterializeResult:
    """Advance CTE's official Framework Crosswalk (SOC -> Career Cluster -> Sub-Cluster), with
    every name matched against the framework definition; rows whose names do not match are kept
    and reported, not dropped. Empty offline (the project does not ship the workbook)."""
    file = sources.optional_file(
        "crosswalk",
        sources.crosswalk_url,
        sources.crosswalk_local_path,
        "framework_crosswalk.xlsx",
        "xlsx",
        context.log,
    )
    with refused_downloads_set_aside([file]):
        raw = read_crosswalk(Path(file.path)) if file else None
    with warehouse.get_connection() as con:
        frame = match_crosswalk(con, raw, framework_resolver(load_framework()))
        if file is None:
            note = sources.unavailable_note("CCP_CROSSWALK_URL", "CCP_CROSSWALK_LOCAL_PATH")
        else:
            note = f"Advance CTE Framework Crosswalk: {frame.height} rows"
        record_source(con, "crosswalk", file, note)
        # the assignment reads this table as it is: its file is the one the warehouse holds
        write_frame(
            con,
            "raw_crosswalk__rows",
            frame,
            before_commit=functools.partial(record_staged_source, source="crosswalk"),
        )
        meta = table_metadata(con, "raw_crosswalk__rows")
        meta["note"] = note
        if file is not None:
            meta["source"] = file.url
            meta["sha256"] = file.sha256
            meta.update(crosswalk_problems(frame, context.log))
    return MaterializeResult(metadata=meta)


# ---- the rule layer --------------------------------------------------------------------------
def _write_rule_table(
    context: AssetExecutionContext, warehouse: WarehouseResource, table: str, build: Callable
) -> MaterializeResult:
    """Replace one release's rows of `table` with `build(con, release, rules, resolve)`."""
    framework = load_framework()
    rules = load_cluster_rules(valid=framework_names(framework))
    with warehouse.get_connection() as con:
        release = partition_release(context)
        frame = build(con, release, rules, framework_resolver(framework))
        write_frame(
            con,
            table,
            frame,
            keep_where=f"release_code <> '{release}'",
            **enforce_contract(table),
        )
        meta = table_metadata(con, table, f"release_code = '{release}'")
    return MaterializeResult(metadata=meta)


# The two tables the rule file builds from the release's occupations, declared alike.
RULE_LAYER: dict = {
    "partitions_def": RELEASES,
    "group_name": GROUP,
    "pool": POOL,
    "kinds": {"duckdb"},
    "deps": ["stg_oews__occupations", "stg_oews__release", "raw_framework__sub_clusters"],
}


@asset(**RULE_LAYER)
def int_clusters__rule_matches(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """Every SOC-group and title-keyword rule (pipelines/policy/cluster_rules.yaml) that places
    an occupation in a cluster and sub-cluster, with the rule's weight and reason."""
    return _write_rule_table(context, warehouse, "int_clusters__rule_matches", rule_matches)


@asset(**RULE_LAYER)
def int_clusters__title_sub_clusters(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """Per occupation and cluster, the sub-cluster the title keywords name (industry-only rows)."""
    return _write_rule_table(
        context, warehouse, "int_clusters__title_sub_clusters", title_sub_clusters
    )


@asset(
    partitions_def=RELEASES,
    group_name=GROUP,
    pool=POOL,
    kinds={"duckdb"},
    deps=[
        "stg_oews__estimates",
        "stg_oews__industries",
        "stg_oews__release",
        "raw_framework__cluster_sectors",
        "raw_policy__evidence_sector_exclusions",
        "raw_policy__evidence_industry_exclusions",
    ],
)
def int_clusters__industry_evidence(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """Share of each occupation's national employment in each cluster's NAICS sectors."""
    with warehouse.get_connection() as con:
        release = partition_release(context)
        meta = build_table(con, "int_clusters__industry_evidence", [release])
    return MaterializeResult(metadata=meta)


@asset(
    partitions_def=RELEASES,
    group_name=GROUP,
    pool=POOL,
    kinds={"duckdb"},
    deps=[
        "int_clusters__rule_matches",
        "int_clusters__industry_evidence",
        "int_clusters__title_sub_clusters",
        "raw_policy__cluster_default_sub_clusters",
        "raw_policy__sub_cluster_industries",
    ],
)
def int_clusters__rule_assignment(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """The rule layer: rules plus industry evidence, a primary cluster per occupation, and the
    evidence for every row."""
    with warehouse.get_connection() as con:
        release = partition_release(context)
        meta = build_table(con, "int_clusters__rule_assignment", [release, MIN_INDUSTRY_SHARE])
        meta["by_method"] = method_summary(con, release)
    return MaterializeResult(metadata=meta)


# ---- official crosswalk, reviewer decisions, the result -------------------------------------
@asset(
    group_name=GROUP,
    pool=POOL,
    kinds={"duckdb"},
    deps=["stg_oews__occupations", "raw_framework__sub_clusters"],
)
def raw_review__decisions(
    warehouse: WarehouseResource, sources: SourcesResource
) -> MaterializeResult:
    """IAG reviewer decisions (add / remove / move, with reviewer, date and rationale) from the
    versioned CSV at CCP_REVIEW_DECISIONS_PATH (or every CSV in that folder), validated
    strictly. These are the decisions read: the assignment can still refuse them (a remove
    that leaves a qualifying occupation in no cluster); the ones each release's assignment
    applied are in out_clusters__review_decisions, swapped in with
    out_clusters__occupation_cluster."""
    path = Path(sources.review_decisions_path)
    resolve = framework_resolver(load_framework())
    with warehouse.get_connection() as con:
        socs = detailed_socs(con)
        decisions = load_decisions(path, socs, resolve)
        write_frame(
            con, "raw_review__decisions", decisions, **enforce_contract("raw_review__decisions")
        )
        meta = table_metadata(con, "raw_review__decisions")
    return MaterializeResult(metadata={**meta, "source": str(path)})


def _checked_swap(release: str, con: duckdb.DuckDBPyConnection) -> None:
    """In the assignment's swap: the blocking checks a decision can break, then the record of
    the decisions applied (out_clusters__review_decisions) and the crosswalk file read
    (raw_sources__release_files), swapped in with it or not at all."""
    before_swap([QUALIFYING_HAVE_A_CLUSTER, SUB_CLUSTERS_AND_ONE_PRIMARY], release)(con)
    record_applied_decisions(con, release)
    record_release_sources(con, release, OCCUPATION_CLUSTER, ("crosswalk",))


@asset(
    partitions_def=RELEASES,
    group_name=GROUP,
    pool=POOL,
    kinds={"duckdb"},
    deps=[
        "int_clusters__rule_assignment",
        "raw_crosswalk__rows",
        "raw_review__decisions",
        "out_qualify__occupation_qualification",
        "raw_framework__clusters",
    ],
)
def out_clusters__occupation_cluster(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """Every OEWS detailed occupation x Career Cluster x Sub-Cluster: primary flag, the layer
    that placed it (official / rules / reviewer), evidence, and its national qualification.
    Swapped in with out_clusters__review_decisions, the reviewer decisions it applied."""
    with warehouse.get_connection() as con:
        release = partition_release(context)
        rules, official, decisions, result = layered_assignment(con, release)
        write_frame(con, "_occupation_cluster_layers", result)
        try:
            write_table(
                con,
                OCCUPATION_CLUSTER,
                sql_text(OCCUPATION_CLUSTER),
                **enforce_contract(OCCUPATION_CLUSTER),
                keep_where=f"release_code <> '{release}'",
                before_commit=functools.partial(_checked_swap, release),
            )
        finally:  # a refused swap too: no scratch table left in the warehouse
            con.execute("DROP TABLE IF EXISTS _occupation_cluster_layers")
        where = f"release_code = '{release}'"
        meta = table_metadata(con, OCCUPATION_CLUSTER, where)
        meta.update(layer_summary(con, OCCUPATION_CLUSTER, where))
    if official.height:
        meta.update(agreement(rules, official))
    meta["reviewer_decisions_applied"] = decisions.height
    return MaterializeResult(metadata=meta)


@asset(
    partitions_def=RELEASES,
    group_name=GROUP,
    pool=POOL,
    kinds={"duckdb"},
    deps=[OCCUPATION_CLUSTER],
)
def out_clusters__cluster_industry(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """For each cluster and sub-cluster, the NAICS sectors and subsectors where its qualifying
    occupations work, from the OEWS national industry x occupation estimates."""
    with warehouse.get_connection() as con:
        release = partition_release(context)
        meta = build_table(con, "out_clusters__cluster_industry", [release])
    return MaterializeResult(metadata=meta)


_CHECKS = [
    *(
        contract_check(t)
        for t in (
            "raw_review__decisions",
            "int_clusters__rule_matches",
            "int_clusters__title_sub_clusters",
            "int_clusters__industry_evidence",
            "int_clusters__rule_assignment",
        )
    ),
    contract_check(OCCUPATION_CLUSTER),
    contract_check(APPLIED, asset=OCCUPATION_CLUSTER),
    contract_check("out_clusters__cluster_industry"),
    QUALIFYING_HAVE_A_CLUSTER,
    EVERY_CLUSTER_HAS_A_QUALIFYING_OCCUPATION,
    SUB_CLUSTERS_AND_ONE_PRIMARY,
    *POLICY_CHECKS,
]

# The three rule-layer inputs are siblings (each upstream of int_clusters__rule_assignment only):
# their contracts share one step.
_RULE_INPUTS = {
    "int_clusters__rule_matches",
    "int_clusters__title_sub_clusters",
    "int_clusters__industry_evidence",
}
CHECKS = asset_checks(_CHECKS, one_step_for=_RULE_INPUTS, step_name="int_clusters__rule_inputs")

ASSETS = [
    raw_framework,
    raw_crosswalk__rows,
    raw_review__decisions,
    int_clusters__rule_matches,
    int_clusters__title_sub_clusters,
    int_clusters__industry_evidence,
    int_clusters__rule_assignment,
    out_clusters__occupation_cluster,
    out_clusters__cluster_industry,
]
