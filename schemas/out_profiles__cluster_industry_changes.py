"""Contract of out_profiles__cluster_industry_changes: each cluster's industries, then and now."""

import pandera.polars as pa
import polars as pl

KINDS = [
    "same industry code",
    "new industry code",
    "industry code no longer published",
    "not compared",
]


class OutProfilesClusterIndustryChanges(pa.DataFrameModel):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    previous_release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    cluster_code: str
    industry_level: str = pa.Field(isin=["sector", "subsector"])
    industry_code: str
    industry_name: str
    naics_code: str = pa.Field(nullable=True)
    previous_employment_count: pl.Int64 = pa.Field(nullable=True, ge=0)
    employment_count: pl.Int64 = pa.Field(nullable=True, ge=0)
    employment_change_count: pl.Int64 = pa.Field(nullable=True)
    previous_employment_share: pl.Float64 = pa.Field(nullable=True, ge=0, le=1.0001)
    employment_share: pl.Float64 = pa.Field(nullable=True, ge=0, le=1.0001)
    change_kind: str = pa.Field(isin=KINDS)
    change_reason: str = pa.Field(nullable=True)
    has_both_industry_estimates: bool

    class Config:
        strict = True
        unique = ["release_code", "cluster_code", "industry_code"]
