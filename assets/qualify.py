"""Stage 3, qualify: which occupations are middle- or high-skill careers that pay a living wage.

The rule is the project's, stated in `pipelines/policy/qualification.yaml` (cited there and in the
README). Every occupation gets a skill tier from the best available signal (BLS EP, O*NET Job
Zones, or the built-in SOC-group rules), then a status per geography with a readable reason.
"""

import functools
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import polars as pl
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from pipelines.checks import asset_checks, contract_check, sql_check
from pipelines.metadata import (
    build_table,
    markdown_table,
    table_metadata,
)
from pipelines.policy.fallback import DEFAULT_PATH as FALLBACK_RULES_PATH
from pipelines.policy.fallback import load_fallback_rules
from pipelines.policy.qualification import (
    QualificationPolicy,
    check_ep_categories,
    load_state_thresholds,
)
from pipelines.releases import RELEASES, partition_release
from pipelines.resources import PolicyResource
from pipelines.sources.ep import EDUCATION_CATEGORIES, EXPERIENCE_CATEGORIES, OJT_CATEGORIES
from pipelines.sources.records import files_read_by, record_release_sources
from pipelines.warehouse import (
    WarehouseResource,
    fetch_all,
    query_frame,
    registered_frames,
    write_frame,
)

GROUP = "qualify"
POOL = "duckdb"


@asset(group_name=GROUP, pool=POOL, kinds={"duckdb"})
def raw_policy__skill_fallback_rules(warehouse: WarehouseResource) -> MaterializeResult:
    """The project's authored skill-tier rules by SOC major/minor/broad group
    (pipelines/policy/skill_fallback.yaml), used where neither EP nor O*NET gives a tier."""
    rules = load_fallback_rules(FALLBACK_RULES_PATH)
    with warehouse.get_connection() as con:
        write_frame(con, "raw_policy__skill_fallback_rules", rules)
        meta = table_metadata(con, "raw_policy__skill_fallback_rules")
    return MaterializeResult(metadata={**meta, "source": FALLBACK_RULES_PATH.name})


@asset(group_name=GROUP, pool=POOL, kinds={"duckdb"}, deps=["stg_oews__areas"])
def raw_policy__state_living_wages(
    warehouse: WarehouseResource, policy: PolicyResource
) -> MaterializeResult:
    """Per-state living wages from the user's CSV (policy living_wage.state_thresholds_csv);
    empty when none is given, and states then use the national threshold."""
    path = policy.load().living_wage.state_thresholds_path
    with warehouse.get_connection() as con:
        if path is None:
            frame = pl.DataFrame(
                schema={
                    "state_code": pl.String,
                    "hourly_usd": pl.Float64,
                    "source": pl.String,
                    "year": pl.Int32,
                }
            )
            source = "none given: states use the national threshold"
        else:
            names = dict(
                fetch_all(
                    con,
                    "SELECT state_code, area_name FROM stg_oews__areas WHERE area_type = 'state'",
                )
            )
            frame = load_state_thresholds(path, names)
            source = str(path)
        write_frame(con, "raw_policy__state_living_wages", frame)
        meta = table_metadata(con, "raw_policy__state_living_wages")
    return MaterializeResult(metadata={**meta, "source": source})


def policy_fingerprint(con: duckdb.DuckDBPyConnection, rules: QualificationPolicy) -> str:
    """sha256 of everything a screen depends on besides the data: the policy file's settings,
    the skill fallback rules and the state living wages. Releases screened under different
    fingerprints are not compared like with like (see out_profiles__cluster_changes)."""
    digest = hashlib.sha256(rules.model_dump_json().encode())
    for table in ("raw_policy__skill_fallback_rules", "raw_policy__state_living_wages"):
        digest.update(query_frame(con, f"SELECT * FROM {table} ORDER BY ALL").write_csv().encode())
    return digest.hexdigest()


def tier_sources(con: duckdb.DuckDBPyConnection, release: str) -> list[str]:
    """The sources the release's skill tiers came from (ep, job_zone, fallback)."""
    sql = "SELECT DISTINCT skill_tier_source FROM int_qualify__skill_tiers WHERE release_code = ?"
    return [row[0] for row in fetch_all(con, sql, [release])]


@contextmanager
def policy_views(con: duckdb.DuckDBPyConnection, policy: QualificationPolicy) -> Iterator[None]:
    """The policy's category lists as small views the SQL joins to, for the `with` block only."""
    ep = policy.skill_tier.ep
    education = [(e, "high") for e in ep.high_education]
    education += [(e, "middle") for e in ep.middle_education]
    education += [(ep.high_school_education, "high_school")]
    zones = sorted(policy.skill_tier.job_zone.tiers.items())
    views = {
        "policy_ep_education": pl.DataFrame(education, schema=["education", "tier"], orient="row"),
        "policy_ep_ojt": pl.DataFrame({"ojt": ep.middle_if_high_school_with_ojt}),
        "policy_ep_experience": pl.DataFrame(
            {"experience": ep.middle_if_high_school_with_experience}
        ),
        "policy_job_zone": pl.DataFrame(
            zones, schema={"job_zone": pl.Int8, "tier": pl.String}, orient="row"
        ),
    }
    with registered_frames(con, views):
        yield


def counts_md(con: duckdb.DuckDBPyConnection, sql: str) -> MetadataValue:
    return MetadataValue.md(markdown_table(query_frame(con, sql), 50))


@asset(
    partitions_def=RELEASES,
    group_name=GROUP,
    pool=POOL,
    kinds={"duckdb"},
    deps=[
        "stg_oews__occupations",
        "stg_oews__release",
        "stg_ep__occupations",
        "stg_onet__job_zones",
        "raw_policy__skill_fallback_rules",
        # not read here, but a state living-wage file the screen refuses should stop the run
        # before any of the screen is rewritten: tiers of a policy that was refused would
        # otherwise sit beside the statuses of the one before
        "raw_policy__state_living_wages",
    ],
)
def int_qualify__skill_tiers(
    context: AssetExecutionContext, warehouse: WarehouseResource, policy: PolicyResource
) -> MaterializeResult:
    """Skill tier (low / middle / high) of every OEWS detailed occupation, from each available
    signal, the one the policy chose, and the reason."""
    rules = policy.load()
    check_ep_categories(
        rules,
        {
            "education": EDUCATION_CATEGORIES,
            "ojt": OJT_CATEGORIES,
            "experience": EXPERIENCE_CATEGORIES,
        },
    )
    with warehouse.get_connection() as con:
        release = partition_release(context)
        with policy_views(con, rules):
            meta = build_table(
                con,
                "int_qualify__skill_tiers",
                [release, rules.skill_tier.source],
                before_commit=functools.partial(
                    record_release_sources,
                    release=release,
                    read_by="int_qualify__skill_tiers",
                    sources=("ep", "onet"),
                ),
            )
        where = f"release_code = '{release}'"
        meta["tiers_by_source"] = counts_md(
            con,
            "SELECT skill_tier_source, skill_tier, count(*) AS occupations "
            f"FROM int_qualify__skill_tiers WHERE {where} GROUP BY ALL ORDER BY ALL",
        )
        agreement = fetch_all(
            con,
            "SELECT count(*), count_if(fallback_skill_tier = ep_skill_tier) "
            f"FROM int_qualify__skill_tiers WHERE {where} AND ep_skill_tier IS NOT NULL",
        )[0]
        sources = tier_sources(con, release)
    if agreement[0]:
        share = agreement[1] / agreement[0]
        meta["fallback_agreement_with_ep"] = MetadataValue.float(round(share, 4))
        meta["fallback_agreement"] = (
            f"built-in rules agree with the EP-based tier for {agreement[1]} of {agreement[0]} "
            f"occupations ({share:.1%})"
        )
    else:
        meta["fallback_agreement"] = "EP not available: agreement not measured"
    meta["policy"] = MetadataValue.md(rules.summary(sources))
    return MaterializeResult(metadata=meta)


@asset(
    partitions_def=RELEASES,
    group_name=GROUP,
    pool=POOL,
    kinds={"duckdb"},
    deps=[
        "int_qualify__skill_tiers",
        "stg_oews__estimates",
        "stg_oews__areas",
        "raw_policy__state_living_wages",
    ],
)
def out_qualify__occupation_qualification(
    context: AssetExecutionContext, warehouse: WarehouseResource, policy: PolicyResource
) -> MaterializeResult:
    """Every OEWS detailed occupation x geography (nation and states): skill tier, wage used,
    living-wage threshold, margin, status (qualifies / excluded / undetermined) and reason."""
    rules = policy.load()
    wage = rules.living_wage
    if wage.is_undescribed:
        context.log.warning(
            f"[policy] living_wage.hourly_usd in {policy.policy_path} is ${wage.hourly_usd:.2f}, "
            "but its geography or source still describes the project default's $25.00, so the "
            "reports say the source is not stated. What to do: write where the figure comes "
            "from in living_wage.source and living_wage.geography, then run "
            "qualify_occupations again."
        )
    with warehouse.get_connection() as con:
        release = partition_release(context)
        fingerprint = policy_fingerprint(con, rules)
        params = [release, wage.hourly_usd, wage.label, wage.wage_statistic, fingerprint]
        meta = build_table(con, "out_qualify__occupation_qualification", params)
        meta["policy_sha256"] = fingerprint
        where = f"release_code = '{release}'"
        meta["national_status_by_tier"] = counts_md(
            con,
            "SELECT status, skill_tier, count(*) AS occupations, sum(employment_count) AS "
            f"employment FROM out_qualify__occupation_qualification WHERE {where} "
            "AND area_type = 'national' GROUP BY ALL ORDER BY ALL",
        )
        files = files_read_by(con, release, "int_qualify__skill_tiers")
        tiers_from = tier_sources(con, release)
    meta["policy"] = MetadataValue.md(rules.summary(tiers_from))
    meta["sources"] = (  # a release built by an earlier version recorded none
        MetadataValue.md(markdown_table(files, 20, max_chars=400))
        if files.height
        else "not recorded for this release's skill tiers"
    )
    if set(tiers_from) == {"fallback"}:
        meta["note"] = (
            "Skill tiers come from the project's built-in SOC-group rules (no EP or O*NET "
            "source was available)."
        )
    return MaterializeResult(metadata=meta)


_CHECKS = [
    sql_check(
        "raw_policy__skill_fallback_rules",
        "every_rule_matches_an_occupation",
        "Every built-in rule's SOC group contains at least one OEWS detailed occupation, and "
        "every rule for one occupation names an OEWS detailed occupation (a mistyped code "
        "would silently match nothing).",
        """
        SELECT r.group_code, r.group_level, r.tier
        FROM raw_policy__skill_fallback_rules r
        WHERE r.group_level <> 'default' AND NOT EXISTS (
          SELECT 1 FROM stg_oews__occupations o
          WHERE o.is_detailed AND r.group_code IN (
            o.soc_code, o.major_code, o.minor_code,
            CASE WHEN o.is_broad_as_detailed THEN o.soc_code ELSE o.broad_code END)
        )
        """,
        deps=["stg_oews__occupations"],
    ),
    contract_check("int_qualify__skill_tiers"),
    contract_check("out_qualify__occupation_qualification"),
    sql_check(
        "out_qualify__occupation_qualification",
        "one_status_per_occupation_and_geography",
        "Every OEWS detailed occupation has exactly one status in every geography.",
        """
        WITH expected AS (
          SELECT o.release_code, o.occupation_code, a.area_code
          FROM stg_oews__occupations o
          JOIN stg_oews__areas a USING (release_code)
          WHERE o.is_detailed AND a.area_type IN ('national', 'state')
        )
        SELECT e.release_code, e.occupation_code, e.area_code, count(q.status) AS statuses
        FROM expected e
        LEFT JOIN out_qualify__occupation_qualification q USING (release_code, occupation_code,
                                                                 area_code)
        GROUP BY ALL HAVING count(q.status) <> 1
        """,
    ),
    sql_check(
        "out_qualify__occupation_qualification",
        "qualifies_has_wage_and_tier",
        "No occupation qualifies without a wage and a middle or high skill tier.",
        """
        SELECT release_code, area_code, occupation_code, skill_tier, wage_used_usd
        FROM out_qualify__occupation_qualification
        WHERE status = 'qualifies'
          AND (wage_used_usd IS NULL OR skill_tier NOT IN ('middle', 'high')
               OR wage_used_usd < threshold_used_usd)
        """,
    ),
]

CHECKS = asset_checks(_CHECKS)

ASSETS = [
    raw_policy__skill_fallback_rules,
    raw_policy__state_living_wages,
    int_qualify__skill_tiers,
    out_qualify__occupation_qualification,
]
