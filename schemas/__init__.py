"""Table contracts: one pandera model per warehouse table, used in tests and as asset checks.

`CONTRACTS` maps each table name to its model. `validate_table` raises `ContractError` with a
readable summary of the first failure cases; the full cases go to the asset check's metadata.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import sys
from typing import Any

import pandera.polars as pa
import polars as pl

from pipelines.errors import ExplainedError
from schemas.int_clusters__industry_evidence import IntClustersIndustryEvidence
from schemas.int_clusters__rule_assignment import IntClustersRuleAssignment
from schemas.int_clusters__rule_matches import IntClustersRuleMatches
from schemas.int_clusters__title_sub_clusters import IntClustersTitleSubClusters
from schemas.int_qualify__skill_tiers import IntQualifySkillTiers
from schemas.out_clusters__cluster_industry import OutClustersClusterIndustry
from schemas.out_clusters__occupation_cluster import OutClustersOccupationCluster
from schemas.out_clusters__review_decisions import OutClustersReviewDecisions
from schemas.out_profiles__cluster_changes import OutProfilesClusterChanges
from schemas.out_profiles__cluster_industry_changes import OutProfilesClusterIndustryChanges
from schemas.out_profiles__cluster_occupations import OutProfilesClusterOccupations
from schemas.out_profiles__cluster_states import OutProfilesClusterStates
from schemas.out_profiles__cluster_summary import OutProfilesClusterSummary
from schemas.out_qualify__occupation_qualification import OutQualifyOccupationQualification
from schemas.raw_oews__files import RawOewsFiles
from schemas.raw_review__decisions import RawReviewDecisions
from schemas.raw_sources__release_files import RawSourcesReleaseFiles
from schemas.stg_ep__occupations import StgEpOccupations
from schemas.stg_naics__codes import StgNaicsCodes
from schemas.stg_oews__areas import StgOewsAreas
from schemas.stg_oews__estimates import StgOewsEstimates
from schemas.stg_oews__files import StgOewsFiles
from schemas.stg_oews__industries import StgOewsIndustries
from schemas.stg_oews__occupations import StgOewsOccupations
from schemas.stg_oews__release import StgOewsRelease
from schemas.stg_onet__job_zones import StgOnetJobZones
from schemas.stg_soc__codes import StgSocCodes
from schemas.stg_sources__files import StgSourcesFiles

CONTRACTS: dict[str, type[pa.DataFrameModel]] = {
    "raw_oews__files": RawOewsFiles,
    "stg_oews__release": StgOewsRelease,
    "stg_oews__areas": StgOewsAreas,
    "stg_oews__industries": StgOewsIndustries,
    "stg_oews__occupations": StgOewsOccupations,
    "stg_oews__estimates": StgOewsEstimates,
    "stg_oews__files": StgOewsFiles,
    "stg_naics__codes": StgNaicsCodes,
    "stg_soc__codes": StgSocCodes,
    "stg_ep__occupations": StgEpOccupations,
    "stg_onet__job_zones": StgOnetJobZones,
    "int_qualify__skill_tiers": IntQualifySkillTiers,
    "out_qualify__occupation_qualification": OutQualifyOccupationQualification,
    "raw_review__decisions": RawReviewDecisions,
    "int_clusters__rule_matches": IntClustersRuleMatches,
    "int_clusters__title_sub_clusters": IntClustersTitleSubClusters,
    "int_clusters__industry_evidence": IntClustersIndustryEvidence,
    "int_clusters__rule_assignment": IntClustersRuleAssignment,
    "out_clusters__occupation_cluster": OutClustersOccupationCluster,
    "out_clusters__review_decisions": OutClustersReviewDecisions,
    "raw_sources__release_files": RawSourcesReleaseFiles,
    "stg_sources__files": StgSourcesFiles,
    "out_clusters__cluster_industry": OutClustersClusterIndustry,
    "out_profiles__cluster_summary": OutProfilesClusterSummary,
    "out_profiles__cluster_occupations": OutProfilesClusterOccupations,
    "out_profiles__cluster_states": OutProfilesClusterStates,
    "out_profiles__cluster_changes": OutProfilesClusterChanges,
    "out_profiles__cluster_industry_changes": OutProfilesClusterIndustryChanges,
}


class ContractError(ExplainedError, ValueError):
    """A table broke its contract; nothing was written."""

    def __init__(self, table: str, failure_cases: pl.DataFrame):
        self.table = table
        self.failure_cases = failure_cases
        summary = (
            failure_cases.group_by("column", "check")
            .agg(pl.len().alias("rows"), pl.col("failure_case").head(3).alias("examples"))
            .sort("rows", descending=True)
        )
        lines = [
            f"  {r['column']}: {r['check']} failed for {r['rows']} row(s), e.g. {r['examples']}"
            for r in summary.iter_rows(named=True)
        ]
        super().__init__(
            f"[{table}] the new table breaks its contract (schemas/{table}.py):\n"
            + "\n".join(lines)
            + "\nWhat to do: the source data changed shape or a parser is wrong; the previous "
            "table is unchanged. Report this with the message above."
        )


@functools.cache
def contract_sha256(table: str) -> str:
    """Fingerprint of `table`'s contract (the source of its model's modules, parents included):
    a validation recorded under another fingerprint was against another contract."""
    modules = dict.fromkeys(
        c.__module__ for c in CONTRACTS[table].__mro__ if c.__module__.startswith("schemas.")
    )
    source = "".join(inspect.getsource(sys.modules[m]) for m in modules)
    return hashlib.sha256(source.encode()).hexdigest()


def validate_table(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Validate `frame` against the contract of `table`; raise ContractError on failure."""
    try:
        return CONTRACTS[table].validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases.with_columns(pl.col("failure_case").cast(pl.String))
        raise ContractError(table, cases) from None


def enforce_contract(table: str) -> dict[str, Any]:
    """The `write_table` / `write_frame` arguments that validate the new rows against `table`'s
    contract before the swap, record that validation and store the table's descriptions from
    the data dictionary (none for a table without a contract)."""
    from schemas.dictionary import comment_on_table

    if table not in CONTRACTS:
        return {}
    return {
        "validate": functools.partial(validate_table, table),
        "contract_sha256": contract_sha256(table),
        "describe": functools.partial(comment_on_table, table=table),
    }
