"""Contract of out_profiles__cluster_changes: each cluster's changes since the previous release."""

import pandera.polars as pa
import polars as pl

STATUSES = ["qualifies", "excluded", "undetermined"]
KINDS = [
    "newly qualifies",
    "stops qualifying",
    "still qualifies",
    "still does not qualify",
    "new code",
    "code no longer published",
]


class OutProfilesClusterChanges(pa.DataFrameModel):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    previous_release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    cluster_code: str = pa.Field(nullable=True)
    occupation_code: str = pa.Field(str_matches=r"^\d{6}$")
    soc_code: str = pa.Field(str_matches=r"^\d{2}-\d{4}$")
    occupation_name: str
    previous_employment_count: pl.Int64 = pa.Field(nullable=True, ge=0)
    employment_count: pl.Int64 = pa.Field(nullable=True, ge=0)
    employment_change_count: pl.Int64 = pa.Field(nullable=True)
    previous_wage_annual_median_usd: pl.Float64 = pa.Field(nullable=True, gt=0)
    wage_annual_median_usd: pl.Float64 = pa.Field(nullable=True, gt=0)
    previous_status: str = pa.Field(nullable=True, isin=STATUSES)
    status: str = pa.Field(nullable=True, isin=STATUSES)
    change_kind: str = pa.Field(isin=KINDS)
    change_reason: str = pa.Field(nullable=True)
    is_policy_changed: bool
    # NULL only in rows an earlier version built (kept for other releases until rebuilt)
    is_skill_tier_source_changed: bool = pa.Field(nullable=True)

    class Config:
        strict = True
        unique = ["release_code", "cluster_code", "occupation_code"]
